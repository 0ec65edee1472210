// RIPng speaker (RFC 2080) for one node: learns routes from neighbours into the
// RouteTable and advertises the table's selected routes, with split horizon and
// poisoned reverse (§2.6), triggered updates (§2.5.1), route timeout and garbage
// collection (§2.3). Payload bytes in via receive(), out via the injected send().
import {ADDR_LEN, addrEquals, isLinkLocal, isMulticast, isUnspecified} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {Clock, TimerHandle} from '../util/clock.js';
import {hasHostBits, keyToPrefix, prefixKey} from './prefix.js';
import {
	RIPNG_GROUP, RIPNG_PORT, RIPNG_REQUEST, RIPNG_RESPONSE, NEXT_HOP_METRIC, RipngWireError,
	decodeRipngHeader, encodeRipng, maxRtes, rteMetric, rteOffset, rtePrefix, rtePrefixLen, rteTag,
} from './ripng-wire.js';
import type {RipngCommand, RteInput} from './ripng-wire.js';
import {DEFAULT_RIPNG_TIMERS, MAX_ROUTES_PER_NEIGHBOUR, RIPNG_DROP_REASONS, RipngError} from './ripng-types.js';
import type {RipngDropReason, RipngLink, RipngStats, RipngTimers} from './ripng-types.js';
import type {RouteChange, RouteTable, RouteView} from './table.js';
import type {LinkId, RxMeta, SendFn} from './types.js';
import {INFINITY} from './types.js';

interface Learned {
	prefix: Addr;
	len: number;
	link: LinkId;
	from: Addr;
	fromKey: string;
	via: Addr;
	metric: number;
	rd: number;
	tag: number;
	expiresAt: number;
}

interface LinkState {
	id: LinkId;
	linkLocal: Addr;
	neighbour: Addr | undefined;
	cost: number;
	maxRtes: number;
	up: boolean;
}

export class RipngSpeaker {
	readonly timers: RipngTimers;
	readonly drops: Record<RipngDropReason, number>;
	/** Every drop, whatever its reason: one number that a caller can compare before and after a receive. */
	dropped = 0;
	readonly stats: RipngStats = {periodicSent: 0, triggeredSent: 0, requestsSent: 0, responsesAccepted: 0, routesLearned: 0, routesTimedOut: 0};
	private readonly clock: Clock;
	private readonly table: RouteTable;
	private readonly send: SendFn;
	private readonly random: () => number;
	private readonly usable: (link: LinkId, addr: Addr) => boolean;
	private readonly heard: (link: LinkId, addr: Addr) => void;
	private readonly links = new Map<LinkId, LinkState>();
	private readonly learned = new Map<string, Learned>();
	/** Learned routes per neighbour (fromKey), for MAX_ROUTES_PER_NEIGHBOUR. */
	private readonly perNeighbour = new Map<string, number>();
	/** Prefixes advertised with a finite metric, by prefix key. */
	private readonly advertised = new Set<string>();
	/** Prefixes withdrawn recently: advertised with metric 16 until the time given. */
	private readonly withdrawn = new Map<string, number>();
	private readonly pending = new Set<string>();
	private holdUntil = -Infinity;
	private triggerTimer: TimerHandle | undefined;
	private updateTimer: TimerHandle | undefined;
	private sweepTimer: TimerHandle | undefined;
	private unsubscribe: (() => void) | undefined;
	private running = false;

