// Shortest paths over a topology's links by cost, and the destinations its
// nodes hold: what static routing is computed from — the kernel baseline
// (src/netns/kernel.ts), a `"role": "kernel"` node, and its neighbours'
// routes through it (they cannot learn them: it speaks no routing protocol).
import {formatAddr, parsePrefix} from '../util/addr.js';
import type {Topology} from './topology.js';

export interface PathInfo {
	dist: number;
	/** The neighbour of `from` the path leaves by (undefined for `from` itself). */
	first: string | undefined;
}

/** Shortest-path distances and first hops from `from` (Dijkstra by link cost; ties go to the neighbour listed first). */
export function shortestPaths(t: Topology, from: string): Map<string, PathInfo> {
	const best = new Map<string, PathInfo>([[from, {dist: 0, first: undefined}]]);
	const done = new Set<string>();
	for (;;) {
		let at: string | undefined;
		for (const [name, v] of best) if (!done.has(name) && (at === undefined || v.dist < best.get(at)!.dist)) at = name;
		if (at === undefined) return best;
		done.add(at);
		const here = best.get(at)!;
		for (const l of t.links) {
			if (l.a !== at && l.b !== at) continue;
			const next = l.a === at ? l.b : l.a;
			const dist = here.dist + l.cost;
			const seen = best.get(next);
			if (!seen || dist < seen.dist) best.set(next, {dist, first: here.first ?? next});
		}
	}
}

/** A prefix (canonical addr/len) and the nodes that hold it: one for a node's address, every server for an anycast address. */
export interface Destination {
	prefix: string;
	owners: string[];
}

/** Every node address, host address and host prefix, and each anycast address on its servers. */
export function destinations(t: Topology): Destination[] {
	const canon = (p: string) => {
		const {addr, len} = parsePrefix(p);
		return `${formatAddr(addr)}/${len}`;
	};
	const out: Destination[] = [];
	for (const n of t.nodes) {
		if (n.address) out.push({prefix: canon(`${n.address}/128`), owners: [n.name]});
		if (n.host) {
			out.push({prefix: canon(`${n.host.address}/128`), owners: [n.name]});
			for (const p of n.host.prefixes ?? []) out.push({prefix: canon(p), owners: [n.name]});
		}
	}
	for (const g of t.groups) out.push({prefix: canon(`${g.anycast}/128`), owners: g.servers});
	return out;
}

export interface StaticRoute {
	prefix: string;
	/** The neighbour the route leads to. */
	peer: string;
	/** Path cost to the destination's owner. */
	dist: number;
}

/**
 * Static routes of `node` by shortest path: for each destination it does not
 * hold, the first hop towards its nearest owner (ties go to the owner listed
 * first), kept when `keep(peer)` holds. A `"role": "kernel"` node keeps every
 * one; its neighbours keep those whose first hop is a static node.
 */
export function staticRoutes(t: Topology, node: string, keep: (peer: string) => boolean = () => true): StaticRoute[] {
	const paths = shortestPaths(t, node);
	const out: StaticRoute[] = [];
	for (const d of destinations(t)) {
		if (d.owners.includes(node)) continue;
		let target: string | undefined;
		for (const o of d.owners) if (paths.has(o) && (target === undefined || paths.get(o)!.dist < paths.get(target)!.dist)) target = o;
		if (target === undefined) continue;
		const p = paths.get(target)!;
		if (keep(p.first!)) out.push({prefix: d.prefix, peer: p.first!, dist: p.dist});
	}
	return out;
}
