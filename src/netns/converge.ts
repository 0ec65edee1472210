// What `up` waits for before it calls a network up: every node routing to
// every host and anycast address at the metric the link costs predict, and
// BFD Up on every link that runs it (BIRD's nodes through birdc).
import type {Topology} from '../config/topology.js';
import {isKernelRole} from '../config/topology.js';
import {shortestPaths} from '../config/paths.js';
import type {PathInfo} from '../config/paths.js';
import {queryStatus} from '../ops/control.js';
import type {NodeStatus} from '../ops/status.js';
import {prefixContains} from '../route/prefix.js';
import {addrEquals, formatAddr, parseAddr, parsePrefix} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import {kernelNodeStatus, kernelRouteGaps} from './bird.js';
import {isStaticNode} from './links.js';
import {files, linkIfname} from './names.js';

/** A network that did not converge in time: what each node still lacked. */
export class ConvergeError extends Error {
	override readonly name = 'ConvergeError';
}

/** Where `up` reports its steps (the Progress of src/netns/setup.ts). */
interface Steps {
	step(line: string): void;
}

/**
 * The metric RIPng settles on, at the node whose shortest `paths` these are,
 * for a destination `owners` hold: the link costs to the nearest owner, plus
 * the origin's 1 (RFC 2080 §2.4.2).
 */
function settledMetric(paths: Map<string, PathInfo>, owners: string[]): number | undefined {
	const dists = owners.flatMap((o) => (paths.has(o) ? [paths.get(o)!.dist] : []));
	return dists.length === 0 ? undefined : Math.min(...dists) + 1;
}

/**
 * Routing has converged when every node selects a route to every host address
 * and anycast address, with the metric the link costs predict: a route to a
 * farther server of S, taken while the nearer one's updates are on their
 * way, is not yet the network the topology describes. RIPng routes are used
 * before BFD is Up (docs/routing.md), so routing settles first; the network
 * is up when, besides, every link's BFD session is Up, so that a failure from
 * then on is noticed in BFD's detection time. Returns when routing settled.
 */
export async function waitConverged(t: Topology, state: string, timeoutMs: number, progress: Steps): Promise<{routingAt: number}> {
	let routingAt = 0;
	// BFD runs on every link but those to a static "kernel" node, which speaks no protocol, and those the topology runs without it (`bfd: false`).
	const peers = new Map(t.nodes.map((n) => [n.name, isStaticNode(t, n.name) ? [] : t.links.filter((l) => (l.a === n.name || l.b === n.name) && l.bfd).map((l) => (l.a === n.name ? l.b : l.a)).filter((p) => !isStaticNode(t, p))]));
	const targets = [
		...t.nodes.flatMap((n) => (n.host ? [{addr: parseAddr(n.host.address), owners: [n.name]}] : [])),
		...t.groups.map((g) => ({addr: parseAddr(g.anycast), owners: g.servers})),
	];
	// One search from each node serves all of its targets.
	const expected = new Map(
		t.nodes.map((n) => {
			const paths = shortestPaths(t, n.name);
			return [n.name, targets.map((x) => settledMetric(paths, x.owners))];
		}),
	);
	const deadline = Date.now() + timeoutMs;
	let missing: string[] = [];
	let last = '';
	while (Date.now() < deadline) {
		// Every node at once: a round takes as long as the slowest answer, not the sum of them.
		const answers = await Promise.all(
			t.nodes.map(async (n): Promise<{routes?: string; bfd?: string} | null> => {
				if (isKernelRole(n.role)) {
					// One reading of the node (its routes and BFD sessions, through birdc) serves both checks.
					const k = kernelNodeStatus(t, n.name, state);
					const gaps = kernelRouteGaps(t, k, targets.map((x) => `${formatAddr(x.addr)}/128`));
					if (gaps.length > 0) return {routes: `${n.name}: ${gaps[0]!.startsWith('not running') ? gaps[0] : `no route to ${gaps.join(', ')}`}`};
					if (n.role !== 'bird') return null;
					const notUp = peers.get(n.name)!.filter((p) => !k.bfd.some((b) => b.link === linkIfname(p) && b.state === 'Up'));
					return notUp.length > 0 ? {bfd: `${n.name}: BFD not yet Up to ${notUp.join(', ')}`} : null;
				}
				let s: NodeStatus;
				try {
					s = await queryStatus(files.socket(state, n.name), 500);
				} catch {
					return {routes: `${n.name}: not answering`};
				}
				const selected = s.routes.filter((r) => r.selected).map((r) => ({...parsePrefix(r.prefix), metric: r.metric}));
				const problems = targets.flatMap((x, i) => {
					const own = x.owners.includes(n.name);
					const exact = selected.find((r) => r.len === 128 && addrEquals(r.addr, 0, x.addr, 0));
					if (!exact) return own || routed(x.addr, selected) ? [] : [`no route to ${formatAddr(x.addr)}`];
					const want = expected.get(n.name)![i];
					return own || want === undefined || exact.metric === want ? [] : [`${formatAddr(x.addr)} at metric ${exact.metric}, not yet ${want}`];
				});
				if (problems.length > 0) return {routes: `${n.name}: ${problems.join(', ')}`};
				const notUp = peers.get(n.name)!.filter((p) => !s.bfd.some((b) => b.link === p && b.state === 'Up'));
				return notUp.length > 0 ? {bfd: `${n.name}: BFD not yet Up to ${notUp.join(', ')}`} : null;
			}),
		);
		const routes = answers.filter((a) => a?.routes !== undefined).map((a) => a!.routes!);
		if (routes.length === 0 && routingAt === 0) routingAt = Date.now();
		missing = answers.filter((a) => a !== null).map((a) => a!.routes ?? a!.bfd!);
		const line = routes.length > 0 ? `${t.nodes.length - routes.length}/${t.nodes.length} nodes routed` : `routed; BFD Up at ${t.nodes.length - missing.length}/${t.nodes.length} nodes`;
		if (line !== last) progress.step(`  ${line}`);
		last = line;
		if (missing.length === 0) return {routingAt};
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new ConvergeError(`routing did not converge in ${timeoutMs} ms:\n  ${missing.join('\n  ')}`);
}

/** Whether one of the selected prefixes holds `addr`: its /128, or a prefix it is inside (hosts behind a /64, say). */
function routed(addr: Addr, prefixes: Array<{addr: Addr; len: number}>): boolean {
	return prefixes.some((p) => prefixContains(p.addr, p.len, addr));
}

