// The IPv6 fixed header (RFC 8200 §3).
//
//  0               1               2               3
//  |Version| Traffic Class |           Flow Label                  |
//  |         Payload Length        |  Next Header  |   Hop Limit   |
//  |                         Source Address (16)                   |
//  |                      Destination Address (16)                 |
import {u16, setU16} from './bytes.js';
import {WireError} from './error.js';

export const IPV6_HEADER_LEN = 40;
export const IPV6_MIN_MTU = 1280; // RFC 8200 §5
/** The largest IPv6 packet without a Jumbo Payload (RFC 2675): the fixed header and 65535 bytes of payload. */
export const IPV6_MAX_PACKET = IPV6_HEADER_LEN + 0xffff;

/** Field offsets within the fixed header. */
export const IPV6 = {
	versionTcFlow: 0,
	payloadLength: 4,
	nextHeader: 6,
	hopLimit: 7,
	src: 8,
	dst: 24,
} as const;

/** Protocol numbers (IANA) the stack knows. */
export const Proto = {
	HopByHop: 0,
	Tcp: 6,
	Udp: 17,
	Routing: 43,
	Fragment: 44,
	Esp: 50,
	Ah: 51,
	Icmpv6: 58,
	NoNext: 59,
	DestOpts: 60,
} as const;

/** The 20-bit Flow Label of the fixed header at `off` (RFC 6437). */
export function flowLabelAt(buf: Uint8Array, off: number): number {
	return ((buf[off + 1]! & 0x0f) << 16) | u16(buf, off + 2);
}

/**
 * The flow hash ECMP routing picks a path by: source, destination and flow
 * label (RFC 6437 §3: the 3-tuple is enough to keep a flow on one path, and
 * needs no transport header). Allocates nothing.
 */
export function flowHash(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, flowLabel = 0): number {
	let h = 0x811c9dc5 ^ flowLabel;
	for (let i = 0; i < 16; i++) h = Math.imul(h ^ src[srcOff + i]!, 0x01000193);
	for (let i = 0; i < 16; i++) h = Math.imul(h ^ dst[dstOff + i]!, 0x01000193);
	h ^= h >>> 16;
	h = Math.imul(h, 0x7feb352d);
	h ^= h >>> 15;
	return h >>> 0;
}

/** The flow hash of the packet whose fixed header is at `off`. */
export function packetFlowHash(buf: Uint8Array, off: number): number {
	return flowHash(buf, off + IPV6.src, buf, off + IPV6.dst, flowLabelAt(buf, off));
}

export interface Ipv6Repr {
	trafficClass: number;
	flowLabel: number;
	/** Set by the builder from what follows; kept on parse. */
	payloadLength: number;
	/** Set by the builder from the first extension or upper-layer header; kept on parse. */
	nextHeader: number;
	hopLimit: number;
	src: Uint8Array;
	dst: Uint8Array;
}

/**
 * Checks the fixed header at `off`: version 6, and a payload length that fits
 * before `limit`. Returns the packet's end offset. Error offsets are relative to `off`. Trailing bytes beyond the payload
 * length are allowed and ignored (RFC 8200 §3 defines the length; link padding
 * is not part of the packet).
 */
export function checkIpv6(buf: Uint8Array, off = 0, limit = buf.length): number {
	if (limit - off < IPV6_HEADER_LEN) throw new WireError('truncated', `IPv6 header needs 40 bytes, have ${limit - off}`, 0);
	const version = buf[off]! >>> 4;
	if (version !== 6) throw new WireError('bad-version', `IP version ${version}, expected 6`, 0);
	const payloadLength = u16(buf, off + IPV6.payloadLength);
	// A zero payload length with a Hop-by-Hop header would be a jumbogram (RFC 2675); links here never carry one.
	if (payloadLength === 0 && buf[off + IPV6.nextHeader] === 0)
		throw new WireError('bad-length', 'jumbograms (payload length 0 with Hop-by-Hop) are not supported', IPV6.payloadLength);
	const end = off + IPV6_HEADER_LEN + payloadLength;
	if (end > limit)
		throw new WireError('truncated', `payload length ${payloadLength} exceeds the ${limit - off - IPV6_HEADER_LEN} bytes present`, IPV6.payloadLength);
	return end;
}

/** Decodes the fixed header into a value (src and dst are views, not copies). */
export function parseIpv6(buf: Uint8Array, off = 0): Ipv6Repr {
	checkIpv6(buf, off);
	const word = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
	return {
		trafficClass: (word >>> 20) & 0xff,
		flowLabel: word & 0xfffff,
		payloadLength: u16(buf, off + IPV6.payloadLength),
		nextHeader: buf[off + IPV6.nextHeader]!,
		hopLimit: buf[off + IPV6.hopLimit]!,
		src: buf.subarray(off + IPV6.src, off + IPV6.src + 16),
		dst: buf.subarray(off + IPV6.dst, off + IPV6.dst + 16),
	};
}

/** Writes all 40 bytes of the fixed header at `off`. */
export function emitIpv6(repr: Ipv6Repr, buf: Uint8Array, off = 0): void {
	if (buf.length - off < IPV6_HEADER_LEN) throw new WireError('truncated', 'buffer too small for an IPv6 header', off);
	checkField('traffic class', repr.trafficClass, 0xff);
	checkField('flow label', repr.flowLabel, 0xfffff);
	checkField('payload length', repr.payloadLength, 0xffff);
	checkField('next header', repr.nextHeader, 0xff);
	checkField('hop limit', repr.hopLimit, 0xff);
	if (repr.src.length !== 16 || repr.dst.length !== 16) throw new WireError('bad-value', 'addresses must be 16 bytes');
	buf[off] = 0x60 | (repr.trafficClass >>> 4);
	buf[off + 1] = ((repr.trafficClass & 0x0f) << 4) | (repr.flowLabel >>> 16);
	setU16(buf, off + 2, repr.flowLabel & 0xffff);
	setU16(buf, off + IPV6.payloadLength, repr.payloadLength);
	buf[off + IPV6.nextHeader] = repr.nextHeader;
	buf[off + IPV6.hopLimit] = repr.hopLimit;
	buf.set(repr.src, off + IPV6.src);
	buf.set(repr.dst, off + IPV6.dst);
}

export function checkField(name: string, value: number, max: number): void {
	if (!Number.isInteger(value) || value < 0 || value > max) throw new WireError('bad-value', `${name} ${value} is outside 0..${max}`);
}
