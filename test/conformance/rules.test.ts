// Rules that need more than one row: the RFC 4443 §2.4(f) rate limit per
// node, the anycast-source rule of §2.4(e.6), the roles' reassembly (the
// client and the boundary verify whole datagrams), and the reassembler's and
// fragmenter's own contracts (RFC 8200 §4.5, RFC 5722, RFC 8201).
import test from 'ava';
import {readFileSync} from 'node:fs';
import {parseTopology} from '../../src/config/topology.js';
import {MemNet} from '../../src/assembly/memnet.js';
import {PmtuCache} from '../../src/pipeline/pmtu.js';
import {Reassembler} from '../../src/pipeline/reassembly.js';
import type {Expired} from '../../src/pipeline/reassembly.js';
import {craft} from '../../src/roles/attacker.js';
import {formatAddr, parseAddr} from '../../src/util/addr.js';
import {fragmentPacket} from '../../src/wire/fragment.js';
import {Icmp6, PacketInfo, decodePacket, parsePacket} from '../../src/wire/index.js';
import {A, converged, defaultTopology, echo as echoPacket} from '../helpers/net.js';
import {C, CONFORMANCE_TOPOLOGY, echo, fragments} from './cases.js';

function conformanceWith(patch: (json: {nodes: Array<Record<string, unknown>>}) => void): MemNet {
	const json = JSON.parse(readFileSync(CONFORMANCE_TOPOLOGY, 'utf8')) as {nodes: Array<Record<string, unknown>>};
	patch(json);
	const net = new MemNet(parseTopology(json, CONFORMANCE_TOPOLOGY));
	net.start();
	net.run(3000);
	return net;
}

const errorsAt = (net: MemNet, host: string, type: number) =>
	net
		.host(host)
		.received.map((p) => decodePacket(p))
		.filter((p) => 'icmp' in p.upper && p.upper.icmp.type === type);

test('rfc4443-f-rate-limit: the token bucket is per node and configurable from the topology', (t) => {
	const net = conformanceWith((json) => {
		json.nodes.find((n) => n.name === 'rtr')!.icmpRate = {perSecond: 2, burst: 3};
	});
	const rtr = net.stacks.get('rtr')!.pipeline;
	for (let i = 0; i < 10; i++) net.host('alpha').send(echo(C.A, C.B, 0x300 + i, [], 16, 1));
	net.run(50);
	t.is(errorsAt(net, 'alpha', Icmp6.TimeExceeded).length, 3, 'a burst of 3');
	t.is(rtr.counters.icmpRateLimited, 7);
	t.is(rtr.counters.drops['hop-limit'], 10, 'every packet is still dropped and counted');
	net.run(1000); // 2 tokens a second
	for (let i = 0; i < 5; i++) net.host('alpha').send(echo(C.A, C.B, 0x310 + i, [], 16, 1));
	net.run(50);
	t.is(errorsAt(net, 'alpha', Icmp6.TimeExceeded).length, 5, 'two more after a second');
	// The default bucket (100/s, burst 10) elsewhere.
	const plain = converged();
	for (let i = 0; i < 20; i++) plain.host('client').send(echoPacket('request', A.client, A.S, 0x320 + i, 1, [], 1));
	plain.run(50);
	t.is(plain.stacks.get('internet')!.pipeline.counters.icmpErrorsSent, 10);
	t.is(plain.stacks.get('internet')!.pipeline.counters.icmpRateLimited, 10);
});

test('rfc4443-e6-anycast-source: no ICMPv6 error to an anycast source', (t) => {
	const net = converged();
	const internet = net.stacks.get('internet')!.pipeline;
	net.host('attacker').send(echoPacket('reply', A.S, A.client, 7, 1, [], 1));
	net.run(50);
	t.is(internet.counters.drops['hop-limit'], 1);
	t.is(internet.counters.icmpSuppressed, 1);
	t.is(internet.counters.icmpErrorsSent, 0);
});

/** The client pings S and keeps the genuine stamped reply as it reached the client node. */
function genuineReply(net: MemNet, id: number): Uint8Array {
	const seen: Uint8Array[] = [];
	net.stacks.get('client')!.pipeline.addHook('prerouting', (pkt) => {
		if (pkt.inPort?.kind === 'link' && pkt.info.extCount > 0) seen.push(pkt.info.buf.slice(pkt.info.off, pkt.info.end));
		return null;
	});
	net.host('client').send(echoPacket('request', A.client, A.S, id));
	net.run(50);
	return seen[0]!;
}

/** Splits a packet in two fragments, the first holding the whole header chain and the upper-layer header (RFC 7112). */
function inTwo(bytes: Uint8Array, id: number): Uint8Array[] {
	const info = parsePacket(bytes.slice());
	const cut = (info.upperOff - 40 + 8 + 7) & ~7;
	if (cut >= bytes.length - 40) throw new Error('too short to fragment');
	return fragments(bytes, id, [[0, cut], [cut, bytes.length - 40, true]]);
}

