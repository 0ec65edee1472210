// Receive and validate: a packet from a port is parsed once, policed, its
// Hop-by-Hop options acted on, its first fragment checked for a whole chain;
// then the prerouting hooks, and the first fork of the path — for the node's
// own stack (local.ts) or to be routed (forward.ts).
//
//   receive → validate → hop-by-hop options → prerouting → [own address? → local] → forward
import {isLinkLocal, isMulticast, isUnspecified} from '../util/addr.js';
import {WireError} from '../wire/error.js';
import {Icmp6, ParamProblemCode} from '../wire/icmpv6.js';
import {IPV6, Proto} from '../wire/ipv6.js';
import {parsePacket} from '../wire/packet.js';
import type {PacketInfo} from '../wire/packet.js';
import {UDP_HEADER_LEN} from '../wire/udp.js';
import {malformed} from './drops.js';
import {forward} from './forward.js';
import {sendError} from './icmp-errors.js';
import {isControl, local} from './local.js';
import {actOnOptions} from './options.js';
import {acquire, drop, release, runHooks, verdict} from './state.js';
import type {PipelineState} from './state.js';
import type {AttachedPort, Packet} from './types.js';

/** A packet from a port: [off, off+len) of `buf`. The bytes may be changed in place. */
export function receive(s: PipelineState, port: AttachedPort, buf: Uint8Array, off: number, len: number): void {
	const c = s.counters;
	c.rxPackets++;
	c.rxBytes += len;
	port.counters.rxPackets++;
	port.counters.rxBytes += len;
	arrive(s, port, buf, off, len, false);
}

/**
 * A packet from a link's control channel: the queue that carries only route
 * exchange and BFD between neighbours, so that a flood of data on the link
 * never delays or drops them (docs/pipeline.md). Only control packets for
 * this node are taken from it; anything else is `control-misuse`, and never
 * forwarded.
 */
export function receiveControl(s: PipelineState, port: AttachedPort, buf: Uint8Array, off: number, len: number): void {
	const c = s.counters;
	c.rxPackets++;
	c.rxBytes += len;
	c.controlRx++;
	port.counters.rxControl++;
	arrive(s, port, buf, off, len, true);
}

/** Parses the packet into the next packet of the pool, and hands it on: to validation, or from the control channel to the node's own stack. */
function arrive(s: PipelineState, port: AttachedPort, buf: Uint8Array, off: number, len: number, viaControl: boolean): void {
	const pkt = acquire(s, port, null, viaControl);
	if (!pkt) return drop(s, 'nesting-too-deep', null);
	try {
		try {
			parsePacket(buf, pkt.info, off, off + len);
		} catch (error) {
			if (!(error instanceof WireError)) throw error;
			// Nothing on the control channel is answered: what the codec refuses there is only counted.
			return viaControl ? drop(s, malformed(error.code), pkt) : invalid(s, pkt, error);
		}
		if (viaControl) return control(s, pkt);
		// Ingress policing (a provisioned access rate): the excess costs a parse and a count, no more.
		if (port.policer !== null && !port.policer.take(s.now())) {
			port.counters.policed++;
			return drop(s, 'policed', pkt);
		}
		validate(s, pkt);
	} finally {
		release(s);
	}
}

/** From the control channel: route exchange or BFD for this node, or `control-misuse`. */
function control(s: PipelineState, pkt: Packet): void {
	const info = pkt.info;
	const dst = info.off + IPV6.dst;
	const forUs = isMulticast(info.buf, dst) ? s.inGroup(info.buf, dst) : s.isOwn(info.buf, dst);
	if (!forUs || !isControl(s, pkt)) return drop(s, 'control-misuse', pkt);
	local(s, pkt);
}

/**
 * A packet the codec refused. Two faults the RFCs answer: Hop-by-Hop not
 * first (RFC 8200 §4: Parameter Problem code 1 at the Next Header that
 * names it) and a first fragment whose header chain is cut short (RFC 7112
 * §5: code 3). The rest are silent drops.
 */
function invalid(s: PipelineState, pkt: Packet, error: WireError): void {
	const info = pkt.info;
	const firstFragment = error.code === 'truncated' && info.fragIndex >= 0 && info.fragmentOffset === 0;
	if (error.code !== 'bad-order' && !firstFragment) return drop(s, malformed(error.code), pkt);
	// parsePacket stopped inside the chain: buf, off and end are this packet's, the upper layer is unknown.
	info.upperProto = 255;
	info.upperOff = info.end;
	if (firstFragment) {
		sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.IncompleteChain, 0);
		return drop(s, 'frag-incomplete-chain', pkt);
	}
	sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.NextHeader, error.offset);
	drop(s, malformed(error.code), pkt);
}

/** Validation past the codec, the prerouting hooks, and where the packet goes: the node itself, or a route. */
function validate(s: PipelineState, pkt: Packet): void {
	const info = pkt.info;
	const buf = info.buf;
	const o = info.off;
	const inPort = pkt.inPort!;
	// RFC 4291 §2.7: a multicast address is never a source.
	if (isMulticast(buf, o + IPV6.src)) return drop(s, 'bad-source', pkt);
	// RFC 8200 §4.3: every node on the path processes the Hop-by-Hop header (nothing to do without one).
	if (info.extCount > 0 && info.extProto[0] === Proto.HopByHop && !actOnOptions(s, pkt, 0)) return;
	// RFC 7112 §5: a first fragment must carry the whole header chain, upper-layer header included.
	if (info.fragIndex >= 0 && info.fragmentOffset === 0 && chainIncomplete(info)) {
		sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.IncompleteChain, 0);
		return drop(s, 'frag-incomplete-chain', pkt);
	}
	const v = runHooks(s, 'prerouting', pkt);
	if (v !== null) return verdict(s, v, pkt);
	if (isMulticast(buf, o + IPV6.dst)) {
		if (inPort.kind === 'link' && s.inGroup(buf, o + IPV6.dst)) return local(s, pkt);
		return drop(s, 'not-for-us', pkt);
	}
	if (s.isOwn(buf, o + IPV6.dst)) return local(s, pkt);
	// RFC 4291 §2.5.6: routers must not forward packets with link-local source or destination.
	if (isLinkLocal(buf, o + IPV6.dst) || (inPort.kind === 'link' && isLinkLocal(buf, o + IPV6.src))) return drop(s, 'scope', pkt);
	if (isUnspecified(buf, o + IPV6.src)) return drop(s, 'bad-source', pkt);
	forward(s, pkt);
}

/**
 * RFC 7112 §5: a first fragment must hold every header through the upper-layer
 * header. Known upper layers have a fixed header to check; for the rest the
 * chain ended in a protocol we cannot measure, so it counts as complete.
 */
function chainIncomplete(info: PacketInfo): boolean {
	const len = info.upperLen;
	switch (info.upperProto) {
		case Proto.Tcp:
			return len < 20;
		case Proto.Udp:
			return len < UDP_HEADER_LEN;
		case Proto.Icmpv6:
			return len < 4;
		default:
			return false;
	}
}
