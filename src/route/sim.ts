// In-memory network for routing tests: Routers on simulated links under a
// SimClock. A link is a segment (two or more nodes); a datagram reaches the
// other ends after the link delay, with hop limit 255 as if sent on-link.
// Links can fail silently or lose carrier; nodes can die and come back as a
// fresh process. The pipeline tests can reuse it with their own topologies.
import {ADDR_LEN, addrEquals, isMulticast} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import {SimClock, seededRandom} from '../util/clock.js';
import {flowHash} from './table.js';
import {Router} from './router.js';
import type {RouterConfig} from './router.js';
import type {LinkId} from './types.js';

export class SimError extends Error {
	override readonly name = 'SimError';
	constructor(readonly code: 'unknown-node' | 'unknown-link' | 'bad-topology', message: string) {
		super(message);
	}
}

export interface SimEnd {
	node: string;
	/** The node's link id (interface) on this segment. */
	link: LinkId;
}

interface Segment {
	name: string;
	ends: SimEnd[];
	up: boolean;
	delayMs: number;
}

interface SimNode {
	config: RouterConfig;
	router: Router;
	alive: boolean;
	incarnation: number;
}

export interface SimStats {
	sent: number;
	delivered: number;
	/** Lost because the link was down, or an end was dead, when sent or when due. */
	lost: number;
}

export interface Resolution {
	/** Nodes visited, starting with the origin. */
	path: string[];
	/** Node that accepts the destination, or null. */
	end: string | null;
	reason: 'delivered' | 'no-route' | 'unresolved-next-hop' | 'loop' | 'dead-node';
}

export class SimNetwork {
	readonly clock: SimClock;
	readonly stats: SimStats = {sent: 0, delivered: 0, lost: 0};
	private readonly nodes = new Map<string, SimNode>();
	private readonly segments = new Map<string, Segment>();
	/** "node|link" to segment. */
	private readonly attach = new Map<string, Segment>();
	private readonly random: () => number;
	private readonly linkDelayMs: number;

	constructor(opts: {seed?: number; linkDelayMs?: number; clock?: SimClock} = {}) {
		this.clock = opts.clock ?? new SimClock();
		this.random = seededRandom(opts.seed ?? 1);
		this.linkDelayMs = opts.linkDelayMs ?? 1;
	}

	addNode(config: RouterConfig): void {
		if (this.nodes.has(config.name)) throw new SimError('bad-topology', `duplicate node ${config.name}`);
		this.nodes.set(config.name, {config, router: this.makeRouter(config.name, config, 0), alive: false, incarnation: 0});
	}

	/** Connects interfaces of two or more nodes into one segment. */
	addLink(name: string, ends: SimEnd[], delayMs = this.linkDelayMs): void {
		if (this.segments.has(name)) throw new SimError('bad-topology', `duplicate link ${name}`);
		const seg: Segment = {name, ends, up: true, delayMs};
		for (const e of ends) {
			const node = this.node(e.node);
			if (!node.config.links.some((l) => l.id === e.link)) throw new SimError('bad-topology', `${e.node} has no link ${e.link}`);
			const k = `${e.node}|${e.link}`;
			if (this.attach.has(k)) throw new SimError('bad-topology', `${k} is already attached`);
			this.attach.set(k, seg);
		}
		this.segments.set(name, seg);
	}

	start(): void {
		for (const n of this.nodes.values()) {
			if (!n.alive) {
				n.alive = true;
				n.router.start();
			}
		}
	}

	router(name: string): Router {
		return this.node(name).router;
	}

	nodeNames(): string[] {
		return [...this.nodes.keys()];
	}

	isAlive(name: string): boolean {
		return this.node(name).alive;
	}

	/** The node's process dies: it stops sending and receiving, and packets it had in flight are lost. */
	kill(name: string): void {
		const n = this.node(name);
		if (!n.alive) return;
		n.alive = false;
		n.router.stop();
	}

	/** The node comes back as a fresh process (empty tables, new BFD discriminators). */
	revive(name: string): void {
		const n = this.node(name);
		if (n.alive) return;
		n.incarnation++;
		n.router = this.makeRouter(name, n.config, n.incarnation);
		n.alive = true;
		n.router.start();
	}

