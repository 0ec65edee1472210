// Pretenders built outside the attack table (issue 12), in memory on the
// default topology: each one is put on the wire by the attacker's (or
// terminal-a's) own device, so the first node of ours that parses it is a
// neighbour. None may reach the client's host; each is dropped at a named
// node with a named reason. Genuine traffic beside them still passes.
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {stamp} from '../../src/anycast/identifier.js';
import type {DropReason} from '../../src/pipeline/drops.js';
import type {MemNet} from '../../src/assembly/memnet.js';
import {formatAddr, parseAddr} from '../../src/util/addr.js';
import {Icmp6, Unreach, buildPacket, decodePacket, parsePacket, quoteInvoking, setU16} from '../../src/wire/index.js';
import type {ExtRepr, PacketRepr} from '../../src/wire/index.js';
import {rewriteDestination} from '../../src/wire/rewrite.js';
import {fragmentPacket} from '../../src/wire/fragment.js';
import {UDP_ANSWER_WINDOW_MS} from '../../src/anycast/flows.js';
import {RIPNG_GROUP, RIPNG_PORT, RIPNG_REQUEST, RIPNG_RESPONSE, encodeRipng} from '../../src/route/ripng-wire.js';
import type {RipngCommand} from '../../src/route/ripng-wire.js';
import {A, converged, echo, udp, withoutPolicing} from '../helpers/net.js';

const ID = 0x4343;
const MARK = new TextEncoder().encode('anyguard-forged');
const ip = (src: Uint8Array, dst: Uint8Array, hopLimit = 64) => ({trafficClass: 0, flowLabel: 0, hopLimit, src, dst});

function reply(src: Uint8Array, seq: number, ext: ExtRepr[] = [], id = ID): Uint8Array {
	return buildPacket({ip: ip(src, A.client), ext, upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: id, sequence: seq, data: MARK}}});
}

function drops(net: MemNet, node: string, reason: DropReason): number {
	return net.stacks.get(node)!.pipeline.counters.drops[reason];
}

/** Everything the client's host got that carries the forged mark. */
function forgedAtClient(net: MemNet): Uint8Array[] {
	return net.host('client').received.filter((p) => Buffer.from(p).includes(Buffer.from(MARK)));
}

/** Echo replies for `id` at the client's host, as "source seq". */
function replies(net: MemNet, id = ID): string[] {
	return net
		.host('client')
		.received.map((p) => decodePacket(p))
		.filter((p) => 'icmp' in p.upper && p.upper.icmp.kind === 'echo' && p.upper.icmp.identifier === id)
		.map((p) => `${formatAddr(p.ip.src)} ${'icmp' in p.upper && p.upper.icmp.kind === 'echo' ? p.upper.icmp.sequence : ''}`);
}

/** The client pings S with sequence numbers 1..n; each is answered. */
function ping(net: MemNet, n = 1, id = ID, from = 1): void {
	for (let seq = from; seq < from + n; seq++) {
		net.host('client').send(echo('request', A.client, A.S, id, seq));
		net.run(20);
	}
}

/** `from` puts `bytes` on its wire; the drop must land at `at` for `reason`, and nothing forged reaches the client's host. */
function expectStopped(t: ExecutionContext, net: MemNet, from: string, bytes: Uint8Array, at: string, reason: DropReason, what: string): void {
	const before = drops(net, at, reason);
	net.wire(from, bytes);
	net.run(50);
	t.is(drops(net, at, reason), before + 1, `${what}: ${reason} at ${at}`);
	t.deepEqual(forgedAtClient(net).map((p) => decodePacket(p).ip.src).map(formatAddr), [], `${what}: nothing forged at the client's host`);
}

// Item 1: nested Fragment headers, and the other wrappers around a forged echo reply.

const atomic = (id: number): ExtRepr => ({kind: 'fragment', offset: 0, more: false, identification: id, reserved: 0, res: 0});
const hbh: ExtRepr = {kind: 'hop-by-hop', options: [{type: 1, data: new Uint8Array(4)}]};
const dopts: ExtRepr = {kind: 'dest-opts', options: [{type: 1, data: new Uint8Array(4)}]};
const rh0: ExtRepr = {kind: 'routing', routingType: 0, segmentsLeft: 0, data: new Uint8Array(4 + 16)};
const rh4: ExtRepr = {kind: 'routing', routingType: 4, segmentsLeft: 0, data: new Uint8Array(4 + 16)};

