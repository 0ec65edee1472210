// One node's routing: its table, connected and static routes, the RIPng speaker,
// BFD sessions to its RIPng neighbours, and anycast origination. The pipeline
// feeds it UDP payloads (port 521 and 3784) and gives it a send function.
import {parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {Clock} from '../util/clock.js';
import {AnycastOriginator} from './anycast.js';
import type {HealthCheck} from './anycast.js';
import {BfdAgent} from './bfd.js';
import type {BfdConfig, BfdEvent} from './bfd.js';
import {BFD_PORT} from './bfd-wire.js';
import {Dampening} from './dampening.js';
import type {DampeningConfig} from './dampening.js';
import {maskAddr, parseRoutePrefix, prefixContains, prefixKey} from './prefix.js';
import {RipngSpeaker} from './ripng.js';
import type {RipngTimers} from './ripng-types.js';
import {RIPNG_PORT} from './ripng-wire.js';
import {RouteTable} from './table.js';
import type {LinkId, RxMeta, SendFn} from './types.js';
import {parsePrefix} from '../util/addr.js';

export interface LinkConfig {
	id: LinkId;
	/** This node's link-local address on the link, e.g. "fe80::5". */
	linkLocal: string;
	/** Global addresses with their on-link prefix, e.g. "2001:db8:1:a::1/64". */
	addresses?: string[];
	/** RIPng cost added to routes received here (default 1). */
	cost?: number;
	/** The neighbour's link-local address on a point-to-point link: RIPng and BFD with it only. */
	neighbour?: string;
	/** Run RIPng on this link (default true). */
	ripng?: boolean;
	/** Run BFD to RIPng neighbours on this link (default: same as ripng). */
	bfd?: boolean;
	mtu?: number;
}

export interface StaticRouteConfig {
	prefix: string;
	link: LinkId;
	/** Neighbour's link-local address; omitted: the prefix is on the link. */
	via?: string;
	metric?: number;
	/** Redistribute into RIPng (default false). */
	advertise?: boolean;
}

export interface AnycastConfig {
	/** The service address, "2001:db8:1:ac::53" or with a length. */
	address: string;
	check?: HealthCheck;
	intervalMs?: number;
	timeoutMs?: number;
	rise?: number;
	fall?: number;
	metric?: number;
}

export interface RouterConfig {
	name: string;
	links: LinkConfig[];
	static?: StaticRouteConfig[];
	anycast?: AnycastConfig[];
	ripng?: Partial<RipngTimers>;
	bfd?: Partial<BfdConfig>;
	/** Flap dampening of BFD sessions (src/route/dampening.ts); none when absent. */
	dampening?: Partial<DampeningConfig>;
}

export const ROUTER_DROP_REASONS = ['unknown-link', 'port-closed'] as const;
export type RouterDropReason = (typeof ROUTER_DROP_REASONS)[number];

export class RouterError extends Error {
	override readonly name = 'RouterError';
	constructor(readonly code: 'bad-config' | 'unknown-link', message: string) {
		super(message);
	}
}

interface LinkInfo {
	cfg: LinkConfig;
	linkLocal: Addr;
	addresses: {addr: Addr; len: number}[];
	ripng: boolean;
	bfd: boolean;
	up: boolean;
}

export class Router {
	readonly name: string;
	readonly table = new RouteTable();
	readonly ripng: RipngSpeaker | null;
	readonly bfd: BfdAgent;
	readonly anycast: AnycastOriginator[];
	/** Holds down, for routing, a BFD session that flaps repeatedly. */
	readonly dampening: Dampening | null;
	readonly drops: Record<RouterDropReason, number> = {'unknown-link': 0, 'port-closed': 0};
	private readonly links = new Map<LinkId, LinkInfo>();
	/** The sessions dampening knows, by key. */
	private readonly peers = new Map<string, {link: LinkId; peer: Addr}>();
	/** Sessions that have been Up since they were made: from then on BFD, not RIPng, says whether the neighbour lives. */
	private readonly everUp = new Set<string>();
	private running = false;

	constructor(readonly config: RouterConfig, deps: {clock: Clock; send: SendFn; random?: () => number; beforeDetect?: (link: LinkId) => void}) {
		this.name = config.name;
		for (const l of config.links) {
			if (this.links.has(l.id)) throw new RouterError('bad-config', `${config.name}: duplicate link ${l.id}`);
			const ripng = l.ripng ?? true;
			this.links.set(l.id, {
				cfg: l, linkLocal: parseAddr(l.linkLocal), addresses: (l.addresses ?? []).map((a) => parsePrefix(a)),
				ripng, bfd: l.bfd ?? ripng, up: true,
			});
		}
		const random = deps.random ?? Math.random;
		this.dampening = config.dampening ? new Dampening(deps.clock, config.dampening, (key) => this.onReuse(key)) : null;
		const send: SendFn = (link, payload, dst, dstPort, srcPort) => {
			if (this.running && this.links.get(link)?.up === true) deps.send(link, payload, dst, dstPort, srcPort);
		};
		this.bfd = new BfdAgent({
			clock: deps.clock, send, random, ...(config.bfd ? {config: config.bfd} : {}), onStateChange: (ev) => this.onBfd(ev),
			...(deps.beforeDetect ? {beforeDetect: deps.beforeDetect} : {}),
		});
		const ripLinks = [...this.links.values()].filter((l) => l.ripng);
		this.ripng = ripLinks.length === 0 ? null : new RipngSpeaker({
			clock: deps.clock, table: this.table, send, random,
			links: ripLinks.map((l) => ({
				id: l.cfg.id, linkLocal: l.linkLocal,
				...(l.cfg.cost === undefined ? {} : {cost: l.cfg.cost}), ...(l.cfg.mtu === undefined ? {} : {mtu: l.cfg.mtu}),
				...(l.cfg.neighbour === undefined ? {} : {neighbour: parseAddr(l.cfg.neighbour)}),
			})),
			...(config.ripng ? {timers: config.ripng} : {}),
			neighbourUsable: (link, addr) => this.usable(link, addr),
			onNeighbour: (link, addr) => {
				if (this.links.get(link)!.bfd) this.bfd.addSession(link, addr);
			},
		});
		this.anycast = (config.anycast ?? []).map((a) => {
			const {addr, len} = a.address.includes('/') ? parseRoutePrefix(a.address) : {addr: parseAddr(a.address), len: 128};
			return new AnycastOriginator({
				prefix: addr, len, ...(a.check ? {check: a.check} : {}),
				...(a.intervalMs === undefined ? {} : {intervalMs: a.intervalMs}), ...(a.timeoutMs === undefined ? {} : {timeoutMs: a.timeoutMs}),
				...(a.rise === undefined ? {} : {rise: a.rise}), ...(a.fall === undefined ? {} : {fall: a.fall}), ...(a.metric === undefined ? {} : {metric: a.metric}),
			}, {clock: deps.clock, table: this.table});
		});
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		this.bfd.resume();
		this.table.batch(() => {
			for (const l of this.links.values()) this.addConnected(l);
			for (const s of this.config.static ?? []) {
				const {addr, len} = parseRoutePrefix(s.prefix);
				if (!this.links.has(s.link)) throw new RouterError('unknown-link', `${this.name}: static route ${s.prefix} on unknown link ${s.link}`);
				this.table.upsert({
					prefix: addr, len, origin: 'static', metric: s.metric ?? 1, advertise: s.advertise ?? false,
					nextHop: s.via === undefined ? {kind: 'direct', link: s.link} : {kind: 'via', link: s.link, via: parseAddr(s.via)},
				});
			}
		});
		this.ripng?.start();
		for (const a of this.anycast) a.start();
	}

	/** The process stops: timers end, nothing more is sent. Neighbours notice through BFD. */
	stop(): void {
		if (!this.running) return;
		for (const a of this.anycast) a.stop();
		this.ripng?.stop();
		this.bfd.stop();
		this.dampening?.stop();
		this.peers.clear();
		this.everUp.clear();
		this.running = false;
	}

	get isRunning(): boolean {
		return this.running;
	}

	/** A UDP datagram for this node on `link`, dispatched by destination port. False when it was dropped, by the router, RIPng or BFD (the reason is in their `drops`). */
	receive(link: LinkId, dstPort: number, payload: Uint8Array, meta: RxMeta): boolean {
		if (!this.running) return true;
		const l = this.links.get(link);
		if (l === undefined || !l.up) {
			this.drops['unknown-link']++;
			return false;
		}
		if (dstPort === RIPNG_PORT && l.ripng && this.ripng !== null) {
			const before = this.ripng.dropped;
			this.ripng.receive(link, payload, meta);
			return this.ripng.dropped === before;
		}
		if (dstPort === BFD_PORT && l.bfd) {
			const before = this.bfd.dropped;
			this.bfd.receive(link, payload, meta);
			return this.bfd.dropped === before;
		}
		this.drops['port-closed']++;
		return false;
	}

	/** Carrier lost on a link: its connected routes, sessions and learned routes go at once. */
	linkDown(link: LinkId): void {
		const l = this.requireLink(link);
		if (!l.up) return;
		l.up = false;
		this.table.batch(() => {
			if (l.ripng) this.ripng?.linkDown(link);
			this.bfd.removeLink(link);
			// The sessions are gone; new ones start afresh when the link returns.
			for (const k of this.everUp) if (k.startsWith(`${link}|`)) this.everUp.delete(k);
			this.table.withdrawWhere((r) => r.nextHop.link === link);
		});
	}

	linkUp(link: LinkId): void {
		const l = this.requireLink(link);
		if (l.up) return;
		l.up = true;
		this.table.batch(() => {
			this.addConnected(l);
			for (const s of this.config.static ?? []) {
				if (s.link !== link) continue;
				const {addr, len} = parseRoutePrefix(s.prefix);
				this.table.upsert({
					prefix: addr, len, origin: 'static', metric: s.metric ?? 1, advertise: s.advertise ?? false,
					nextHop: s.via === undefined ? {kind: 'direct', link: s.link} : {kind: 'via', link: s.link, via: parseAddr(s.via)},
				});
			}
		});
		if (l.ripng) this.ripng?.linkUp(link);
	}

	linkLocal(link: LinkId): Addr {
		return this.requireLink(link).linkLocal;
	}

	linkIds(): LinkId[] {
		return [...this.links.keys()];
	}

	/** Whether `addr` is one of this node's global addresses, or an anycast address it currently originates. */
	ownsAddress(addr: Addr): boolean {
		for (const l of this.links.values()) {
			for (const a of l.addresses) if (prefixContains(a.addr, 128, addr)) return true;
		}
		return this.table.selected(maskAddr(addr, 128), 128).some((r) => r.nextHop.kind === 'local');
	}

	private requireLink(link: LinkId): LinkInfo {
		const l = this.links.get(link);
		if (l === undefined) throw new RouterError('unknown-link', `${this.name}: no link ${link}`);
		return l;
	}

	private addConnected(l: LinkInfo): void {
		for (const a of l.addresses) {
			// The on-link prefix (advertised), and the address itself (delivered locally, not advertised).
			this.table.upsert({prefix: maskAddr(a.addr, a.len), len: a.len, origin: 'connected', metric: 1, nextHop: {kind: 'direct', link: l.cfg.id}});
			this.table.upsert({prefix: a.addr, len: 128, origin: 'connected', metric: 0, advertise: false, nextHop: {kind: 'local'}});
		}
	}

	/**
	 * Whether routes from `peer` on `link` may be used. Without BFD on the
	 * link, always (RIPng's own timeout is the liveness). With BFD:
	 *   - never while dampening holds the session down;
	 *   - once the session has been Up, only while it is Up: BFD has taken
	 *     over liveness, and a session that went Down (RFC 5882 §3.2: a
	 *     failure is a transition from Up to Down) keeps the neighbour out
	 *     until the three-way handshake brings it Up again (RFC 5880 §6.2);
	 *   - before the session has first come Up, yes: BFD has said nothing
	 *     about the path yet, and waiting would hold every route of a starting
	 *     network for the handshake, which RFC 5880 §6.8.3 paces at no more
	 *     than one packet a second until Up. RIPng's timeout covers the
	 *     neighbour meanwhile, as it would without BFD.
	 */
	usable(link: LinkId, peer: Addr): boolean {
		const l = this.links.get(link);
		if (l === undefined) return false;
		if (!l.bfd) return true;
		if (this.held(link, peer)) return false;
		return this.bfd.state(link, peer) === 'Up' || !this.everUp.has(dampKey(link, peer));
	}

	/** Whether dampening holds the session to `peer` on `link` down for routing. */
	held(link: LinkId, peer: Addr): boolean {
		return this.dampening?.isSuppressed(dampKey(link, peer)) ?? false;
	}

	/** The dampening penalty of the session to `peer` on `link` now (0 without dampening). */
	penalty(link: LinkId, peer: Addr): number {
		return this.dampening?.penalty(dampKey(link, peer)) ?? 0;
	}

	private onBfd(ev: BfdEvent): void {
		const key = dampKey(ev.link, ev.peer);
		this.peers.set(key, {link: ev.link, peer: ev.peer});
		if (ev.state === 'Up') {
			const first = !this.everUp.has(key);
			this.everUp.add(key);
			// The neighbour was already in use (first Up after start): nothing to ask for.
			if (first) return;
			// A held session comes back for routing when its penalty has decayed (onReuse), not now.
			if (!this.held(ev.link, ev.peer)) this.ripng?.neighbourUp(ev.link, ev.peer);
		} else if (ev.previous === 'Up') {
			this.dampening?.flap(key);
			this.ripng?.neighbourDown(ev.link, ev.peer);
		}
	}

	private onReuse(key: string): void {
		const p = this.peers.get(key);
		if (p && this.running && this.bfd.state(p.link, p.peer) === 'Up') this.ripng?.neighbourUp(p.link, p.peer);
	}
}

function dampKey(link: LinkId, peer: Addr): string {
	return `${link}|${prefixKey(peer, 128)}`;
}
