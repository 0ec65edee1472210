// An independent decoder agrees: packets our builder emits, written to a pcap
// (link type 229, IPv6), are read by Debian's tshark with no malformed-packet,
// warning-level expert or bad-checksum finding. A deliberately corrupted
// packet in the same file proves the check can fail.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import {LinkType, Opt, buildPacket, insertDestOption, parsePacket, pcapHeader, pcapRecord, quoteInvoking} from '../../src/wire/index.js';
import type {OptionRepr, PacketRepr} from '../../src/wire/index.js';
import {addr, readHex} from '../helpers/bytes.js';

const client = addr('2001:db8:2:c::10');
const server = addr('2001:db8:1:a::30');
const anycast = addr('2001:db8:1:ac::53');
const ip = (src: Uint8Array, dst: Uint8Array, hopLimit = 64) => ({trafficClass: 0, flowLabel: 0x12345, hopLimit, src, dst});

/** RFC 4727 experimental option types: every action-bit and change-en-route combination, unassigned otherwise. */
const experimentalOption: fc.Arbitrary<OptionRepr> = fc.record({
	type: fc.constantFrom(0x1e, 0x3e, 0x5e, 0x7e, 0x9e, 0xbe, 0xde, 0xfe),
	data: fc.uint8Array({maxLength: 20}),
});

const sanePacket: fc.Arbitrary<PacketRepr> = fc.record({
	ip: fc.constant(ip(client, anycast)),
	ext: fc.tuple(fc.array(experimentalOption, {maxLength: 3}), fc.array(experimentalOption, {maxLength: 3}), fc.boolean(), fc.boolean()).map(([h, d, hasH, hasD]) => [
		...(hasH ? [{kind: 'hop-by-hop' as const, options: h}] : []),
		...(hasD ? [{kind: 'dest-opts' as const, options: d}] : []),
	]),
	upper: fc.oneof(
		fc.record({
			proto: fc.constant(17 as const),
			udp: fc.record({srcPort: fc.integer({min: 1024, max: 65535}), dstPort: fc.constant(7), payload: fc.uint8Array({maxLength: 100})}),
		}),
		fc.record({
			proto: fc.constant(58 as const),
			icmp: fc.record({
				kind: fc.constant('echo' as const),
				type: fc.constantFrom(128 as const, 129 as const),
				code: fc.constant(0),
				identifier: fc.nat({max: 0xffff}),
				sequence: fc.nat({max: 0xffff}),
				data: fc.uint8Array({maxLength: 100}),
			}),
		}),
	),
});

function corpus(): Uint8Array[] {
	const echo = readHex('wire/echo-request.hex');
	const udp = readHex('wire/udp.hex');
	const stamp: OptionRepr = {type: Opt.Anycast, data: new Uint8Array(40).fill(7), align: {x: 4, y: 2}};
	const packets = [
		echo,
		udp,
		readHex('wire/time-exceeded.hex'),
		readHex('wire/packet-too-big.hex'),
		insertDestOption(parsePacket(echo), stamp),
		insertDestOption(parsePacket(udp), stamp),
		buildPacket({ip: ip(server, client), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: 3, code: 0, param: 0, invoking: quoteInvoking(echo)}}}),
		buildPacket({ip: ip(server, client), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: 1, code: 4, param: 0, invoking: quoteInvoking(udp)}}}),
		buildPacket({ip: ip(server, client), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: 2, code: 0, param: 1400, invoking: quoteInvoking(echo)}}}),
		buildPacket({ip: ip(server, client), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: 4, code: 1, param: 6, invoking: quoteInvoking(echo)}}}),
	];
	packets.push(...fc.sample(sanePacket, {numRuns: 200, seed: 4242}).map(buildPacket));
	return packets;
}

function tshark(args: string[]): string {
	return execFileSync('tshark', ['-n', '-o', 'udp.check_checksum:TRUE', ...args], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
}

test('tshark decodes every emitted packet with no malformed or bad-checksum finding', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-tshark-'));
	try {
		const packets = corpus();
		const corrupted = packets[1]!.slice();
		corrupted[46]! ^= 0xff; // the UDP checksum: the control row that must be flagged
		packets.push(corrupted);
		const file = join(dir, 'emitted.pcap');
		writeFileSync(file, Buffer.concat([pcapHeader(LinkType.Ipv6), ...packets.map((p, i) => pcapRecord(p, 1_700_000_000_000 + i))]));

		const flagged = tshark(['-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= 0x600000 || udp.checksum.status == 0 || icmpv6.checksum.status == 0', '-T', 'fields', '-e', 'frame.number'])
			.split('\n')
			.filter(Boolean)
			.map(Number);
		t.deepEqual(flagged, [packets.length], 'only the corrupted control packet is flagged');

		// And every checksum tshark checked was good (status 1), except the control.
		const statuses = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'udp.checksum.status', '-e', 'icmpv6.checksum.status'])
			.split('\n')
			.filter(Boolean)
			.map((line) => line.split('\t'));
		t.is(statuses.length, packets.length);
		for (const [frame, udpStatus, icmpStatus] of statuses.slice(0, -1)) {
			const first = (udpStatus || icmpStatus || '').split(',')[0];
			t.is(first, '1', `frame ${frame}: outer checksum good`);
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
