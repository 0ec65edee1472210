// Names and numbers the setup (`anyguard up`) and the role processes
// (`anyguard node`) must agree on. Everything derives from the topology.
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {Topology, TopologyLink} from '../config/topology.js';
import {formatAddr, parseAddr} from '../util/addr.js';

/** The patent's Fig. 1, what `anyguard up` and every network command use when given no topology. */
export const DEFAULT_TOPOLOGY = fileURLToPath(new URL('../../netns/topologies/default.json', import.meta.url));

/** UDP port of the underlay: one inner IPv6 packet per datagram, both ends. */
export const LINK_PORT = 6464;
/** UDP port of each link's control channel: route exchange and BFD only, apart from data (docs/pipeline.md). */
export const CONTROL_PORT = 6465;
/** IPv6 (40) + UDP (8) around each inner packet on the veth. */
export const UNDERLAY_OVERHEAD = 48;
export const TUN_NAME = 'tun0';
/** The client namespace's end of the veth to the host's root namespace. */
export const HOST_LINK_IFNAME = 'to-host';
export const DEFAULT_STATE_ROOT = '/run/anyguard';

export function namespace(t: Topology, node: string): string {
	return `${t.prefix}${node}`;
}

/** The veth end in `node`'s namespace that leads to `peer` (≤ 15 characters: names are ≤ 12). */
export function linkIfname(peer: string): string {
	return `to-${peer}`;
}

/** The underlay's addresses: a /64 per link (the link's index + 1), never inside the topology (config/topology.ts refuses it). */
export const UNDERLAY_PREFIX = '2001:db8:ffff::/48';

/**
 * Underlay address of each end of link `link` of `t`: 2001:db8:ffff:<index + 1>::1
 * on the topology's `a` side, ::2 on `b`, on a /64. Global scope, not
 * link-local: Linux removes a device's link-local addresses whenever it goes
 * down (keep_addr_on_down spares only global ones), and a link set down and
 * up must come back bound as it was.
 */
export function underlayAddress(t: Topology, link: TopologyLink, node: string): string {
	const i = t.links.indexOf(link);
	if (i < 0) throw new Error(`link ${link.a}–${link.b} is not one of ${t.file}'s`);
	return `2001:db8:ffff:${(i + 1).toString(16)}::${link.a === node ? 1 : 2}`;
}

export function findLink(t: Topology, node: string, peer: string): TopologyLink {
	const link = t.links.find((l) => (l.a === node && l.b === peer) || (l.a === peer && l.b === node));
	if (!link) throw new Error(`no link between ${node} and ${peer}`);
	return link;
}

/** The root namespace's end of the veth to the client, and its address in the client's prefix. */
export function hostVeth(t: Topology): string {
	return `${t.prefix}host`;
}

export function stateDir(t: Pick<Topology, 'prefix'>, root = DEFAULT_STATE_ROOT): string {
	return join(root, t.prefix.replace(/-$/, ''));
}

export const files = {
	log: (dir: string, node: string) => join(dir, `${node}.log`),
	pid: (dir: string, node: string) => join(dir, `${node}.pid`),
	supervisorPid: (dir: string, node: string) => join(dir, `${node}.supervisor.pid`),
	socket: (dir: string, node: string) => join(dir, `${node}.sock`),
	stop: (dir: string, node: string) => join(dir, `${node}.stopped`),
	/** The absolute path of the topology the network was brought up with. */
	topology: (dir: string) => join(dir, 'topology.path'),
	/** Each link's conditions now (src/netns/links.ts): what up applied, and anyguard link changed since. */
	links: (dir: string) => join(dir, 'links.json'),
	/** A bird node's configuration, written by up (src/netns/bird.ts), and BIRD's control socket. */
	birdConf: (dir: string, node: string) => join(dir, `${node}.bird.conf`),
	birdCtl: (dir: string, node: string) => join(dir, `${node}.bird.ctl`),
};
/** The BIRD binaries, by their system paths (a name could be shadowed on PATH); undefined when bird2 is not installed. */
export const BIRD = ['/usr/sbin/bird', '/sbin/bird', '/usr/bin/bird'].find((p) => existsSync(p));
export const BIRDC = ['/usr/sbin/birdc', '/sbin/birdc', '/usr/bin/birdc'].find((p) => existsSync(p));

/**
 * A bird node's daemon command line: BIRD in the foreground (its supervisor
 * keeps it running), with the configuration and control socket `up` put in
 * the state directory. A node is a bird node when `up` wrote it a bird.conf.
 */
export function birdCommand(state: string, node: string): string[] | undefined {
	if (!existsSync(files.birdConf(state, node))) return undefined;
	if (!BIRD) throw new Error('BIRD is not installed: apt-get install -y bird2');
	return [BIRD, '-f', '-c', files.birdConf(state, node), '-s', files.birdCtl(state, node)];
}

/** The /48s of the topology's addresses: what the host routes to the client. */
export function networkPrefixes(t: Topology): string[] {
	const set = new Set<string>();
	const add = (a: string) => {
		const b = parseAddr(a);
		b.fill(0, 6);
		set.add(`${formatAddr(b)}/48`);
	};
	for (const n of t.nodes) {
		if (n.address) add(n.address);
		if (n.host) add(n.host.address);
	}
	for (const g of t.groups) add(g.anycast);
	return [...set].sort();
}
