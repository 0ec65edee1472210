// `anyguard status [node]`: what every node of a running network is doing,
// read from the control sockets. Tables for people, --json for scripts.
import {isKernelRole} from '../config/topology.js';
import type {Topology} from '../config/topology.js';
import {kernelNodeStatus} from '../netns/bird.js';
import type {KernelNodeStatus} from '../netns/bird.js';
import {describeConditions, kernelPoliced, linkKey, readLinkStates} from '../netns/links.js';
import {files, stateDir} from '../netns/names.js';
import {queryStatus} from '../ops/control.js';
import {table} from '../util/table.js';
import type {BoundStatus, NodeStatus, RouteStatus} from '../ops/status.js';

export interface StatusOptions {
	node?: string;
	stateRoot?: string;
}

/** One entry per node: an anyguard node's status from its control socket, or a kernel node's (BIRD, static) from BIRD and the kernel. */
export type Snapshot = Array<{name: string; role: string; status: NodeStatus | null; kernel?: KernelNodeStatus; error?: string; links?: Record<string, string>}>;

export async function snapshot(t: Topology, o: StatusOptions = {}): Promise<Snapshot> {
	const dir = stateDir(t, o.stateRoot);
	const nodes = t.nodes.filter((n) => !o.node || n.name === o.node);
	// Each link's conditions now, as "delay=20ms loss=1%", by the node's port (its peer).
	const states = readLinkStates(t, dir);
	const linksOf = (node: string) =>
		Object.fromEntries(t.links.filter((l) => l.a === node || l.b === node).map((l) => [l.a === node ? l.b : l.a, describeConditions(l, states[linkKey(l)]!)]));
	return Promise.all(
		nodes.map(async (n) => {
			if (isKernelRole(n.role)) {
				const k = kernelNodeStatus(t, n.name, dir);
				const policed = Object.fromEntries(t.links.filter((l) => l.police?.at === n.name).map((l) => [l.a === n.name ? l.b : l.a, kernelPoliced(t, l)]));
				for (const p of k.ports) p.policed = policed[p.name] ?? 0;
				return {name: n.name, role: n.role, status: null, kernel: k, links: linksOf(n.name), ...(k.running ? {} : {error: k.error ?? 'not running'})};
			}
			try {
				return {name: n.name, role: n.role, status: await queryStatus(files.socket(dir, n.name), 1000), links: linksOf(n.name)};
			} catch (error) {
				return {name: n.name, role: n.role, status: null, links: linksOf(n.name), error: (error as NodeJS.ErrnoException).code ?? (error as Error).message};
			}
		}),
	);
}

