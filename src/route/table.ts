// Route table: a RIB holding every candidate route per prefix (all origins, all
// neighbours) and a FIB (Poptrie, fib.ts) holding the selected next-hop group
// per prefix. Control-plane calls may allocate; lookup() does not.
//
// Selection, per prefix:
//   1. origin rank (connected < static < learned), then lowest metric: the
//      nearest anycast server wins;
//   2. equal (rank, metric) routes form an ECMP group (ecmp.ts); a flow picks a
//      member by its hash (wire/ipv6.ts flowHash);
//   3. a learned route is only used if it is feasible: its reported distance is
//      below the best metric this prefix has had since it last became reachable
//      (the feasibility condition of RFC 7868 §5.3.3). Keeping alternates makes
//      failover instant, and the condition keeps a stale alternate that loops back
//      through us from being picked. When a prefix becomes unreachable, alternates
//      it could not use are marked stale until their neighbour re-advertises them.
import {ADDR_LEN, formatAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import {NextHopGroups} from './ecmp.js';
import {Fib} from './fib.js';
import type {FibPrefix} from './fib.js';
import {checkLen, formatPrefix, hasHostBits, keyToPrefix, prefixKey, word} from './prefix.js';
import type {LinkId, NextHop, NextHopSpec, Origin} from './types.js';
import {INFINITY} from './types.js';

export class RouteError extends Error {
	override readonly name = 'RouteError';
	constructor(readonly code: 'bad-metric' | 'bad-prefix' | 'bad-next-hop' | 'reentrant-listener', message: string) {
		super(message);
	}
}

const RANK: Record<Origin, number> = {connected: 0, static: 1, learned: 2};

export interface RouteInput {
	prefix: Addr;
	len: number;
	nextHop: NextHopSpec;
	origin: Origin;
	/** 0..15; 16 (unreachable) routes are withdrawn, not stored. */
	metric: number;
	/** Distinguishes candidates with the same origin and next hop (e.g. the advertising neighbour). */
	source?: string;
	/** The metric the neighbour advertised, for the feasibility check; learned routes only. */
	rd?: number;
	anycast?: boolean;
	/** Whether route exchange may advertise this route (default true). */
	advertise?: boolean;
	/** RIPng route tag, carried through. */
	tag?: number;
}

export interface RouteView {
	prefix: Addr;
	len: number;
	origin: Origin;
	metric: number;
	rd: number;
	nextHop: NextHop;
	source: string;
	anycast: boolean;
	advertise: boolean;
	tag: number;
	stale: boolean;
	/** In the selected (forwarding) set. */
	selected: boolean;
}

interface Candidate {
	origin: Origin;
	nh: number;
	source: string;
	metric: number;
	rd: number;
	anycast: boolean;
	advertise: boolean;
	tag: number;
	stale: boolean;
}

/** Shared empty selection; never mutated. */
const NONE: Candidate[] = [];

class Entry implements FibPrefix {
	w0: number;
	w1: number;
	w2: number;
	w3: number;
	value = 0;
	fibPos = -1;
	/** Replaced on every change, never mutated (selected may be the same array). */
	cands: Candidate[];
	selected: Candidate[] = NONE;
	/** Feasible distance; INFINITY while unreachable. */
	fd = INFINITY;
	constructor(readonly key: string, readonly len: number, addr: Uint8Array, first: Candidate) {
		this.cands = [first];
		this.w0 = word(addr, 0, 0);
		this.w1 = word(addr, 0, 1);
		this.w2 = word(addr, 0, 2);
		this.w3 = word(addr, 0, 3);
	}
}

/** A change of the selected routes for one prefix, delivered after the FIB is updated. */
export interface RouteChange {
	key: string;
	prefix: Addr;
	len: number;
	/** Selected routes now (empty: unreachable or gone). */
	selected: RouteView[];
	/** The prefix is no longer in the table at all. */
	removed: boolean;
}

export type RouteListener = (changes: readonly RouteChange[]) => void;

export class RouteTable {
	private readonly fib = new Fib();
	private readonly entries = new Map<string, Entry>();
	private readonly nextHops: NextHop[] = [];
	private readonly nextHopByKey = new Map<string, number>();
	private readonly groups = new NextHopGroups();
	private depth = 0;
	private readonly changed = new Set<string>();
	private releases: number[] = [];
	private readonly listeners: RouteListener[] = [];
	private notifying = false;

	/** Registers a listener for selected-route changes. Returns an unsubscribe function. */
	onChange(listener: RouteListener): () => void {
		this.listeners.push(listener);
		return () => {
			const i = this.listeners.indexOf(listener);
			if (i >= 0) this.listeners.splice(i, 1);
		};
	}

	/** Runs `fn` with FIB commits and change events deferred to its end. Nests. */
	batch<T>(fn: () => T): T {
		this.depth++;
		try {
			return fn();
		} finally {
			this.depth--;
			if (this.depth === 0) this.flush();
		}
	}

	/** Adds or replaces the candidate (prefix, origin, next hop, source). Returns true if anything changed. */
	upsert(r: RouteInput): boolean {
		checkLen(r.len);
		if (hasHostBits(r.prefix, 0, r.len)) throw new RouteError('bad-prefix', `${formatPrefix(r.prefix, r.len)} has bits set past the length`);
		if (!Number.isInteger(r.metric) || r.metric < 0 || r.metric >= INFINITY) throw new RouteError('bad-metric', `metric must be 0..15, got ${r.metric}`);
		const nh = this.internNextHop(r.nextHop);
		const source = r.source ?? '';
		const key = prefixKey(r.prefix, r.len);
		const e0 = this.entries.get(key);
		const rd = r.origin === 'learned' ? (r.rd ?? r.metric) : -1;
		const c: Candidate = {
			origin: r.origin, nh, source, metric: r.metric, rd,
			anycast: r.anycast ?? false, advertise: r.advertise ?? true, tag: r.tag ?? 0, stale: false,
		};
		if (e0 === undefined) {
			const fresh = new Entry(key, r.len, r.prefix, c);
			this.entries.set(key, fresh);
			this.run(() => this.reselect(fresh));
			return true;
		}
		const e = e0;
		const i = e.cands.findIndex((x) => x.origin === c.origin && x.nh === nh && x.source === source);
		if (i >= 0) {
			const o = e.cands[i]!;
			if (!o.stale && o.metric === c.metric && o.rd === c.rd && o.anycast === c.anycast && o.advertise === c.advertise && o.tag === c.tag) return false;
			e.cands = e.cands.map((x, k) => (k === i ? c : x));
		} else {
			e.cands = [...e.cands, c];
		}
		this.run(() => this.reselect(e));
		return true;
	}

	/** Removes one candidate. Returns true if it existed. */
	withdraw(prefix: Addr, len: number, origin: Origin, nextHop: NextHopSpec, source = ''): boolean {
		const e = this.entries.get(prefixKey(prefix, len));
		if (e === undefined) return false;
		const nhKey = nextHopKey(nextHop);
		const nh = this.nextHopByKey.get(nhKey);
		if (nh === undefined) return false;
		const i = e.cands.findIndex((x) => x.origin === origin && x.nh === nh && x.source === source);
		if (i < 0) return false;
		e.cands = e.cands.filter((_, k) => k !== i);
		this.run(() => this.reselect(e));
		return true;
	}

	/** Removes every candidate matching `pred` (e.g. all routes through one neighbour). Returns how many. */
	withdrawWhere(pred: (r: RouteView) => boolean): number {
		let n = 0;
		this.batch(() => {
			for (const e of this.entries.values()) {
				const keep = e.cands.filter((c) => !pred(this.view(e, c)));
				if (keep.length === e.cands.length) continue;
				n += e.cands.length - keep.length;
				e.cands = keep;
				this.reselect(e);
			}
		});
		return n;
	}

	/**
	 * Forwarding lookup: longest-prefix match of the 16 bytes at dst[dstOff], then the
	 * ECMP member for `flowHash`. Returns a next-hop index (see nextHop()) or -1.
	 * Allocates nothing.
	 */
	lookup(dst: Uint8Array, dstOff: number, flowHash: number): number {
		const g = this.fib.lookup(dst, dstOff);
		if (g === 0) return -1;
		return this.groups.member(g, flowHash);
	}

	/** The next-hop group for dst (0: no route); allocates nothing. */
	lookupGroup(dst: Uint8Array, dstOff: number): number {
		return this.fib.lookup(dst, dstOff);
	}

	/** Whether a group (from lookupGroup) leads to an anycast route. */
	groupIsAnycast(group: number): boolean {
		return this.groups.isAnycast(group);
	}

	nextHop(index: number): NextHop {
		const nh = this.nextHops[index];
		if (nh === undefined) throw new RouteError('bad-next-hop', `no next hop ${index}`);
		return nh;
	}

	/** Number of prefixes in the RIB (reachable or not). */
	get size(): number {
		return this.entries.size;
	}

	/** All candidates for prefix/len, selected ones first. */
	routes(prefix: Addr, len: number): RouteView[] {
		const e = this.entries.get(prefixKey(prefix, len));
		if (e === undefined) return [];
		return [...e.selected, ...e.cands.filter((c) => !e.selected.includes(c))].map((c) => this.view(e, c));
	}

	/** Selected routes for prefix/len (empty if unreachable or absent). */
	selected(prefix: Addr, len: number): RouteView[] {
		const e = this.entries.get(prefixKey(prefix, len));
		return e === undefined ? [] : e.selected.map((c) => this.view(e, c));
	}

	/** Control-plane longest-prefix match through the RIB (allocates): the selected routes of the matching prefix. */
	match(dst: Addr): RouteView[] {
		for (let len = 128; len >= 0; len--) {
			const e = this.entries.get(prefixKey(maskBytes(dst, len), len));
			if (e !== undefined && e.selected.length > 0) return e.selected.map((c) => this.view(e, c));
		}
		return [];
	}

	/** Every prefix with its candidates; for route exchange and dumps. */
	*prefixes(): IterableIterator<{key: string; prefix: Addr; len: number; selected: RouteView[]; candidates: RouteView[]}> {
		for (const e of this.entries.values()) {
			const {addr} = keyToPrefix(e.key);
			yield {
				key: e.key, prefix: addr, len: e.len,
				selected: e.selected.map((c) => this.view(e, c)),
				candidates: e.cands.map((c) => this.view(e, c)),
			};
		}
	}

	/** Selected routes for a key from prefixKey(); empty if none. */
	selectedByKey(key: string): RouteView[] {
		const e = this.entries.get(key);
		return e === undefined ? [] : e.selected.map((c) => this.view(e, c));
	}

	/** Text dump, one line per candidate, sorted; for tests and debugging. */
	dump(opts: {selectedOnly?: boolean} = {}): string[] {
		const lines: string[] = [];
		for (const p of this.prefixes()) {
			for (const r of opts.selectedOnly === true ? p.selected : p.candidates) {
				const nh = r.nextHop;
				const hop = nh.kind === 'local' ? 'local' : nh.kind === 'direct' ? `direct ${nh.link}` : `via ${formatAddr(nh.via!)}%${nh.link}`;
				lines.push(`${formatPrefix(p.prefix, p.len)} ${r.origin} ${hop} metric ${r.metric}${r.anycast ? ' anycast' : ''}${r.selected ? ' *' : ''}`);
			}
		}
		return lines.sort();
	}

	fibStats(): ReturnType<Fib['stats']> {
		return this.fib.stats();
	}

	private run(fn: () => void): void {
		this.batch(fn);
	}

	private view(e: Entry, c: Candidate): RouteView {
		return {
			prefix: keyToPrefix(e.key).addr, len: e.len, origin: c.origin, metric: c.metric, rd: c.rd,
			nextHop: this.nextHops[c.nh]!, source: c.source, anycast: c.anycast, advertise: c.advertise,
			tag: c.tag, stale: c.stale, selected: e.selected.includes(c),
		};
	}

	private internNextHop(spec: NextHopSpec): number {
		if (spec.kind === 'via' && spec.via.length !== ADDR_LEN) throw new RouteError('bad-next-hop', 'next-hop address must be 16 bytes');
		const key = nextHopKey(spec);
		let i = this.nextHopByKey.get(key);
		if (i === undefined) {
			i = this.nextHops.length;
			this.nextHops.push(Object.freeze({
				index: i, kind: spec.kind,
				link: spec.kind === 'local' ? null : spec.link,
				via: spec.kind === 'via' ? Uint8Array.from(spec.via) : null,
			}));
			this.nextHopByKey.set(key, i);
		}
		return i;
	}

	private reselect(e: Entry): void {
		const prev = e.selected;
		let best: Candidate[] = NONE;
		let bestRank = Infinity;
		let bestMetric = Infinity;
		let reset = false;
		for (const c of e.cands) {
			if (c.origin === 'learned' && (c.stale || (e.fd < INFINITY && c.rd >= e.fd))) {
				// The current next hop reporting a worse distance is believed (RFC 2080 §2.4.2:
				// "the metric is updated" when the datagram is from the same router), and the
				// feasible distance is reset to it. Without this, every upstream failover would
				// read as a loss here, and the prefix would be unreachable until the next
				// periodic update. A new next hop must still meet the feasibility condition.
				if (c.stale || !prev.some((p) => p.origin === c.origin && p.nh === c.nh && p.source === c.source)) continue;
				reset = true;
			}
			const rank = RANK[c.origin];
			if (rank < bestRank || (rank === bestRank && c.metric < bestMetric)) {
				best = [c];
				bestRank = rank;
				bestMetric = c.metric;
			} else if (rank === bestRank && c.metric === bestMetric) {
				best.push(c);
			}
		}
		if (best.length > 1) best.sort((a, b) => a.nh - b.nh || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
		if (best.length > 0) {
			e.fd = reset && best.every((c) => c.origin !== 'learned' || c.rd >= e.fd) ? bestMetric : Math.min(e.fd, bestMetric);
		} else {
			if (prev.length > 0) {
				// Just became unreachable: what is left could not be used, and may route
				// back through us; wait for a fresh advertisement before trusting it.
				for (const c of e.cands) if (c.origin === 'learned') c.stale = true;
			}
			e.fd = INFINITY;
		}
		// The usual single route is its own selection: share the array (candidate
		// arrays are replaced, never changed in place) to save ~56 bytes a prefix.
		e.selected = best.length === 1 && e.cands.length === 1 && e.cands[0] === best[0] ? e.cands : best;
		const same = prev.length === best.length && prev.every((c, i) => c === best[i]);
		if (!same) this.changed.add(e.key);
		this.updateFib(e);
		if (e.cands.length === 0) {
			this.entries.delete(e.key);
			this.changed.add(e.key);
		}
	}

	private updateFib(e: Entry): void {
		const g = e.selected.length === 0 ? 0 : this.groups.intern(e.selected);
		if (g === e.value) {
			if (g !== 0) this.releases.push(g); // internGroup took a reference we do not need
			return;
		}
		const old = e.value;
		if (g === 0) {
			this.fib.remove(e);
			e.value = 0;
		} else if (old === 0) {
			e.value = g;
			this.fib.insert(e);
		} else {
			e.value = g;
			this.fib.touch(e);
		}
		// The old group may still be in FIB leaves until the next commit.
		if (old !== 0) this.releases.push(old);
	}

	private flush(): void {
		this.fib.commit();
		for (const g of this.releases) this.groups.release(g);
		this.releases = [];
		if (this.changed.size === 0 || this.listeners.length === 0) {
			this.changed.clear();
			return;
		}
		if (this.notifying) throw new RouteError('reentrant-listener', 'route listener changed the table outside batch()');
		const changes: RouteChange[] = [];
		for (const key of this.changed) {
			const {addr, len} = keyToPrefix(key);
			const e = this.entries.get(key);
			changes.push({key, prefix: addr, len, selected: e === undefined ? [] : e.selected.map((c) => this.view(e, c)), removed: e === undefined});
		}
		this.changed.clear();
		this.notifying = true;
		try {
			for (const l of [...this.listeners]) l(changes);
		} finally {
			this.notifying = false;
		}
	}
}

export function nextHopKey(spec: NextHopSpec): string {
	switch (spec.kind) {
		case 'local': return 'local';
		case 'direct': return `direct|${spec.link}`;
		case 'via': return `via|${spec.link}|${prefixKey(spec.via, 128)}`;
	}
}

function maskBytes(a: Addr, len: number): Addr {
	const out = new Uint8Array(ADDR_LEN);
	for (let i = 0; i < ADDR_LEN; i++) {
		const bits = len - 8 * i;
		out[i] = bits >= 8 ? a[i]! : bits <= 0 ? 0 : a[i]! & ((0xff << (8 - bits)) & 0xff);
	}
	return out;
}

export type {LinkId};
