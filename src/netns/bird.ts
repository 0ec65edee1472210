// `"role": "bird"` nodes: BIRD 2 (Debian's bird2) forwarding with the Linux
// kernel of its namespace, configured from the topology by `anyguard up`:
// RIPng on each of the node's links with the link's cost as the interface
// metric and the topology's RIPng timers, BFD to each neighbour with the
// topology's BFD timers, the node's address on its loopback exported, and
// every route it learns installed in the namespace's kernel table. The
// daemon runs in the foreground under `anyguard supervise`, like a role
// process, its control socket and log in the state directory.
//
// And `"role": "kernel"` nodes: static routes only, by shortest path, as the
// kernel baseline (src/netns/kernel.ts) builds them; their status is read
// from the kernel.
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, statSync} from 'node:fs';
import {staticRoutes} from '../config/paths.js';
import type {Topology, TopologyNode} from '../config/topology.js';
import {formatAddr, parseAddr, parsePrefix} from '../util/addr.js';
import {BFD_PORT} from '../route/bfd-wire.js';
import {prefixContains} from '../route/prefix.js';
import {RIPNG_PORT} from '../route/ripng-wire.js';
import {linkLocalOf} from '../assembly/links.js';
import {BIRD, BIRDC, files, linkIfname, namespace} from './names.js';
import {isStaticNode, linkKind} from './links.js';
import {nftCounted, nftLoad} from './conditions.js';

export class BirdError extends Error {
	override readonly name = 'BirdError';
	readonly code = 'bird';
}

/** BIRD's timers are whole seconds; the topology's are milliseconds. */
function seconds(ms: number | undefined, fallback: number): number {
	return Math.max(1, Math.round((ms ?? fallback) / 1000));
}

export {BIRD, BIRDC};

/** Neighbours of `node`, in topology order, with the link's cost. */
function neighbours(t: Topology, node: string): Array<{peer: string; cost: number; kind: ReturnType<typeof linkKind>}> {
	return t.links.filter((l) => l.a === node || l.b === node).map((l) => ({peer: l.a === node ? l.b : l.a, cost: l.cost, kind: linkKind(t, l)}));
}

/**
 * bird.conf for bird node `node` of `t`, with its log in `state`. Throws
 * BirdError for what BIRD 2.0 cannot be told.
 */
export function birdConfig(t: Topology, node: string, state: string): string {
	const spec = t.nodes.find((n) => n.name === node);
	if (!spec || spec.role !== 'bird') throw new BirdError(`${node} is not a bird node of ${t.file}`);
	const index = t.nodes.indexOf(spec) + 1;
	const r = t.timers.ripng;
	const b = t.timers.bfd;
	const update = seconds(r.updateMs, 1000);
	const timeout = seconds(r.timeoutMs, 4000);
	const garbage = seconds(r.gcMs, 2000);
	const ns = neighbours(t, node);
	const routing = ns.filter((n) => !isStaticNode(t, n.peer));
	const lines = [
		`# ${node}: written by anyguard up from ${t.file}; do not edit (up writes it again)`,
		`log "${files.log(state, node)}" 5000000 "${files.log(state, node)}.1" all;`,
		// A router id is a 32-bit number; BIRD takes one directly (it would otherwise want an IPv4 address).
		`router id ${index};`,
		'',
		'protocol device { scan time 10; }',
		'',
		`# The node's own address (${spec.address}), on lo: advertised by RIPng.`,
		'protocol direct { ipv6; interface "lo"; }',
		'',
		'# Every route BIRD selects goes into the namespace\'s kernel table, which forwards.',
		'protocol kernel { ipv6 { import none; export all; }; }',
	];
	const statics = staticRoutes(t, node, (peer) => isStaticNode(t, peer));
	if (statics.length > 0) {
		lines.push('', '# What is reached through a static ("kernel") neighbour, which speaks no routing protocol.', 'protocol static {', '\tipv6;');
		for (const s of statics) {
			if (ns.find((n) => n.peer === s.peer)?.kind !== 'tun')
				throw new BirdError(`${node}: static routes through ${s.peer} need a point-to-point link (BIRD 2.0 cannot name an interface with a dash after a link-local next hop); link ${node} and ${s.peer} through an anyguard node, or make ${s.peer} a bird node`);
			lines.push(`\troute ${s.prefix} via "${linkIfname(s.peer)}" { rip_metric = ${s.dist + 1}; };`);
		}
		lines.push('}');
	}
	if (routing.length > 0) {
		// BIRD takes RIPng routes from any link-local sender on the link; anyguard's routers take them only
		// from the topology's neighbour there (docs/routing.md, "Checked against BIRD"). The filter keeps
		// BIRD's table to the neighbours the topology names.
		const known = routing.map((n) => `(ifname = "${linkIfname(n.peer)}" && from = ${formatAddr(linkLocalOf(t, n.peer))})`);
		lines.push(
			'',
			`# BFD to each RIPng neighbour: ${b.intervalMs} ms × ${b.multiplier} once Up, 1 s before (RFC 5880 §6.8.3).`,
			'protocol bfd {',
			'\tdebug { states, events };',
			...routing.map((n) => `\tinterface "${linkIfname(n.peer)}" { min rx interval ${b.intervalMs} ms; min tx interval ${b.intervalMs} ms; idle tx interval 1000 ms; multiplier ${b.multiplier}; };`),
			'}',
			'',
			`# RIPng (RFC 2080): the link's cost is the interface metric, added to what arrives there; the topology's timers`,
			`# (update ${r.updateMs ?? 1000} ms, timeout ${r.timeoutMs ?? 4000} ms, garbage ${r.gcMs ?? 2000} ms) in BIRD's whole seconds.`,
			'# ttl security: hop limit 255 out, and only 255 taken in (RFC 2080 §2.4.2; BIRD 2.0.12\'s default for RIPng).',
			'# Routes only from the neighbours the topology names, each on its own link.',
			'# ecmp off: a route then names the neighbour it came from (`from`), which the import filter checks.',
			'protocol rip ng ripng {',
			'\tdebug { states };',
			'\tecmp no;',
			`\tipv6 { import where ${known.join(' || ')}; export all; };`,
			...routing.map((n) => `\tinterface "${linkIfname(n.peer)}" { metric ${n.cost}; update time ${update}; timeout time ${timeout}; garbage time ${garbage}; ttl security yes; bfd yes; };`),
			'}',
		);
	}
	return `${lines.join('\n')}\n`;
}

