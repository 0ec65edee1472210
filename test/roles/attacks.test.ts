// docs/protocol.md's attack table, row by row, on the default topology in
// memory: each forged response is dropped at the node the table names, with
// the reason it names, and none reaches the client's host. Legitimate
// responses all pass.
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {Alg} from '../../src/anycast/option.js';
import {ATTACKS, FLOOD_PACKETS, FORGED_MARK, craft, stopped} from '../../src/roles/attacker.js';
import {nodeStatus} from '../../src/ops/status.js';
import type {AttackContext, AttackKind, AttackSpec} from '../../src/roles/attacker.js';
import type {DropReason} from '../../src/pipeline/drops.js';
import type {MemNet} from '../../src/assembly/memnet.js';
import {formatAddr} from '../../src/util/addr.js';
import {Icmp6, Unreach, buildPacket, decodePacket, parsePacket, quoteInvoking} from '../../src/wire/index.js';
import {A, converged, echo, udp} from '../helpers/net.js';

const ID_X = 0x4242;

/** Echo replies for `id` the client's host received, with their sources. */
function repliesAtClient(net: MemNet, id = ID_X): string[] {
	return net
		.host('client')
		.received.map((p) => decodePacket(p))
		.filter((p) => 'icmp' in p.upper && p.upper.icmp.kind === 'echo' && p.upper.icmp.identifier === id)
		.map((p) => formatAddr(p.ip.src));
}

/** The client pings `anycast` and gets the genuine answer; returns the stamped bytes as they arrived at the client node. */
function openFlow(net: MemNet, anycast = A.S): Uint8Array[] {
	const stamped: Uint8Array[] = [];
	net.stacks.get('client')!.pipeline.addHook('prerouting', (pkt) => {
		if (pkt.inPort?.kind === 'link' && pkt.info.extCount > 0) stamped.push(pkt.info.buf.slice(pkt.info.off, pkt.info.end));
		return null;
	});
	net.host('client').send(echo('request', A.client, anycast, ID_X));
	net.run(50);
	return stamped;
}

function drops(net: MemNet, node: string, reason: DropReason): number {
	return net.stacks.get(node)!.pipeline.counters.drops[reason];
}

/** `from` puts `packets` on its wire; checks they were stopped at the node the table names, and only the genuine reply reached the client. */
function expectStopped(t: ExecutionContext, net: MemNet, spec: AttackSpec, packets: Uint8Array[], anycast: Uint8Array): void {
	const count = () => stopped(spec, nodeStatus(net.stacks.get(spec.droppedAt)!, 0));
	const before = count();
	for (const p of packets) net.wire(spec.from, p);
	net.run(50);
	t.is(count() - before, packets.length, `${spec.reason} at ${spec.droppedAt}: ${count() - before} of ${packets.length}`);
	t.deepEqual(repliesAtClient(net), [formatAddr(anycast)], 'the client host saw only the genuine reply, from S');
	t.false(net.host('client').received.some((p) => Buffer.from(p).includes(Buffer.from(FORGED_MARK))), 'nothing forged reached the host');
}

function signerOf(net: MemNet, node: string, group: 'dns' | 'dns2') {
	const anycast = group === 'dns' ? A.S : A.S2;
	return net.stacks.get(node)!.groups.find((g) => g.anycast.every((b, i) => b === anycast[i]))!;
}

const wall = (net: MemNet) => net.wallStart + net.clock.now();

test('legitimate: the client pings S, answered by server-a, verified at the boundary and the client', (t) => {
	const net = converged();
	openFlow(net);
	t.deepEqual(repliesAtClient(net), ['2001:db8:1:ac::53']);
	t.is(net.stacks.get('server-a')!.anycast.stamped, 1);
	t.is(net.stacks.get('boundary')!.anycast.verified, 1);
	t.is(net.stacks.get('client')!.anycast.verified, 1);
	t.is(net.stacks.get('client')!.anycast.rejected, 0);
	const reply = decodePacket(net.host('client').received[0]!);
	t.is(reply.ext.length, 0, 'the identifier is removed before the host sees it');
});

test('legitimate: DNS over UDP from the client and from terminal-b reach the nearest server', (t) => {
	const net = converged();
	net.host('client').send(udp(A.client, A.S, 40000, 53, 'TXT?'));
	net.host('terminal-b').send(udp(A.terminalB, A.S, 40001, 53, 'TXT?'));
	net.run(50);
	const answer = (host: string) =>
		net
			.host(host)
			.received.map((p) => decodePacket(p))
			.filter((p) => 'udp' in p.upper)
			.map((p) => `${formatAddr(p.ip.src)} ${'udp' in p.upper ? new TextDecoder().decode(p.upper.udp.payload) : ''}`);
	t.deepEqual(answer('client'), ['2001:db8:1:ac::53 server-a']);
	t.deepEqual(answer('terminal-b'), ['2001:db8:1:ac::53 server-b']);
});

