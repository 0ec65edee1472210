// The Internet checksum (RFC 1071), the IPv6 pseudo-header (RFC 8200 §8.1)
// and incremental update (RFC 1624).
//
// Sums are kept as plain numbers: 16-bit words added into a double stay exact
// up to 2^53, far past any packet, so folding happens once at the end.

/** Adds the bytes [off, off+len) as big-endian 16-bit words to `sum`; an odd last byte is padded with zero. */
export function sum16(buf: Uint8Array, off: number, len: number, sum = 0): number {
	const end = off + len;
	const even = end - (len & 1);
	let i = off;
	for (; i + 8 <= even; i += 8) {
		sum +=
			((buf[i]! << 8) | buf[i + 1]!) +
			((buf[i + 2]! << 8) | buf[i + 3]!) +
			((buf[i + 4]! << 8) | buf[i + 5]!) +
			((buf[i + 6]! << 8) | buf[i + 7]!);
	}
	for (; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
	if (len & 1) sum += buf[end - 1]! << 8;
	return sum;
}

/** Folds a sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
	// Two passes of (low + high) suffice below 2^32; larger sums first lose their top part exactly.
	if (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
	sum = (sum & 0xffff) + (sum >>> 16);
	sum = (sum & 0xffff) + (sum >>> 16);
	return sum;
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination,
 * upper-layer packet length and next header.
 */
export function pseudoHeaderSum(buf: Uint8Array, srcOff: number, dstOff: number, upperLen: number, nextHeader: number): number {
	let sum = sum16(buf, srcOff, 16);
	sum = sum16(buf, dstOff, 16, sum);
	return sum + (upperLen >>> 16) + (upperLen & 0xffff) + nextHeader;
}

/**
 * The checksum field value for an upper-layer header at [off, off+len) whose
 * checksum field is zero while summing.
 */
export function finish(sum: number): number {
	return ~fold(sum) & 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over the 16-bit words that changed.
 * `oldBytes`/`newBytes` are equal-length, even-length runs (e.g. an address).
 */
export function updateChecksum(
	checksum: number,
	oldBytes: Uint8Array,
	oldOff: number,
	newBytes: Uint8Array,
	newOff: number,
	len: number,
): number {
	let sum = ~checksum & 0xffff;
	for (let i = 0; i < len; i += 2) {
		const m = (oldBytes[oldOff + i]! << 8) | oldBytes[oldOff + i + 1]!;
		const m2 = (newBytes[newOff + i]! << 8) | newBytes[newOff + i + 1]!;
		sum += (~m & 0xffff) + m2;
	}
	return ~fold(sum) & 0xffff;
}
