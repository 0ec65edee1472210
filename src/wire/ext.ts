// IPv6 extension headers (RFC 8200 §4): Hop-by-Hop Options (0), Routing (43),
// Fragment (44) and Destination Options (60). No Next Header (59) ends a chain
// and is handled by the chain walker in packet.ts.
import {u16, u32, setU16, setU32} from './bytes.js';
import {WireError} from './error.js';
import {Proto, checkField} from './ipv6.js';
import {emitOptions, optionsHeaderLength, parseOptions} from './options.js';
import type {OptionRepr} from './options.js';

export const FRAGMENT_HEADER_LEN = 8;

/** Where the Next Header field of an extension header sits (RFC 8200 §4). */
export const EXT = {nextHeader: 0, hdrExtLen: 1} as const;

export type ExtRepr =
	| {kind: 'hop-by-hop'; options: OptionRepr[]}
	| {kind: 'dest-opts'; options: OptionRepr[]}
	| {kind: 'routing'; routingType: number; segmentsLeft: number; /** type-specific data after the first 4 bytes */ data: Uint8Array}
	| {
			kind: 'fragment';
			/** Fragment offset in 8-octet units. */
			offset: number;
			more: boolean;
			identification: number;
			/** The reserved byte and the 2 reserved bits, kept so a parsed header re-emits byte for byte. */
			reserved?: number;
			res?: number;
	  };

export function isExtensionHeader(nextHeader: number): boolean {
	return nextHeader === Proto.HopByHop || nextHeader === Proto.Routing || nextHeader === Proto.Fragment || nextHeader === Proto.DestOpts;
}

export function extProto(ext: ExtRepr): number {
	switch (ext.kind) {
		case 'hop-by-hop':
			return Proto.HopByHop;
		case 'dest-opts':
			return Proto.DestOpts;
		case 'routing':
			return Proto.Routing;
		case 'fragment':
			return Proto.Fragment;
	}
}

export function extLength(ext: ExtRepr): number {
	switch (ext.kind) {
		case 'hop-by-hop':
		case 'dest-opts':
			return optionsHeaderLength(ext.options);
		case 'routing': {
			const len = 4 + ext.data.length;
			if (len % 8 !== 0 || len > 2048) throw new WireError('bad-value', `routing header of ${len} bytes is not a multiple of 8 up to 2048`);
			return len;
		}
		case 'fragment':
			return FRAGMENT_HEADER_LEN;
	}
}

/** Writes `ext` at `off`, with `nextHeader` naming what follows. Returns its length. */
export function emitExt(ext: ExtRepr, nextHeader: number, buf: Uint8Array, off: number): number {
	const len = extLength(ext);
	buf[off + EXT.nextHeader] = nextHeader;
	switch (ext.kind) {
		case 'hop-by-hop':
		case 'dest-opts':
			buf[off + EXT.hdrExtLen] = len / 8 - 1;
			emitOptions(ext.options, buf, off, off + 2, off + len);
			break;
		case 'routing':
			checkField('routing type', ext.routingType, 0xff);
			checkField('segments left', ext.segmentsLeft, 0xff);
			buf[off + EXT.hdrExtLen] = len / 8 - 1;
			buf[off + 2] = ext.routingType;
			buf[off + 3] = ext.segmentsLeft;
			buf.set(ext.data, off + 4);
			break;
		case 'fragment':
			checkField('fragment offset', ext.offset, 0x1fff);
			checkField('identification', ext.identification, 0xffffffff);
			buf[off + 1] = ext.reserved ?? 0;
			setU16(buf, off + 2, (ext.offset << 3) | ((ext.res ?? 0) & 3) << 1 | (ext.more ? 1 : 0));
			setU32(buf, off + 4, ext.identification);
			break;
	}
	return len;
}

/**
 * Decodes the extension header of protocol `proto` at [off, off+len), a range
 * the chain walker has already checked.
 */
export function parseExt(proto: number, buf: Uint8Array, off: number, len: number): ExtRepr {
	switch (proto) {
		case Proto.HopByHop:
			return {kind: 'hop-by-hop', options: parseOptions(buf, off + 2, off + len)};
		case Proto.DestOpts:
			return {kind: 'dest-opts', options: parseOptions(buf, off + 2, off + len)};
		case Proto.Routing:
			return {kind: 'routing', routingType: buf[off + 2]!, segmentsLeft: buf[off + 3]!, data: buf.subarray(off + 4, off + len)};
		case Proto.Fragment: {
			const word = u16(buf, off + 2);
			return {
				kind: 'fragment',
				offset: word >>> 3,
				more: (word & 1) === 1,
				identification: u32(buf, off + 4),
				reserved: buf[off + 1]!,
				res: (word >>> 1) & 3,
			};
		}
		default:
			throw new WireError('bad-value', `protocol ${proto} is not an extension header`);
	}
}