function duration(ms: number): string {
	const s = Math.floor(ms / 1000);
	return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

/** Where a route leads, as `ip route` says it: `via ADDR dev LINK`, `dev LINK` or `local`. */
function routeDevice(r: RouteStatus): string {
	const h = r.nextHop;
	return h.kind === 'via' ? `via ${h.via} dev ${h.link}` : h.kind === 'direct' ? `dev ${h.link}` : 'local';
}

export function render(snap: Snapshot, o: StatusOptions = {}): string {
	const out: string[] = [];
	out.push(
		'NODES',
		table(
			['node', 'role', 'state', 'pid', 'uptime', 'rx', 'tx', 'forwarded', 'stamped', 'verified', 'dropped', 'route chg', 'bfd chg'],
			snap.map(({name, role, status, kernel, error}) => {
				if (kernel) {
					const sum = (f: (p: KernelNodeStatus['ports'][number]) => number) => String(kernel.ports.reduce((n, p) => n + f(p), 0));
					const daemon = role === 'bird' ? 'BIRD' : 'kernel, static';
					if (!kernel.running) return [name, `${role} (${daemon})`, `down (${error})`];
					return [name, `${role} (${daemon})`, 'up', kernel.pid ? String(kernel.pid) : '', kernel.uptimeMs !== undefined ? duration(kernel.uptimeMs) : '', sum((p) => p.rxPackets), sum((p) => p.txPackets), '', '', '', sum((p) => p.rxDropped + p.txDropped), '', ''];
				}
				if (!status) return [name, role, `down (${error})`];
				const c = status.counters;
				const dropped = Object.values(c.drops).reduce((n, v) => n + v, 0);
				return [name, role, 'up', String(status.pid), duration(status.uptimeMs), String(c.rxPackets), String(c.txPackets), String(c.forwarded), String(c.stamped), String(c.verified), String(dropped), String(status.routeChanges), String(status.bfdStateChanges)];
			}),
		),
	);
	const links = snap.flatMap(({name, status, kernel, links: conditions}) => {
		if (kernel)
			return kernel.ports.map((p) => {
				const bfd = kernel.bfd.find((b) => b.link === `to-${p.name}`);
				return [
					name, p.name, p.kind, '', String(p.mtu), bfd ? `${bfd.state} (BIRD)` : kernel.role === 'bird' ? 'no session' : 'static',
					String(p.rxPackets), String(p.txPackets), String(p.txDropped), '', '', String(p.policed ?? 0), '', p.up ? (conditions?.[p.name] ?? '') : 'no carrier',
				];
			});
		return (status?.ports ?? []).map((p) => {
			const bfd = status!.bfd.find((b) => b.link === p.name);
			const kernelDrops = p.io?.rxKernelDrops !== undefined ? `${p.io.rxKernelDrops}${p.controlIo ? `/${p.controlIo.rxKernelDrops ?? 0}` : ''}` : '';
			const link = p.kind === 'link';
			const emu = status!.links?.find((l) => l.peer === p.name);
			const lost = emu ? emu.out.lost + (emu.in?.lost ?? 0) : 0;
			return [
				name, p.name, link ? (emu?.kind ?? 'link') : p.kind, p.zone ?? '', String(p.mtu), bfd ? `${bfd.state}${bfd.held ? ' (held: flapping)' : ''}` : p.kind === 'host' ? '' : 'no session',
				String(p.counters.rxPackets), String(p.counters.txPackets), String(p.counters.txFailed),
				link ? String(p.counters.rxControl) : '', link ? String(p.counters.txControl) : '', link ? String(p.counters.policed) : '', kernelDrops,
				link ? `${conditions?.[p.name] ?? ''}${lost ? ` (lost ${lost})` : ''}` : '',
			];
		});
	});
	out.push('', 'LINKS', table(['node', 'port', 'kind', 'zone', 'mtu', 'bfd', 'rx', 'tx', 'tx failed', 'ctl rx', 'ctl tx', 'policed', 'kernel drops data/ctl', 'conditions'], links));
	out.push(
		'',
		'CONTROL PLANE (route exchange and BFD on their own channel; the rest policed; docs/pipeline.md)',
		table(
			['node', 'ctl policed', 'ctl misuse', 'local policed', 'echo limited', 'icmp limited /64', 'icmp limited node', 'loop delay p99/max ms'],
			snap.flatMap(({name, status}) => {
				if (!status) return [];
				const c = status.counters;
				const d = c.drops;
				const loop = status.loopDelay ? `${status.loopDelay.p99Ms}/${status.loopDelay.maxMs}` : '';
				return [[name, String(d['control-policed']), String(d['control-misuse']), String(d['local-policed']), String(d['echo-rate-limited']), String(c.icmpPrefixLimited), String(c.icmpRateLimited), loop]];
			}),
		),
	);
	// One column per kind of bounded table (the reassemblers of a node summed): entries/capacity, then what
	// gave way (-n) and what was turned away (!n). --json has each table apart.
	const kinds = ['flows', 'replay cache', 'bfd sessions', 'ripng routes', 'pmtu', 'reassembly'];
	const cell = (bs: BoundStatus[]) => {
		if (bs.length === 0) return '';
		const sum = (f: (b: BoundStatus) => number) => bs.reduce((n, b) => n + f(b), 0);
		const [evicted, refused] = [sum((b) => b.evicted), sum((b) => b.refused)];
		return `${sum((b) => b.size)}/${sum((b) => b.capacity)}${evicted ? ` -${evicted}` : ''}${refused ? ` !${refused}` : ''}`;
	};
	const boundRows = snap.flatMap(({name, status}) => (status?.bounds ? [[name, ...kinds.map((k) => cell(status.bounds.filter((b) => b.table === k || b.table.startsWith(`${k} `))))]] : []));
	if (boundRows.length > 0) out.push('', 'BOUNDS (entries/capacity, -evicted, !refused)', table(['node', ...kinds], boundRows));
	for (const {name, kernel} of snap) {
		if (!kernel || !o.node) continue;
		out.push('', `ROUTES ${name}   (${kernel.role === 'bird' ? "BIRD's table: * selected, as BIRD exports it to the kernel" : 'static, in the kernel'})`);
		out.push(...kernel.routes.map((r) => `${r.selected ? '*' : ' '} ${r.prefix} ${r.via.replace(/^via (\S+)%(\S+)/, 'via $1 dev $2')} proto ${r.origin}${r.metric ? ` metric ${r.metric}` : ''}`));
		if (kernel.bfd.length > 0) out.push('', `BFD ${name}`, table(['peer', 'interface', 'state', 'since', 'interval ms', 'timeout ms'], kernel.bfd.map((b) => [b.peer, b.link, b.state, b.since, String(b.intervalMs), String(b.timeoutMs)])));
	}
	for (const {name, status} of snap) {
		if (!status || (!o.node && status.role !== 'boundary' && status.role !== 'client')) continue;
		out.push('', `ROUTES ${name}   (* selected; an anycast prefix's selected route is the nearest server)   ${status.routeChanges} changes`);
		out.push(
			...status.routes.map((r) => {
				const dev = routeDevice(r);
				const nearest = r.anycast && r.selected ? '  ← nearest anycast server' : r.anycast ? '  (anycast, further)' : '';
				return `${r.selected ? '*' : ' '} ${r.prefix} ${dev} proto ${r.origin} metric ${r.metric}${nearest}`;
			}),
		);
	}
	const drops = snap.flatMap(({name, status}) => (status ? Object.entries(status.counters.drops).filter(([, n]) => n > 0).map(([r, n]) => [name, r, String(n)]) : []));
	out.push('', 'DROPS', drops.length > 0 ? table(['node', 'reason', 'count'], drops) : '(none)');
	return out.join('\n');
}