/** The nftables table in a bird node's namespace that admits RIPng and BFD only from the topology's neighbours. */
export const NEIGHBOUR_TABLE = 'anyguard_neighbours';

/**
 * nftables rules for bird node `node`: on each of its RIPng links, RIPng
 * (UDP 521) and BFD (UDP 3784) are taken only from the neighbour's
 * link-local address (linkLocalOf), and dropped, counted, from any other
 * sender. BIRD's RIPng makes a neighbour, and asks BFD for a session, for
 * every link-local sender it hears — its import filter refuses the routes,
 * not the neighbour — so without these a sender of made-up link-local
 * addresses grows BIRD's BFD sessions without bound (docs/routing.md,
 * "Checked against BIRD"). anyguard's own routers refuse such senders
 * themselves.
 */
export function birdNeighbourRules(t: Topology, node: string): string {
	const rules = neighbours(t, node)
		.filter((n) => !isStaticNode(t, n.peer))
		.map((n) => `\t\tiifname "${linkIfname(n.peer)}" udp dport { ${RIPNG_PORT}, ${BFD_PORT} } ip6 saddr != ${formatAddr(linkLocalOf(t, n.peer))} counter drop`);
	return `table inet ${NEIGHBOUR_TABLE} {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n${rules.join('\n')}\n\t}\n}\n`;
}

/** Installs birdNeighbourRules in the node's namespace. Throws ConditionError (nftables missing or refusing). */
export function applyBirdNeighbourRules(t: Topology, node: string): void {
	nftLoad(namespace(t, node), birdNeighbourRules(t, node));
}

/** RIPng and BFD packets the neighbour rules have dropped on `node` so far. */
export function birdNeighbourDropped(t: Topology, node: string): number {
	return nftCounted(namespace(t, node), 'inet', NEIGHBOUR_TABLE);
}