for (const [name, src] of [
	['S', A.S],
	["server-a's address", A.serverA],
	["the attacker's own address", A.attacker],
] as const) {
	test(`item 1: an echo reply from ${name} in two atomic Fragment headers is refused by the first node that parses it`, (t) => {
		const net = converged();
		ping(net);
		expectStopped(t, net, 'attacker', reply(src, 1, [atomic(1), atomic(2)]), 'internet', 'malformed-repeated-header', 'two Fragment headers');
		expectStopped(t, net, 'attacker', reply(src, 1, [atomic(3), dopts, atomic(4)]), 'internet', 'malformed-repeated-header', 'Fragment, Destination Options, Fragment');
		expectStopped(t, net, 'attacker', reply(src, 1, [hbh, atomic(5), atomic(6)]), 'internet', 'malformed-repeated-header', 'Hop-by-Hop then two Fragment headers');
		expectStopped(t, net, 'attacker', reply(src, 1, [rh0, dopts, rh4]), 'internet', 'malformed-repeated-header', 'two Routing headers');
		t.deepEqual(replies(net), ['2001:db8:1:ac::53 1']);
	});
}

test('item 1: one wrapper of any kind and order is judged like a bare reply: dropped at the client', (t) => {
	const net = converged();
	ping(net);
	const wrappers: Array<[string, ExtRepr[]]> = [
		['an atomic fragment', [atomic(11)]],
		['Hop-by-Hop, atomic fragment', [hbh, atomic(12)]],
		['Destination Options before the Fragment header', [dopts, atomic(13)]],
		['Destination Options after the Fragment header', [atomic(14), dopts]],
		['a Routing header type 0, segments left 0', [rh0]],
		['Routing type 4 then an atomic fragment', [rh4, atomic(15)]],
		['two Destination Options headers', [dopts, dopts]],
	];
	for (const [what, ext] of wrappers) {
		expectStopped(t, net, 'attacker', reply(A.serverA, 1, ext), 'client', 'id-missing', `server-a's address, ${what}`);
		expectStopped(t, net, 'attacker', reply(A.S, 1, ext), 'client', 'src-is-anycast', `S, ${what}`);
	}
	t.deepEqual(replies(net), ['2001:db8:1:ac::53 1']);
});

test('item 1: a reply cut into two real fragments, from server-a without an identifier, is reassembled and dropped at the client', (t) => {
	const net = converged();
	ping(net);
	const whole = buildPacket({ip: ip(A.serverA, A.client), ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: ID, sequence: 1, data: new Uint8Array(64).fill(0x61).map((b, i) => (i < MARK.length ? MARK[i]! : b))}}});
	// By hand: [IPv6][Frag offset 0, M][first 24 bytes of ICMPv6] and [IPv6][Frag offset 24][the rest].
	const upper = whole.subarray(40);
	const piece = (offset: number, bytes: Uint8Array, more: boolean) =>
		buildPacket({ip: ip(A.serverA, A.client), ext: [{kind: 'fragment', offset: offset / 8, more, identification: 99, reserved: 0, res: 0}], upper: {proto: 58, raw: bytes}});
	const fix = (p: Uint8Array) => {
		p[40] = 58; // the Fragment header's Next Header: ICMPv6
		return p;
	};
	const before = drops(net, 'client', 'id-missing');
	net.wire('attacker', fix(piece(0, upper.subarray(0, 24), true)));
	net.wire('attacker', fix(piece(24, upper.subarray(24), false)));
	net.run(50);
	t.is(drops(net, 'client', 'id-missing'), before + 1);
	t.deepEqual(forgedAtClient(net), []);
});

// Item 2: S is never a source on the wire, flow or no flow.

