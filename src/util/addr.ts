// IPv6 addresses stay Uint8Array(16) inside the stack; ipaddr.js converts
// text at the edges (configuration, CLI, logs).
import ipaddr from 'ipaddr.js';

export type Addr = Uint8Array;

export const ADDR_LEN = 16;

export class AddrError extends Error {
	override readonly name = 'AddrError';
	readonly code = 'bad-address';
	constructor(readonly input: string, reason: string) {
		super(`invalid IPv6 address ${JSON.stringify(input)}: ${reason}`);
	}
}

/** Parses textual IPv6 (RFC 4291 §2.2) into 16 bytes. Throws AddrError. */
export function parseAddr(text: string): Addr {
	let parsed: ipaddr.IPv4 | ipaddr.IPv6;
	try {
		parsed = ipaddr.parse(text);
	} catch (error) {
		throw new AddrError(text, (error as Error).message);
	}
	if (parsed.kind() !== 'ipv6') throw new AddrError(text, 'not an IPv6 address');
	return Uint8Array.from(parsed.toByteArray());
}

/** RFC 5952 canonical text for 16 bytes at `offset`. */
export function formatAddr(bytes: Uint8Array, offset = 0): string {
	return ipaddr.fromByteArray(Array.from(bytes.subarray(offset, offset + ADDR_LEN))).toString();
}

/** Parses "addr/len" into an address and a prefix length (0–128). */
export function parsePrefix(text: string): {addr: Addr; len: number} {
	const slash = text.indexOf('/');
	if (slash < 0) throw new AddrError(text, 'missing "/length"');
	const len = Number(text.slice(slash + 1));
	if (!Number.isInteger(len) || len < 0 || len > 128) throw new AddrError(text, 'prefix length must be 0–128');
	return {addr: parseAddr(text.slice(0, slash)), len};
}

export function addrEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
	for (let i = 0; i < ADDR_LEN; i++) if (a[aOff + i] !== b[bOff + i]) return false;
	return true;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
export function isLinkLocal(bytes: Uint8Array, offset = 0): boolean {
	return bytes[offset] === 0xfe && ((bytes[offset + 1] ?? 0) & 0xc0) === 0x80;
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(bytes: Uint8Array, offset = 0): boolean {
	return bytes[offset] === 0xff;
}

/** :: (RFC 4291 §2.5.2). */
export function isUnspecified(bytes: Uint8Array, offset = 0): boolean {
	for (let i = 0; i < ADDR_LEN; i++) if (bytes[offset + i] !== 0) return false;
	return true;
}
