// The in-memory network: a whole topology in one process, on simulated time,
// built from the same topology file as the real network — every node's stack,
// in-memory links between them (which can fail, silently or with carrier),
// and a stand-in for each host's kernel. The tests use it, and so does
// `anyguard topology` when no network is up; the running network uses the
// same stacks on TUN devices and UDP links.
import type {Topology} from '../config/topology.js';
import type {PipelineConfig} from '../pipeline/types.js';
import type {AttachedPort} from '../pipeline/types.js';
import type {HealthCheck} from '../route/anycast.js';
import {parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import {SimClock, seededRandom} from '../util/clock.js';
import {u16} from '../wire/bytes.js';
import {Icmp6, Unreach, quoteInvoking} from '../wire/icmpv6.js';
import {IPV6, Proto, flowHash} from '../wire/ipv6.js';
import {PacketInfo, parsePacket} from '../wire/packet.js';
import {buildPacket} from '../wire/repr.js';
import {hostMtu} from './links.js';
import {buildStack} from './stack.js';
import type {Stack} from './stack.js';

export const DNS_PORT = 53;

/**
 * The host behind a node's TUN, as far as tests need one: it records what is
 * delivered to it, sends what a test asks, and answers like a kernel with a
 * small service — echo replies, and on UDP port 53 a reply naming its node
 * (as the real network's dnsmasq answers a TXT query), from the address the
 * request went to; other UDP ports get port unreachable.
 */
export class MemHost {
	readonly received: Uint8Array[] = [];
	/** Addresses the host holds: its own, plus S on servers. */
	readonly addresses: Addr[];
	answer = true;
	port: AttachedPort | null = null;
	private readonly info = new PacketInfo();

	constructor(
		readonly net: MemNet,
		readonly name: string,
		address: Addr,
		extra: Addr[],
	) {
		this.addresses = [address, ...extra];
	}

	/** The host sends a packet: into its node's from-host path. */
	send(bytes: Uint8Array): void {
		if (!this.port || this.net.isDead(this.name)) return;
		this.net.stacks.get(this.name)!.pipeline.receive(this.port, bytes.slice(), 0, bytes.length);
	}

	deliver(bytes: Uint8Array): void {
		this.received.push(bytes);
		if (this.answer) {
			const reply = this.respond(bytes);
			if (reply) this.net.clock.setTimeout(() => this.send(reply), 0);
		}
	}

	private holds(buf: Uint8Array, off: number): boolean {
		return this.addresses.some((a) => a.every((b, i) => b === buf[off + i]));
	}

	private respond(bytes: Uint8Array): Uint8Array | null {
		let info: PacketInfo;
		try {
			info = parsePacket(bytes, this.info);
		} catch {
			return null;
		}
		if (!this.holds(bytes, IPV6.dst) || info.isFragment) return null;
		const src = bytes.slice(IPV6.dst, IPV6.dst + 16);
		const dst = bytes.slice(IPV6.src, IPV6.src + 16);
		const ip = {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst};
		const u = info.upperOff;
		if (info.upperProto === Proto.Icmpv6 && bytes[u] === Icmp6.EchoRequest)
			return buildPacket({ip, ext: [], upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: u16(bytes, u + 4), sequence: u16(bytes, u + 6), data: bytes.slice(u + 8, info.end)}}});
		if (info.upperProto === Proto.Udp) {
			// A DNS server does not answer what comes from port 53 (a response): two of them would answer each other forever.
			if (u16(bytes, u) === DNS_PORT) return null;
			if (u16(bytes, u + 2) === DNS_PORT)
				return buildPacket({ip, ext: [], upper: {proto: Proto.Udp, udp: {srcPort: DNS_PORT, dstPort: u16(bytes, u), payload: new TextEncoder().encode(this.name)}}});
			return buildPacket({ip, ext: [], upper: {proto: Proto.Icmpv6, icmp: {kind: 'error', type: Icmp6.DestUnreachable, code: Unreach.Port, param: 0, invoking: quoteInvoking(bytes)}}});
		}
		return null;
	}
}

export interface MemNetOptions {
	seed?: number;
	/** One-way delay of every link. */
	linkDelayMs?: number;
	/** Wall-clock time at simulated 0, for identifier timestamps. */
	wallStart?: number;
	healthCheck?: (node: string) => HealthCheck | undefined;
	onDrop?: PipelineConfig['onDrop'];
}

