// One pass over an IPv6 packet: the fixed header, the whole extension-header
// chain with offsets, and where the upper-layer header starts. Nothing is
// copied and nothing is allocated: the result lands in a reusable PacketInfo.
import {u16} from './bytes.js';
import {WireError} from './error.js';
import {FRAGMENT_HEADER_LEN} from './ext.js';
import {IPV6, IPV6_HEADER_LEN, Proto, checkIpv6, flowLabelAt} from './ipv6.js';
import {checkOptions} from './options.js';

/**
 * Longest chain accepted. RFC 8200 §4.1 lists at most 8 kinds in the
 * recommended order; a chain longer than this is an attack, not a packet.
 */
export const MAX_EXT_HEADERS = 16;

const EMPTY = new Uint8Array(0);

/** Where parsePacket left things. Offsets are absolute indexes into `buf`. */
export class PacketInfo {
	buf: Uint8Array = EMPTY;
	/** Start of the IPv6 header. */
	off = 0;
	/** End of the packet: off + 40 + payload length. */
	end = 0;
	/** Number of extension headers in the chain. */
	extCount = 0;
	readonly extProto = new Uint8Array(MAX_EXT_HEADERS);
	readonly extOff = new Int32Array(MAX_EXT_HEADERS);
	readonly extLen = new Int32Array(MAX_EXT_HEADERS);
	/** Next Header value after the last extension header (59 for No Next Header). */
	upperProto = 0;
	/** Start of the upper-layer header, or of the fragment data after a Fragment header. */
	upperOff = 0;
	/** Index in the chain of the Fragment header, or -1. */
	fragIndex = -1;
	/** Index in the chain of the Routing header, or -1. */
	routingIndex = -1;

	get upperLen(): number {
		return this.end - this.upperOff;
	}

	/** True when a Fragment header is present: the upper-layer bytes are partial. */
	get isFragment(): boolean {
		return this.fragIndex >= 0;
	}

	/** The 20-bit Flow Label of the fixed header (RFC 6437). */
	get flowLabel(): number {
		return flowLabelAt(this.buf, this.off);
	}

	/** Fragment offset in bytes, or 0 when not a fragment. */
	get fragmentOffset(): number {
		return this.fragIndex < 0 ? 0 : u16(this.buf, this.extOff[this.fragIndex]! + 2) & 0xfff8;
	}

	/** Offset of the Next Header byte that names chain entry `i` (i === extCount names the upper layer). */
	nextHeaderOffset(i: number): number {
		return i === 0 ? this.off + IPV6.nextHeader : this.extOff[i - 1]!;
	}

	/** Index of the last header of `proto` in the chain, or -1. */
	lastIndexOf(proto: number): number {
		for (let i = this.extCount - 1; i >= 0; i--) if (this.extProto[i] === proto) return i;
		return -1;
	}
}

/**
 * Parses the packet at [off, limit) into `info` and returns it; `limit`
 * bounds a packet that shares its buffer with others (a batch). Throws
 * WireError (offsets in it are relative to the IPv6 header) and nothing else.
 */
export function parsePacket(buf: Uint8Array, info: PacketInfo = new PacketInfo(), off = 0, limit = buf.length): PacketInfo {
	const end = checkIpv6(buf, off, limit);
	info.buf = buf;
	info.off = off;
	info.end = end;
	info.fragIndex = -1;
	info.routingIndex = -1;
	let nh = buf[off + IPV6.nextHeader]!;
	let nhField = off + IPV6.nextHeader;
	let pos = off + IPV6_HEADER_LEN;
	let count = 0;
	for (;;) {
		let len: number;
		if (nh === Proto.HopByHop || nh === Proto.DestOpts || nh === Proto.Routing) {
			// RFC 8200 §4.3: Hop-by-Hop only ever follows the IPv6 header directly.
			if (nh === Proto.HopByHop && count !== 0) throw new WireError('bad-order', 'Hop-by-Hop header is not first', nhField - off);
			if (pos + 2 > end) throw new WireError('truncated', `extension header ${nh} cut short`, pos - off);
			len = (buf[pos + 1]! + 1) * 8;
			if (pos + len > end) throw new WireError('truncated', `extension header ${nh} of ${len} bytes runs past the packet`, pos + 1 - off);
			if (nh === Proto.Routing) {
				// RFC 8200 §4.1: one Routing header. A second would leave two final destinations to choose from.
				if (info.routingIndex >= 0) throw new WireError('repeated-header', 'a second Routing header', nhField - off);
				info.routingIndex = count;
			} else checkOptionsAt(buf, pos + 2, pos + len, off);
		} else if (nh === Proto.Fragment) {
			// RFC 8200 §4.1: one Fragment header. Nested ones would be reassembled by one node and not the next.
			if (info.fragIndex >= 0) throw new WireError('repeated-header', 'a second Fragment header', nhField - off);
			if (pos + FRAGMENT_HEADER_LEN > end) throw new WireError('truncated', 'Fragment header cut short', pos - off);
			len = FRAGMENT_HEADER_LEN;
			info.fragIndex = count;
		} else {
			break; // an upper-layer protocol, No Next Header, or something we do not know
		}
		if (count === MAX_EXT_HEADERS) throw new WireError('chain-too-long', `more than ${MAX_EXT_HEADERS} extension headers`, pos - off);
		info.extProto[count] = nh;
		info.extOff[count] = pos;
		info.extLen[count] = len;
		count++;
		nhField = pos;
		nh = buf[pos]!;
		pos += len;
		// After a non-first fragment the bytes are payload, not headers (RFC 8200 §4.5).
		if (info.fragIndex === count - 1 && (u16(buf, pos - 6) & 0xfff8) !== 0) break;
	}
	info.extCount = count;
	info.upperProto = nh;
	info.upperOff = pos;
	return info;
}

function checkOptionsAt(buf: Uint8Array, start: number, end: number, packetOff: number): void {
	try {
		checkOptions(buf, start, end);
	} catch (error) {
		const e = error as WireError;
		throw new WireError(e.code, e.message, e.offset - packetOff);
	}
}

/**
 * Offset of the address the upper-layer pseudo-header uses (RFC 8200 §8.1):
 * the Destination Address, except while a Routing header still has segments
 * left, when it is the final one the header lists.
 */
export function finalDestinationOffset(info: PacketInfo): number {
	const dst = info.off + IPV6.dst;
	if (info.routingIndex < 0) return dst;
	return routingFinalDestination(info.buf, info.extOff[info.routingIndex]!, info.extLen[info.routingIndex]!, dst);
}

/** The final destination a Routing header at `rh` names, or `dst` when it has no segments left or a type we do not know. */
export function routingFinalDestination(buf: Uint8Array, rh: number, len: number, dst: number): number {
	if (buf[rh + 3] === 0) return dst;
	switch (buf[rh + 2]) {
		case 0: // RFC 2460 type 0 (deprecated): addresses after 4 reserved bytes, the last is final
		case 2: // RFC 6275 type 2: one home address
			return len >= 24 ? rh + len - 16 : dst;
		case 4: // RFC 8754 §2: Segment List[0], the final segment, comes first after 8 bytes
			return len >= 24 ? rh + 8 : dst;
		default:
			return dst;
	}
}
