// The packet pipeline every role shares. A packet goes
//
//   receive → validate → hop-by-hop options → prerouting → [own address? → local]
//           → route → hop limit → [reassembly] → from-host | to-host | forward
//           → MTU → postrouting → transmit
//
// (docs/pipeline.md lists every stage, drop reason and ICMPv6 error.)
// Roles are sets of hooks at the named points (src/roles). The pipeline never
// throws on a packet: every failure is a counted drop with a reason from
// DROP_REASONS, and the ICMPv6 error the RFCs ask for, if any, is sent.
import type {RouteTable} from '../route/table.js';
import {flowHash} from '../route/table.js';
import type {NextHop} from '../route/types.js';
import {ADDR_LEN, addrEquals, isLinkLocal, isMulticast, isUnspecified, parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import {randomBytes} from 'node:crypto';
import {u16, u32} from '../wire/bytes.js';
import {WireError} from '../wire/error.js';
import {fragmentPacket} from '../wire/fragment.js';
import {Icmp6, ParamProblemCode, TimeExceededCode, Unreach, checkIcmpv6, isIcmpv6Error, quoteInvoking} from '../wire/icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, IPV6_MIN_MTU, Proto} from '../wire/ipv6.js';
import {Opt, optionAction, OptAction} from '../wire/options.js';
import {PacketInfo, parsePacket} from '../wire/packet.js';
import {buildPacket} from '../wire/repr.js';
import {UDP_HEADER_LEN, checkUdp} from '../wire/udp.js';
import {PrefixLimiter, TokenBucket} from '../util/rate.js';
import type {PrefixRate, Rate} from '../util/rate.js';
import {nodeCounters, portCounters} from './counters.js';
import type {NodeCounters, PortCounters} from './counters.js';
import {malformed} from './drop.js';
import type {DropReason} from './drop.js';
import {PmtuCache} from './pmtu.js';
import {DEFAULT_REASSEMBLY, Reassembler} from './reassembly.js';
import type {AddResult, Expired, ReassemblyLimits} from './reassembly.js';

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

export interface AttachedPort extends Port {
	readonly port: Port;
	readonly counters: PortCounters;
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
}

/** Hook points, named for the path a packet takes (Linux: pre-routing, local-out, local-in, forward, post-routing). */
export type HookPoint = 'prerouting' | 'from-host' | 'to-host' | 'forward' | 'postrouting';

/** A hook's verdict: null lets the packet go on, a reason drops it, STOLEN means the hook took it. */
export const STOLEN = 'stolen';
export type Verdict = DropReason | typeof STOLEN | null;
export type Hook = (pkt: Packet, node: Node) => Verdict;

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
	nextHop: NextHop | null = null;
	/** Arrived on the link's control channel. */
	viaControl = false;

	/** Replaces the packet's bytes (a hook that rewrote it into a new buffer). */
	replace(bytes: Uint8Array): void {
		parsePacket(bytes, this.info);
	}

	get length(): number {
		return this.info.end - this.info.off;
	}
}

export interface UdpMeta {
	port: AttachedPort;
	src: Addr;
	srcPort: number;
	dst: Addr;
	hopLimit: number;
}

/** A bound port's receiver. Returning false says the payload was refused: the node counts it as `control-invalid`. */
export type UdpHandler = (payload: Uint8Array, meta: UdpMeta) => boolean | void;

export interface NodeConfig {
	name: string;
	routes: RouteTable;
	/** Addresses the node's own stack answers (a router's address); the first is the default source of its ICMPv6 errors. */
	addresses: Addr[];
	/** Source of ICMPv6 errors when the node has no address of its own: a host device's address. */
	errorSource?: Addr;
	/** Anycast addresses: never the source of an ICMPv6 error (RFC 4443 §2.4(e)). */
	anycast?: Addr[];
	/** Monotonic milliseconds, for the ICMPv6 rate limit. */
	now: () => number;
	/** RFC 4443 §2.4(f) token bucket: errors per second and burst. */
	icmpRate?: {perSecond: number; burst: number};
	/** Reassembly timeout and memory bounds (RFC 8200 §4.5); defaults in DEFAULT_REASSEMBLY. */
	reassembly?: Partial<ReassemblyLimits>;
	/** Rate limits on the work the node does for packets addressed to itself; defaults in DEFAULT_CONTROL_PLANE. */
	controlPlane?: Partial<ControlPlaneLimits>;
	/** Called for every drop; for logs and tests. Must not throw. */
	onDrop?: (reason: DropReason, pkt: Packet, node: Node) => void;
}

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