/** The key of the link between `a` and `b`, whichever way round. */
const linkKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class MemNet {
	readonly clock = new SimClock();
	readonly stacks = new Map<string, Stack>();
	readonly hosts = new Map<string, MemHost>();
	/** Packets lost because an end was dead. */
	lost = 0;
	private readonly dead = new Set<string>();
	/** Links taken down (setLink), by linkKey. */
	private readonly down = new Set<string>();
	readonly wallStart: number;

	constructor(
		readonly topology: Topology,
		opts: MemNetOptions = {},
	) {
		const random = seededRandom(opts.seed ?? 1);
		const delay = opts.linkDelayMs ?? 0.05;
		this.wallStart = opts.wallStart ?? 1_790_000_000_000;
		for (const spec of topology.nodes) {
			const stack = buildStack(topology, spec.name, {
				clock: this.clock,
				wallNow: () => this.wallStart + this.clock.now(),
				random,
				// The topology's health commands run on the real network; here a server is healthy while it runs, unless a test says otherwise.
				healthCheck: opts.healthCheck ?? (() => undefined),
				...(opts.onDrop ? {onDrop: opts.onDrop} : {}),
			});
			this.stacks.set(spec.name, stack);
			if (spec.host) {
				const held = spec.role === 'server' ? stack.groups.map((g) => g.anycast) : [];
				const host = new MemHost(this, spec.name, parseAddr(spec.host.address), held);
				host.port = stack.attachHost((buf, off, len) => {
					if (this.dead.has(spec.name)) return false;
					host.deliver(buf.slice(off, off + len));
					return true;
				}, hostMtu(topology, spec.name));
				this.hosts.set(spec.name, host);
			}
		}
		const ports = new Map<string, AttachedPort>();
		for (const [name, stack] of this.stacks) {
			for (const end of stack.links) {
				const peer = end.peer;
				ports.set(`${name}>${peer}`, stack.attachLink(end.id, (buf, off, len) => {
					if (this.dead.has(name)) return false;
					const key = linkKey(name, peer);
					// A link that is down loses what is sent on it, and what was on its way.
					if (this.down.has(key)) {
						this.lost++;
						return true;
					}
					const copy = buf.slice(off, off + len);
					this.clock.setTimeout(() => {
						if (this.dead.has(peer) || this.down.has(key)) return void this.lost++;
						this.stacks.get(peer)!.pipeline.receive(ports.get(`${peer}>${name}`)!, copy, 0, copy.length);
					}, delay);
					return true;
				}));
			}
		}
	}

	start(): void {
		for (const stack of this.stacks.values()) stack.start();
	}

	run(ms: number): void {
		this.clock.advance(ms);
	}

	/** The node's process dies: it stops sending and receiving; neighbours find out through BFD. */
	kill(name: string): void {
		this.dead.add(name);
		this.stacks.get(name)!.stop();
	}

	/** The process comes back, with an empty routing state (a restart). */
	revive(name: string): void {
		this.dead.delete(name);
		const old = this.stacks.get(name)!;
		old.router.table.withdrawWhere((r) => r.origin === 'learned');
		old.start();
	}

	isDead(name: string): boolean {
		return this.dead.has(name);
	}

	/**
	 * Takes the link between `a` and `b` down or up. Silent (default): what is
	 * sent on it is lost and nobody is told, so only BFD or route-exchange
	 * timeouts notice. `carrier`: both ends see the link go down or up at once.
	 */
	setLink(a: string, b: string, up: boolean, opts: {carrier?: boolean} = {}): void {
		const key = linkKey(a, b);
		if (!this.topology.links.some((l) => linkKey(l.a, l.b) === key)) throw new Error(`${this.topology.file} has no link between ${a} and ${b}`);
		if (up !== this.down.has(key)) return;
		if (up) this.down.delete(key);
		else this.down.add(key);
		if (opts.carrier !== true) return;
		for (const [end, peer] of [
			[a, b],
			[b, a],
		] as const) {
			if (this.dead.has(end)) continue;
			const router = this.stacks.get(end)!.router;
			if (up) router.linkUp(peer);
			else router.linkDown(peer);
		}
	}

	/**
	 * `from` puts raw bytes on its link to `peer` (its only link by default),
	 * bypassing its own node: what an attacker who owns its device sends. The
	 * first node to parse them is the neighbour.
	 */
	wire(from: string, bytes: Uint8Array, peer?: string): void {
		const end = peer ?? this.stacks.get(from)!.links[0]!.peer;
		const port = this.stacks.get(end)!.pipeline.ports.get(from);
		if (!port) throw new Error(`${from} has no link to ${end}`);
		const copy = bytes.slice();
		this.clock.setTimeout(() => this.stacks.get(end)!.pipeline.receive(port, copy, 0, copy.length), 0.05);
	}

	host(name: string): MemHost {
		const host = this.hosts.get(name);
		if (!host) throw new Error(`${name} has no host`);
		return host;
	}

	/**
	 * The nodes a packet from `from` to `dst` crosses, following each node's
	 * forwarding table (`src` and the flow label choose among equal routes);
	 * it ends with `(no route)` or `(loop)` when the packet would.
	 */
	path(from: string, dst: string | Addr, src: Addr = new Uint8Array(16), flowLabel = 0): string[] {
		const d = typeof dst === 'string' ? parseAddr(dst) : dst;
		const hops = [from];
		let at = from;
		for (let i = 0; i < 32; i++) {
			const table = this.stacks.get(at)!.router.table;
			const index = table.lookup(d, 0, flowHash(src, 0, d, 0, flowLabel));
			if (index < 0) return [...hops, '(no route)'];
			const nh = table.nextHop(index);
			if (nh.kind === 'local') return hops;
			at = nh.link!;
			hops.push(at);
		}
		return [...hops, '(loop)'];
	}
}
