// The anycast server (patent Fig. 5, S301–S303). The host kernel answers
// requests to S from S; on the way out this role moves the source to the
// server's own unicast address (S cannot be a source on the wire), stamps the
// identifier (S302) and checks the size before transmission (S303).
//
// Path MTU (docs/protocol.md §8): what the kernel fragmented is reassembled
// and stamped whole; a stamped answer larger than the path MTU leaves in
// fragments, the server node being its source. A Packet Too Big about a
// stamped answer teaches the server node the path MTU, and reaches the kernel
// in the kernel's own terms: about its packet from S, without the stamp,
// with the stamp's bytes taken off the MTU.
import {locateIdentifier, stamp} from '../anycast/identifier.js';
import type {Group} from '../anycast/group.js';
import {Groups} from '../anycast/group.js';
import {ID, ID_OPTION_TYPE} from '../anycast/option.js';
import type {Addr} from '../util/addr.js';
import {addrEquals} from '../util/addr.js';
import {setU16, u16, u32} from '../wire/bytes.js';
import {Icmp6, quoteInvoking} from '../wire/icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, IPV6_MAX_PACKET, IPV6_MIN_MTU, Proto} from '../wire/ipv6.js';
import {nextOption} from '../wire/options.js';
import {buildPacket} from '../wire/repr.js';
import {rewriteSource} from '../wire/rewrite.js';
import type {Pipeline} from '../pipeline/pipeline.js';
import {STOLEN} from '../pipeline/types.js';
import type {Packet, Verdict} from '../pipeline/types.js';
import type {AnycastCounters} from './anycast.js';

export interface ServerOptions {
	/** The groups whose S this server holds, with signing keys. */
	groups: Group[];
	/** The server's own unicast address, the source of its stamped responses. */
	unicast: Addr;
	/** Wall-clock milliseconds, for the identifier's timestamp. */
	wallNow: () => number;
	/** Monotonic milliseconds, for the path MTU cache. */
	now: () => number;
	/** The anycast application's counters on this node (roles/anycast.ts). */
	counters: AnycastCounters;
}

/**
 * The stamped answer a quote shows: where its upper layer starts and which
 * protocol it is, the length of the identifier's header, and S. The chain
 * may hold a first Fragment header (the server node fragmented the answer).
 * Null when the quote is not of a stamped answer, or is cut short in it.
 */
function quotedStamp(q: Uint8Array): {upperOff: number; upperProto: number; stampLen: number; anycast: Uint8Array} | null {
	if (q.length < IPV6_HEADER_LEN || q[0]! >>> 4 !== 6) return null;
	let nh = q[IPV6.nextHeader]!;
	let pos = IPV6_HEADER_LEN;
	let found: {len: number; anycast: Uint8Array} | null = null;
	for (let i = 0; i < 16; i++) {
		if (nh === Proto.Fragment) {
			if (pos + 8 > q.length || (u16(q, pos + 2) & 0xfff8) !== 0) return null;
			nh = q[pos]!;
			pos += 8;
			continue;
		}
		if (nh !== Proto.HopByHop && nh !== Proto.DestOpts && nh !== Proto.Routing) break;
		if (pos + 2 > q.length) return null;
		const len = (q[pos + 1]! + 1) * 8;
		if (pos + len > q.length) return null;
		if (nh === Proto.DestOpts) {
			for (let o = pos + 2; o < pos + len; o = nextOption(q, o)) {
				if (q[o] === ID_OPTION_TYPE && o + 2 + ID.anycast + 16 <= pos + len) found = {len, anycast: q.subarray(o + 2 + ID.anycast, o + 2 + ID.anycast + 16)};
			}
		}
		nh = q[pos]!;
		pos += len;
	}
	return found && pos + 8 <= q.length ? {upperOff: pos, upperProto: nh, stampLen: found.len, anycast: found.anycast} : null;
}