	constructor(opts: {
		clock: Clock;
		table: RouteTable;
		send: SendFn;
		links: readonly RipngLink[];
		timers?: Partial<RipngTimers>;
		random?: () => number;
		/** Whether routes from this neighbour may be used (e.g. its BFD session is Up). */
		neighbourUsable?: (link: LinkId, addr: Addr) => boolean;
		/** Called for every well-formed message from a neighbour (e.g. to start BFD). */
		onNeighbour?: (link: LinkId, addr: Addr) => void;
	}) {
		this.clock = opts.clock;
		this.table = opts.table;
		this.send = opts.send;
		this.random = opts.random ?? Math.random;
		this.usable = opts.neighbourUsable ?? (() => true);
		this.heard = opts.onNeighbour ?? (() => {});
		this.timers = {...DEFAULT_RIPNG_TIMERS, ...opts.timers};
		const t = this.timers;
		if (!(t.updateMs > 0 && t.timeoutMs > 0 && t.gcMs > 0 && t.updateJitter >= 0 && t.updateJitter < 1 && t.triggeredMinMs >= 0 && t.triggeredMaxMs >= t.triggeredMinMs)) {
			throw new RipngError('bad-config', `inconsistent RIPng timers ${JSON.stringify(t)}`);
		}
		for (const l of opts.links) {
			const cost = l.cost ?? 1;
			if (!Number.isInteger(cost) || cost < 1 || cost >= INFINITY) throw new RipngError('bad-config', `link ${l.id}: cost must be 1..15, got ${cost}`);
			if (!isLinkLocal(l.linkLocal)) throw new RipngError('bad-config', `link ${l.id}: RIPng needs a link-local source address`);
			if (l.neighbour !== undefined && !isLinkLocal(l.neighbour)) throw new RipngError('bad-config', `link ${l.id}: the neighbour must be a link-local address`);
			this.links.set(l.id, {id: l.id, linkLocal: Uint8Array.from(l.linkLocal), neighbour: l.neighbour ? Uint8Array.from(l.neighbour) : undefined, cost, maxRtes: maxRtes(l.mtu ?? 1280), up: true});
		}
		this.drops = Object.fromEntries(RIPNG_DROP_REASONS.map((r) => [r, 0])) as Record<RipngDropReason, number>;
	}

	/**
	 * Upper bound on the time from a route change to the triggered update that
	 * carries it leaving this node: the longest hold-off after a previous one.
	 */
	get triggeredDelayMaxMs(): number {
		return this.timers.triggeredMaxMs;
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		this.unsubscribe = this.table.onChange((changes) => this.onTableChange(changes));
		for (const p of this.table.prefixes()) this.noteSelected(p.key, p.selected);
		const sweep = Math.max(10, Math.min(this.timers.timeoutMs, this.timers.gcMs) / 10);
		this.sweepTimer = this.clock.setInterval(() => this.sweep(), sweep);
		// §2.5 (start-up): ask every neighbour for its whole table instead of waiting a period.
		for (const l of this.links.values()) this.sendRequest(l, RIPNG_GROUP);
		this.sendPeriodic();
	}

	stop(): void {
		if (!this.running) return;
		this.running = false;
		this.unsubscribe?.();
		this.clock.clear(this.triggerTimer);
		this.clock.clear(this.updateTimer);
		this.clock.clear(this.sweepTimer);
		this.triggerTimer = this.updateTimer = this.sweepTimer = undefined;
		this.table.batch(() => {
			for (const r of this.learned.values()) this.withdrawLearned(r);
		});
		this.learned.clear();
		this.perNeighbour.clear();
	}

	/** A RIPng datagram received on UDP port 521. */
	receive(linkId: LinkId, buf: Uint8Array, meta: RxMeta, off = 0, len = buf.length - off): void {
		if (!this.running) return;
		const link = this.links.get(linkId);
		if (link === undefined) return this.drop('unknown-link');
		if (!link.up) return this.drop('link-down');
		let command: RipngCommand;
		let count: number;
		try {
			({command, rteCount: count} = decodeRipngHeader(buf, off, len));
		} catch (error) {
			if (error instanceof RipngWireError) return this.drop(error.code);
			throw error;
		}
		if (meta.src.length === ADDR_LEN && meta.src.every((b, i) => b === link.linkLocal[i])) return this.drop('own-message');
		// A point-to-point link has one neighbour: nobody else's routes, requests or BFD sessions.
		if (link.neighbour && !(meta.src.length === ADDR_LEN && meta.src.every((b, i) => b === link.neighbour![i]))) return this.drop('not-neighbour');
		if (command === RIPNG_REQUEST) return this.onRequest(link, buf, off, count, meta);
		// §2.4.2: a Response must come from the RIPng port, from a link-local source,
		// and (being multicast or a reply to us) with hop limit 255, i.e. from this link.
		if (meta.srcPort !== RIPNG_PORT) return this.drop('bad-source-port');
		if (!isLinkLocal(meta.src)) return this.drop('not-link-local-source');
		if (meta.hopLimit !== 255) return this.drop('bad-hop-limit');
		this.heard(linkId, meta.src);
		if (!this.usable(linkId, meta.src)) return this.drop('neighbour-down');
		this.stats.responsesAccepted++;
		this.table.batch(() => this.onResponse(link, buf, off, count, meta.src));
	}