	/**
	 * Takes a link down or up. Silent (default): frames are lost, nobody is told,
	 * so only BFD or RIPng timeouts notice. carrier: the attached nodes see the
	 * interface go down/up at once.
	 */
	setLink(name: string, up: boolean, opts: {carrier?: boolean} = {}): void {
		const seg = this.segments.get(name);
		if (seg === undefined) throw new SimError('unknown-link', `no link ${name}`);
		if (seg.up === up) return;
		seg.up = up;
		if (opts.carrier !== true) return;
		for (const e of seg.ends) {
			const n = this.node(e.node);
			if (!n.alive) continue;
			if (up) n.router.linkUp(e.link);
			else n.router.linkDown(e.link);
		}
	}

	/** Runs simulated time. */
	run(ms: number): void {
		this.clock.advance(ms);
	}

	/**
	 * Follows FIB next hops from `from` towards `dst`, as a packet would. `src`
	 * (default: the origin's first global address or ::) feeds the flow hash.
	 */
	resolve(from: string, dst: Addr, src: Addr = new Uint8Array(ADDR_LEN), flowLabel = 0): Resolution {
		const path: string[] = [];
		const hash = flowHash(src, 0, dst, 0, flowLabel);
		let at = from;
		for (let hops = 0; hops < 64; hops++) {
			const n = this.node(at);
			path.push(at);
			if (!n.alive) return {path, end: null, reason: 'dead-node'};
			const idx = n.router.table.lookup(dst, 0, hash);
			if (idx < 0) return {path, end: null, reason: 'no-route'};
			const nh = n.router.table.nextHop(idx);
			if (nh.kind === 'local') return {path, end: at, reason: 'delivered'};
			const seg = this.attach.get(`${at}|${nh.link}`);
			if (seg === undefined || !seg.up) return {path, end: null, reason: 'unresolved-next-hop'};
			let next: string | undefined;
			for (const e of seg.ends) {
				if (e.node === at) continue;
				const peer = this.node(e.node);
				if (!peer.alive) continue;
				const match = nh.kind === 'via' ? addrEquals(peer.router.linkLocal(e.link), 0, nh.via!, 0) : peer.router.ownsAddress(dst);
				if (match) next = e.node;
			}
			if (next === undefined) return {path, end: null, reason: 'unresolved-next-hop'};
			if (nh.kind === 'direct') return {path: [...path, next], end: next, reason: 'delivered'};
			at = next;
		}
		return {path, end: null, reason: 'loop'};
	}

	private node(name: string): SimNode {
		const n = this.nodes.get(name);
		if (n === undefined) throw new SimError('unknown-node', `no node ${name}`);
		return n;
	}

	private makeRouter(name: string, config: RouterConfig, incarnation: number): Router {
		// Each node and incarnation gets its own random stream, so adding a node does not reshuffle the others.
		const seed = Math.floor(this.random() * 2 ** 32) ^ hashName(name) ^ incarnation;
		return new Router(config, {
			clock: this.clock,
			random: seededRandom(seed),
			send: (link, payload, dst, dstPort, srcPort) => this.transmit(name, incarnation, link, payload, dst, dstPort, srcPort),
		});
	}

	private transmit(from: string, inc: number, link: LinkId, payload: Uint8Array, dst: Addr, dstPort: number, srcPort: number): void {
		this.stats.sent++;
		const seg = this.attach.get(`${from}|${link}`);
		const sender = this.node(from);
		if (seg === undefined || !seg.up || !sender.alive || sender.incarnation !== inc) {
			this.stats.lost++;
			return;
		}
		const src = sender.router.linkLocal(link);
		const multicast = isMulticast(dst);
		for (const e of seg.ends) {
			if (e.node === from) continue;
			const peer = this.node(e.node);
			if (!multicast && !addrEquals(peer.router.linkLocal(e.link), 0, dst, 0)) continue;
			const bytes = Uint8Array.from(payload); // a wire copy: the sender may reuse its buffer
			const peerInc = peer.incarnation;
			this.clock.setTimeout(() => {
				const p = this.node(e.node);
				if (!seg.up || !sender.alive || sender.incarnation !== inc || !p.alive || p.incarnation !== peerInc) {
					this.stats.lost++;
					return;
				}
				this.stats.delivered++;
				p.router.receive(e.link, dstPort, bytes, {src, srcPort, hopLimit: 255, dst});
			}, seg.delayMs);
		}
	}
}


function hashName(s: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
	return h >>> 0;
}

/** "node: prefix ..." lines of every live node's selected routes; for comparing converged states. */
export function dumpNetwork(net: SimNetwork, opts: {selectedOnly?: boolean} = {}): string[] {
	const out: string[] = [];
	for (const name of net.nodeNames()) {
		if (!net.isAlive(name)) continue;
		for (const line of net.router(name).table.dump(opts)) out.push(`${name}: ${line}`);
	}
	return out;
}
