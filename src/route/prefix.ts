// Prefix helpers for the control plane. A prefix is kept as four big-endian
// 32-bit words (stored as int32) plus a length, which the FIB builder sorts and
// slices without touching bytes.
import {ADDR_LEN, formatAddr, parsePrefix} from '../util/addr.js';
import type {Addr} from '../util/addr.js';

export class PrefixError extends Error {
	override readonly name = 'PrefixError';
	constructor(readonly code: 'bad-prefix-length' | 'host-bits-set' | 'bad-address-length', message: string) {
		super(message);
	}
}

export interface Prefix {
	addr: Addr;
	len: number;
}

/** Big-endian 32-bit word `i` (0..3) of the address at `off`, as int32. */
export function word(a: Uint8Array, off: number, i: number): number {
	const o = off + 4 * i;
	return (a[o]! << 24) | (a[o + 1]! << 16) | (a[o + 2]! << 8) | a[o + 3]!;
}

/** Mask for the part of word `i` covered by a prefix of `len` bits, as int32. */
export function wordMask(len: number, i: number): number {
	const bits = len - 32 * i;
	if (bits <= 0) return 0;
	if (bits >= 32) return -1;
	return ~(-1 >>> bits);
}

export function checkLen(len: number): void {
	if (!Number.isInteger(len) || len < 0 || len > 128) throw new PrefixError('bad-prefix-length', `prefix length must be an integer 0..128, got ${len}`);
}

/** True if any bit past `len` is set. */
export function hasHostBits(a: Uint8Array, off: number, len: number): boolean {
	for (let i = 0; i < 4; i++) if ((word(a, off, i) & ~wordMask(len, i)) !== 0) return true;
	return false;
}

/** A copy of `a` with the bits past `len` cleared. */
export function maskAddr(a: Uint8Array, len: number, off = 0): Addr {
	checkLen(len);
	const out = new Uint8Array(ADDR_LEN);
	for (let i = 0; i < ADDR_LEN; i++) {
		const bits = len - 8 * i;
		const m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
		out[i] = a[off + i]! & m;
	}
	return out;
}

/** True if `addr` (at `off`) lies inside prefix/len. */
export function prefixContains(prefix: Uint8Array, len: number, addr: Uint8Array, off = 0): boolean {
	for (let i = 0; i < 4; i++) {
		const m = wordMask(len, i);
		if (((word(prefix, 0, i) ^ word(addr, off, i)) & m) !== 0) return false;
	}
	return true;
}

/**
 * Map key for prefix/len: nine UTF-16 units (eight 16-bit address groups, then
 * the length). Compact enough to key a 237k-entry table.
 */
export function prefixKey(prefix: Uint8Array, len: number, off = 0): string {
	const p = off;
	return String.fromCharCode(
		(prefix[p]! << 8) | prefix[p + 1]!, (prefix[p + 2]! << 8) | prefix[p + 3]!,
		(prefix[p + 4]! << 8) | prefix[p + 5]!, (prefix[p + 6]! << 8) | prefix[p + 7]!,
		(prefix[p + 8]! << 8) | prefix[p + 9]!, (prefix[p + 10]! << 8) | prefix[p + 11]!,
		(prefix[p + 12]! << 8) | prefix[p + 13]!, (prefix[p + 14]! << 8) | prefix[p + 15]!,
		len,
	);
}

/** Inverse of prefixKey. */
export function keyToPrefix(key: string): Prefix {
	const addr = new Uint8Array(ADDR_LEN);
	for (let i = 0; i < 8; i++) {
		const g = key.charCodeAt(i);
		addr[2 * i] = g >>> 8;
		addr[2 * i + 1] = g & 0xff;
	}
	return {addr, len: key.charCodeAt(8)};
}

/** "2001:db8::/32" text for logs and dumps. */
export function formatPrefix(addr: Uint8Array, len: number): string {
	return `${formatAddr(addr)}/${len}`;
}

/** Parses "addr/len" and refuses host bits past the length (a typo, not a route). */
export function parseRoutePrefix(text: string): Prefix {
	const p = parsePrefix(text);
	if (hasHostBits(p.addr, 0, p.len)) throw new PrefixError('host-bits-set', `${text}: bits set past /${p.len}`);
	return p;
}