test('item 2: packets from S that match no flow are dropped at the client (src-is-anycast)', (t) => {
	const net = converged();
	ping(net);
	expectStopped(t, net, 'attacker', reply(A.S, 1, [], ID + 1), 'client', 'src-is-anycast', 'an echo reply for another identifier');
	expectStopped(t, net, 'attacker', udp(A.S, A.client, 53, 40999, 'anyguard-forged'), 'client', 'src-is-anycast', 'a DNS answer to a port that asked nothing');
	const syn = buildPacket({ip: ip(A.S, A.client), ext: [], upper: {proto: 6, raw: tcpSegment(A.S, A.client, 80, 41000, 1000, 0, 0x02, MARK)}});
	expectStopped(t, net, 'attacker', syn, 'client', 'src-is-anycast', 'a TCP SYN');
	expectStopped(t, net, 'attacker', buildPacket({ip: ip(A.S2, A.client), ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: 1, sequence: 1, data: MARK}}}), 'client', 'src-is-anycast', "an echo request from the other group's S");
	t.deepEqual(replies(net), ['2001:db8:1:ac::53 1']);
});

/** A TCP segment with a correct checksum: src, dst, ports, seq, ack, flags, payload. */
function tcpSegment(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
	const seg = new Uint8Array(20 + payload.length);
	setU16(seg, 0, sport);
	setU16(seg, 2, dport);
	new DataView(seg.buffer).setUint32(4, seq);
	new DataView(seg.buffer).setUint32(8, ack);
	seg[12] = 5 << 4;
	seg[13] = flags;
	setU16(seg, 14, 65535);
	seg.set(payload, 20);
	let sum = 0;
	const add = (b: Uint8Array) => {
		for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
	};
	add(src);
	add(dst);
	sum += seg.length + 6;
	add(seg);
	while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
	setU16(seg, 16, ~sum & 0xffff);
	return seg;
}

// Item 3: ICMPv6 errors about a flow to S.

function error(src: Uint8Array, type: number, code: number, invoking: Uint8Array, param = 0): Uint8Array {
	return buildPacket({ip: ip(src, A.client), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: type as 1, code, param, invoking: quoteInvoking(invoking)}}});
}

test('item 3: forged errors quoting the client\'s echo request, from anyone, are dropped at the client', (t) => {
	const net = converged();
	ping(net);
	const request = echo('request', A.client, A.S, ID, 1);
	const cases: Array<[string, Uint8Array, DropReason]> = [
		['Destination Unreachable code 3 from the attacker', error(A.attacker, Icmp6.DestUnreachable, Unreach.Address, request), 'id-missing'],
		['Destination Unreachable code 1 from server-a', error(A.serverA, Icmp6.DestUnreachable, Unreach.AdminProhibited, request), 'id-missing'],
		['Destination Unreachable code 0 from a router address', error(parseAddr('2001:db8:2::1'), Icmp6.DestUnreachable, Unreach.NoRoute, request), 'id-missing'],
		['Destination Unreachable code 5 from the attacker', error(A.attacker, Icmp6.DestUnreachable, 5, request), 'id-missing'],
		['Destination Unreachable code 6 from the attacker', error(A.attacker, Icmp6.DestUnreachable, 6, request), 'id-missing'],
		['Destination Unreachable code 7 (unassigned) from the attacker', error(A.attacker, Icmp6.DestUnreachable, 7, request), 'id-missing'],
		['Parameter Problem code 1 from the attacker', error(A.attacker, Icmp6.ParamProblem, 1, request, 40), 'id-missing'],
		['Time Exceeded code 1 (reassembly, a destination error) from the attacker', error(A.attacker, Icmp6.TimeExceeded, 1, request), 'id-missing'],
		['Time Exceeded code 0 about a request sent with hop limit 64', error(A.attacker, Icmp6.TimeExceeded, 0, request), 'icmp-implausible'],
		['Packet Too Big 1280 about a 64-byte request', error(A.attacker, Icmp6.PacketTooBig, 0, request, 1280), 'icmp-implausible'],
		['Destination Unreachable code 0 with source S', error(A.S, Icmp6.DestUnreachable, Unreach.NoRoute, request), 'src-is-anycast'],
	];
	for (const [what, bytes, reason] of cases) expectStopped(t, net, 'attacker', bytes, 'client', reason, what);
	t.false(net.host('client').received.some((p) => 'icmp' in decodePacket(p).upper && decodePacket(p).upper.proto === 58 && (decodePacket(p).upper as {icmp: {type: number}}).icmp.type < 128));
});