test('fragments: the client verifies a fragmented genuine response on the whole datagram, once', (t) => {
	const net = converged();
	const client = net.stacks.get('client')!.pipeline;
	const genuine = genuineReply(net, 0x4242);
	t.is(net.stacks.get('client')!.anycast.verified, 1);
	// The attacker replays it in fragments: reassembled at the client, then the replay cache sees it.
	for (const f of inTwo(genuine, 77)) net.host('attacker').send(f);
	net.run(50);
	t.is(client.counters.reassembled, 1);
	t.is(client.counters.drops['id-replayed'], 1);
	t.is(net.host('client').received.length, 1, 'only the first, genuine reply reached the host');
});

test('fragments: a forged identifier in fragments is dropped at the client after reassembly (id-bad-tag)', (t) => {
	const net = converged();
	genuineReply(net, 0x4242);
	const [forged] = craft('forged-tag', {client: A.client, anycast: A.S, self: A.attacker, server: A.serverA, echoId: 0x4242, sequences: [2], wallNow: net.wallStart + net.clock.now()});
	for (const f of inTwo(forged!, 78)) net.host('attacker').send(f);
	net.run(50);
	const client = net.stacks.get('client')!.pipeline;
	t.is(client.counters.reassembled, 1);
	t.is(client.counters.drops['id-bad-tag'], 1);
	t.is(client.counters.drops['id-misplaced'], 0, 'the fragments were not judged one by one');
	t.is(net.host('client').received.length, 1);
});

test('fragments: the boundary verifies a fragmented response from inside whole, and forwards the original fragments', (t) => {
	const net = converged();
	genuineReply(net, 0x4242);
	const boundary = net.stacks.get('boundary')!.pipeline;
	const internet = net.stacks.get('internet')!.pipeline;
	// Forged stamp from inside, in fragments: dropped whole at the boundary.
	const [forged] = craft('forged-tag-inside', {client: A.client, anycast: A.S, self: A.terminalA, server: A.serverA, echoId: 0x4242, sequences: [3], wallNow: net.wallStart + net.clock.now()});
	const fwdBefore = internet.counters.forwarded;
	for (const f of inTwo(forged!, 79)) net.host('terminal-a').send(f);
	net.run(50);
	t.is(boundary.counters.reassembled, 1);
	t.is(boundary.counters.drops['id-bad-tag'], 1);
	t.is(internet.counters.forwarded, fwdBefore, 'no fragment left the server network');
	// Unstamped traffic from inside in fragments: verified whole (nothing to verify), forwarded as fragments.
	const plain = echo(A.terminalA, A.client, 0x99, [], 300);
	const sent = inTwo(plain, 80);
	const arrived: Uint8Array[] = [];
	net.stacks.get('client')!.pipeline.addHook('prerouting', (pkt) => {
		if (pkt.info.isFragment) arrived.push(pkt.info.buf.slice(pkt.info.off, pkt.info.end));
		return null;
	});
	for (const f of sent) net.host('terminal-a').send(f);
	net.run(50);
	t.is(boundary.counters.reassembled, 2);
	t.is(boundary.counters.fragmentsForwarded, 2);
	t.is(arrived.length, 2, 'two fragments reached the client node');
	// Untouched but for the hop limit: router-a, the boundary and the internet router each took one.
	t.deepEqual(arrived.map((f) => f.subarray(8)), sent.map((f) => f.subarray(8)));
	t.deepEqual(arrived.map((f) => f[7]), sent.map((f) => f[7]! - 3));
	const got = net.host('client').received.map((p) => decodePacket(p)).filter((p) => 'icmp' in p.upper && p.upper.icmp.kind === 'echo' && p.upper.icmp.identifier === 0x99);
	t.is(got.length, 1, 'the client host got the datagram, reassembled by the client node');
	t.is(formatAddr(got[0]!.ip.src), '2001:db8:1:a::5');
});

test('fragments: the server never stamps a fragment; what its kernel fragmented is reassembled and stamped whole', (t) => {
	const net = converged();
	const server = net.stacks.get('server-a')!.pipeline;
	net.host('server-a').answer = false;
	net.host('client').send(echoPacket('request', A.client, A.S, 5, 1));
	net.run(50);
	const response = echoPacket('reply', A.S, A.client, 5, 1);
	for (const f of fragments(response, 81, [[0, 8], [8, response.length - 40, true]])) net.host('server-a').send(f);
	net.run(50);
	t.is(server.counters.drops['stamp-too-big'], 0);
	t.is(net.stacks.get('server-a')!.anycast.stamped, 1, 'one stamp, over the whole answer');
	t.is(server.counters.reassembled, 1);
	t.is(net.stacks.get('client')!.anycast.verified, 1, 'and it verifies at the client');
});