/** Runs one BIRD command on `node` (birdc), as a person would type it after `birdc`. */
export function birdc(state: string, node: string, args: string[], timeoutMs = 5000): {status: number | null; stdout: string; stderr: string} {
	if (!BIRDC) throw new BirdError('birdc is not installed: apt-get install -y bird2');
	const ctl = files.birdCtl(state, node);
	if (!existsSync(ctl)) throw new BirdError(`${node}'s BIRD is not running (no control socket ${ctl})`);
	const r = spawnSync(BIRDC, ['-s', ctl, ...args], {encoding: 'utf8', timeout: timeoutMs});
	return {status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') || (r.error ? `${r.error.message}\n` : '')};
}

/** birdc's output without its banner line. */
function body(out: string): string[] {
	return out.split('\n').filter((l) => l.trim() !== '' && !/^BIRD [\d.]+ ready\.$/.test(l.trim()));
}

export interface KernelRouteStatus {
	prefix: string;
	/** The BIRD protocol that made it (ripng, direct1, static1) or the kernel's proto (static, kernel). */
	origin: string;
	/** "via fe80::5%to-boundary", "dev lo", … */
	via: string;
	metric: number;
	selected: boolean;
}

/**
 * `birdc show route all`'s routes: each prefix's routes, the selected one
 * marked `*`; the RIP metric where there is one (`(120/3)` is preference
 * 120, metric 3), else 0.
 */
export function parseBirdRoutes(text: string): KernelRouteStatus[] {
	const out: KernelRouteStatus[] = [];
	let prefix = '';
	let current: KernelRouteStatus | undefined;
	for (const line of body(text)) {
		const head = /^(\S+\/\d+)?\s+(?:unicast|unreachable|blackhole|prohibited)\s+\[(\S+)[^\]]*\]\s*(\*)?\s*\((\d+)(?:\/(\d+))?\)/.exec(line);
		if (head) {
			if (head[1]) prefix = head[1];
			current = {prefix, origin: head[2]!, via: '', metric: Number(head[5] ?? 0), selected: Boolean(head[3])};
			out.push(current);
			continue;
		}
		const via = /^\s+via (\S+) on (\S+)/.exec(line);
		if (via && current) {
			current.via = current.via ? `${current.via}, via ${via[1]}%${via[2]}` : `via ${via[1]}%${via[2]}`;
			continue;
		}
		const dev = /^\s+dev (\S+)/.exec(line);
		if (dev && current && !current.via) current.via = `dev ${dev[1]}`;
		const metric = /^\s+rip_metric:\s*(\d+)/.exec(line);
		if (metric && current) current.metric = Number(metric[1]);
	}
	return out;
}

export interface KernelBfdStatus {
	peer: string;
	link: string;
	state: string;
	/** Since when, as BIRD prints it. */
	since: string;
	intervalMs: number;
	timeoutMs: number;
}

/** `birdc show bfd sessions`. */
export function parseBirdBfd(text: string): KernelBfdStatus[] {
	const out: KernelBfdStatus[] = [];
	for (const line of body(text)) {
		const m = /^(\S+)\s+(\S+)\s+(Up|Down|Init|AdminDown)\s+(\S+(?: \S+)?)\s+([\d.]+)\s+([\d.]+)\s*$/.exec(line.trim());
		if (m) out.push({peer: m[1]!, link: m[2]!, state: m[3]!, since: m[4]!, intervalMs: Math.round(Number(m[5]) * 1000), timeoutMs: Math.round(Number(m[6]) * 1000)});
	}
	return out;
}

/** `ip -6 route` lines of a static kernel node. */
export function parseKernelRoutes(text: string): KernelRouteStatus[] {
	const out: KernelRouteStatus[] = [];
	for (const line of text.split('\n')) {
		const m = /^(\S+)(?: via (\S+))? dev (\S+)(?: proto (\S+))?.*?(?: metric (\d+))?/.exec(line.trim());
		if (!m || m[1]!.startsWith('fe80') || m[1] === 'multicast' || m[1] === 'local') continue;
		const prefix = m[1]!.includes('/') ? m[1]! : `${m[1]}/128`;
		out.push({prefix, origin: m[4] ?? 'kernel', via: m[2] ? `via ${m[2]}%${m[3]}` : `dev ${m[3]}`, metric: Number(/metric (\d+)/.exec(line)?.[1] ?? 0), selected: true});
	}
	return out;
}

export interface KernelPortStatus {
	name: string;
	kind: 'tun' | 'veth';
	mtu: number;
	up: boolean;
	rxPackets: number;
	txPackets: number;
	rxDropped: number;
	txDropped: number;
	/** Dropped by a kernel-side policer on this device (src/netns/links.ts kernelPoliced); status fills it in. */
	policed?: number;
}

/** What a kernel node is doing, for `anyguard status`: its daemon, routes, BFD sessions and devices. */
export interface KernelNodeStatus {
	name: string;
	role: 'bird' | 'kernel';
	/** The namespace exists (and for bird, BIRD answers). */
	running: boolean;
	pid?: number;
	uptimeMs?: number;
	routes: KernelRouteStatus[];
	bfd: KernelBfdStatus[];
	ports: KernelPortStatus[];
	error?: string;
}