	/** The neighbour is gone (BFD went Down): withdraw its routes now and tell the others. */
	neighbourDown(linkId: LinkId, addr: Addr): void {
		const key = prefixKey(addr, 128);
		this.table.batch(() => {
			for (const [k, r] of this.learned) {
				if (r.link === linkId && (r.fromKey === key || prefixKey(r.via, 128) === key)) {
					this.forget(k, r);
					this.withdrawLearned(r);
				}
			}
		});
	}

	/** The neighbour is (back) up: ask it for its table rather than wait for its next update. */
	neighbourUp(linkId: LinkId, addr: Addr): void {
		const link = this.links.get(linkId);
		if (link !== undefined && this.running) this.sendRequest(link, addr);
	}

	/** Carrier lost: everything learned over the link goes, and nothing is sent on it. */
	linkDown(linkId: LinkId): void {
		const link = this.links.get(linkId);
		if (link === undefined) throw new RipngError('unknown-link', `no RIPng link ${linkId}`);
		link.up = false;
		this.table.batch(() => {
			for (const [k, r] of this.learned) {
				if (r.link === linkId) {
					this.forget(k, r);
					this.withdrawLearned(r);
				}
			}
		});
	}

	linkUp(linkId: LinkId): void {
		const link = this.links.get(linkId);
		if (link === undefined) throw new RipngError('unknown-link', `no RIPng link ${linkId}`);
		if (link.up) return;
		link.up = true;
		if (this.running) {
			this.sendRequest(link, RIPNG_GROUP);
			this.sendTo(link, RIPNG_GROUP, RIPNG_PORT, [...this.advertised, ...this.withdrawn.keys()]);
		}
	}

	/** Routes learned from neighbours, held now. */
	get learnedCount(): number {
		return this.learned.size;
	}

	/** Neighbours that currently have learned routes here. */
	neighbours(): {link: LinkId; addr: Addr}[] {
		const seen = new Map<string, {link: LinkId; addr: Addr}>();
		for (const r of this.learned.values()) seen.set(`${r.link}|${r.fromKey}`, {link: r.link, addr: r.from});
		return [...seen.values()];
	}

	private drop(reason: RipngDropReason): void {
		this.drops[reason]++;
		this.dropped++;
	}