test('reassembler: bounded in datagrams, fragments and bytes; evictions and timeouts counted', (t) => {
	const gone: Array<Expired<string>> = [];
	const r = new Reassembler<string>({timeoutMs: 1000, maxBytes: 64 * 1024, maxDatagrams: 8, maxFragments: 4});
	const info = new PacketInfo();
	const whole = echo(C.A, C.B, 1, [], 200);
	for (let id = 0; id < 20; id++) {
		const [first] = fragments(whole, id, [[0, 104]]);
		t.is(r.add(parsePacket(first!, info), 0, 'p', (e) => gone.push(e)).kind, 'held');
		t.true(r.size <= 8);
	}
	t.is(r.evictions, 12);
	t.is(gone.filter((e) => e.reason === 'frag-evicted').length, 12);
	// Too many pieces for one datagram: abandoned.
	const pieces = fragments(echo(C.A, C.B, 2, [], 400), 999, [[0, 8], [8, 16], [16, 24], [24, 32], [32, 40]]);
	const results = pieces.map((p) => r.add(parsePacket(p, info), 10, 'p', (e) => gone.push(e)).kind);
	t.deepEqual(results, ['held', 'held', 'held', 'held', 'drop']);
	// Bytes: 64 KiB of 1232-byte pieces cannot all stay.
	const big = echo(C.A, C.B, 3, [], 8000);
	for (let id = 2000; id < 2100; id++) r.add(parsePacket(fragments(big, id, [[0, 1232]])[0]!, info), 20, 'p', (e) => gone.push(e));
	t.true(r.bytes <= 64 * 1024, `${r.bytes} bytes held`);
	// Timeouts: everything is older than 1 s at t = 2000; only datagrams with a first fragment report one.
	r.expire(2000, (e) => gone.push(e));
	t.is(r.size, 0);
	t.is(r.bytes, 0);
	t.true(gone.some((e) => e.reason === 'frag-timeout' && e.first !== null));
});

test('reassembler: RFC 5722 overlap abandons the datagram; RFC 8200 exact duplicates do not', (t) => {
	const r = new Reassembler<string>();
	const info = new PacketInfo();
	const whole = echo(C.A, C.B, 1, [], 200);
	const noop = () => {};
	const [a, b, c] = fragments(whole, 5, [[0, 104], [96, 208, true], [104, 208, true]]);
	t.is(r.add(parsePacket(a!, info), 0, 'p', noop).kind, 'held');
	t.like(r.add(parsePacket(b!, info), 0, 'p', noop), {kind: 'drop', reason: 'frag-overlap', discarded: 2});
	t.like(r.add(parsePacket(c!, info), 0, 'p', noop), {kind: 'drop', reason: 'frag-overlap'});
	t.is(r.bytes, 0);
	const [d, e, f] = fragments(whole, 6, [[0, 104], [0, 104], [104, 208, true]]);
	r.add(parsePacket(d!, info), 0, 'p', noop);
	t.like(r.add(parsePacket(e!, info), 0, 'p', noop), {kind: 'drop', reason: 'frag-duplicate'});
	const done = r.add(parsePacket(f!, info), 0, 'p', noop);
	t.is(done.kind, 'whole');
	if (done.kind === 'whole') t.deepEqual(done.datagram, whole);
});

test('fragmenter: RFC 8200 §4.5 source fragments reassemble to the original, each within the MTU', (t) => {
	const whole = echo(C.A, C.B, 9, [{kind: 'hop-by-hop', options: [{type: 0x3e, data: new Uint8Array(4)}]}], 3000);
	const pieces = fragmentPacket(parsePacket(whole), 1280, 0xabcdef);
	t.true(pieces.length >= 3);
	for (const p of pieces) t.true(p.length <= 1280);
	t.is(parsePacket(pieces[0]!).extProto[0], 0, 'Hop-by-Hop stays in the unfragmentable part');
	const r = new Reassembler<string>();
	const info = new PacketInfo();
	let out: Uint8Array | undefined;
	for (const p of pieces.reverse()) {
		const res = r.add(parsePacket(p, info), 0, 'p', () => {});
		if (res.kind === 'whole') out = res.datagram;
	}
	t.deepEqual(out, whole);
});

test('rfc8201-pmtu-cache: a report under 1280 lowers the estimate to 1280; the cache is bounded', (t) => {
	const c = new PmtuCache(4);
	const dst = parseAddr('2001:db8::1');
	t.is(c.get(dst, 0, 1500, 0), 1500);
	t.true(c.update(dst, 0, 500, 0xffffffff, 0));
	t.is(c.get(dst, 0, 1500, 0), 1280);
	t.false(c.update(dst, 0, 1000, 0xffffffff, 1), 'already at the floor');
	t.is(c.get(dst, 0, 1500, 11 * 60_000), 1500, 'forgotten after 10 minutes (RFC 8201 §4)');
	for (let i = 0; i < 10; i++) c.update(parseAddr(`2001:db8::${i + 2}`), 0, 1300, 0xffffffff, 0);
	t.is(c.size, 4);
	t.is(c.evictions, 6);
});

test('defaults: the default topology still has its default limits (60 s reassembly)', (t) => {
	const net = new MemNet(defaultTopology());
	t.is(net.stacks.get('client')!.pipeline.reassemblers().find((r) => r.name === 'local')!.reassembler.limits.timeoutMs, 60_000);
});
