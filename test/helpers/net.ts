// The default topology in memory, converged, and packets to throw at it.
import {fileURLToPath} from 'node:url';
import {loadTopology, parseTopology} from '../../src/config/topology.js';
import type {Topology} from '../../src/config/topology.js';
import {MemNet} from '../../src/assembly/memnet.js';
import type {MemNetOptions} from '../../src/assembly/memnet.js';
import {parseAddr} from '../../src/util/addr.js';
import {Icmp6, buildPacket} from '../../src/wire/index.js';
import type {ExtRepr, PacketRepr} from '../../src/wire/index.js';

export const DEFAULT_TOPOLOGY = fileURLToPath(new URL('../../netns/topologies/default.json', import.meta.url));

export const A = {
	S: parseAddr('2001:db8:1:ac::53'),
	S2: parseAddr('2001:db8:1:ac::54'),
	client: parseAddr('2001:db8:2:c::10'),
	attacker: parseAddr('2001:db8:2:e::66'),
	serverA: parseAddr('2001:db8:1:a::30'),
	serverB: parseAddr('2001:db8:1:b::30'),
	terminalA: parseAddr('2001:db8:1:a::5'),
	terminalB: parseAddr('2001:db8:1:b::6'),
};

let cached: Topology | undefined;
export function defaultTopology(): Topology {
	cached ??= loadTopology(DEFAULT_TOPOLOGY);
	return cached;
}

/** The default topology without policing at `node`: no ingress policer on its links, and its own stack's work (route exchange, BFD and the rest) taken at any rate. */
export function withoutPolicing(node: string): Topology {
	const t = defaultTopology();
	const json = JSON.parse(JSON.stringify({...t, file: undefined, dir: undefined})) as {nodes: Array<{name: string; controlPlane?: unknown}>; links: Array<{a: string; b: string; police?: unknown}>};
	const any = {perSecond: 1_000_000, burst: 1_000_000};
	json.nodes.find((n) => n.name === node)!.controlPlane = {control: any, local: any};
	for (const l of json.links) if (l.a === node || l.b === node) delete l.police;
	return parseTopology(json, t.file);
}

/** The default topology, started and run until routing has converged. */
export function converged(opts: MemNetOptions = {}, topology = defaultTopology()): MemNet {
	const net = new MemNet(topology, opts);
	net.start();
	net.run(3000);
	return net;
}

const ip = (src: Uint8Array, dst: Uint8Array, hopLimit = 64) => ({trafficClass: 0, flowLabel: 0, hopLimit, src, dst});

export function echo(type: 'request' | 'reply', src: Uint8Array, dst: Uint8Array, identifier: number, sequence = 1, ext: ExtRepr[] = [], hopLimit = 64): Uint8Array {
	const repr: PacketRepr = {
		ip: ip(src, dst, hopLimit),
		ext,
		upper: {proto: 58, icmp: {kind: 'echo', type: type === 'request' ? Icmp6.EchoRequest : Icmp6.EchoReply, code: 0, identifier, sequence, data: new TextEncoder().encode('anyguard')}},
	};
	return buildPacket(repr);
}

export function udp(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, payload: string, ext: ExtRepr[] = []): Uint8Array {
	return buildPacket({ip: ip(src, dst), ext, upper: {proto: 17, udp: {srcPort, dstPort, payload: new TextEncoder().encode(payload)}}});
}
