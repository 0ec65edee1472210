// The shapes the pipeline's stages share: ports, the packet in flight, hooks
// and their verdicts, and a pipeline's configuration.
import type {RouteTable} from '../route/table.js';
import type {Addr} from '../util/addr.js';
import {TokenBucket} from '../util/rate.js';
import type {PrefixRate, Rate} from '../util/rate.js';
import {PacketInfo, parsePacket} from '../wire/packet.js';
import {portCounters} from './counters.js';
import type {PortCounters} from './counters.js';
import type {DropReason} from './drops.js';
import type {Pipeline} from './pipeline.js';
import type {ReassemblyLimits} from './reassembly.js';

/** What a device or link gives the pipeline: a name, an MTU and a way to send. */
export interface Port {
	readonly name: string;
	/** host: the TUN towards this namespace's kernel; link: a point-to-point link to a neighbour. */
	readonly kind: 'host' | 'link';
	readonly mtu: number;
	/** This node's link-local address on a link: the source of route exchange and BFD. */
	readonly linkLocal?: Addr;
	/** A label roles read, e.g. 'inside' or 'outside' at the boundary router. */
	readonly zone?: string;
	/** Ingress policing: at most this many packets a second from the link, in a token bucket (`policed` beyond). */
	readonly police?: Rate;
	transmit(buf: Uint8Array, off: number, len: number): boolean;
	/**
	 * The link's network-control queue, when it has one: route exchange and
	 * BFD the node originates leave here, never queued behind data
	 * (docs/pipeline.md, "The control plane under load").
	 */
	transmitControl?(buf: Uint8Array, off: number, len: number): boolean;
}

/** A port as the pipeline holds it: the device, its counters and its policers. */
export class AttachedPort {
	readonly name: string;
	readonly kind: 'host' | 'link';
	readonly mtu: number;
	readonly linkLocal: Addr | undefined;
	readonly zone: string | undefined;
	readonly counters: PortCounters = portCounters();
	/** Control-plane policing of route exchange and BFD from this link's control channel. */
	readonly controlBucket: TokenBucket;
	/**
	 * The same for route exchange and BFD that arrive with the link's data (a
	 * link without a control channel, or a sender that writes them there): a
	 * bucket of its own, so that a flood of them on the data channel never
	 * spends the control channel's.
	 */
	readonly dataControlBucket: TokenBucket;
	/** Ingress policer of the data channel, when the port has one. */
	readonly policer: TokenBucket | null;

	constructor(
		/** The device or link itself: what transmits. */
		readonly device: Port,
		control: Rate,
		now: number,
	) {
		this.name = device.name;
		this.kind = device.kind;
		this.mtu = device.mtu;
		this.linkLocal = device.linkLocal;
		this.zone = device.zone;
		this.controlBucket = new TokenBucket(control, now);
		this.dataControlBucket = new TokenBucket(control, now);
		this.policer = device.police ? new TokenBucket(device.police, now) : null;
	}
}

/** Hook points, named for the path a packet takes (Linux: pre-routing, local-out, local-in, forward, post-routing). */
export type HookPoint = 'prerouting' | 'from-host' | 'to-host' | 'forward' | 'postrouting';

/** A hook's verdict: null lets the packet go on, a reason drops it, STOLEN means the hook took it (and sent it itself). */
export const STOLEN = 'stolen';
export type Verdict = DropReason | typeof STOLEN | null;
export type Hook = (pkt: Packet, pipeline: Pipeline) => Verdict;

/**
 * What a node does with fragments at a hook point whose hooks must read the
 * whole datagram: `whole` hands the hooks, and then the next hop, the
 * reassembled datagram (the client delivers it to its host); `fragments`
 * hands the hooks the datagram but forwards the original fragments as they
 * came (the boundary router stays a router: it neither reassembles for the
 * next hop nor fragments again). Hooks of a `fragments` point must not
 * rewrite the packet.
 */
export type ReassemblyMode = 'whole' | 'fragments';

/** The packet in flight. One per pipeline depth, reused: hooks must not keep it. */
export class Packet {
	readonly info = new PacketInfo();
	inPort: AttachedPort | null = null;
	outPort: AttachedPort | null = null;
	/** Arrived on the link's control channel. */
	viaControl = false;
	/** What a hook did with it, for the trace (one of an extension's `events`, e.g. 'stamped'); null when nothing. */
	event: string | null = null;

	/** Replaces the packet's bytes (a hook that rewrote it into a new buffer). */
	replace(bytes: Uint8Array): void {
		parsePacket(bytes, this.info);
	}

	get length(): number {
		return this.info.end - this.info.off;
	}
}

/** Where a UDP datagram for the node's own stack came from. */
export interface UdpMeta {
	/** The port it arrived on. */
	inPort: AttachedPort;
	src: Addr;
	srcPort: number;
	dst: Addr;
	hopLimit: number;
}

/** A bound port's receiver. Returning false says the payload was refused: the pipeline counts it as `control-invalid`. */
export type UdpHandler = (payload: Uint8Array, meta: UdpMeta) => boolean | void;

/**
 * Control-plane policing (docs/pipeline.md): what a node does for packets
 * addressed to itself is bounded, so a flood of them costs it little and
 * cannot crowd out route exchange and BFD.
 */
export interface ControlPlaneLimits {
	/** Route exchange and BFD to the node, per link (a neighbour speaks a few packets a second). */
	control: Rate;
	/** Every other packet for the node's own stack: echo requests, errors, unknown protocols. Per node. */
	local: Rate;
	/** Echo replies and ICMPv6 errors the node sends, per destination prefix (the asker's source). */
	replies: PrefixRate;
}

export const DEFAULT_CONTROL_PLANE: ControlPlaneLimits = {
	control: {perSecond: 1000, burst: 200},
	local: {perSecond: 2000, burst: 200},
	replies: {perSecond: 100, burst: 50, prefixLen: 64, buckets: 1024},
};

export interface PipelineConfig {
	/** The node's name, for errors and the trace. */
	name: string;
	routes: RouteTable;
	/** Addresses the node's own stack answers (a router's address); the first is the default source of its ICMPv6 errors. */
	addresses: Addr[];
	/** Source of ICMPv6 errors when the node has no address of its own: a host device's address. */
	errorSource?: Addr;
	/** Anycast addresses: never the source of an ICMPv6 error (RFC 4443 §2.4(e)). */
	anycast?: Addr[];
	/** Monotonic milliseconds, for the rate limits and reassembly timeouts. */
	now: () => number;
	/** RFC 4443 §2.4(f) token bucket: errors per second and burst. */
	icmpRate?: Rate;
	/** Reassembly timeout and memory bounds (RFC 8200 §4.5); defaults in DEFAULT_REASSEMBLY. */
	reassembly?: Partial<ReassemblyLimits>;
	/** Rate limits on the work the node does for packets addressed to itself; defaults in DEFAULT_CONTROL_PLANE. */
	controlPlane?: Partial<ControlPlaneLimits>;
	/** Called for every drop; for logs and tests. Must not throw. */
	onDrop?: (reason: DropReason, pkt: Packet, pipeline: Pipeline) => void;
}