const ALL_NODES = parseAddr('ff02::1');
const HOP_LIMIT = 64;
/** Nesting allowed for synchronous delivery (hooks that originate packets, links that deliver at once). */
const MAX_DEPTH = 8;

export class Node {
	readonly name: string;
	readonly routes: RouteTable;
	readonly counters: NodeCounters = nodeCounters();
	readonly ports = new Map<string, AttachedPort>();
	host: AttachedPort | null = null;
	private readonly own: Addr[];
	private readonly anycast: Addr[];
	private readonly groups: Addr[] = [ALL_NODES];
	private readonly hooks: Record<HookPoint, Hook[]> = {prerouting: [], 'from-host': [], 'to-host': [], forward: [], postrouting: []};
	private readonly udp = new Map<number, UdpHandler>();
	/** UDP ports of the control plane (route exchange, BFD): their packets are policed per link, apart from the rest. */
	private readonly controlPorts = new Set<number>();
	private readonly limits: ControlPlaneLimits;
	private readonly localBucket: TokenBucket;
	private readonly replies: PrefixLimiter;
	private readonly pool: Packet[] = Array.from({length: MAX_DEPTH}, () => new Packet());
	private depth = 0;
	private readonly errorBucket: TokenBucket;
	/** Fragments held for the node's own stack. Each reassembleAt point has its own (reassemblers()). */
	readonly reassembly: Reassembler<AttachedPort>;
	/** Path MTUs for what this node originates (RFC 8201). */
	readonly pmtu = new PmtuCache();
	private readonly reassemblyAt: Array<{point: HookPoint; when: (pkt: Packet) => boolean; mode: ReassemblyMode; reassembler: Reassembler<AttachedPort>}> = [];
	/** RFC 7739 §5: Fragment Identifications should not be predictable; a random start and a counter. */
	private fragId = randomBytes(4).readUInt32BE(0);
	private readonly scratch = new PacketInfo();
	private readonly onGone = (e: Expired<AttachedPort>): void => this.reassemblyGone(e);

	constructor(private readonly config: NodeConfig) {
		this.name = config.name;
		this.routes = config.routes;
		this.own = config.addresses.slice();
		this.anycast = (config.anycast ?? []).slice();
		this.errorBucket = new TokenBucket(config.icmpRate ?? {perSecond: 100, burst: 10}, config.now());
		this.limits = {...DEFAULT_CONTROL_PLANE, ...config.controlPlane};
		this.localBucket = new TokenBucket(this.limits.local, config.now());
		this.replies = new PrefixLimiter(this.limits.replies);
		this.reassembly = new Reassembler({...DEFAULT_REASSEMBLY, ...config.reassembly});
	}

	get primaryAddress(): Addr | undefined {
		return this.own[0];
	}

	addPort(port: Port): AttachedPort {
		const attached: AttachedPort = Object.assign(Object.create(port) as Port, {
			port,
			counters: portCounters(),
			controlBucket: new TokenBucket(this.limits.control, this.config.now()),
			dataControlBucket: new TokenBucket(this.limits.control, this.config.now()),
			policer: port.police ? new TokenBucket(port.police, this.config.now()) : null,
		}) as AttachedPort;
		if (port.kind === 'host') {
			if (this.host) throw new Error(`node ${this.name} already has a host port`);
			this.host = attached;
		}
		this.ports.set(port.name, attached);
		if (port.linkLocal) this.own.push(port.linkLocal);
		return attached;
	}

	addHook(point: HookPoint, hook: Hook): void {
		this.hooks[point].push(hook);
	}

	/**
	 * Fragments reaching `point` for which `when` holds are reassembled first
	 * (see ReassemblyMode), in a reassembler of their own: fragments sent to
	 * the node itself, or meant for another point, never push them out.
	 */
	reassembleAt(point: 'from-host' | 'to-host' | 'forward', when: (pkt: Packet) => boolean, mode: ReassemblyMode): void {
		this.reassemblyAt.push({point, when, mode, reassembler: new Reassembler({...DEFAULT_REASSEMBLY, ...this.config.reassembly})});
	}

	/** Every reassembler of the node, named: `local` (its own stack) and one per reassembleAt point. */
	reassemblers(): Array<{name: string; reassembler: Reassembler<AttachedPort>}> {
		return [{name: 'local', reassembler: this.reassembly}, ...this.reassemblyAt.map((r) => ({name: r.point, reassembler: r.reassembler}))];
	}

