// Path MTU discovery across the anycast network (issue 12): with a 1400-byte
// link between the Internet and the boundary, a client's 1450-byte ping to S
// still crosses. The client takes the routers' Packet Too Big (plausible: it
// quotes a packet larger than the MTU it reports); the server reassembles
// what its kernel fragmented, stamps the whole, learns the path MTU from the
// Packet Too Big about its stamped answer, hands its kernel the same report
// in the kernel's terms (S as the source, the stamp's bytes taken off), and
// sends stamped answers that still do not fit in fragments; the boundary
// verifies them whole and forwards the fragments; the client reassembles and
// verifies.
import test from 'ava';
import {parseTopology} from '../../src/config/topology.js';
import {formatAddr} from '../../src/util/addr.js';
import {fragmentPacket} from '../../src/wire/fragment.js';
import {Icmp6, buildPacket, decodePacket, parsePacket} from '../../src/wire/index.js';
import {A, DEFAULT_TOPOLOGY, converged, defaultTopology, echo} from '../helpers/net.js';

const ID = 0x5050;

function narrowTopology() {
	const json = JSON.parse(JSON.stringify(defaultTopology(), (k, v) => (k === 'file' || k === 'dir' ? undefined : v))) as {links: Array<{a: string; b: string; mtu?: number}>};
	json.links.find((l) => l.a === 'internet' && l.b === 'boundary')!.mtu = 1400;
	return parseTopology(json, DEFAULT_TOPOLOGY);
}

const bigReply = (seq: number) =>
	buildPacket({ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: A.S, dst: A.client}, ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: ID, sequence: seq, data: new Uint8Array(1450).fill(0x70)}}});
const bigRequest = (seq: number) =>
	buildPacket({ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: A.client, dst: A.S}, ext: [], upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: ID, sequence: seq, data: new Uint8Array(1450).fill(0x70)}}});

test('a 1450-byte ping crosses a 1400-byte link: Packet Too Big both ways, stamped answers in fragments', (t) => {
	const net = converged({}, narrowTopology());
	const server = net.host('server-a');
	server.answer = false; // the test plays the server's kernel, which fragments at its TUN MTU
	// The client's first try is too big for the narrow link: the Internet router says so, and the client believes it.
	net.host('client').send(bigRequest(1));
	net.run(50);
	const ptb = net.host('client').received.map((p) => decodePacket(p)).find((p) => 'icmp' in p.upper && p.upper.icmp.type === Icmp6.PacketTooBig);
	t.truthy(ptb, 'the client host got the Packet Too Big');
	t.is(formatAddr(ptb!.ip.src), '2001:db8:2::1');
	t.is('icmp' in ptb!.upper && ptb!.upper.icmp.kind === 'error' ? ptb!.upper.icmp.param : 0, 1400);
	// The client's kernel now sends it in fragments; the flow opens on the first.
	for (const f of fragmentPacket(parsePacket(bigRequest(2)), 1400, 77)) net.host('client').send(f);
	net.run(50);
	// The server's kernel answers in fragments of its TUN MTU; the first stamped answer is too big for the narrow link.
	const answer = (seq: number) => {
		for (const f of fragmentPacket(parsePacket(bigReply(seq)), 1404, 1000 + seq)) server.send(f);
		net.run(50);
	};
	answer(2);
	const stack = net.stacks.get('server-a')!;
	t.is(stack.pipeline.counters.drops['stamp-too-big'], 0, 'no longer refused: reassembled, stamped whole');
	t.is(stack.anycast.stamped, 1);
	t.is(stack.pipeline.counters.pmtuUpdates, 1, 'the server learned the path MTU to the client');
	t.is(stack.pipeline.pmtu.get(A.client, 0, 1500, net.clock.now()), 1400);
	const told = server.received.map((p) => decodePacket(p)).find((p) => 'icmp' in p.upper && p.upper.icmp.type === Icmp6.PacketTooBig);
	t.truthy(told, "the server's kernel is told too");
	if (told && 'icmp' in told.upper && told.upper.icmp.kind === 'error') {
		t.is(told.upper.icmp.param, 1400 - 48, 'in its own terms: the stamp (48 bytes) taken off');
		const quote = told.upper.icmp.invoking;
		t.is(formatAddr(quote.subarray(8, 24)), '2001:db8:1:ac::53', 'quoting its own packet, from S');
		t.is(quote[6], 58, 'without the identifier header');
	}
	// The client sends again; this answer leaves the server in fragments that fit, and arrives whole and verified.
	for (const f of fragmentPacket(parsePacket(bigRequest(3)), 1400, 78)) net.host('client').send(f);
	net.run(50);
	answer(3);
	t.true(stack.pipeline.counters.fragmented >= 1, 'server-a fragmented the stamped answer');
	t.true(net.stacks.get('boundary')!.pipeline.counters.fragmentsForwarded >= 2, 'the boundary verified it whole and forwarded the fragments');
	const replies = net.host('client').received.map((p) => decodePacket(p)).filter((p) => 'icmp' in p.upper && p.upper.icmp.kind === 'echo' && p.upper.icmp.identifier === ID);
	t.deepEqual(replies.map((p) => `${formatAddr(p.ip.src)} ${'icmp' in p.upper && p.upper.icmp.kind === 'echo' ? `${p.upper.icmp.sequence} ${p.upper.icmp.data.length}` : ''}`), ['2001:db8:1:ac::53 3 1450']);
	t.is(net.stacks.get('client')!.anycast.rejected, 0);
});

test('the server believes a Packet Too Big about its stamped answers only if it is possible', (t) => {
	const net = converged();
	const stack = net.stacks.get('server-a')!;
	const stamped = stampedSmall(net);
	t.true(stamped.length < 200);
	// 1280 about a stamped answer of fewer bytes than that: no router sent it.
	const forged = buildPacket({ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: A.attacker, dst: A.serverA}, ext: [], upper: {proto: 58, icmp: {kind: 'error', type: Icmp6.PacketTooBig, code: 0, param: 1280, invoking: stamped}}});
	const before = stack.pipeline.counters.drops['icmp-implausible'];
	const told = net.host('server-a').received.length;
	net.wire('attacker', forged);
	net.run(50);
	t.is(stack.pipeline.counters.drops['icmp-implausible'], before + 1);
	t.is(stack.pipeline.counters.pmtuUpdates, 0);
	t.is(stack.pipeline.pmtu.size, 0);
	t.is(net.host('server-a').received.length, told, "nothing for the server's kernel");
});

/** A stamped answer as server-a sends it: what a Packet Too Big would quote. */
function stampedSmall(net: ReturnType<typeof converged>): Uint8Array {
	const seen: Uint8Array[] = [];
	net.stacks.get('boundary')!.pipeline.addHook('forward', (pkt) => {
		if (pkt.inPort?.zone === 'inside' && pkt.info.extCount > 0) seen.push(pkt.info.buf.slice(pkt.info.off, pkt.info.end));
		return null;
	});
	net.host('client').send(echo('request', A.client, A.S, 9, 1));
	net.run(50);
	return seen[0]!;
}
