// The Wireshark dissector (contrib/wireshark/anyguard.lua) run by tshark on a
// capture of stamped responses, one per algorithm, and malformed identifiers:
// every field as the stamp wrote it, and an expert info for each fault.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {Alg, ID_OPTION_TYPE, identifierLength} from '../../src/anycast/option.js';
import type {AlgId} from '../../src/anycast/option.js';
import {formatAddr, parseAddr} from '../../src/util/addr.js';
import {Icmp6, LinkType, Proto, buildPacket, pcapHeader, pcapRecord} from '../../src/wire/index.js';
import type {OptionRepr} from '../../src/wire/index.js';

export const DISSECTOR = fileURLToPath(new URL('../../contrib/wireshark/anyguard.lua', import.meta.url));
const hasTshark = spawnSync('tshark', ['--version']).status === 0;
const S = parseAddr('2001:db8:1:ac::53');

/** Option data as a server writes it, with a recognisable authenticator. */
function data(alg: number, keyId: number, anycast: Uint8Array, ms: number, opts: {length?: number; reserved?: number} = {}): Uint8Array {
	const len = opts.length ?? (alg <= 2 ? identifierLength(alg as AlgId) : 44);
	const d = new Uint8Array(len);
	d[0] = alg;
	d[1] = keyId;
	d[2] = (opts.reserved ?? 0) >> 8;
	d[3] = (opts.reserved ?? 0) & 0xff;
	if (len < 28) return d; // a stub, shorter than the fixed part
	d.set(anycast, 4);
	new DataView(d.buffer).setBigUint64(20, BigInt(ms));
	for (let i = 28; i < len; i++) d[i] = (i * 7) & 0xff;
	return d;
}

function reply(options: Uint8Array[], seq: number): Uint8Array {
	const opts: OptionRepr[] = options.map((d) => ({type: ID_OPTION_TYPE, data: d, align: {x: 8, y: 2}}));
	return buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 62, src: parseAddr('2001:db8:1:a::30'), dst: parseAddr('2001:db8:2:c::10')},
		ext: [{kind: 'dest-opts', options: opts}],
		upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: 7, sequence: seq, data: new Uint8Array(16)}},
	});
}

const MS = 1_795_503_061_066; // 2026-11-24T06:51:01.066Z
const packets = [
	reply([data(Alg.HmacSha256, 1, S, MS)], 1),
	reply([data(Alg.Ed25519, 3, parseAddr('2001:db8:1:ac::54'), MS + 1)], 2),
	reply([data(Alg.None, 0, S, MS + 2)], 3),
	reply([data(Alg.HmacSha256, 1, S, MS, {length: 40})], 4), // wrong length
	reply([data(Alg.HmacSha256, 1, S, MS, {reserved: 0x0101})], 5), // reserved bits set
	reply([data(9, 1, S, MS)], 6), // unknown algorithm
	reply([data(Alg.HmacSha256, 1, S, MS), data(Alg.HmacSha256, 2, S, MS)], 7), // two identifiers
	reply([data(Alg.HmacSha256, 1, S, MS, {length: 12})], 8), // shorter than the fixed part
];

function tshark(pcap: string, args: string[]): string {
	const r = spawnSync('tshark', ['-X', `lua_script:${DISSECTOR}`, '-n', '-r', pcap, ...args], {encoding: 'utf8'});
	if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
	return r.stdout;
}

const t0 = hasTshark ? test : test.skip;
if (!hasTshark && process.env.CI) test('tshark is installed', (t) => t.fail('CI must install tshark'));

t0('every field decodes as the server wrote it, one tree per identifier, for each algorithm', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-ws-'));
	try {
		const pcap = join(dir, 'ids.pcap');
		writeFileSync(pcap, Buffer.concat([pcapHeader(LinkType.Ipv6), ...packets.map((p, i) => pcapRecord(p, 1_790_000_000_000 + i))]));
		const rows = tshark(pcap, ['-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'anyguard.alg', '-e', 'anyguard.key_id', '-e', 'anyguard.anycast', '-e', 'anyguard.timestamp_ms', '-e', 'anyguard.authenticator', '-e', 'anyguard.timestamp'])
			.trim()
			.split('\n')
			.map((l) => l.split('|'));
		const row = (n: number) => rows.find((r) => r[0] === String(n))!;
		const tag = (alg: number) => Buffer.from(data(alg, 0, S, 0).subarray(28)).toString('hex');
		t.deepEqual(row(1).slice(1, 6), ['1', '1', formatAddr(S), String(MS), tag(Alg.HmacSha256)]);
		t.regex(row(1)[6]!, /^Nov 24, 2026 06:51:01\.066000000 UTC$/, 'the timestamp shown as an absolute time');
		t.deepEqual(row(2).slice(1, 6), ['2', '3', '2001:db8:1:ac::54', String(MS + 1), tag(Alg.Ed25519)]);
		t.deepEqual(row(3).slice(1, 6), ['0', '0', formatAddr(S), String(MS + 2), ''], 'none: no authenticator');
		t.deepEqual(row(7)[2], '1,2', 'both identifiers of one packet are decoded');
		const tree = tshark(pcap, ['-V', '-Y', 'frame.number == 1']);
		t.regex(tree, /anyguard identifier: hmac-sha256, key 1, S 2001:db8:1:ac::53/);
		t.regex(tree, /Algorithm: hmac-sha256 \(1\)/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

t0('malformed identifiers are flagged with expert infos; well-formed ones are not', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-ws-'));
	try {
		const pcap = join(dir, 'ids.pcap');
		writeFileSync(pcap, Buffer.concat([pcapHeader(LinkType.Ipv6), ...packets.map((p, i) => pcapRecord(p, 1_790_000_000_000 + i))]));
		const frames = (filter: string) => tshark(pcap, ['-Y', filter, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').filter(Boolean).map(Number);
		t.deepEqual(frames('anyguard.malformed.length'), [4]);
		t.deepEqual(frames('anyguard.malformed.reserved'), [5]);
		t.deepEqual(frames('anyguard.malformed.alg'), [6]);
		t.deepEqual(frames('anyguard.duplicate'), [7]);
		t.deepEqual(frames('anyguard.malformed.short'), [8]);
		t.deepEqual(frames('anyguard && !_ws.expert'), [1, 2, 3]);
		t.regex(tshark(pcap, ['-V', '-Y', 'frame.number == 4']), /hmac-sha256 identifier of 40 bytes; it must be 44/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

t0('an option of another experimental type is not taken for the identifier', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-ws-'));
	try {
		const other = buildPacket({
			ip: {trafficClass: 0, flowLabel: 0, hopLimit: 62, src: parseAddr('2001:db8:1:a::30'), dst: parseAddr('2001:db8:2:c::10')},
			ext: [{kind: 'dest-opts', options: [{type: 0x3e, data: data(Alg.HmacSha256, 1, S, MS), align: {x: 8, y: 2}}]}],
			upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: 7, sequence: 9, data: new Uint8Array(16)}},
		});
		const pcap = join(dir, 'other.pcap');
		writeFileSync(pcap, Buffer.concat([pcapHeader(LinkType.Ipv6), pcapRecord(other, 1)]));
		t.is(tshark(pcap, ['-Y', 'anyguard', '-T', 'fields', '-e', 'frame.number']).trim(), '');
		t.is(tshark(pcap, ['-Y', 'ipv6.opt.experimental', '-T', 'fields', '-e', 'frame.number']).trim(), '1', 'tshark does see the experimental option');
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
