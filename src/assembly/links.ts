// A node's place in its topology: the ends of its links as the node sees
// them, the link-local address it speaks route exchange from, and the MTU of
// its host device. The role process (src/cli/node.ts), the in-memory network
// (memnet.ts) and `anyguard up` (src/netns/setup.ts) all read them here.
import {ALG_BY_NAME, identifierLength} from '../anycast/option.js';
import type {Topology} from '../config/topology.js';
import {parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {Rate} from '../util/rate.js';

/** A link end as the node sees it. */
export interface LinkEnd {
	/** The link's id on this node: the neighbour's name. */
	id: string;
	peer: string;
	cost: number;
	mtu: number;
	/** This node's link-local address on the link. */
	linkLocal: Addr;
	zone: 'inside' | 'outside' | undefined;
	/** Ingress policing of what arrives from the link. */
	police?: Rate;
	/** BFD runs on the link (the topology's `bfd`, default true). */
	bfd: boolean;
}

/** The link-local address of the i-th node: fe80::i+1, the same on all of its links. */
export function linkLocalOf(t: Topology, name: string): Addr {
	return parseAddr(`fe80::${(t.nodes.findIndex((n) => n.name === name) + 1).toString(16)}`);
}

export function linkEnds(t: Topology, name: string): LinkEnd[] {
	const spec = t.nodes.find((n) => n.name === name)!;
	return t.links
		.filter((l) => l.a === name || l.b === name)
		.map((l) => {
			const peer = l.a === name ? l.b : l.a;
			return {
				id: peer,
				peer,
				cost: l.cost,
				mtu: l.mtu,
				...(l.police && (l.police.at === undefined || l.police.at === name) ? {police: {perSecond: l.police.perSecond, burst: l.police.burst}} : {}),
				linkLocal: linkLocalOf(t, name),
				zone: spec.role === 'boundary' ? (spec.outside?.includes(peer) ? 'outside' : 'inside') : undefined,
				bfd: l.bfd,
			};
		});
}

/**
 * MTU of a node's host device (its TUN): the link MTU, less the largest stamp
 * it adds for a server, so the kernel's responses still fit the link once
 * stamped (docs/protocol.md §8).
 */
export function hostMtu(t: Topology, node: string): number {
	const spec = t.nodes.find((n) => n.name === node)!;
	const linkMtu = Math.min(...t.links.filter((l) => l.a === node || l.b === node).map((l) => l.mtu));
	if (spec.role !== 'server') return linkMtu;
	const stamp = Math.max(0, ...(spec.groups ?? []).map((g) => 2 + 2 + identifierLength(ALG_BY_NAME[t.groups.find((x) => x.name === g)!.alg])));
	return linkMtu - ((stamp + 7) & ~7);
}