	/** Timer work: abandons reassemblies past their timeout (RFC 8200 §4.5). Call about once a second. */
	tick(): void {
		const now = this.config.now();
		this.reassembly.expire(now, this.onGone);
		for (const r of this.reassemblyAt) r.reassembler.expire(now, this.onGone);
	}

	/** Adds an address this node answers for itself (not the host's). */
	addAddress(addr: Addr): void {
		this.own.push(addr);
	}

	joinGroup(group: Addr): void {
		this.groups.push(group);
	}

	/**
	 * Delivers UDP datagrams to `port` on this node's own addresses and groups
	 * to `handler`. A `control` port (route exchange, BFD) takes link-local
	 * packets from a link, on the link's control channel or not, and is
	 * policed per link apart from the node's other local traffic.
	 */
	bindUdp(port: number, handler: UdpHandler, control = false): void {
		this.udp.set(port, handler);
		if (control) this.controlPorts.add(port);
	}

	isOwn(buf: Uint8Array, off: number): boolean {
		return indexOf(this.own, buf, off) >= 0;
	}

	isAnycast(buf: Uint8Array, off: number): boolean {
		return indexOf(this.anycast, buf, off) >= 0;
	}

	/** Entry point for a packet from a port: [off, off+len) of `buf`. The bytes may be changed in place. */
	receive(port: AttachedPort, buf: Uint8Array, off: number, len: number): void {
		const c = this.counters;
		c.rxPackets++;
		c.rxBytes += len;
		port.counters.rxPackets++;
		port.counters.rxBytes += len;
		if (this.depth === MAX_DEPTH) return this.countDrop('tx-failed', null);
		const pkt = this.pool[this.depth++]!;
		try {
			pkt.inPort = port;
			pkt.outPort = null;
			pkt.nextHop = null;
			pkt.viaControl = false;
			pkt.info.fragIndex = -1;
			try {
				parsePacket(buf, pkt.info, off, off + len);
			} catch (error) {
				if (error instanceof WireError) return this.invalid(pkt, error);
				throw error;
			}
			// Ingress policing (a provisioned access rate): the excess costs a parse and a count, no more.
			if (port.policer !== null && !port.policer.take(this.config.now())) {
				port.counters.policed++;
				return this.drop('policed', pkt);
			}
			this.process(pkt);
		} finally {
			this.depth--;
		}
	}

	/**
	 * Entry point for a link's control channel: the queue that carries only
	 * route exchange and BFD between neighbours, so that a flood of data on
	 * the link never delays or drops them (docs/pipeline.md). Only control
	 * packets for this node are taken from it; anything else is
	 * `control-misuse`, and never forwarded.
	 */
	receiveControl(port: AttachedPort, buf: Uint8Array, off: number, len: number): void {
		const c = this.counters;
		c.rxPackets++;
		c.rxBytes += len;
		c.controlRx++;
		port.counters.rxControl++;
		if (this.depth === MAX_DEPTH) return this.countDrop('tx-failed', null);
		const pkt = this.pool[this.depth++]!;
		try {
			pkt.inPort = port;
			pkt.outPort = null;
			pkt.nextHop = null;
			pkt.viaControl = true;
			pkt.info.fragIndex = -1;
			try {
				parsePacket(buf, pkt.info, off, off + len);
			} catch (error) {
				if (error instanceof WireError) return this.countDrop(malformed(error.code), pkt);
				throw error;
			}
			const info = pkt.info;
			const dst = info.off + IPV6.dst;
			const forUs = isMulticast(info.buf, dst) ? indexOf(this.groups, info.buf, dst) >= 0 : this.isOwn(info.buf, dst);
			if (!forUs || !this.isControl(pkt)) return this.drop('control-misuse', pkt);
			this.local(pkt);
		} finally {
			this.depth--;
		}
	}

	/** Route exchange or BFD between neighbours: link-local UDP from a link to a control port, never a fragment. */
	private isControl(pkt: Packet): boolean {
		const info = pkt.info;
		return (
			pkt.inPort!.kind === 'link' &&
			info.upperProto === Proto.Udp &&
			!info.isFragment &&
			info.upperLen >= UDP_HEADER_LEN &&
			isLinkLocal(info.buf, info.off + IPV6.src) &&
			this.controlPorts.has(u16(info.buf, info.upperOff + 2))
		);
	}

