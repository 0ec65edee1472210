// The chain walk and upper-layer checks, one row per malformed case.
import test from 'ava';
import {
	Icmp6,
	IPV6_MIN_MTU,
	MAX_EXT_HEADERS,
	PacketInfo,
	Proto,
	WireError,
	buildPacket,
	checkIcmpv6,
	checkUdp,
	decodePacket,
	finalDestinationOffset,
	parsePacket,
	quoteInvoking,
	setU16,
} from '../../src/wire/index.js';
import type {ExtRepr, PacketRepr, WireErrorCode} from '../../src/wire/index.js';
import {addr, readHex} from '../helpers/bytes.js';

const ip = {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: addr('2001:db8:2:c::10'), dst: addr('2001:db8:1:ac::53')};
const udp = (payload = Uint8Array.of(1, 2, 3)): PacketRepr['upper'] => ({proto: 17, udp: {srcPort: 4000, dstPort: 53, payload}});
const dopts = (): ExtRepr => ({kind: 'dest-opts', options: [{type: 0x1e, data: Uint8Array.of(1, 2)}]});
const frag = (): ExtRepr => ({kind: 'fragment', offset: 0, more: false, identification: 7, reserved: 0, res: 0});
const rh = (): ExtRepr => ({kind: 'routing', routingType: 4, segmentsLeft: 0, data: new Uint8Array(4)});

test('three extension headers: offsets, lengths, upper layer', (t) => {
	const bytes = buildPacket({
		ip,
		ext: [{kind: 'hop-by-hop', options: []}, {kind: 'routing', routingType: 4, segmentsLeft: 0, data: new Uint8Array(12)}, dopts()],
		upper: udp(),
	});
	const info = parsePacket(bytes);
	t.is(info.extCount, 3);
	t.deepEqual([...info.extProto.subarray(0, 3)], [Proto.HopByHop, Proto.Routing, Proto.DestOpts]);
	t.deepEqual([...info.extOff.subarray(0, 3)], [40, 48, 64]);
	t.deepEqual([...info.extLen.subarray(0, 3)], [8, 16, 8]);
	t.is(info.upperProto, Proto.Udp);
	t.is(info.upperOff, 72);
	t.is(info.upperLen, 11);
	t.is(info.routingIndex, 1);
	t.is(info.nextHeaderOffset(0), 6);
	t.is(info.nextHeaderOffset(3), 64);
	t.notThrows(() => checkUdp(info));
});

test('parsing reuses one PacketInfo and the buffer: no copies', (t) => {
	const info = new PacketInfo();
	const bytes = readHex('wire/udp.hex');
	t.is(parsePacket(bytes, info), info);
	t.is(info.buf, bytes);
	const framed = new Uint8Array(bytes.length + 10);
	framed.set(bytes, 10);
	parsePacket(framed, info, 10);
	t.is(info.upperOff, 50);
	t.notThrows(() => checkUdp(info));
});

test('a non-first fragment ends the chain: what follows is data', (t) => {
	const bytes = buildPacket({ip, ext: [{kind: 'fragment', offset: 100, more: false, identification: 7}], upper: {proto: 60, raw: new Uint8Array(16).fill(0xff)}});
	const info = parsePacket(bytes);
	t.is(info.extCount, 1);
	t.true(info.isFragment);
	t.is(info.fragmentOffset, 800);
	t.is(info.upperProto, 60);
	t.is(info.upperOff, 48);
});

test('No Next Header ends the chain (RFC 8200 §4.7)', (t) => {
	const info = parsePacket(buildPacket({ip, ext: [dopts()], upper: {proto: Proto.NoNext, raw: new Uint8Array(0)}}));
	t.is(info.upperProto, Proto.NoNext);
	t.is(info.upperLen, 0);
});