function pidOf(state: string, node: string): number | undefined {
	try {
		const pid = Number(readFileSync(files.pid(state, node), 'utf8').trim());
		return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
	} catch {
		return undefined;
	}
}

/** The devices of kernel node `node`: its end of each link, with the kernel's counters. */
export function kernelPorts(t: Topology, node: string): KernelPortStatus[] {
	const r = spawnSync('ip', ['-n', namespace(t, node), '-s', '-j', 'link', 'show'], {encoding: 'utf8'});
	let list: Array<{ifname: string; mtu: number; operstate?: string; flags?: string[]; stats64?: {rx: {packets: number; dropped: number}; tx: {packets: number; dropped: number}}}> = [];
	try {
		list = JSON.parse(r.stdout || '[]') as typeof list;
	} catch {
		list = [];
	}
	const out: KernelPortStatus[] = [];
	for (const l of t.links.filter((x) => x.a === node || x.b === node)) {
		const peer = l.a === node ? l.b : l.a;
		const d = list.find((x) => x.ifname === linkIfname(peer));
		if (!d) continue;
		out.push({
			name: peer, kind: linkKind(t, l) === 'tun' ? 'tun' : 'veth', mtu: d.mtu, up: (d.flags ?? []).includes('LOWER_UP'),
			rxPackets: d.stats64?.rx.packets ?? 0, txPackets: d.stats64?.tx.packets ?? 0, rxDropped: d.stats64?.rx.dropped ?? 0, txDropped: d.stats64?.tx.dropped ?? 0,
		});
	}
	return out;
}

/** The status of kernel node `node` (bird or kernel), read from BIRD and the kernel. Never throws. */
export function kernelNodeStatus(t: Topology, node: string, state: string): KernelNodeStatus {
	const spec = t.nodes.find((n) => n.name === node) as TopologyNode & {role: 'bird' | 'kernel'};
	const base = {name: node, role: spec.role};
	if (!existsSync(`/run/netns/${namespace(t, node)}`)) return {...base, running: false, routes: [], bfd: [], ports: [], error: 'no namespace'};
	const ports = kernelPorts(t, node);
	if (spec.role === 'kernel') {
		const r = spawnSync('ip', ['-n', namespace(t, node), '-6', 'route', 'show'], {encoding: 'utf8'});
		return {...base, running: true, routes: parseKernelRoutes(r.stdout ?? ''), bfd: [], ports};
	}
	const pid = pidOf(state, node);
	let uptimeMs: number | undefined;
	try {
		if (pid) uptimeMs = Date.now() - statSync(`/proc/${pid}`).mtimeMs;
	} catch {
		uptimeMs = undefined;
	}
	try {
		const routes = birdc(state, node, ['show', 'route', 'all'], 2000);
		if (routes.status !== 0) throw new BirdError((routes.stderr || routes.stdout).trim() || `birdc exited ${routes.status}`);
		const bfd = birdc(state, node, ['show', 'bfd', 'sessions'], 2000);
		return {...base, running: true, ...(pid ? {pid} : {}), ...(uptimeMs !== undefined ? {uptimeMs} : {}), routes: parseBirdRoutes(routes.stdout), bfd: parseBirdBfd(bfd.stdout), ports};
	} catch (error) {
		return {...base, running: false, ...(pid ? {pid} : {}), routes: [], bfd: [], ports, error: (error as Error).message};
	}
}

/** Which of `targets` (canonical /128s) kernel node status `s` has no selected route to, its own address aside, nor a covering prefix. */
export function kernelRouteGaps(t: Topology, s: KernelNodeStatus, targets: string[]): string[] {
	const node = s.name;
	if (!s.running) return [`not running (${s.error ?? 'no answer'})`];
	const own = new Set([formatAddr(parseAddr(t.nodes.find((n) => n.name === node)!.address!))].map((a) => `${a}/128`));
	const have = s.routes.filter((r) => r.selected).map((r) => r.prefix);
	return targets.filter((p) => !own.has(p) && !have.some((h) => covers(h, p)));
}

function covers(prefix: string, target: string): boolean {
	try {
		const p = parsePrefix(prefix);
		return prefixContains(p.addr, p.len, parsePrefix(target).addr);
	} catch {
		return false;
	}
}