test('legitimate: the Ed25519 group verifies at the boundary and the client with public keys only', (t) => {
	const net = converged();
	t.falsy(net.stacks.get('client')!.groups.find((g) => g.alg === Alg.Ed25519)?.keys.privateKey, 'the client holds no private key');
	net.host('client').send(echo('request', A.client, A.S2, 7));
	net.run(50);
	t.deepEqual(repliesAtClient(net, 7), ['2001:db8:1:ac::54']);
	t.is(net.stacks.get('boundary')!.anycast.verified, 1);
});

/** The context an attacker has when it strikes: the victim's flow, and what it captured or stole. */
function context(net: MemNet, kind: AttackKind, genuine: Uint8Array | undefined, anycast: Uint8Array): AttackContext {
	const spec: AttackSpec = ATTACKS[kind];
	let own: Uint8Array | undefined;
	if (spec.needsOwn) {
		// The attacker asks S itself, with the victim's echo identifier, and keeps the genuine stamped answer.
		net.host('attacker').send(echo('request', A.attacker, A.S, ID_X));
		net.run(50);
		own = net.host('attacker').received.find((p) => parsePacket(p).extCount > 0);
	}
	if (kind === 'replay-stale') net.run(net.topology.replayWindowMs + 100);
	return {
		client: A.client,
		anycast,
		self: spec.from === 'attacker' ? A.attacker : A.terminalA,
		server: A.serverA,
		echoId: ID_X,
		sequences: [1],
		wallNow: wall(net),
		stolen: signerOf(net, 'attacker', 'dns2'),
		insider: signerOf(net, 'terminal-a', 'dns'),
		...(genuine ? {genuine} : {}),
		...(own ? {own} : {}),
	};
}

for (const kind of Object.keys(ATTACKS) as AttackKind[]) {
	const spec: AttackSpec = ATTACKS[kind];
	test(`attack ${kind}: ${spec.summary} → ${spec.droppedAt} (${spec.reason})`, (t) => {
		const net = converged();
		const anycast = spec.victimGroup === 'stolen' ? A.S2 : A.S;
		const [genuine] = openFlow(net, anycast);
		t.truthy(genuine, 'the genuine stamped reply was seen at the client node');
		const packets = craft(kind, context(net, kind, genuine, anycast));
		t.is(packets.length, spec.flood ? FLOOD_PACKETS : 1);
		expectStopped(t, net, spec, packets, anycast);
	});
}

test('ICMPv6: a Time Exceeded from a router for an open flow passes', (t) => {
	const net = converged();
	// Hop limit 2: the internet router forwards it with 1 left, the boundary router cannot.
	net.host('client').send(echo('request', A.client, A.S, 9, 1, [], 2));
	net.run(50);
	const errors = net
		.host('client')
		.received.map((p) => decodePacket(p))
		.filter((p) => 'icmp' in p.upper && p.upper.icmp.type === Icmp6.TimeExceeded);
	t.is(errors.length, 1);
	t.is(formatAddr(errors[0]!.ip.src), '2001:db8:1::1', 'from the boundary router');
	t.is(net.stacks.get('client')!.anycast.rejected, 0);
});

test('ICMPv6: a forged port unreachable without an identifier is dropped (id-missing)', (t) => {
	const net = converged();
	const request = udp(A.client, A.S, 40000, 53, 'TXT?');
	net.host('client').send(request);
	net.run(50);
	const before = drops(net, 'client', 'id-missing');
	const forgedError = buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: A.attacker, dst: A.client},
		ext: [],
		upper: {proto: 58, icmp: {kind: 'error', type: Icmp6.DestUnreachable, code: Unreach.Port, param: 0, invoking: quoteInvoking(request)}},
	});
	net.host('attacker').send(forgedError);
	net.run(50);
	t.is(drops(net, 'client', 'id-missing'), before + 1);
	t.false(net.host('client').received.some((p) => 'icmp' in decodePacket(p).upper));
});

test('ICMPv6: a genuine port unreachable from the service is stamped and passes', (t) => {
	const net = converged();
	net.host('client').send(udp(A.client, A.S, 40000, 9, 'nobody listens'));
	net.run(50);
	const errors = net
		.host('client')
		.received.map((p) => decodePacket(p))
		.filter((p) => 'icmp' in p.upper && p.upper.icmp.type === Icmp6.DestUnreachable);
	t.is(errors.length, 1);
	t.is(formatAddr(errors[0]!.ip.src), '2001:db8:1:ac::53', 'verified, and S restored');
	t.is(net.stacks.get('client')!.anycast.verified, 1);
});