export function serverRole(node: Pipeline, options: ServerOptions): void {
	const groups = new Groups(options.groups);
	const out = new Uint8Array(IPV6_MAX_PACKET);
	// The kernel fragments what exceeds the TUN MTU (a 1450-byte ping's answer, a large DNS answer): a
	// fragment cannot be stamped (the identifier covers the whole response), so the pieces are put together first.
	node.reassembleAt('from-host', (pkt) => groups.find(pkt.info.buf, pkt.info.off + IPV6.src) !== undefined, 'whole');
	node.addHook('from-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		const group = groups.find(info.buf, info.off + IPV6.src);
		if (!group) return null; // not an answer from S: the server's own traffic
		if (info.isFragment) return 'stamp-too-big'; // not reassembled (cannot happen: reassembleAt above)
		const present = locateIdentifier(info);
		if (present !== 'absent') return typeof present === 'number' ? 'id-duplicate' : present;
		rewriteSource(info, options.unicast); // checksum updated incrementally (RFC 1624)
		if (info.end - info.off + 96 - IPV6_HEADER_LEN > 0xffff) return 'stamp-too-big'; // no room for the option
		const stamped = stamp(info, group, options.wallNow(), out);
		if (!stamped) return 'stamp-failed';
		options.counters.stamped++;
		pkt.event = 'stamped';
		// S303: the TUN MTU leaves room for the option, so this trips only on a path narrower than the
		// link or on what the kernel fragmented: the stamped datagram leaves in fragments that fit.
		const port = pkt.outPort!;
		if (port.kind === 'link' && stamped.length > node.pmtu.get(stamped, IPV6.dst, port.mtu, options.now())) {
			node.originate(stamped, port);
			return STOLEN;
		}
		pkt.replace(stamped);
		return null;
	});
	// RFC 8201 for the stamped answers: a Packet Too Big quoting one (from this server's unicast address,
	// carrying our identifier) lowers the server node's path MTU, and goes on to the kernel rewritten.
	node.addHook('to-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		const buf = info.buf;
		if (info.upperProto !== Proto.Icmpv6 || info.upperLen < 8 + IPV6_HEADER_LEN || buf[info.upperOff] !== Icmp6.PacketTooBig) return null;
		const quoted = buf.subarray(info.upperOff + 8, info.end);
		if (!addrEquals(quoted, IPV6.src, options.unicast, 0)) return null;
		const st = quotedStamp(quoted);
		if (!st || !groups.find(st.anycast, 0)) return null;
		const mtu = u32(buf, info.upperOff + 4);
		// As the client judges one (RFC 8201 §4, RFC 8200 §5): only about a larger packet, never below 1280.
		if (mtu < IPV6_MIN_MTU || mtu >= IPV6_HEADER_LEN + u16(quoted, IPV6.payloadLength)) return 'icmp-implausible';
		if (node.pmtu.update(quoted, IPV6.dst, mtu, 0xffffffff, options.now())) node.counters.pmtuUpdates++;
		// The kernel's packet was the quoted one from S, without the identifier (nor a Fragment header the
		// server node added): its IPv6 header and its upper layer.
		const mine = new Uint8Array(IPV6_HEADER_LEN + quoted.length - st.upperOff);
		mine.set(quoted.subarray(0, IPV6_HEADER_LEN));
		mine.set(quoted.subarray(st.upperOff), IPV6_HEADER_LEN);
		mine[IPV6.nextHeader] = st.upperProto;
		setU16(mine, IPV6.payloadLength, Math.max(0, u16(quoted, IPV6.payloadLength) - (st.upperOff - IPV6_HEADER_LEN)));
		mine.set(st.anycast, IPV6.src);
		const o = info.off;
		pkt.replace(
			buildPacket({
				ip: {trafficClass: 0, flowLabel: 0, hopLimit: buf[o + IPV6.hopLimit]!, src: buf.slice(o + IPV6.src, o + IPV6.src + 16), dst: buf.slice(o + IPV6.dst, o + IPV6.dst + 16)},
				ext: [],
				upper: {proto: Proto.Icmpv6, icmp: {kind: 'error', type: Icmp6.PacketTooBig, code: 0, param: Math.max(IPV6_MIN_MTU, mtu - st.stampLen), invoking: quoteInvoking(mine)}},
			}),
		);
		return null;
	});
}
