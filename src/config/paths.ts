// Shortest paths over a topology's link costs: what RIPng settles on, computed
// from the file alone (the kernel baseline's static routes, and what `up`
// waits for).
import type {Topology} from './topology.js';

/** Dijkstra over the link costs from `from`: each node's distance and the first hop towards it. */
export function shortestPaths(t: Topology, from: string): Map<string, {dist: number; first: string | undefined}> {
	const best = new Map<string, {dist: number; first: string | undefined}>([[from, {dist: 0, first: undefined}]]);
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