test('item 3: an error of an unassigned type quoting the flow needs an identifier too', (t) => {
	const net = converged();
	ping(net);
	// Type 100: unassigned, still an error (< 128); Linux hands it to the socket as EPROTO.
	const body = new Uint8Array(4 + 40 + 16);
	body.set(quoteInvoking(echo('request', A.client, A.S, ID, 1)).subarray(0, 56), 4);
	const bytes = buildPacket({ip: ip(A.attacker, A.client), ext: [], upper: {proto: 58, icmp: {kind: 'other', type: 100, code: 0, body}}});
	expectStopped(t, net, 'attacker', bytes, 'client', 'id-missing', 'type 100');
});

test('item 3: forged errors quoting the client\'s DNS query are dropped; the query is still answered', (t) => {
	const net = converged();
	const query = udp(A.client, A.S, 40000, 53, 'TXT?');
	for (const [what, bytes, reason] of [
		['admin prohibited', error(A.attacker, Icmp6.DestUnreachable, Unreach.AdminProhibited, query), 'id-missing'],
		['no route', error(A.attacker, Icmp6.DestUnreachable, Unreach.NoRoute, query), 'id-missing'],
		['Packet Too Big 1280 about a small query', error(A.attacker, Icmp6.PacketTooBig, 0, query, 1280), 'icmp-implausible'],
		['Packet Too Big 1000 (below the IPv6 minimum)', error(A.attacker, Icmp6.PacketTooBig, 0, query, 1000), 'icmp-implausible'],
	] as const) {
		net.host('client').send(query);
		expectStopped(t, net, 'attacker', bytes, 'client', reason, what);
	}
	const answers = net.host('client').received.map((p) => decodePacket(p)).filter((p) => 'udp' in p.upper);
	t.true(answers.length >= 4 && answers.every((p) => formatAddr(p.ip.src) === '2001:db8:1:ac::53'));
});

test('item 3: a Time Exceeded for a request the host sent with a small hop limit (traceroute) passes', (t) => {
	const net = converged();
	net.host('client').send(echo('request', A.client, A.S, 9, 1, [], 2));
	net.run(50);
	const errors = net.host('client').received.map((p) => decodePacket(p)).filter((p) => 'icmp' in p.upper && p.upper.icmp.type === Icmp6.TimeExceeded);
	t.is(errors.length, 1);
	t.is(net.stacks.get('client')!.anycast.rejected, 0);
});

// Item 7: reflection.

test('item 7: echo requests spoofed from the client make the real server answer; the client takes one reply per request it sent', (t) => {
	const net = converged();
	ping(net, 3);
	const verifiedBefore = net.stacks.get('client')!.anycast.verified;
	const replayBefore = net.stacks.get('client')!.client!.replay.size;
	const before = drops(net, 'client', 'id-unsolicited');
	// Seq 1–3 (answered already) and 4–6 (not sent yet), from the client's address, with its identifier.
	for (let seq = 1; seq <= 6; seq++) net.wire('attacker', echo('request', A.client, A.S, ID, seq));
	net.run(50);
	t.is(drops(net, 'client', 'id-unsolicited'), before + 6, 'six genuine, unsolicited replies dropped');
	t.is(net.stacks.get('client')!.anycast.verified, verifiedBefore, 'none verified');
	t.is(net.stacks.get('client')!.client!.replay.size, replayBefore, 'the replay cache did not grow');
	ping(net, 3, ID, 4);
	t.deepEqual(replies(net), [1, 2, 3, 4, 5, 6].map((s) => `2001:db8:1:ac::53 ${s}`), 'one reply per request, no duplicates');
});

test('item 7: DNS queries spoofed from the client\'s port: genuine answers the client asked nothing for are dropped', (t) => {
	const net = converged();
	const query = udp(A.client, A.S, 40010, 53, 'TXT?');
	net.host('client').send(query);
	net.run(50);
	// Long after the client's last query (past UDP_ANSWER_WINDOW_MS), answers on its port are nobody's.
	net.run(UDP_ANSWER_WINDOW_MS + 100);
	const before = drops(net, 'client', 'id-unsolicited');
	const replayBefore = net.stacks.get('client')!.client!.replay.size;
	for (let i = 0; i < 5; i++) net.wire('attacker', query);
	net.run(50);
	t.is(drops(net, 'client', 'id-unsolicited'), before + 5);
	t.is(net.stacks.get('client')!.client!.replay.size, replayBefore, 'and they never enter the replay cache');
	t.is(net.host('client').received.filter((p) => 'udp' in decodePacket(p).upper).length, 1);
});

