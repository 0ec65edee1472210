// Codec figures: parse-only packets/s for a packet with three extension
// headers and for a plain ICMPv6 echo, against the allocating full decode
// of the same packet measured in the same run, and bytes allocated per parse.
import {buildPacket, decodePacket, parsePacket, PacketInfo, checkIcmpv6} from '../src/wire/index.js';
import {parseAddr} from '../src/util/addr.js';
import {rate, withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';

const ip = {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: parseAddr('2001:db8:2:c::10'), dst: parseAddr('2001:db8:1:ac::53')};

export const threeExt = buildPacket({
	ip,
	ext: [
		{kind: 'hop-by-hop', options: [{type: 0x3e, data: new Uint8Array(4)}]},
		{kind: 'routing', routingType: 4, segmentsLeft: 0, data: new Uint8Array(20)},
		{kind: 'dest-opts', options: [{type: 0x1e, data: new Uint8Array(36), align: {x: 4, y: 2}}]},
	],
	upper: {proto: 17, udp: {srcPort: 40000, dstPort: 53, payload: new Uint8Array(64)}},
});

export const echo = buildPacket({ip, ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: 128, code: 0, identifier: 7, sequence: 1, data: new Uint8Array(56)}}});

/** Heap bytes allocated per call, measured across `n` calls between two forced collections (needs --expose-gc). */
function allocatedPerCall(fn: () => void, n: number): number | undefined {
	const gc = (globalThis as {gc?: () => void}).gc;
	if (!gc) return undefined;
	for (let i = 0; i < 10_000; i++) fn();
	gc();
	const before = process.memoryUsage().heapUsed;
	for (let i = 0; i < n; i++) fn();
	const after = process.memoryUsage().heapUsed;
	return Math.max(0, (after - before) / n);
}

export const run: Bench = async () => {
	const info = new PacketInfo();
	const results: Result[] = [];
	for (const [label, packet] of [
		['', threeExt],
		['.echo', echo],
	] as const) {
		const decode = {name: `wire.decode${label}.pps`, value: rate(() => void decodePacket(packet)), unit: 'packets/s', note: 'allocating full decode (baseline)'};
		const parse = {name: `wire.parse${label}.pps`, value: rate(() => void parsePacket(packet, info)), unit: 'packets/s', goal: '>= 5e6'};
		results.push(decode, withRatio(parse, decode));
		const bytes = allocatedPerCall(() => void parsePacket(packet, info), 1_000_000);
		if (bytes !== undefined) results.push({name: `wire.parse${label}.bytes_per_packet`, value: Math.round(bytes * 100) / 100, unit: 'bytes', goal: '<= 1'});
	}
	results.push({
		name: 'wire.parse_check.echo.pps',
		value: rate(() => {
			parsePacket(echo, info);
			checkIcmpv6(info);
		}),
		unit: 'packets/s',
		note: 'parse plus ICMPv6 checksum verification',
	});
	return results;
};