test('pseudo-header uses the final destination of a Routing header with segments left', (t) => {
	const final = addr('2001:db8:9::1');
	const data = new Uint8Array(4 + 16);
	data.set(final, 4);
	const bytes = buildPacket({ip, ext: [{kind: 'routing', routingType: 0, segmentsLeft: 1, data}], upper: udp()});
	const info = parsePacket(bytes);
	t.deepEqual(bytes.subarray(finalDestinationOffset(info), finalDestinationOffset(info) + 16), final);
	t.notThrows(() => checkUdp(info));
	const srh = new Uint8Array(4 + 32);
	srh.set(final, 4);
	const info2 = parsePacket(buildPacket({ip, ext: [{kind: 'routing', routingType: 4, segmentsLeft: 1, data: srh}], upper: udp()}));
	t.deepEqual(info2.buf.subarray(finalDestinationOffset(info2), finalDestinationOffset(info2) + 16), final);
});

interface Row {
	name: string;
	bytes: () => Uint8Array;
	code: WireErrorCode;
	/** Byte offset the error names, relative to the IPv6 header. */
	offset?: number;
	check?: 'udp' | 'icmp';
}

const good = () => buildPacket({ip, ext: [], upper: udp()});
const mutate = (bytes: Uint8Array, f: (b: Uint8Array) => void) => (f(bytes), bytes);

const rows: Row[] = [
	{name: 'empty', bytes: () => new Uint8Array(0), code: 'truncated'},
	{name: '39 bytes', bytes: () => good().subarray(0, 39), code: 'truncated'},
	{name: 'version 4', bytes: () => mutate(good(), (b) => (b[0] = 0x45)), code: 'bad-version', offset: 0},
	{name: 'payload length past the end', bytes: () => mutate(good(), (b) => setU16(b, 4, 200)), code: 'truncated', offset: 4},
	{name: 'jumbogram', bytes: () => mutate(buildPacket({ip, ext: [{kind: 'hop-by-hop', options: []}], upper: udp()}), (b) => setU16(b, 4, 0)), code: 'bad-length'},
	{
		name: 'Hop-by-Hop after another header',
		bytes: () => buildPacket({ip, ext: [dopts(), {kind: 'hop-by-hop', options: []}], upper: udp()}),
		code: 'bad-order',
		offset: 40,
	},
	{
		name: 'extension header length runs past the packet',
		bytes: () => mutate(buildPacket({ip, ext: [dopts()], upper: udp()}), (b) => (b[41] = 9)),
		code: 'truncated',
		offset: 41,
	},
	{
		name: 'option overruns its header',
		bytes: () => mutate(buildPacket({ip, ext: [dopts()], upper: udp()}), (b) => (b[43] = 40)),
		code: 'bad-option',
		offset: 42,
	},
	{
		name: 'Fragment header cut short',
		bytes: () => mutate(buildPacket({ip, ext: [], upper: {proto: 44, raw: new Uint8Array(4)}}), () => {}),
		code: 'truncated',
		offset: 40,
	},
	{
		name: 'two Fragment headers (nested atomic fragments)',
		bytes: () => buildPacket({ip, ext: [frag(), frag()], upper: udp()}),
		code: 'repeated-header',
		offset: 40,
	},
	{
		name: 'a Fragment header, Destination Options, then a second Fragment header',
		bytes: () => buildPacket({ip, ext: [frag(), dopts(), frag()], upper: udp()}),
		code: 'repeated-header',
		offset: 48,
	},
	{
		name: 'two Routing headers',
		bytes: () => buildPacket({ip, ext: [rh(), dopts(), rh()], upper: udp()}),
		code: 'repeated-header',
		offset: 48,
	},
	{
		name: `${MAX_EXT_HEADERS + 1} extension headers`,
		bytes: () => buildPacket({ip, ext: Array.from({length: MAX_EXT_HEADERS + 1}, dopts), upper: udp()}),
		code: 'chain-too-long',
	},
	{name: 'UDP checksum zero', bytes: () => mutate(good(), (b) => setU16(b, 46, 0)), code: 'bad-checksum', offset: 46, check: 'udp'},
	{name: 'UDP checksum wrong', bytes: () => mutate(good(), (b) => (b[50]! ^= 1)), code: 'bad-checksum', offset: 46, check: 'udp'},
	{name: 'UDP length disagrees', bytes: () => mutate(good(), (b) => setU16(b, 44, 10)), code: 'bad-length', offset: 44, check: 'udp'},
	{name: 'UDP header cut short', bytes: () => buildPacket({ip, ext: [], upper: {proto: 17, raw: new Uint8Array(6)}}), code: 'truncated', check: 'udp'},
	{
		name: 'ICMPv6 checksum wrong',
		bytes: () => mutate(buildPacket({ip, ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: 128, code: 0, identifier: 1, sequence: 1, data: new Uint8Array(4)}}}), (b) => (b[47]! ^= 0x80)),
		code: 'bad-checksum',
		offset: 42,
		check: 'icmp',
	},
	{
		name: 'ICMPv6 echo cut short',
		bytes: () => buildPacket({ip, ext: [], upper: {proto: 58, raw: Uint8Array.of(128, 0, 0, 0, 0, 1)}}),
		code: 'truncated',
		check: 'icmp',
	},
];