test('item 7: an echo reply must echo the data the host sent: a reflected request with the same sequence number but other data is unsolicited', (t) => {
	const net = converged();
	net.host('server-a').answer = false;
	net.host('client').send(echo('request', A.client, A.S, ID, 9));
	net.run(20);
	net.host('server-a').answer = true;
	// The attacker's request carries its own data; S answers it genuinely, with that data.
	const before = drops(net, 'client', 'id-unsolicited');
	net.wire('attacker', buildPacket({ip: ip(A.client, A.S), ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: ID, sequence: 9, data: MARK}}}));
	net.run(50);
	t.is(drops(net, 'client', 'id-unsolicited'), before + 1);
	t.deepEqual(replies(net), []);
});

// Item 8: the Routing header does not move a stamp to another destination.

test('item 8: a stamp for one destination, moved to the client behind a Routing header naming the first, is refused', (t) => {
	const net = converged();
	ping(net);
	// The attacker asks S itself and keeps its genuine stamped answer.
	net.host('attacker').send(echo('request', A.attacker, A.S, ID, 2));
	net.run(50);
	const own = net.host('attacker').received.find((p) => parsePacket(p).extCount > 0)!;
	t.truthy(own);
	const info = parsePacket(own.slice());
	// [IPv6 to the client][Routing type 2, segments left 1, the attacker's address][the stamped Destination Options][ICMPv6]
	const repr: PacketRepr = decodePacket(own);
	const moved = buildPacket({...repr, ip: {...repr.ip, dst: A.client}, ext: [{kind: 'routing', routingType: 2, segmentsLeft: 1, data: Uint8Array.of(0, 0, 0, 0, ...A.attacker)}, ...repr.ext]});
	void info;
	expectStoppedGenuine(t, net, moved, 'id-misplaced');
	// Moved without a Routing header, the tag does not fit the new destination.
	const plain = own.slice();
	rewriteDestination(parsePacket(plain), A.client);
	expectStoppedGenuine(t, net, plain, 'id-bad-tag');
});

function expectStoppedGenuine(t: ExecutionContext, net: MemNet, bytes: Uint8Array, reason: DropReason): void {
	const before = drops(net, 'client', reason);
	const count = net.host('client').received.length;
	net.wire('attacker', bytes);
	net.run(50);
	t.is(drops(net, 'client', reason), before + 1, reason);
	t.is(net.host('client').received.length, count, 'nothing reached the host');
}

// Item 5: insiders cannot forge.

test('item 5: a valid stamp from an address not in the provisioned list is refused by the client', (t) => {
	const net = converged();
	net.host('client').send(echo('request', A.client, A.S2, ID, 1));
	net.run(50);
	// The attacker stole the Ed25519 group's private key; it signs with its own address as the source.
	const stolen = net.stacks.get('attacker')!.groups.find((g) => g.anycast.every((b, i) => b === A.S2[i]))!;
	const forged = stamp(parsePacket(reply(A.attacker, 1)), stolen, net.wallStart + net.clock.now())!;
	expectStopped(t, net, 'attacker', forged, 'client', 'id-not-provisioned', 'a stolen key, an unprovisioned source');
});
test('item 5: terminal-a stamps a reply claiming server-a with every key it holds; the boundary drops it', (t) => {
	const net = converged();
	ping(net);
	const group = net.stacks.get('terminal-a')!.groups.find((g) => g.anycast.every((b, i) => b === A.S[i]))!;
	const forged = stamp(parsePacket(reply(A.serverA, 1)), group, net.wallStart + net.clock.now());
	t.truthy(forged, 'terminal-a can compute some tag');
	expectStopped(t, net, 'terminal-a', forged!, 'boundary', 'id-bad-tag', 'insider stamp');
});


// Item 4: a neighbour table an outsider can grow.

function ripng(src: Uint8Array, dst: Uint8Array, command: RipngCommand, rtes: Array<{prefix: Uint8Array; len: number; metric: number}>, hopLimit = 64): Uint8Array {
	return buildPacket({ip: ip(src, dst, hopLimit), ext: [], upper: {proto: 17, udp: {srcPort: RIPNG_PORT, dstPort: RIPNG_PORT, payload: encodeRipng(command, rtes)}}});
}