	/**
	 * A packet the codec refused. Two faults the RFCs answer: Hop-by-Hop not
	 * first (RFC 8200 §4: Parameter Problem code 1 at the Next Header that
	 * names it) and a first fragment whose header chain is cut short (RFC 7112
	 * §5: code 3). The rest are silent drops.
	 */
	private invalid(pkt: Packet, error: WireError): void {
		const info = pkt.info;
		const firstFragment = error.code === 'truncated' && info.fragIndex >= 0 && info.fragmentOffset === 0;
		if (error.code !== 'bad-order' && !firstFragment) return this.countDrop(malformed(error.code), pkt);
		// parsePacket stopped inside the chain: buf, off and end are this packet's, the upper layer is unknown.
		info.upperProto = 255;
		info.upperOff = info.end;
		if (firstFragment) {
			this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.IncompleteChain, 0);
			return this.drop('frag-incomplete-chain', pkt);
		}
		this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.NextHeader, error.offset);
		this.drop(malformed(error.code), pkt);
	}

	private process(pkt: Packet): void {
		const info = pkt.info;
		const buf = info.buf;
		const o = info.off;
		const inPort = pkt.inPort!;
		// RFC 4291 §2.7: a multicast address is never a source.
		if (isMulticast(buf, o + IPV6.src)) return this.drop('bad-source', pkt);
		// RFC 8200 §4.3: every node on the path processes the Hop-by-Hop header (nothing to do without one).
		if (info.extCount > 0 && info.extProto[0] === Proto.HopByHop && !this.options(pkt, 0)) return;
		// RFC 7112 §5: a first fragment must carry the whole header chain, upper-layer header included.
		if (info.fragIndex >= 0 && info.fragmentOffset === 0 && chainIncomplete(info)) {
			this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.IncompleteChain, 0);
			return this.drop('frag-incomplete-chain', pkt);
		}
		const v = this.run('prerouting', pkt);
		if (v !== null) return this.verdict(v, pkt);
		if (isMulticast(buf, o + IPV6.dst)) {
			if (inPort.kind === 'link' && indexOf(this.groups, buf, o + IPV6.dst) >= 0) return this.local(pkt);
			return this.drop('not-for-us', pkt);
		}
		if (this.isOwn(buf, o + IPV6.dst)) return this.local(pkt);
		// RFC 4291 §2.5.6: routers must not forward packets with link-local source or destination.
		if (isLinkLocal(buf, o + IPV6.dst) || (inPort.kind === 'link' && isLinkLocal(buf, o + IPV6.src))) return this.drop('scope', pkt);
		if (isUnspecified(buf, o + IPV6.src)) return this.drop('bad-source', pkt);

		const index = this.routes.lookup(buf, o + IPV6.dst, flowHash(buf, o + IPV6.src, buf, o + IPV6.dst, u16(buf, o + 2) | ((buf[o + 1]! & 0x0f) << 16)));
		if (index < 0) {
			this.sendError(pkt, Icmp6.DestUnreachable, Unreach.NoRoute, 0);
			return this.drop('no-route', pkt);
		}
		const nh = this.routes.nextHop(index);
		const out = nh.kind === 'local' ? this.host : this.ports.get(nh.link!);
		if (!out) return this.drop(nh.kind === 'local' ? 'no-host' : 'no-route', pkt);
		pkt.nextHop = nh;
		pkt.outPort = out;
		// Between a node and its host nothing is routed: they are one device (the host's own stack).
		// Only link-to-link traffic is forwarded, with the router's duties.
		const forwarding = inPort.kind === 'link' && out.kind === 'link';
		// RFC 8200 §3: a router discards a packet whose hop limit it would take to zero, and says so.
		if (forwarding && buf[o + IPV6.hopLimit]! <= 1) {
			this.sendError(pkt, Icmp6.TimeExceeded, TimeExceededCode.HopLimit, 0);
			return this.drop('hop-limit', pkt);
		}
		const point: HookPoint = inPort.kind === 'host' ? 'from-host' : out.kind === 'host' ? 'to-host' : 'forward';
		// Routers forward fragments untouched; only a point whose hooks read whole datagrams reassembles.
		if (info.fragIndex >= 0 && this.reassemblyAt.length > 0) {
			const at = this.reassemblyPoint(point, pkt);
			if (at) return this.reassembleThen(pkt, point, at.mode, at.reassembler, forwarding);
		}
		this.deliver(pkt, point, forwarding);
	}

	/** Hooks of `point`, then out. */
	private deliver(pkt: Packet, point: HookPoint, forwarding: boolean): void {
		const v = this.run(point, pkt);
		if (v !== null) return this.verdict(v, pkt);
		this.tail(pkt, forwarding);
	}

	/** MTU → hop limit → postrouting → transmit. */
	private tail(pkt: Packet, forwarding: boolean): void {
		const info = pkt.info; // a hook may have replaced the bytes
		const buf = info.buf;
		const o = info.off;
		const out = pkt.outPort!;
		// RFC 8200 §5: no fragmentation on the way; the sender learns the MTU from Packet Too Big.
		if (out.kind === 'link' && info.end - o > out.mtu) {
			this.sendError(pkt, Icmp6.PacketTooBig, 0, out.mtu);
			return this.drop('too-big', pkt);
		}
		if (forwarding) buf[o + IPV6.hopLimit]!--;
		const v = this.run('postrouting', pkt);
		if (v !== null) return this.verdict(v, pkt);
		this.counters.forwarded++;
		this.counters.forwardedBytes += pkt.info.end - pkt.info.off;
		this.transmit(pkt.outPort!, pkt.info.buf, pkt.info.off, pkt.info.end - pkt.info.off);
	}

	private reassemblyPoint(point: HookPoint, pkt: Packet): (typeof this.reassemblyAt)[number] | null {
		for (const r of this.reassemblyAt) if (r.point === point && r.when(pkt)) return r;
		return null;
	}

	/** A fragment for a point that reads whole datagrams: held until its datagram is whole, then on. */
	private reassembleThen(pkt: Packet, point: HookPoint, mode: ReassemblyMode, reassembler: Reassembler<AttachedPort>, forwarding: boolean): void {
		const whole = this.reassemble(pkt, reassembler);
		if (!whole) return;
		const inPort = pkt.inPort!;
		const out = pkt.outPort!;
		if (!this.replaceWith(pkt, whole.datagram)) return;
		if (mode === 'whole') return this.deliver(pkt, point, forwarding);
		const v = this.run(point, pkt);
		if (v !== null) return this.verdict(v, pkt);
		// The datagram passed: its fragments go on as they came.
		for (const f of whole.fragments) this.sendHeld(f.bytes, inPort, out, forwarding);
	}

	private sendHeld(bytes: Uint8Array, inPort: AttachedPort, out: AttachedPort, forwarding: boolean): void {
		if (this.depth === MAX_DEPTH) return this.countDrop('tx-failed', null);
		const p = this.pool[this.depth++]!;
		try {
			parsePacket(bytes, p.info);
			p.inPort = inPort;
			p.outPort = out;
			p.nextHop = null;
			p.viaControl = false;
			this.counters.fragmentsForwarded++;
			this.tail(p, forwarding);
		} finally {
			this.depth--;
		}
	}

	/** Hands a fragment to the reassembler: the whole datagram when this was its last piece, else null. */
	private reassemble(pkt: Packet, reassembler: Reassembler<AttachedPort>): Extract<AddResult<AttachedPort>, {kind: 'whole'}> | null {
		const r = reassembler.add(pkt.info, this.config.now(), pkt.inPort!, this.onGone);
		if (r.kind === 'held') return null;
		if (r.kind === 'drop') {
			if (r.pointer !== undefined) this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.Header, r.pointer);
			this.counters.drops[r.reason] += r.discarded - 1; // the fragments held before this one
			this.drop(r.reason, pkt);
			return null;
		}
		this.counters.reassembled++;
		return r;
	}

	/** A datagram timed out or was evicted. RFC 8200 §4.5: Time Exceeded code 1, only if the first fragment came. */
	private reassemblyGone(e: Expired<AttachedPort>): void {
		this.counters.drops[e.reason] += e.fragments;
		if (e.reason !== 'frag-timeout' || !e.first || this.depth === MAX_DEPTH) return;
		const p = this.pool[this.depth++]!;
		try {
			parsePacket(e.first.bytes, p.info);
			p.inPort = e.first.port;
			p.outPort = null;
			p.nextHop = null;
			p.viaControl = false;
			this.sendError(p, Icmp6.TimeExceeded, TimeExceededCode.Reassembly, 0);
		} finally {
			this.depth--;
		}
	}

	private replaceWith(pkt: Packet, bytes: Uint8Array): boolean {
		try {
			pkt.replace(bytes);
			return true;
		} catch (error) {
			if (!(error instanceof WireError)) throw error;
			this.countDrop(malformed(error.code), pkt);
			return false;
		}
	}

	/**
	 * RFC 8200 §4.2: the options of extension header `i`. An option whose
	 * action bits are 00 is skipped, known or not; this stack implements no
	 * option with other action bits (not the Jumbo Payload, RFC 2675, nor the
	 * Home Address, RFC 6275), so those are unknown and their bits decide.
	 * Returns false when the packet was dropped.
	 */
	private options(pkt: Packet, i: number): boolean {
		const info = pkt.info;
		const buf = info.buf;
		const start = info.extOff[i]! + 2;
		const end = info.extOff[i]! + info.extLen[i]!;
		for (let pos = start; pos < end; ) {
			const type = buf[pos]!;
			if (type === Opt.Pad1) {
				pos++;
				continue;
			}
			const action = optionAction(type);
			if (action !== OptAction.Skip) {
				// 10: Parameter Problem code 2 at the option's type byte, even to a multicast destination; 11: not to one.
				if (action === OptAction.DiscardIcmp || (action === OptAction.DiscardIcmpUnlessMulticast && !isMulticast(buf, info.off + IPV6.dst)))
					this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.Option, pos - info.off);
				this.drop('option-unknown', pkt);
				return false;
			}
			pos += 2 + buf[pos + 1]!;
		}
		return true;
	}

	/** The node's own stack: route exchange, BFD, echo; errors for the rest. */
	private local(pkt: Packet): void {
		this.counters.local++;
		// Control-plane policing: route exchange and BFD per link, the rest per node, before any work.
		if (this.isControl(pkt)) {
			const port = pkt.inPort!;
			if (!(pkt.viaControl ? port.controlBucket : port.dataControlBucket).take(this.config.now())) return this.drop('control-policed', pkt);
		} else if (!this.localBucket.take(this.config.now())) return this.drop('local-policed', pkt);
		if (pkt.info.isFragment) {
			// RFC 8200 §4.5: the destination reassembles.
			const whole = this.reassemble(pkt, this.reassembly);
			if (!whole || !this.replaceWith(pkt, whole.datagram)) return;
		}
		const info = pkt.info;
		const buf = info.buf;
		const o = info.off;
		// The rest of the chain, in order (RFC 8200 §4.1); Hop-by-Hop was done on the way in.
		for (let i = 0; i < info.extCount; i++) {
			const proto = info.extProto[i];
			if (proto === Proto.DestOpts && !this.options(pkt, i)) return;
			if (proto === Proto.Routing) {
				const rh = info.extOff[i]!;
				// RFC 8200 §4.4, RFC 5095 §3: no Routing type is implemented here (type 0 is deprecated, 2 and 4
				// are for other stacks): with segments left, Parameter Problem code 0 at the Routing Type.
				if (buf[rh + 3]! > 0) {
					this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.Header, rh + 2 - o);
					return this.drop('routing-header', pkt);
				}
			}
		}
		const multicast = isMulticast(buf, o + IPV6.dst);
		if (info.upperProto === Proto.Udp) {
			try {
				checkUdp(info);
			} catch (error) {
				return this.countDrop(malformed((error as WireError).code), pkt);
			}
			const handler = this.udp.get(u16(buf, info.upperOff + 2));
			if (!handler) {
				if (!multicast) this.sendError(pkt, Icmp6.DestUnreachable, Unreach.Port, 0);
				return this.drop('not-for-us', pkt);
			}
			const accepted = handler(buf.subarray(info.upperOff + UDP_HEADER_LEN, info.end), {
				port: pkt.inPort!,
				src: buf.slice(o + IPV6.src, o + IPV6.src + ADDR_LEN),
				srcPort: u16(buf, info.upperOff),
				dst: buf.slice(o + IPV6.dst, o + IPV6.dst + ADDR_LEN),
				hopLimit: buf[o + IPV6.hopLimit]!,
			});
			if (accepted === false) return this.drop('control-invalid', pkt);
			return;
		}
		if (info.upperProto === Proto.Icmpv6) {
			try {
				checkIcmpv6(info);
			} catch (error) {
				return this.countDrop(malformed((error as WireError).code), pkt);
			}
			const type = buf[info.upperOff]!;
			if (type === Icmp6.EchoRequest && !multicast) return this.echoReply(pkt);
			if (type === Icmp6.PacketTooBig) this.learnPmtu(pkt);
			return; // errors and replies addressed to the node itself end here
		}
		if (info.upperProto === Proto.NoNext) return;
		// RFC 8200 §4: an unrecognized Next Header gets Parameter Problem code 1, pointing at it.
		this.sendError(pkt, Icmp6.ParamProblem, ParamProblemCode.NextHeader, info.nextHeaderOffset(info.extCount) - o);
		this.drop('next-header-unknown', pkt);
	}

	/**
	 * RFC 8201 §4: a Packet Too Big about a packet this node sent lowers its
	 * path MTU to the quoted destination, never below 1280. One that quotes
	 * somebody else's packet is not ours to believe (RFC 5927 §4.1).
	 */
	private learnPmtu(pkt: Packet): void {
		const info = pkt.info;
		const buf = info.buf;
		const q = info.upperOff + 8;
		if (info.end - q < IPV6_HEADER_LEN || buf[q]! >>> 4 !== 6 || !this.isOwn(buf, q + IPV6.src)) return;
		if (this.pmtu.update(buf, q + IPV6.dst, u32(buf, info.upperOff + 4), 0xffffffff, this.config.now())) this.counters.pmtuUpdates++;
	}

	private echoReply(pkt: Packet): void {
		const info = pkt.info;
		const buf = info.buf;
		const o = info.off;
		const u = info.upperOff;
		// Replies are rate-limited per asking prefix, so one source cannot use up the node's answers.
		if (!this.replies.take(buf, o + IPV6.src, this.config.now())) return this.drop('echo-rate-limited', pkt);
		const reply = buildPacket({
			ip: {trafficClass: 0, flowLabel: 0, hopLimit: HOP_LIMIT, src: buf.slice(o + IPV6.dst, o + IPV6.dst + 16), dst: buf.slice(o + IPV6.src, o + IPV6.src + 16)},
			ext: [],
			upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: u16(buf, u + 4), sequence: u16(buf, u + 6), data: buf.subarray(u + 8, info.end)}},
		});
		this.originate(reply, isLinkLocal(buf, o + IPV6.src) ? pkt.inPort : null);
	}

	/**
	 * Sends a packet this node made: out of `port` when given (link-local
	 * traffic), else by the route table. No hooks run on it.
	 */
	originate(bytes: Uint8Array, port: AttachedPort | null = null): boolean {
		let out = port;
		if (!out) {
			const index = this.routes.lookup(bytes, IPV6.dst, flowHash(bytes, IPV6.src, bytes, IPV6.dst, 0));
			if (index < 0) {
				this.counters.drops['no-route']++;
				return false;
			}
			const nh = this.routes.nextHop(index);
			out = nh.kind === 'local' ? this.host : (this.ports.get(nh.link!) ?? null);
			if (!out) {
				this.counters.drops['no-route']++;
				return false;
			}
		}
		// RFC 8201: the source fits its packets to the path MTU, fragmenting when it must (RFC 8200 §4.5).
		// A packet of 1280 bytes or less fits every path (RFC 8200 §5).
		if (out.kind === 'link' && bytes.length > IPV6_MIN_MTU) {
			const mtu = this.pmtu.get(bytes, IPV6.dst, out.mtu, this.config.now());
			if (bytes.length > mtu) return this.sendFragments(out, bytes, mtu);
		}
		return this.transmit(out, bytes, 0, bytes.length);
	}

	private sendFragments(out: AttachedPort, bytes: Uint8Array, mtu: number): boolean {
		let info: PacketInfo;
		try {
			info = parsePacket(bytes, this.scratch);
		} catch {
			this.counters.drops['too-big']++;
			return false;
		}
		if (info.isFragment) {
			this.counters.drops['too-big']++;
			return false;
		}
		this.fragId = (this.fragId + 1) >>> 0;
		this.counters.fragmented++;
		let ok = true;
		for (const f of fragmentPacket(info, mtu, this.fragId)) ok = this.transmit(out, f, 0, f.length) && ok;
		return ok;
	}

	/**
	 * Sends a UDP datagram on a link from this node's link-local address there,
	 * hop limit 255 (RFC 2080 §2.4.2, RFC 5881 §5), traffic class CS6 (network
	 * control, RFC 4594 §3.1), on the link's control channel when it has one.
	 */
	sendUdp(link: string, payload: Uint8Array, dst: Addr, dstPort: number, srcPort: number): boolean {
		const port = this.ports.get(link);
		if (!port?.linkLocal) return false;
		const bytes = buildPacket({
			ip: {trafficClass: 0xc0, flowLabel: 0, hopLimit: 255, src: port.linkLocal, dst},
			ext: [],
			upper: {proto: Proto.Udp, udp: {srcPort, dstPort, payload}},
		});
		if (port.port.transmitControl) {
			if (!port.port.transmitControl(bytes, 0, bytes.length)) {
				port.counters.txFailed++;
				this.counters.drops['tx-failed']++;
				return false;
			}
			port.counters.txControl++;
			this.counters.txPackets++;
			this.counters.txBytes += bytes.length;
			return true;
		}
		return this.transmit(port, bytes, 0, bytes.length);
	}

	private transmit(port: AttachedPort, buf: Uint8Array, off: number, len: number): boolean {
		if (!port.port.transmit(buf, off, len)) {
			port.counters.txFailed++;
			this.counters.drops['tx-failed']++;
			return false;
		}
		port.counters.txPackets++;
		port.counters.txBytes += len;
		this.counters.txPackets++;
		this.counters.txBytes += len;
		return true;
	}

	/**
	 * Sends an ICMPv6 error about `pkt` to its source, unless RFC 4443 §2.4(e)
	 * forbids it or the §2.4(f) rate limit is spent.
	 */
	sendError(pkt: Packet, type: number, code: number, param: number): void {
		const info = pkt.info;
		const buf = info.buf;
		const o = info.off;
		const c = this.counters;
		// §2.4(e.1, e.2): never about an ICMPv6 error (or a redirect).
		if (info.upperProto === Proto.Icmpv6 && info.fragmentOffset === 0 && info.upperLen > 0) {
			const t = buf[info.upperOff]!;
			if (isIcmpv6Error(t) || t === 137) return void c.icmpSuppressed++;
		}
		// §2.4(e.3): not to a multicast destination, except Packet Too Big and Parameter Problem code 2.
		if (isMulticast(buf, o + IPV6.dst) && !(type === Icmp6.PacketTooBig || (type === Icmp6.ParamProblem && code === ParamProblemCode.Option)))
			return void c.icmpSuppressed++;
		// §2.4(e.6): not when the source does not name a single node.
		if (isUnspecified(buf, o + IPV6.src) || isMulticast(buf, o + IPV6.src) || this.isAnycast(buf, o + IPV6.src)) return void c.icmpSuppressed++;
		// Per asking prefix first, so that one prefix's flood cannot spend the node-wide §2.4(f) budget.
		if (!this.replies.take(buf, o + IPV6.src, this.config.now())) return void c.icmpPrefixLimited++;
		if (!this.errorBucket.take(this.config.now())) return void c.icmpRateLimited++;
		const linkLocal = isLinkLocal(buf, o + IPV6.src);
		const src = linkLocal ? pkt.inPort?.linkLocal : (this.config.addresses[0] ?? this.config.errorSource);
		if (!src) return void c.icmpSuppressed++;
		const bytes = buildPacket({
			ip: {trafficClass: 0, flowLabel: 0, hopLimit: HOP_LIMIT, src, dst: buf.slice(o + IPV6.src, o + IPV6.src + 16)},
			ext: [],
			upper: {proto: Proto.Icmpv6, icmp: {kind: 'error', type: type as 1 | 2 | 3 | 4, code, param, invoking: quoteInvoking(buf.subarray(o, info.end))}},
		});
		c.icmpErrorsSent++;
		this.originate(bytes, linkLocal || pkt.inPort?.kind === 'host' ? pkt.inPort : null);
	}

	private run(point: HookPoint, pkt: Packet): Verdict {
		const hooks = this.hooks[point];
		try {
			for (let i = 0; i < hooks.length; i++) {
				const v = hooks[i]!(pkt, this);
				if (v !== null) return v;
			}
		} catch (error) {
			// A hook that met bytes its codec refuses: a counted drop, not a dead process.
			if (error instanceof WireError) return malformed(error.code);
			throw error;
		}
		return null;
	}

	private verdict(v: DropReason | typeof STOLEN, pkt: Packet): void {
		if (v !== STOLEN) this.drop(v, pkt);
	}

	/** Counts a drop of `pkt` and reports it. */
	drop(reason: DropReason, pkt: Packet | null): void {
		this.countDrop(reason, pkt);
	}

	private countDrop(reason: DropReason, pkt: Packet | null): void {
		this.counters.drops[reason]++;
		if (reason.startsWith('id-')) this.counters.rejected++;
		if (this.config.onDrop && pkt) this.config.onDrop(reason, pkt, this);
	}
}

function indexOf(list: Addr[], buf: Uint8Array, off: number): number {
	for (let i = 0; i < list.length; i++) if (addrEquals(list[i]!, 0, buf, off)) return i;
	return -1;
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