	private onResponse(link: LinkState, buf: Uint8Array, off: number, count: number, src: Addr): void {
		const fromKey = prefixKey(src, 128);
		let via: Addr = src;
		for (let i = 0; i < count; i++) {
			const rte = rteOffset(off, i);
			const metricIn = rteMetric(buf, rte);
			const p = rtePrefix(buf, rte);
			if (metricIn === NEXT_HOP_METRIC) {
				// §2.1.1: ::, or anything not link-local, means "the sender itself".
				if (isLinkLocal(p)) {
					via = Uint8Array.from(p);
				} else {
					if (!isUnspecified(p)) this.drop('rte-next-hop-not-link-local');
					via = src;
				}
				continue;
			}
			const len = rtePrefixLen(buf, rte);
			if (metricIn < 1 || metricIn > INFINITY) {
				this.drop('rte-bad-metric');
				continue;
			}
			if (len > 128) {
				this.drop('rte-bad-prefix-len');
				continue;
			}
			if (isMulticast(p)) {
				this.drop('rte-multicast-prefix');
				continue;
			}
			if (isLinkLocal(p)) {
				this.drop('rte-link-local-prefix');
				continue;
			}
			if (hasHostBits(p, 0, len)) {
				this.drop('rte-host-bits');
				continue;
			}
			const metric = Math.min(metricIn + link.cost, INFINITY);
			const pkey = prefixKey(p, len);
			const key = `${pkey}|${link.id}|${fromKey}`;
			const have = this.learned.get(key);
			if (metric >= INFINITY) {
				// Unreachable: drop our copy (if any); the table decides what to advertise.
				if (have !== undefined) {
					this.forget(key, have);
					this.withdrawLearned(have);
				}
				continue;
			}
			const now = this.clock.now();
			if (have !== undefined && !addrEquals(have.via, 0, via, 0)) {
				this.withdrawLearned(have);
			}
			if (have === undefined && (this.perNeighbour.get(fromKey) ?? 0) >= MAX_ROUTES_PER_NEIGHBOUR) {
				this.drop('rte-limit');
				continue;
			}
			const r: Learned = have ?? {prefix: Uint8Array.from(p), len, link: link.id, from: Uint8Array.from(src), fromKey, via, metric, rd: metricIn, tag: 0, expiresAt: now};
			if (have === undefined) {
				this.stats.routesLearned++;
				this.perNeighbour.set(fromKey, (this.perNeighbour.get(fromKey) ?? 0) + 1);
			}
			r.via = via;
			r.metric = metric;
			r.rd = metricIn;
			r.tag = rteTag(buf, rte);
			r.expiresAt = now + this.timers.timeoutMs;
			this.learned.set(key, r);
			this.table.upsert({
				prefix: r.prefix, len, origin: 'learned', metric, rd: metricIn, tag: r.tag,
				nextHop: {kind: 'via', link: link.id, via}, source: fromKey,
			});
		}
	}

	private forget(key: string, r: Learned): void {
		this.learned.delete(key);
		const n = (this.perNeighbour.get(r.fromKey) ?? 1) - 1;
		if (n > 0) this.perNeighbour.set(r.fromKey, n);
		else this.perNeighbour.delete(r.fromKey);
	}

	private withdrawLearned(r: Learned): void {
		this.table.withdraw(r.prefix, r.len, 'learned', {kind: 'via', link: r.link, via: r.via}, r.fromKey);
	}

	private onRequest(link: LinkState, buf: Uint8Array, off: number, count: number, meta: RxMeta): void {
		// A Request from the RIPng port, from a link-local address, with hop limit 255, comes from a speaker
		// on this link (a neighbour with nothing to advertise yet sends nothing else): it may start BFD.
		// Others are monitors (§2.4.1), answered but not neighbours. BFD bounds the sessions a link holds.
		if (meta.srcPort === RIPNG_PORT && isLinkLocal(meta.src) && meta.hopLimit === 255) this.heard(link.id, meta.src);
		const first = rteOffset(off, 0);
		if (count === 1 && rtePrefixLen(buf, first) === 0 && rteMetric(buf, first) === INFINITY && isUnspecified(rtePrefix(buf, first))) {
			// §2.4.1: whole table, with normal output processing (split horizon).
			this.sendTo(link, meta.src, meta.srcPort, [...this.advertised, ...this.withdrawn.keys()]);
			return;
		}
		// Specific entries: answered as they are, without split horizon (§2.4.1).
		const rtes: RteInput[] = [];
		for (let i = 0; i < count; i++) {
			const rte = rteOffset(off, i);
			const len = rtePrefixLen(buf, rte);
			const p = rtePrefix(buf, rte);
			if (len > 128) continue;
			const sel = this.table.selected(Uint8Array.from(p), len);
			rtes.push({prefix: Uint8Array.from(p), len, tag: rteTag(buf, rte), metric: sel.length > 0 ? Math.max(1, sel[0]!.metric) : INFINITY});
		}
		for (let i = 0; i < rtes.length; i += link.maxRtes) {
			this.send(link.id, encodeRipng(RIPNG_RESPONSE, rtes.slice(i, i + link.maxRtes)), meta.src, meta.srcPort, RIPNG_PORT);
		}
	}

