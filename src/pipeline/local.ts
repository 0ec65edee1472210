// Local delivery: packets for the node's own stack — route exchange and BFD
// to their UDP handlers, echo requests answered, Packet Too Big learnt,
// errors for the rest. Policed before any work (docs/pipeline.md, "The
// control plane under load").
import {ADDR_LEN, isLinkLocal, isMulticast} from '../util/addr.js';
import {u16, u32} from '../wire/bytes.js';
import type {WireError} from '../wire/error.js';
import {Icmp6, ParamProblemCode, Unreach, checkIcmpv6} from '../wire/icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import {buildPacket} from '../wire/repr.js';
import {UDP_HEADER_LEN, checkUdp} from '../wire/udp.js';
import {malformed} from './drops.js';
import {originate} from './egress.js';
import {reassemble, replaceWith} from './fragments.js';
import {sendError} from './icmp-errors.js';
import {actOnOptions} from './options.js';
import {drop} from './state.js';
import type {PipelineState} from './state.js';
import type {Packet} from './types.js';

const HOP_LIMIT = 64;

/** Route exchange or BFD between neighbours: link-local UDP from a link to a control port, never a fragment. */
export function isControl(s: PipelineState, pkt: Packet): boolean {
	const info = pkt.info;
	return (
		pkt.inPort!.kind === 'link' &&
		info.upperProto === Proto.Udp &&
		!info.isFragment &&
		info.upperLen >= UDP_HEADER_LEN &&
		isLinkLocal(info.buf, info.off + IPV6.src) &&
		s.controlPorts.has(u16(info.buf, info.upperOff + 2))
	);
}

/** The node's own stack: route exchange, BFD, echo; errors for the rest. */
export function local(s: PipelineState, pkt: Packet): void {
	s.counters.local++;
	// Control-plane policing: route exchange and BFD per link, the rest per node, before any work.
	if (isControl(s, pkt)) {
		const port = pkt.inPort!;
		if (!(pkt.viaControl ? port.controlBucket : port.dataControlBucket).take(s.now())) return drop(s, 'control-policed', pkt);
	} else if (!s.localBucket.take(s.now())) return drop(s, 'local-policed', pkt);
	if (pkt.info.isFragment) {
		// RFC 8200 §4.5: the destination reassembles.
		const whole = reassemble(s, pkt, s.reassembly);
		if (!whole || !replaceWith(s, pkt, whole.datagram)) return;
	}
	const info = pkt.info;
	const buf = info.buf;
	const o = info.off;
	// The rest of the chain, in order (RFC 8200 §4.1); Hop-by-Hop was done on the way in.
	for (let i = 0; i < info.extCount; i++) {
		const proto = info.extProto[i];
		if (proto === Proto.DestOpts && !actOnOptions(s, pkt, i)) return;
		if (proto === Proto.Routing) {
			const rh = info.extOff[i]!;
			// RFC 8200 §4.4, RFC 5095 §3: no Routing type is implemented here (type 0 is deprecated, 2 and 4
			// are for other stacks): with segments left, Parameter Problem code 0 at the Routing Type.
			if (buf[rh + 3]! > 0) {
				sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.Header, rh + 2 - o);
				return drop(s, 'routing-header', pkt);
			}
		}
	}
	const multicast = isMulticast(buf, o + IPV6.dst);
	if (info.upperProto === Proto.Udp) {
		try {
			checkUdp(info);
		} catch (error) {
			return drop(s, malformed((error as WireError).code), pkt);
		}
		const handler = s.udp.get(u16(buf, info.upperOff + 2));
		if (!handler) {
			if (!multicast) sendError(s, pkt, Icmp6.DestUnreachable, Unreach.Port, 0);
			return drop(s, 'not-for-us', pkt);
		}
		const accepted = handler(buf.subarray(info.upperOff + UDP_HEADER_LEN, info.end), {
			inPort: pkt.inPort!,
			src: buf.slice(o + IPV6.src, o + IPV6.src + ADDR_LEN),
			srcPort: u16(buf, info.upperOff),
			dst: buf.slice(o + IPV6.dst, o + IPV6.dst + ADDR_LEN),
			hopLimit: buf[o + IPV6.hopLimit]!,
		});
		if (accepted === false) return drop(s, 'control-invalid', pkt);
		return;
	}
	if (info.upperProto === Proto.Icmpv6) {
		try {
			checkIcmpv6(info);
		} catch (error) {
			return drop(s, malformed((error as WireError).code), pkt);
		}
		const type = buf[info.upperOff]!;
		if (type === Icmp6.EchoRequest && !multicast) return echoReply(s, pkt);
		if (type === Icmp6.PacketTooBig) learnPmtu(s, pkt);
		return; // errors and replies addressed to the node itself end here
	}
	if (info.upperProto === Proto.NoNext) return;
	// RFC 8200 §4: an unrecognized Next Header gets Parameter Problem code 1, pointing at it.
	sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.NextHeader, info.nextHeaderOffset(info.extCount) - o);
	drop(s, 'next-header-unknown', pkt);
}

/**
 * RFC 8201 §4: a Packet Too Big about a packet this node sent lowers its
 * path MTU to the quoted destination, never below 1280. One that quotes
 * somebody else's packet is not ours to believe (RFC 5927 §4.1).
 */
function learnPmtu(s: PipelineState, pkt: Packet): void {
	const info = pkt.info;
	const buf = info.buf;
	const q = info.upperOff + 8;
	if (info.end - q < IPV6_HEADER_LEN || buf[q]! >>> 4 !== 6 || !s.isOwn(buf, q + IPV6.src)) return;
	if (s.pmtu.update(buf, q + IPV6.dst, u32(buf, info.upperOff + 4), 0xffffffff, s.now())) s.counters.pmtuUpdates++;
}

function echoReply(s: PipelineState, pkt: Packet): void {
	const info = pkt.info;
	const buf = info.buf;
	const o = info.off;
	const u = info.upperOff;
	// Replies are rate-limited per asking prefix, so one source cannot use up the node's answers.
	if (!s.replies.take(buf, o + IPV6.src, s.now())) return drop(s, 'echo-rate-limited', pkt);
	const reply = buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: HOP_LIMIT, src: buf.slice(o + IPV6.dst, o + IPV6.dst + ADDR_LEN), dst: buf.slice(o + IPV6.src, o + IPV6.src + ADDR_LEN)},
		ext: [],
		upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: u16(buf, u + 4), sequence: u16(buf, u + 6), data: buf.subarray(u + 8, info.end)}},
	});
	originate(s, reply, isLinkLocal(buf, o + IPV6.src) ? pkt.inPort : null);
}
