// A small mutation engine in the style of libFuzzer's: bit flips, interesting
// bytes, field-aware edits at the offsets IPv6 headers put fields, cuts,
// appends, inserts, deletes and splices of two seeds. Deterministic for a seed.
export type Rand = () => number;

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x3a, 0x2c, 0x2b, 0x3c, 0x3b, 0x11, 0x06, 0x00];

export function mutate(rand: Rand, seed: Uint8Array, other: Uint8Array): Uint8Array {
	const int = (n: number) => Math.floor(rand() * n);
	let b = seed.slice();
	const rounds = 1 + int(4);
	for (let r = 0; r < rounds; r++) {
		if (b.length === 0) b = new Uint8Array([0x60]);
		switch (int(10)) {
			case 0: {
				const i = int(b.length);
				b[i]! ^= 1 << int(8);
				break;
			}
			case 1:
				b[int(b.length)] = INTERESTING[int(INTERESTING.length)]!;
				break;
			case 2: {
				// A header field: payload length, next header, hop limit, or a byte in the first extension headers.
				const at = [4, 5, 6, 7, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49][int(14)]!;
				if (at < b.length) b[at] = int(256);
				break;
			}
			case 3:
				b = b.slice(0, int(b.length + 1));
				break;
			case 4: {
				const extra = new Uint8Array(1 + int(64)).map(() => int(256));
				const n = new Uint8Array(b.length + extra.length);
				n.set(b);
				n.set(extra, b.length);
				b = n;
				break;
			}
			case 5: {
				const i = int(b.length + 1);
				const ins = new Uint8Array(1 + int(16)).map(() => INTERESTING[int(INTERESTING.length)]!);
				const n = new Uint8Array(b.length + ins.length);
				n.set(b.subarray(0, i));
				n.set(ins, i);
				n.set(b.subarray(i), i + ins.length);
				b = n;
				break;
			}
			case 6: {
				const i = int(b.length);
				const len = 1 + int(Math.min(16, b.length - i));
				const n = new Uint8Array(b.length - len);
				n.set(b.subarray(0, i));
				n.set(b.subarray(i + len), i);
				b = n;
				break;
			}
			case 7: {
				// Splice: our head, the other's tail.
				const i = int(b.length + 1);
				const j = int(other.length + 1);
				const n = new Uint8Array(i + other.length - j);
				n.set(b.subarray(0, i));
				n.set(other.subarray(j), i);
				b = n;
				break;
			}
			case 8: {
				// Keep the payload length honest sometimes, so mutations get past the first check.
				if (b.length >= 40) {
					const pl = Math.min(0xffff, b.length - 40);
					b[4] = pl >> 8;
					b[5] = pl & 0xff;
				}
				break;
			}
			default: {
				const i = int(b.length);
				b[i] = (b[i]! + (int(2) ? 1 : -1)) & 0xff;
			}
		}
	}
	if (b.length > 0 && int(2)) b[0] = (b[0]! & 0x0f) | 0x60; // mostly IPv6
	return b;
}