for (const row of rows) {
	test(`malformed: ${row.name} → ${row.code}`, (t) => {
		const bytes = row.bytes();
		const error = t.throws(
			() => {
				const info = parsePacket(bytes);
				if (row.check === 'udp') checkUdp(info);
				if (row.check === 'icmp') checkIcmpv6(info);
			},
			{instanceOf: WireError},
		);
		t.is(error?.code, row.code);
		if (row.offset !== undefined) t.is(error?.offset, row.offset);
	});
}

test('a computed UDP checksum of zero is sent as 0xffff (RFC 8200 §8.1)', (t) => {
	// Search payloads for one whose checksum computes to zero.
	for (let v = 0; v < 0x10000; v++) {
		const bytes = buildPacket({ip, ext: [], upper: udp(Uint8Array.of(v >>> 8, v & 0xff))});
		if (bytes[46] === 0xff && bytes[47] === 0xff) {
			t.notThrows(() => checkUdp(parsePacket(bytes)));
			return;
		}
	}
	t.fail('no payload gave a zero checksum');
});

test('ICMPv6 error quotes at most what fits in the minimum MTU', (t) => {
	const invoking = new Uint8Array(3000);
	const bytes = buildPacket({ip, ext: [], upper: {proto: 58, icmp: {kind: 'error', type: Icmp6.PacketTooBig, code: 0, param: 1280, invoking: quoteInvoking(invoking)}}});
	t.is(bytes.length, IPV6_MIN_MTU);
	const small = quoteInvoking(new Uint8Array(100));
	t.is(small.length, 100);
	const p = decodePacket(bytes);
	t.true('icmp' in p.upper && p.upper.icmp.kind === 'error' && p.upper.icmp.param === 1280);
});

test('the builder refuses values it cannot encode', (t) => {
	for (const bad of [
		{...ip, hopLimit: 256},
		{...ip, flowLabel: 0x100000},
		{...ip, src: new Uint8Array(4)},
	]) {
		t.is(t.throws(() => buildPacket({ip: bad, ext: [], upper: udp()}), {instanceOf: WireError})?.code, 'bad-value');
	}
	t.is(t.throws(() => buildPacket({ip, ext: [{kind: 'routing', routingType: 0, segmentsLeft: 0, data: new Uint8Array(5)}], upper: udp()}))?.name, 'WireError');
	t.is(t.throws(() => buildPacket({ip, ext: [], upper: udp(new Uint8Array(70000))}))?.name, 'WireError');
});

test('a limit bounds a packet that shares its buffer with the next one in a batch', (t) => {
	const a = good();
	const batch = new Uint8Array(a.length * 2);
	batch.set(a, 0);
	batch.set(a, a.length);
	const info = parsePacket(batch, new PacketInfo(), a.length, batch.length);
	t.is(info.end, batch.length);
	// Cut the first packet short: without the limit its payload would run into the second.
	t.is(t.throws(() => parsePacket(batch, new PacketInfo(), 0, a.length - 1), {instanceOf: WireError})?.code, 'truncated');
	t.notThrows(() => parsePacket(batch, new PacketInfo(), 0));
});