	private sendRequest(link: LinkState, dst: Addr): void {
		if (!link.up) return;
		this.stats.requestsSent++;
		const msg = encodeRipng(RIPNG_REQUEST, [{prefix: new Uint8Array(ADDR_LEN), len: 0, metric: INFINITY}]);
		this.send(link.id, msg, dst, RIPNG_PORT, RIPNG_PORT);
	}

	private onTableChange(changes: readonly RouteChange[]): void {
		for (const c of changes) {
			if (this.noteSelected(c.key, c.selected)) this.pending.add(c.key);
		}
		if (this.pending.size > 0) this.scheduleTriggered();
	}

	/** Tracks what is advertised for a prefix; returns true if the advertisement changed. */
	private noteSelected(key: string, selected: readonly RouteView[]): boolean {
		const adv = selected.length > 0 && selected[0]!.advertise;
		if (adv) {
			this.advertised.add(key);
			this.withdrawn.delete(key);
			return true;
		}
		if (this.advertised.delete(key)) {
			// Keep telling neighbours it is unreachable for the garbage-collection time (§2.3).
			this.withdrawn.set(key, this.clock.now() + this.timers.gcMs);
			return true;
		}
		return false;
	}

	private scheduleTriggered(): void {
		if (this.triggerTimer !== undefined || !this.running) return;
		// Delay 0 still lets every change made in the same event join one update.
		const wait = Math.max(0, this.holdUntil - this.clock.now());
		this.triggerTimer = this.clock.setTimeout(() => {
			this.triggerTimer = undefined;
			this.flushTriggered();
		}, wait);
	}

	private flushTriggered(): void {
		if (this.pending.size === 0) return;
		const keys = [...this.pending];
		this.pending.clear();
		for (const l of this.links.values()) this.sendTo(l, RIPNG_GROUP, RIPNG_PORT, keys);
		this.stats.triggeredSent++;
		const t = this.timers;
		this.holdUntil = this.clock.now() + t.triggeredMinMs + this.random() * (t.triggeredMaxMs - t.triggeredMinMs);
	}

	private sendPeriodic(): void {
		// A full update carries every pending change too (§2.5.1).
		this.pending.clear();
		const keys = [...this.advertised, ...this.withdrawn.keys()];
		for (const l of this.links.values()) this.sendTo(l, RIPNG_GROUP, RIPNG_PORT, keys);
		this.stats.periodicSent++;
		const t = this.timers;
		const next = t.updateMs * (1 - t.updateJitter + 2 * t.updateJitter * this.random());
		this.updateTimer = this.clock.setTimeout(() => this.sendPeriodic(), next);
	}

	/** Advertises `keys` on one link: split horizon with poisoned reverse (§2.6). */
	private sendTo(link: LinkState, dst: Addr, dstPort: number, keys: readonly string[]): void {
		if (!link.up || keys.length === 0) return;
		const rtes: RteInput[] = [];
		for (const key of keys) {
			const sel = this.table.selectedByKey(key);
			const {addr, len} = keyToPrefix(key);
			let metric: number;
			if (sel.length > 0 && sel[0]!.advertise) {
				// Poison what we would forward back onto this link: the neighbours there
				// must never take us as their way to it.
				const back = sel.some((r) => r.nextHop.kind === 'via' && r.nextHop.link === link.id);
				metric = back ? INFINITY : Math.max(1, sel[0]!.metric);
				rtes.push({prefix: addr, len, metric, tag: sel[0]!.tag});
			} else if (this.withdrawn.has(key)) {
				rtes.push({prefix: addr, len, metric: INFINITY});
			}
		}
		for (let i = 0; i < rtes.length; i += link.maxRtes) {
			this.send(link.id, encodeRipng(RIPNG_RESPONSE, rtes.slice(i, i + link.maxRtes)), dst, dstPort, RIPNG_PORT);
		}
	}

	private sweep(): void {
		const now = this.clock.now();
		this.table.batch(() => {
			for (const [k, r] of this.learned) {
				if (r.expiresAt <= now) {
					this.forget(k, r);
					this.stats.routesTimedOut++;
					this.withdrawLearned(r);
				}
			}
		});
		for (const [k, until] of this.withdrawn) if (until <= now) this.withdrawn.delete(k);
	}
}

