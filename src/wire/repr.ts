// Whole packets as values: decode (for tools, logs and tests) and build.
// The hot path uses parsePacket and the field accessors instead.
import {WireError} from './error.js';
import {emitExt, extLength, extProto, parseExt} from './ext.js';
import type {ExtRepr} from './ext.js';
import {emitIcmpv6, icmpv6Length, parseIcmpv6} from './icmpv6.js';
import type {Icmpv6Repr} from './icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, Proto, emitIpv6, parseIpv6} from './ipv6.js';
import type {Ipv6Repr} from './ipv6.js';
import {PacketInfo, parsePacket, routingFinalDestination} from './packet.js';
import {emitUdp, parseUdp, udpLength} from './udp.js';
import type {UdpRepr} from './udp.js';

export type UpperRepr =
	| {proto: typeof Proto.Icmpv6; icmp: Icmpv6Repr}
	| {proto: typeof Proto.Udp; udp: UdpRepr}
	/** Any other protocol, No Next Header, or fragment data: bytes as they are. */
	| {proto: number; raw: Uint8Array};

/** The fields of the fixed header a builder does not derive. */
export type Ipv6Fields = Omit<Ipv6Repr, 'payloadLength' | 'nextHeader'>;

export interface PacketRepr {
	ip: Ipv6Fields;
	ext: ExtRepr[];
	upper: UpperRepr;
}

/**
 * Decodes a whole packet. ICMPv6 and UDP are decoded (and their checksums
 * verified) unless the packet is a fragment, whose upper-layer bytes are partial.
 */
export function decodePacket(buf: Uint8Array, off = 0): PacketRepr {
	const info = parsePacket(buf, new PacketInfo(), off);
	const {trafficClass, flowLabel, hopLimit, src, dst} = parseIpv6(buf, off);
	const ext: ExtRepr[] = [];
	for (let i = 0; i < info.extCount; i++) ext.push(parseExt(info.extProto[i]!, buf, info.extOff[i]!, info.extLen[i]!));
	let upper: UpperRepr;
	if (!info.isFragment && info.upperProto === Proto.Icmpv6) upper = {proto: Proto.Icmpv6, icmp: parseIcmpv6(info)};
	else if (!info.isFragment && info.upperProto === Proto.Udp) upper = {proto: Proto.Udp, udp: parseUdp(info)};
	else upper = {proto: info.upperProto, raw: buf.subarray(info.upperOff, info.end)};
	return {ip: {trafficClass, flowLabel, hopLimit, src, dst}, ext, upper};
}

function upperLength(upper: UpperRepr): number {
	if ('icmp' in upper) return icmpv6Length(upper.icmp);
	if ('udp' in upper) return udpLength(upper.udp);
	return upper.raw.length;
}

export function packetLength(repr: PacketRepr): number {
	let len = IPV6_HEADER_LEN + upperLength(repr.upper);
	for (const ext of repr.ext) len += extLength(ext);
	return len;
}

/**
 * Writes every byte of the packet at `off`: lengths, next-header chain and
 * upper-layer checksum are derived. Returns the number of bytes written.
 */
export function emitPacket(repr: PacketRepr, buf: Uint8Array, off = 0): number {
	const len = packetLength(repr);
	if (len - IPV6_HEADER_LEN > 0xffff) throw new WireError('bad-value', `payload of ${len - IPV6_HEADER_LEN} bytes needs a jumbogram`);
	if (buf.length - off < len) throw new WireError('bad-value', `buffer of ${buf.length - off} bytes cannot hold ${len}`);
	const first = repr.ext.length > 0 ? extProto(repr.ext[0]!) : repr.upper.proto;
	emitIpv6({...repr.ip, payloadLength: len - IPV6_HEADER_LEN, nextHeader: first}, buf, off);
	let pos = off + IPV6_HEADER_LEN;
	// The pseudo-header needs the final destination, which a Routing header may hold (RFC 8200 §8.1).
	let dstOff = off + IPV6.dst;
	for (let i = 0; i < repr.ext.length; i++) {
		const ext = repr.ext[i]!;
		const next = i + 1 < repr.ext.length ? extProto(repr.ext[i + 1]!) : repr.upper.proto;
		const len = emitExt(ext, next, buf, pos);
		if (ext.kind === 'routing') dstOff = routingFinalDestination(buf, pos, len, off + IPV6.dst);
		pos += len;
	}
	const upper = repr.upper;
	if ('raw' in upper) {
		buf.set(upper.raw, pos);
		return len;
	}
	if ('icmp' in upper) emitIcmpv6(upper.icmp, buf, pos, off + IPV6.src, dstOff);
	else emitUdp(upper.udp, buf, pos, off + IPV6.src, dstOff);
	return len;
}

export function buildPacket(repr: PacketRepr): Uint8Array {
	const buf = new Uint8Array(packetLength(repr));
	emitPacket(repr, buf);
	return buf;
}
