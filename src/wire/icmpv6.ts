// ICMPv6 (RFC 4443): echo, and the four error messages that quote the
// invoking packet.
import {u16, u32, setU16, setU32} from './bytes.js';
import {finish, pseudoHeaderSum, sum16} from './checksum.js';
import {WireError} from './error.js';
import {IPV6, IPV6_HEADER_LEN, IPV6_MIN_MTU, Proto, checkField} from './ipv6.js';
import {finalDestinationOffset} from './packet.js';
import type {PacketInfo} from './packet.js';

export const ICMPV6_HEADER_LEN = 8;

export const Icmp6 = {
	DestUnreachable: 1,
	PacketTooBig: 2,
	TimeExceeded: 3,
	ParamProblem: 4,
	EchoRequest: 128,
	EchoReply: 129,
	/** RFC 4861 §4.5: never the subject of an ICMPv6 error (RFC 4443 §2.4(e.2)). */
	Redirect: 137,
} as const;

/** Destination Unreachable codes (RFC 4443 §3.1). */
export const Unreach = {
	NoRoute: 0,
	AdminProhibited: 1,
	BeyondScope: 2,
	Address: 3,
	Port: 4,
	SourcePolicy: 5,
	RejectRoute: 6,
} as const;

/** Time Exceeded codes (RFC 4443 §3.3). */
export const TimeExceededCode = {HopLimit: 0, Reassembly: 1} as const;

/** Parameter Problem codes (RFC 4443 §3.4, RFC 7112 §5). */
export const ParamProblemCode = {Header: 0, NextHeader: 1, Option: 2, IncompleteChain: 3} as const;

export type Icmpv6Repr =
	| {kind: 'echo'; type: 128 | 129; code: number; identifier: number; sequence: number; data: Uint8Array}
	| {
			kind: 'error';
			type: 1 | 2 | 3 | 4;
			code: number;
			/** The 32-bit word after the checksum: unused (1, 3), MTU (2) or pointer (4). */
			param: number;
			/** As much of the invoking packet as fits. */
			invoking: Uint8Array;
	  }
	| {kind: 'other'; type: number; code: number; /** everything after the checksum */ body: Uint8Array};

/** RFC 4443 §2.1: error messages have types 0–127. */
export function isIcmpv6Error(type: number): boolean {
	return type < 128;
}

/** Checks length and checksum of the ICMPv6 message at info.upperOff. */
export function checkIcmpv6(info: PacketInfo): void {
	const buf = info.buf;
	const off = info.upperOff;
	const len = info.upperLen;
	const at = off - info.off;
	if (len < 4) throw new WireError('truncated', `ICMPv6 header needs 4 bytes, have ${len}`, at);
	const type = buf[off]!;
	if ((type === Icmp6.EchoRequest || type === Icmp6.EchoReply || (type >= 1 && type <= 4)) && len < ICMPV6_HEADER_LEN)
		throw new WireError('truncated', `ICMPv6 type ${type} needs 8 bytes, have ${len}`, at);
	const sum = sum16(buf, off, len, pseudoHeaderSum(buf, info.off + IPV6.src, finalDestinationOffset(info), len, Proto.Icmpv6));
	if (finish(sum) !== 0) throw new WireError('bad-checksum', `ICMPv6 checksum 0x${u16(buf, off + 2).toString(16)} does not verify`, at + 2);
}

export function parseIcmpv6(info: PacketInfo): Icmpv6Repr {
	checkIcmpv6(info);
	const buf = info.buf;
	const off = info.upperOff;
	const type = buf[off]!;
	const code = buf[off + 1]!;
	if (type === Icmp6.EchoRequest || type === Icmp6.EchoReply)
		return {kind: 'echo', type, code, identifier: u16(buf, off + 4), sequence: u16(buf, off + 6), data: buf.subarray(off + 8, info.end)};
	if (type === 1 || type === 2 || type === 3 || type === 4)
		return {kind: 'error', type, code, param: u32(buf, off + 4), invoking: buf.subarray(off + 8, info.end)};
	return {kind: 'other', type, code, body: buf.subarray(off + 4, info.end)};
}

export function icmpv6Length(repr: Icmpv6Repr): number {
	switch (repr.kind) {
		case 'echo':
			return ICMPV6_HEADER_LEN + repr.data.length;
		case 'error':
			return ICMPV6_HEADER_LEN + repr.invoking.length;
		case 'other':
			return 4 + repr.body.length;
	}
}

/** Writes the message at `off` with its checksum over the pseudo-header at `srcOff`/`dstOff`. */
export function emitIcmpv6(repr: Icmpv6Repr, buf: Uint8Array, off: number, srcOff: number, dstOff: number): number {
	const len = icmpv6Length(repr);
	checkField('ICMPv6 type', repr.type, 0xff);
	checkField('ICMPv6 code', repr.code, 0xff);
	buf[off] = repr.type;
	buf[off + 1] = repr.code;
	setU16(buf, off + 2, 0);
	switch (repr.kind) {
		case 'echo':
			checkField('echo identifier', repr.identifier, 0xffff);
			checkField('echo sequence', repr.sequence, 0xffff);
			setU16(buf, off + 4, repr.identifier);
			setU16(buf, off + 6, repr.sequence);
			buf.set(repr.data, off + 8);
			break;
		case 'error':
			checkField('ICMPv6 parameter', repr.param, 0xffffffff);
			setU32(buf, off + 4, repr.param);
			buf.set(repr.invoking, off + 8);
			break;
		case 'other':
			buf.set(repr.body, off + 4);
			break;
	}
	setU16(buf, off + 2, finish(sum16(buf, off, len, pseudoHeaderSum(buf, srcOff, dstOff, len, Proto.Icmpv6))));
	return len;
}

/**
 * RFC 4443 §2.4(c): an error message quotes as much of the invoking packet as
 * fits without exceeding the minimum IPv6 MTU.
 */
export function quoteInvoking(invoking: Uint8Array): Uint8Array {
	const room = IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;
	return invoking.length > room ? invoking.subarray(0, room) : invoking;
}