for (const policing of [false, true]) {
test(`item 4: RIPng from 2,000 made-up link-local sources gives the neighbouring router no route and no BFD session; the real ones stay Up${policing ? ' (with control policing in front)' : ' (without policing)'}`, (t) => {
	// The link is point to point and the topology names its other end: RIPng from any other source is
	// not-neighbour, and starts no BFD session (BFD's own bound, tested in test/route/bfd.test.ts, would hold
	// the rest). With policing (the default: the access link's policer and the control rate), most never get
	// that far.
	const net = policing ? converged() : converged({}, withoutPolicing('internet'));
	const internet = net.stacks.get('internet')!;
	const real = internet.router.bfd.sessions().map((s) => `${s.link} ${formatAddr(s.peer)} ${s.state}`).sort();
	t.true(real.every((s) => s.endsWith('Up')) && real.length === 3, real.join(', '));
	const changes = internet.router.bfd.stateChanges;
	const wholeTable = [{prefix: new Uint8Array(16), len: 0, metric: 16}];
	for (let i = 0; i < 2000; i++) {
		const src = parseAddr(`fe80::${(0x1000 + i).toString(16)}:${(i * 7919 % 0xffff).toString(16)}`);
		// Requests to its global address (the flood), and Responses to the RIPng group with hop limit 255.
		net.wire('attacker', ripng(src, parseAddr('2001:db8:2::1'), RIPNG_REQUEST, wholeTable));
		net.wire('attacker', ripng(src, RIPNG_GROUP, RIPNG_RESPONSE, [{prefix: parseAddr(`2001:db8:77:${i.toString(16)}::`), len: 64, metric: 1}], 255));
		if (i % 100 === 0) net.run(10);
	}
	net.run(3000);
	const sessions = internet.router.bfd.sessions();
	t.is(sessions.length, 3, `${sessions.length} sessions`);
	t.is(internet.router.bfd.refused + internet.router.bfd.evicted, 0, 'no made-up peer ever reached BFD');
	const notNeighbour = internet.router.ripng!.drops['not-neighbour'];
	const policed = internet.pipeline.counters.drops['control-policed'] + internet.pipeline.counters.drops.policed;
	if (policing) t.true(policed > 2000 && policed + notNeighbour >= 4000, `policed ${policed}, not-neighbour ${notNeighbour}`);
	else t.is(notNeighbour, 4000, 'every made-up packet was not-neighbour');
	t.is(internet.pipeline.counters.drops['control-invalid'], notNeighbour, 'the node counts each refusal as control-invalid');
	t.deepEqual(sessions.filter((s) => s.link !== 'attacker').map((s) => `${s.link} ${formatAddr(s.peer)} ${s.state}`).sort(), real.filter((s) => !s.startsWith('attacker')), 'the sessions to client and boundary are the same, Up');
	t.is(internet.router.bfd.sessions().find((s) => s.link === 'attacker' && formatAddr(s.peer) === 'fe80::3')?.state, 'Up', "the attacker node's own session too");
	t.is(internet.router.bfd.stateChanges, changes, 'no real session changed state');
	t.false(internet.router.table.dump().some((l) => l.includes('2001:db8:77:')), 'no route from a made-up neighbour');
	// The network still answers.
	ping(net);
	t.deepEqual(replies(net), ['2001:db8:1:ac::53 1']);
});
}

// Item 10: the boundary's own reassembly and the responses it checks on their way out are kept apart.

test("item 10: fragments an outsider sends to the boundary's own address do not evict a response being reassembled on its way out", (t) => {
	// Local policing would turn most of these fragments away before reassembly; without it they fill the boundary's own reassembler.
	const net = converged({}, withoutPolicing('boundary'));
	net.host('server-a').answer = false; // the test sends server-a's answer itself, in fragments
	const data = new Uint8Array(1400).fill(0x62);
	for (const f of fragmentPacket(parsePacket(buildPacket({ip: ip(A.client, A.S), ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: ID, sequence: 7, data}}})), 1280, 5)) net.host('client').send(f);
	net.run(20);
	const group = net.stacks.get('server-a')!.groups.find((g) => g.anycast.every((b, i) => b === A.S[i]))!;
	const big = buildPacket({ip: ip(A.serverA, A.client), ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: ID, sequence: 7, data}}});
	const stamped = stamp(parsePacket(big), group, net.wallStart + net.clock.now())!;
	const [first, ...rest] = fragmentPacket(parsePacket(stamped), 1280, 0x1234);
	t.true(rest.length >= 1);
	net.wire('server-a', first!);
	net.run(5);
	// 1,100 first fragments of datagrams that never complete, to the boundary's own address.
	const boundary = net.stacks.get('boundary')!.pipeline;
	for (let i = 0; i < 1100; i++) {
		const whole = buildPacket({ip: ip(A.attacker, parseAddr('2001:db8:1::1')), ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: 1, sequence: i, data: new Uint8Array(64)}}});
		net.wire('attacker', firstOf(whole, 0x10000 + i));
	}
	net.run(5);
	t.true(boundary.counters.drops['frag-evicted'] > 0, 'the local reassembly was full and evicted');
	for (const f of rest) net.wire('server-a', f);
	net.run(50);
	t.deepEqual(replies(net), ['2001:db8:1:ac::53 7'], 'the fragmented response crossed the boundary and reached the client');
});

