// Forward: a packet not for the node itself is routed, its hop limit spent
// on link-to-link hops, handed to the hooks of the point its path names
// (reassembled first where they read whole datagrams, fragments.ts), and then
// out: MTU → postrouting → transmit.
//
//   route → hop limit → [reassembly] → from-host | to-host | forward → MTU → postrouting → transmit
import type {NextHop} from '../route/types.js';
import {Icmp6, TimeExceededCode, Unreach} from '../wire/icmpv6.js';
import {IPV6, packetFlowHash} from '../wire/ipv6.js';
import {transmit} from './egress.js';
import {reassembleThen, reassemblyPoint} from './fragments.js';
import {sendError} from './icmp-errors.js';
import {drop, runHooks, verdict} from './state.js';
import type {PipelineState} from './state.js';
import type {AttachedPort, HookPoint, Packet} from './types.js';

/**
 * The next hop of the route to the destination of the packet whose IPv6
 * header is at `off`, its flow hash choosing among equal routes; null when
 * there is no route. Every lookup of the node's own goes through here.
 */
export function nextHopOf(s: PipelineState, buf: Uint8Array, off: number): NextHop | null {
	const index = s.routes.lookup(buf, off + IPV6.dst, packetFlowHash(buf, off));
	return index < 0 ? null : s.routes.nextHop(index);
}

/** The port a next hop leaves by: the host port for a local route; null when the node has no such port. */
export function portOf(s: PipelineState, nh: NextHop): AttachedPort | null {
	return (nh.kind === 'local' ? s.host : s.ports.get(nh.link!)) ?? null;
}

export function forward(s: PipelineState, pkt: Packet): void {
	const info = pkt.info;
	const buf = info.buf;
	const o = info.off;
	const inPort = pkt.inPort!;
	const nh = nextHopOf(s, buf, o);
	if (!nh) {
		sendError(s, pkt, Icmp6.DestUnreachable, Unreach.NoRoute, 0);
		return drop(s, 'no-route', pkt);
	}
	const out = portOf(s, nh);
	if (!out) return drop(s, nh.kind === 'local' ? 'no-host' : 'no-route', pkt);
	pkt.outPort = out;
	// Between a node and its host nothing is routed: they are one device (the host's own stack).
	// Only link-to-link traffic is forwarded, with the router's duties.
	const forwarding = inPort.kind === 'link' && out.kind === 'link';
	// RFC 8200 §3: a router discards a packet whose hop limit it would take to zero, and says so.
	if (forwarding && buf[o + IPV6.hopLimit]! <= 1) {
		sendError(s, pkt, Icmp6.TimeExceeded, TimeExceededCode.HopLimit, 0);
		return drop(s, 'hop-limit', pkt);
	}
	const point: HookPoint = inPort.kind === 'host' ? 'from-host' : out.kind === 'host' ? 'to-host' : 'forward';
	// Routers forward fragments untouched; only a point whose hooks read whole datagrams reassembles.
	if (info.fragIndex >= 0 && s.reassemblyAt.length > 0) {
		const at = reassemblyPoint(s, point, pkt);
		if (at) return reassembleThen(s, pkt, point, at, forwarding);
	}
	deliver(s, pkt, point, forwarding);
}

/** Hooks of `point`, then out. */
export function deliver(s: PipelineState, pkt: Packet, point: HookPoint, forwarding: boolean): void {
	const v = runHooks(s, point, pkt);
	if (v !== null) return verdict(s, v, pkt);
	tail(s, pkt, forwarding);
}

/** MTU → hop limit → postrouting → transmit. */
export function tail(s: PipelineState, pkt: Packet, forwarding: boolean): void {
	const info = pkt.info; // a hook may have replaced the bytes
	const buf = info.buf;
	const o = info.off;
	const out = pkt.outPort!;
	// RFC 8200 §5: no fragmentation on the way; the sender learns the MTU from Packet Too Big.
	if (out.kind === 'link' && info.end - o > out.mtu) {
		sendError(s, pkt, Icmp6.PacketTooBig, 0, out.mtu);
		return drop(s, 'too-big', pkt);
	}
	if (forwarding) buf[o + IPV6.hopLimit]!--;
	const v = runHooks(s, 'postrouting', pkt);
	if (v !== null) return verdict(s, v, pkt);
	const len = pkt.info.end - pkt.info.off;
	s.counters.forwarded++;
	s.counters.forwardedBytes += len;
	transmit(s, pkt.outPort!, pkt.info.buf, pkt.info.off, len);
}
