// `anyguard topology`: a picture of the network with Debian's graphviz: nodes
// by role, addresses, link costs, and the current path to S highlighted —
// read from the running network when it is up, else from the same topology
// converged in memory.
import {spawnSync} from 'node:child_process';
import {MemNet} from '../assembly/memnet.js';
import type {Topology} from '../config/topology.js';
import {files, stateDir} from '../netns/names.js';
import {hostLinkAddresses} from '../netns/setup.js';
import {isKernelRole} from '../config/topology.js';
import {kernelNodeStatus} from '../netns/bird.js';
import {describeConditions, linkKey, linkKind, readLinkStates, topologyConditions} from '../netns/links.js';
import {queryStatus} from '../ops/control.js';
import {routeLink} from '../ops/status.js';
import {prefixContains} from '../route/prefix.js';
import {formatAddr, parseAddr, parsePrefix} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {NodeStatus} from '../ops/status.js';

const STYLE: Record<string, string> = {
	client: 'shape=box, style="rounded,filled", fillcolor="#cfe8ff"',
	terminal: 'shape=box, style="rounded,filled", fillcolor="#e6f2ff"',
	attacker: 'shape=box, style="rounded,filled", fillcolor="#ffd6d6"',
	router: 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
	boundary: 'shape=octagon, style=filled, fillcolor="#ffe9b3"',
	server: 'shape=box3d, style=filled, fillcolor="#d8f5d0"',
	// The Linux kernel's forwarding, not anyguard's: BIRD's RIPng and BFD, or static routes.
	bird: 'shape=ellipse, style="filled,dashed", fillcolor="#e3ddf7"',
	kernel: 'shape=ellipse, style="filled,dashed", fillcolor="#f0f0f0"',
};

/** The node a node's selected route for S leads to next: the link's name is the neighbour's; undefined when S is local or unrouted. */
function nextHop(s: NodeStatus, S: Addr): string | undefined {
	const r = s.routes.find((x) => {
		const p = parsePrefix(x.prefix);
		return x.selected && p.len === 128 && prefixContains(p.addr, 128, S);
	});
	return (r && routeLink(r)) ?? undefined;
}

/** The path to S from `from` through statuses already read (at most 16 hops; it stops where a status is missing). */
export function pathFromStatuses(status: (node: string) => NodeStatus | undefined, from: string, S: string): string[] {
	const s128 = parseAddr(S);
	const path = [from];
	for (let i = 0; i < 16; i++) {
		const s = status(path.at(-1)!);
		const next = s ? nextHop(s, s128) : undefined;
		if (next === undefined || path.includes(next)) break;
		path.push(next);
	}
	return path;
}

/** The nodes a packet for S crosses from `from`, hop by hop: live from the control sockets, or in memory. */
export async function pathToS(t: Topology, from: string, S: string, stateRoot?: string): Promise<{path: string[]; live: boolean}> {
	const s128 = parseAddr(S);
	try {
		const path = [from];
		const state = stateDir(t, stateRoot);
		for (let i = 0; i < 16; i++) {
			const at = path.at(-1)!;
			if (isKernelRole(t.nodes.find((n) => n.name === at)!.role)) {
				// BIRD's (or the kernel's) selected route: via fe80::x%to-<peer>.
				const r = kernelNodeStatus(t, at, state).routes.find((x) => x.selected && x.prefix === `${formatAddr(s128)}/128`);
				const dev = r?.via.split(',')[0]!.split('%')[1];
				if (!dev?.startsWith('to-')) break;
				path.push(dev.slice(3));
				continue;
			}
			const next = nextHop(await queryStatus(files.socket(state, at), 500), s128);
			if (next === undefined) break;
			path.push(next);
		}
		return {path, live: true};
	} catch {
		const net = new MemNet(t);
		net.start();
		net.run(5000);
		return {path: net.path(from, S), live: false};
	}
}

export async function topologyDot(t: Topology, stateRoot?: string): Promise<string> {
	const client = t.nodes.find((n) => n.role === 'client');
	const group = t.groups.find((g) => g.name === client?.groups?.[0]) ?? t.groups[0];
	const {path, live} = client && group ? await pathToS(t, client.name, group.anycast, stateRoot) : {path: [], live: false};
	const onPath = new Set(path.slice(1).map((n, i) => [path[i], n].sort().join('|')));
	const lines = [
		'graph anyguard {',
		'  graph [fontname="Helvetica", labelloc=t, fontsize=16, pad=0.3, nodesep=0.5, ranksep=0.9, rankdir=LR];',
		'  node [fontname="Helvetica", fontsize=11];',
		'  edge [fontname="Helvetica", fontsize=10];',
		`  label=${JSON.stringify(`${t.name}: ${group ? `path to S = ${group.anycast} ${live ? '(live)' : '(converged in memory)'}` : ''}`)};`,
	];
	for (const n of t.nodes) {
		const address = n.host?.address ?? n.address ?? '';
		const extra = n.role === 'server' ? `\\nholds ${(n.groups ?? []).map((g) => t.groups.find((x) => x.name === g)!.anycast).join(', ')}` : '';
		const label = `${n.name}\\n${n.description ?? n.role}\\n${address}${extra}`;
		lines.push(`  ${JSON.stringify(n.name)} [label="${label}", ${STYLE[n.role] ?? ''}${path.includes(n.name) ? ', penwidth=2.5, color="#1f6feb"' : ''}];`);
	}
	const host = hostLinkAddresses(t);
	if (client && host) {
		lines.push(`  "host" [label="host (root namespace)\\n${host.host}", shape=note, style=dashed];`);
		lines.push(`  "host" -- ${JSON.stringify(client.name)} [style=dashed, label="veth"];`);
	}
	// Each link's conditions: the running network's now (links.json), else the topology's.
	const states = live ? readLinkStates(t, stateDir(t, stateRoot)) : topologyConditions(t);
	for (const l of t.links) {
		const hot = onPath.has([l.a, l.b].sort().join('|'));
		const c = states[linkKey(l)]!;
		const cond = describeConditions(l, c);
		const kind = linkKind(t, l);
		const label = `cost ${l.cost}${kind === 'tun' ? ' (TUN)' : ''}${cond === '-' ? '' : `\\n${cond.replace(/ /g, '\\n')}`}`;
		lines.push(`  ${JSON.stringify(l.a)} -- ${JSON.stringify(l.b)} [label="${label}"${c.down ? ', style=dotted, color="#cc0000"' : hot ? ', color="#1f6feb", penwidth=3' : ''}];`);
	}
	lines.push('}');
	return lines.join('\n') + '\n';
}

export function renderDot(dot: string, format: 'svg' | 'png'): Buffer {
	const r = spawnSync('dot', [`-T${format}`], {input: dot, maxBuffer: 64 * 1024 * 1024});
	if (r.error) throw new Error(`graphviz's dot is not installed (apt-get install -y graphviz): ${r.error.message}`);
	if (r.status !== 0) throw new Error(`dot failed: ${r.stderr.toString().trim()}`);
	return r.stdout;
}