/** The first fragment (offset 0, more to come) of `whole`, cut after 24 bytes of its upper layer. */
function firstOf(whole: Uint8Array, id: number): Uint8Array {
	const f = new Uint8Array(40 + 8 + 24);
	f.set(whole.subarray(0, 40));
	f[6] = 44;
	setU16(f, 4, 8 + 24);
	f[40] = 58;
	setU16(f, 42, 1); // offset 0, M = 1
	new DataView(f.buffer).setUint32(44, id);
	f.set(whole.subarray(40, 64), 48);
	return f;
}

// Resource bounds: every table an outsider can grow is in status, the status table and /metrics.

test('bounds: each node reports its bounded tables in status, in `anyguard status` and in /metrics', async (t) => {
	const {nodeStatus} = await import('../../src/ops/status.js');
	const {prometheus} = await import('../../src/ops/metrics.js');
	const {render} = await import('../../src/cli/status.js');
	const net = converged();
	ping(net);
	const snap = [...net.stacks.values()].map((stack) => ({name: stack.name, role: stack.spec.role, status: nodeStatus(stack, 0)}));
	const of = (node: string) => snap.find((s) => s.name === node)!.status.bounds.map((b) => b.table);
	t.deepEqual(of('client'), ['reassembly local', 'reassembly to-host', 'pmtu', 'bfd sessions', 'ripng routes', 'flows', 'replay cache']);
	t.deepEqual(of('boundary'), ['reassembly local', 'reassembly forward', 'pmtu', 'bfd sessions', 'ripng routes']);
	const client = snap.find((s) => s.name === 'client')!.status;
	t.like(client.bounds.find((b) => b.table === 'replay cache'), {size: 1, capacity: 65536});
	t.like(client.bounds.find((b) => b.table === 'bfd sessions'), {size: 1, capacity: 8});
	const text = render(snap);
	t.regex(text, /BOUNDS \(entries\/capacity, -evicted, !refused\)/);
	t.regex(text, /^client\s.*\b1\/65536\b/m);
	t.regex(text, /^node\s+flows\s+replay cache\s+bfd sessions\s+ripng routes\s+pmtu\s+reassembly$/m);
	const metrics = prometheus(client);
	t.regex(metrics, /^anyguard_table_entries\{node="client",role="client",table="flows"\} 1$/m);
	t.regex(metrics, /^anyguard_table_refused_total\{node="client",role="client",table="bfd sessions"\} 0$/m);
});

// Item 6: the flow table cannot be flushed from outside.

