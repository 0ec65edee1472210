// RIPng message codec (RFC 2080 §2.1). Decoding reads the caller's buffer in
// place; RTE prefixes are returned as subarray views, never copied.
//
//   command(1) version(1) must-be-zero(2), then N route table entries:
//   prefix(16) route-tag(2) prefix-len(1) metric(1)
//   A next-hop RTE (§2.1.1) has metric 0xFF and the next hop in the prefix field.
import {parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';

export const RIPNG_PORT = 521;
/** All-RIP-routers (RFC 2080 §2.4.2). */
export const RIPNG_GROUP: Addr = parseAddr('ff02::9');
export const RIPNG_VERSION = 1;
export const RIPNG_HEADER_LEN = 4;
export const RTE_LEN = 20;
export const NEXT_HOP_METRIC = 0xff;

export const RIPNG_REQUEST = 1;
export const RIPNG_RESPONSE = 2;
export type RipngCommand = typeof RIPNG_REQUEST | typeof RIPNG_RESPONSE;

export type RipngWireCode = 'truncated' | 'bad-length' | 'bad-version' | 'bad-command';

export class RipngWireError extends Error {
	override readonly name = 'RipngWireError';
	constructor(readonly code: RipngWireCode, message: string) {
		super(message);
	}
}

export interface RipngHeader {
	command: RipngCommand;
	rteCount: number;
}

/**
 * Validates the header and overall length of a RIPng message at buf[off, off+len).
 * The must-be-zero field is not checked: RFC 2080 gives no rule to discard on it.
 */
export function decodeRipngHeader(buf: Uint8Array, off: number, len: number): RipngHeader {
	if (len < RIPNG_HEADER_LEN || off + len > buf.length) throw new RipngWireError('truncated', `RIPng message of ${len} bytes is shorter than its header`);
	if ((len - RIPNG_HEADER_LEN) % RTE_LEN !== 0) throw new RipngWireError('bad-length', `RIPng body of ${len - RIPNG_HEADER_LEN} bytes is not a whole number of 20-byte RTEs`);
	const command = buf[off]!;
	if (command !== RIPNG_REQUEST && command !== RIPNG_RESPONSE) throw new RipngWireError('bad-command', `unknown RIPng command ${command}`);
	const version = buf[off + 1]!;
	if (version !== RIPNG_VERSION) throw new RipngWireError('bad-version', `RIPng version ${version}, expected 1`);
	return {command, rteCount: (len - RIPNG_HEADER_LEN) / RTE_LEN};
}

/** Byte offset of RTE `i` of the message at `off`. */
export function rteOffset(off: number, i: number): number {
	return off + RIPNG_HEADER_LEN + RTE_LEN * i;
}

/** The RTE's prefix (or next hop), as a view into buf. */
export function rtePrefix(buf: Uint8Array, rte: number): Uint8Array {
	return buf.subarray(rte, rte + 16);
}

export function rteTag(buf: Uint8Array, rte: number): number {
	return (buf[rte + 16]! << 8) | buf[rte + 17]!;
}

export function rtePrefixLen(buf: Uint8Array, rte: number): number {
	return buf[rte + 18]!;
}

export function rteMetric(buf: Uint8Array, rte: number): number {
	return buf[rte + 19]!;
}

export type RteInput =
	| {prefix: Addr; len: number; metric: number; tag?: number}
	| {nextHop: Addr};

/** Encodes one message; the caller keeps it within maxRtes(mtu) entries. */
export function encodeRipng(command: RipngCommand, rtes: readonly RteInput[]): Uint8Array {
	const out = new Uint8Array(RIPNG_HEADER_LEN + RTE_LEN * rtes.length);
	out[0] = command;
	out[1] = RIPNG_VERSION;
	let o = RIPNG_HEADER_LEN;
	for (const r of rtes) {
		if ('nextHop' in r) {
			out.set(r.nextHop.subarray(0, 16), o);
			out[o + 19] = NEXT_HOP_METRIC;
		} else {
			out.set(r.prefix.subarray(0, 16), o);
			const tag = r.tag ?? 0;
			out[o + 16] = tag >>> 8;
			out[o + 17] = tag & 0xff;
			out[o + 18] = r.len;
			out[o + 19] = r.metric;
		}
		o += RTE_LEN;
	}
	return out;
}

/** RTEs that fit in one datagram on a link of `mtu` bytes (RFC 2080 §2.1: IPv6 40 + UDP 8 + RIPng 4 bytes of headers). */
export function maxRtes(mtu: number): number {
	return Math.floor((mtu - 40 - 8 - RIPNG_HEADER_LEN) / RTE_LEN);
}
