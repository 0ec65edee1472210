// The default topology in memory, converged, and packets to throw at it.
import {fileURLToPath} from 'node:url';
import {loadTopology} from '../../src/config/topology.js';
import type {Topology} from '../../src/config/topology.js';
import {MemNet} from '../../src/node/memnet.js';
import type {MemNetOptions} from '../../src/node/memnet.js';
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