test('item 6: spoofed SYNs from S never reach the host; the resets a host sends open no flow; the ping flow survives and still judges forgeries', (t) => {
	const net = converged();
	ping(net);
	const client = net.stacks.get('client')!;
	const before = drops(net, 'client', 'src-is-anycast');
	for (let i = 0; i < 200; i++) net.wire('attacker', buildPacket({ip: ip(A.S, A.client), ext: [], upper: {proto: 6, raw: tcpSegment(A.S, A.client, 80, 20000 + i, i, 0, 0x02, new Uint8Array(0))}}));
	net.run(50);
	t.is(drops(net, 'client', 'src-is-anycast'), before + 200, 'the SYNs from S are dropped before the host sees them');
	// Whatever else made the host reset connections to S (20,000 of them, more than the table holds):
	for (let i = 0; i < 20_000; i++) net.host('client').send(buildPacket({ip: ip(A.client, A.S), ext: [], upper: {proto: 6, raw: tcpSegment(A.client, A.S, 1024 + i, 80, 0, i + 1, 0x14, new Uint8Array(0))}}));
	net.run(50);
	t.is(client.client!.flows.size, 1, 'only the ping flow: a reset opens nothing');
	t.is(client.client!.flows.evictions, 0);
	ping(net, 1, ID, 2);
	expectStopped(t, net, 'attacker', reply(A.serverA, 2), 'client', 'id-missing', "an unstamped reply from server-a's address, answered already");
	net.host('client').send(echo('request', A.client, A.S, ID, 3));
	expectStopped(t, net, 'attacker', reply(A.serverA, 3), 'client', 'id-missing', "an unstamped reply from server-a's address, racing the genuine one");
	t.deepEqual(replies(net), ['2001:db8:1:ac::53 1', '2001:db8:1:ac::53 2', '2001:db8:1:ac::53 3']);
});

test('item 6: a table full of UDP flows the host opened keeps the ones still waiting for an answer, and echo and TCP flows are elsewhere', async (t) => {
	const {FlowTable} = await import('../../src/anycast/flows.js');
	const flows = new FlowTable(30_000, 8);
	const out = (bytes: Uint8Array, now: number) => flows.track(parsePacket(bytes), now);
	t.true(out(echo('request', A.client, A.S, 1, 1), 0));
	const syn = buildPacket({ip: ip(A.client, A.S), ext: [], upper: {proto: 6, raw: tcpSegment(A.client, A.S, 6000, 80, 0, 0, 0x02, new Uint8Array(0))}});
	t.true(out(syn, 0));
	// A thousand UDP flows, long done: the table is full of them.
	for (let i = 0; i < 1000; i++) out(udp(A.client, A.S, 10000 + i, 53, 'q'), 0);
	// Later, a query waits for its answer while new flows keep coming.
	const later = UDP_ANSWER_WINDOW_MS + 5000;
	t.true(out(udp(A.client, A.S, 5000, 53, 'waiting'), later));
	for (let i = 0; i < 6; i++) out(udp(A.client, A.S, 20000 + i, 53, 'q'), later);
	t.truthy(flows.matchResponse(parsePacket(udp(A.serverA, A.client, 53, 5000, 'a')), later), 'the flow waiting for an answer is kept');
	t.truthy(flows.matchResponse(parsePacket(echo('reply', A.serverA, A.client, 1, 1)), later), 'the echo flow is kept');
	t.truthy(flows.matchResponse(parsePacket(buildPacket({ip: ip(A.serverA, A.client), ext: [], upper: {proto: 6, raw: tcpSegment(A.serverA, A.client, 80, 6000, 0, 1, 0x12, new Uint8Array(0))}})), later), 'the TCP flow is kept');
	t.is(flows.evictedOwing, 992, 'only the burst of a thousand within one window pushed out flows that were still young');
	t.true(flows.evictions >= 998);
});

test('one echo identifier to both groups: each reply verifies for the S its request went to', (t) => {
	const net = converged();
	ping(net, 1, ID, 1);
	net.host('client').send(echo('request', A.client, A.S2, ID, 2));
	net.run(50);
	t.deepEqual(replies(net), ['2001:db8:1:ac::53 1', '2001:db8:1:ac::54 2']);
	t.is(net.stacks.get('client')!.anycast.rejected, 0);
	// A valid stamp of the other group (a stolen key), echoing the very data the host sent, for a sequence
	// number the host sent to S, not to S2: the flow asked S2 too, but not with this request.
	const stolen = net.stacks.get('attacker')!.groups.find((g) => g.anycast.every((b, i) => b === A.S2[i]))!;
	net.host('server-a').answer = false;
	net.host('client').send(echo('request', A.client, A.S, ID, 3));
	net.run(20);
	const forgedReply = stamp(parsePacket(echo('reply', A.serverA, A.client, ID, 3)), stolen, net.wallStart + net.clock.now())!;
	const before = drops(net, 'client', 'id-unsolicited');
	const count = net.host('client').received.length;
	net.wire('attacker', forgedReply);
	net.run(50);
	t.is(drops(net, 'client', 'id-unsolicited'), before + 1);
	t.is(net.host('client').received.length, count);
});
