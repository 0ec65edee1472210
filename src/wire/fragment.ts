// Source fragmentation (RFC 8200 §4.5) of a packet this node originates and
// that exceeds the path MTU. Routers never fragment (RFC 8200 §5); only the
// node's own stack does, for its own echo replies.
import {setU16, setU32} from './bytes.js';
import {WireError} from './error.js';
import {FRAGMENT_HEADER_LEN} from './ext.js';
import {IPV6, IPV6_HEADER_LEN, IPV6_MIN_MTU, Proto} from './ipv6.js';
import type {PacketInfo} from './packet.js';

/**
 * Splits the packet in `info` into fragments of at most `mtu` bytes with
 * Fragment Identification `id`. The unfragmentable part is the IPv6 header
 * and any Hop-by-Hop, Routing, and Destination Options before a Routing
 * header (RFC 8200 §4.5); it is repeated in every fragment.
 */
export function fragmentPacket(info: PacketInfo, mtu: number, id: number): Uint8Array[] {
	if (info.isFragment) throw new WireError('bad-value', 'a fragment is not fragmented again');
	if (mtu < IPV6_MIN_MTU) throw new WireError('bad-value', `MTU ${mtu} is below the IPv6 minimum ${IPV6_MIN_MTU}`);
	const buf = info.buf;
	const o = info.off;
	// The unfragmentable part ends after the Routing header, or else after Hop-by-Hop.
	const last = info.routingIndex >= 0 ? info.routingIndex : info.extCount > 0 && info.extProto[0] === Proto.HopByHop ? 0 : -1;
	const unfragEnd = last < 0 ? o + IPV6_HEADER_LEN : info.extOff[last]! + info.extLen[last]!;
	const nhField = info.nextHeaderOffset(last + 1);
	const next = buf[nhField]!;
	const unfrag = unfragEnd - o;
	const room = (mtu - unfrag - FRAGMENT_HEADER_LEN) & ~7;
	const total = info.end - unfragEnd;
	const out: Uint8Array[] = [];
	for (let start = 0; start < total; start += room) {
		const len = Math.min(room, total - start);
		const more = start + len < total;
		const f = new Uint8Array(unfrag + FRAGMENT_HEADER_LEN + len);
		f.set(buf.subarray(o, unfragEnd), 0);
		f[nhField - o] = Proto.Fragment;
		setU16(f, IPV6.payloadLength, f.length - IPV6_HEADER_LEN);
		f[unfrag] = next;
		f[unfrag + 1] = 0;
		setU16(f, unfrag + 2, start | (more ? 1 : 0));
		setU32(f, unfrag + 4, id);
		f.set(buf.subarray(unfragEnd + start, unfragEnd + start + len), unfrag + FRAGMENT_HEADER_LEN);
		out.push(f);
	}
	return out;
}
