// The kernel baseline of a topology (bench/e2e.ts): the same namespaces,
// veth pairs and node addresses as `anyguard up`, forwarded by the Linux
// kernel alone. No TUNs and no processes: each link's veth ends hold a /64 of
// KERNEL_LINK_BLOCK, the underlay address and the link-local address of `anyguard up`, each node's topology addresses (and a server's anycast
// addresses) sit on `lo`, `net.ipv6.conf.all.forwarding=1`, and static routes
// follow the shortest path by link cost, S going to the nearest server, as
// the userspace routing converges to. What it costs is what a packet costs
// the kernel on the same path, the yardstick of the userspace network.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import type {Topology, TopologyNode} from '../config/topology.js';
import {staticRoutes} from '../config/paths.js';
import {linkIfname, namespace, underlayAddress} from './names.js';
import {SetupError} from './setup.js';

/** Each link's /64 is the next one of this block: link i (0-based) is 2001:db8:ff00:<i+1>::/64. */
export const KERNEL_LINK_BLOCK = '2001:db8:ff00::/40';

export interface KernelRoute {
	node: string;
	/** Destination prefix, addr/len. */
	prefix: string;
	/** The neighbour the route leads to, its veth address on the shared link, and this node's device. */
	peer: string;
	via: string;
	dev: string;
	/** This node's own address, the source of what it originates along the route. */
	src?: string;
}

export interface KernelPlan {
	/** Addresses per node: [device, address/len]. */
	addresses: Map<string, Array<[string, string]>>;
	routes: KernelRoute[];
}

/** Link i's address for its `a` side (::1) or `b` side (::2). */
export function kernelLinkAddress(i: number, side: 'a' | 'b'): string {
	return `2001:db8:ff00:${(i + 1).toString(16)}::${side === 'a' ? 1 : 2}`;
}

/** The node's own address: a router's address, or its host's. */
function ownAddress(n: TopologyNode): string | undefined {
	return n.address ?? n.host?.address;
}

/** What the kernel baseline of `t` configures: addresses and routes, computed from the topology alone. */
export function kernelPlan(t: Topology): KernelPlan {
	const addresses = new Map<string, Array<[string, string]>>(t.nodes.map((n) => [n.name, []]));
	// Each veth end also has the underlay address `anyguard up` gives it, and the node's link-local
	// address of the userspace network (fe80::<node index + 1>, src/assembly/links.ts linkLocalOf): with
	// addrgenmode none a device has no link-local address of its own, and Linux sends no Neighbor
	// Solicitation for a forwarded packet from a device without one (ndisc_solicit falls back to it).
	const linkLocal = (node: string) => `fe80::${(t.nodes.findIndex((n) => n.name === node) + 1).toString(16)}/64`;
	t.links.forEach((l, i) => {
		addresses.get(l.a)!.push([linkIfname(l.b), `${kernelLinkAddress(i, 'a')}/64`], [linkIfname(l.b), `${underlayAddress(t, l, l.a)}/64`], [linkIfname(l.b), linkLocal(l.a)]);
		addresses.get(l.b)!.push([linkIfname(l.a), `${kernelLinkAddress(i, 'b')}/64`], [linkIfname(l.a), `${underlayAddress(t, l, l.b)}/64`], [linkIfname(l.a), linkLocal(l.b)]);
	});
	for (const n of t.nodes) {
		for (const a of [n.address, n.host?.address]) if (a) addresses.get(n.name)!.push(['lo', `${a}/128`]);
		if (n.role === 'server') for (const g of t.groups.filter((x) => n.groups?.includes(x.name))) addresses.get(n.name)!.push(['lo', `${g.anycast}/128`]);
	}
	// Destinations and who holds them (node addresses, host prefixes, each anycast address on its servers), by shortest path.
	const routes: KernelRoute[] = [];
	for (const n of t.nodes) {
		const src = ownAddress(n);
		for (const r of staticRoutes(t, n.name)) {
			const i = t.links.findIndex((l) => (l.a === n.name && l.b === r.peer) || (l.b === n.name && l.a === r.peer));
			const via = kernelLinkAddress(i, t.links[i]!.a === r.peer ? 'a' : 'b');
			routes.push({node: n.name, prefix: r.prefix, peer: r.peer, via, dev: linkIfname(r.peer), ...(src ? {src} : {})});
		}
	}
	return {addresses, routes};
}

/** Runs one setup command; throws SetupError('command-failed') with its output. */
export function run(args: string[]): void {
	const r = spawnSync(args[0]!, args.slice(1), {encoding: 'utf8'});
	if (r.status !== 0) throw new SetupError('command-failed', `${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
}

/**
 * Builds the kernel baseline of `t` under its prefix. Throws SetupError
 * ('busy' when a namespace exists); on failure removes what it made.
 */
export function kernelUp(t: Topology): KernelPlan {
	if (process.getuid?.() !== 0) throw new SetupError('not-root', 'the kernel baseline needs root: it creates network namespaces');
	const taken = t.nodes.map((n) => namespace(t, n.name)).filter((ns) => existsSync(`/run/netns/${ns}`));
	if (taken.length > 0) throw new SetupError('busy', `namespaces ${taken.join(', ')} exist already`);
	const plan = kernelPlan(t);
	try {
		for (const n of t.nodes) {
			const ns = namespace(t, n.name);
			run(['ip', 'netns', 'add', ns]);
			// No DAD anywhere, as in `anyguard up`: addresses are usable at once.
			run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
			run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
		}
		for (const l of t.links) {
			const [a, b] = [namespace(t, l.a), namespace(t, l.b)];
			run(['ip', 'link', 'add', linkIfname(l.b), 'netns', a, 'type', 'veth', 'peer', 'name', linkIfname(l.a), 'netns', b]);
			for (const [ns, dev] of [
				[a, linkIfname(l.b)],
				[b, linkIfname(l.a)],
			] as const)
				run(['ip', '-n', ns, 'link', 'set', 'dev', dev, 'addrgenmode', 'none', 'mtu', String(l.mtu)]);
		}
		for (const [node, list] of plan.addresses) for (const [dev, addr] of list) run(['ip', '-n', namespace(t, node), '-6', 'addr', 'add', addr, 'dev', dev, 'nodad']);
		for (const l of t.links) {
			run(['ip', '-n', namespace(t, l.a), 'link', 'set', 'dev', linkIfname(l.b), 'up']);
			run(['ip', '-n', namespace(t, l.b), 'link', 'set', 'dev', linkIfname(l.a), 'up']);
		}
		for (const r of plan.routes)
			run(['ip', '-n', namespace(t, r.node), '-6', 'route', 'add', r.prefix, 'via', r.via, 'dev', r.dev, ...(r.src ? ['src', r.src] : [])]);
	} catch (error) {
		kernelDown(t);
		throw error;
	}
	return plan;
}

/** Removes the kernel baseline's namespaces (and with them the veths and routes), first killing what still runs in them. Idempotent. */
export function kernelDown(t: Topology): void {
	for (const n of t.nodes) {
		const ns = namespace(t, n.name);
		if (!existsSync(`/run/netns/${ns}`)) continue;
		const pids = spawnSync('ip', ['netns', 'pids', ns], {encoding: 'utf8'}).stdout ?? '';
		for (const line of pids.split('\n')) {
			const pid = Number(line.trim());
			if (Number.isInteger(pid) && pid > 0) {
				try {
					process.kill(pid, 'SIGKILL');
				} catch {
					// gone already
				}
			}
		}
		spawnSync('ip', ['netns', 'del', ns]);
	}
}
