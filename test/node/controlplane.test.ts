// Control-plane policing (docs/pipeline.md, "The control plane under load"),
// over in-memory links on test/fixtures/conformance.json:
//   alpha's host ─ alpha ─ rtr ─ beta ─ beta's host
// Each limit is driven past its bucket at one simulated instant, so exactly
// `burst` packets pass and the rest are counted under the limit's reason.
import test from 'ava';
import {loadTopology, parseTopology} from '../../src/config/topology.js';
import type {Topology} from '../../src/config/topology.js';
import {MemNet} from '../../src/assembly/memnet.js';
import {DEFAULT_CONTROL_PLANE} from '../../src/pipeline/types.js';
import {BFD_PORT} from '../../src/route/bfd-wire.js';
import {parseAddr} from '../../src/util/addr.js';
import {Icmp6, Proto, buildPacket} from '../../src/wire/index.js';
import {CONFORMANCE_TOPOLOGY} from '../conformance/cases.js';

const base = loadTopology(CONFORMANCE_TOPOLOGY);
const A = parseAddr('2001:db8:c:a::5');
const R = parseAddr('2001:db8:c::1');
const B = parseAddr('2001:db8:c:b::6');
const alphaLL = parseAddr('fe80::1');
const rtrLL = parseAddr('fe80::2');

function variant(edit: (json: Record<string, unknown> & {nodes: Array<Record<string, unknown>>; links: Array<Record<string, unknown>>}) => void): Topology {
	const json = structuredClone({...base, file: undefined, dir: undefined}) as unknown as Record<string, unknown> & {nodes: Array<Record<string, unknown>>; links: Array<Record<string, unknown>>};
	delete json.file;
	delete json.dir;
	edit(json);
	return parseTopology(json, base.file);
}

function up(t: Topology = base): MemNet {
	const net = new MemNet(t);
	net.start();
	net.run(3000);
	return net;
}

function echo(src: Uint8Array, dst: Uint8Array, seq: number): Uint8Array {
	return buildPacket({ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst}, ext: [], upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: 0x7777, sequence: seq, data: new Uint8Array(8)}}});
}

function bfdLike(src: Uint8Array, dst: Uint8Array): Uint8Array {
	return buildPacket({ip: {trafficClass: 0xc0, flowLabel: 0, hopLimit: 255, src, dst}, ext: [], upper: {proto: Proto.Udp, udp: {srcPort: 49152, dstPort: BFD_PORT, payload: new Uint8Array(24)}}});
}

const replies = (net: MemNet, node: string) => net.host(node).received.filter((p) => p[6] === Proto.Icmpv6 && p[40] === Icmp6.EchoReply).length;

test('echo replies are limited per asking /64: one prefix gets its burst, another is still answered', (t) => {
	const net = up();
	const rtr = net.stacks.get('rtr')!.pipeline;
	const port = rtr.ports.get('alpha')!;
	const burst = DEFAULT_CONTROL_PLANE.replies.burst;
	for (let i = 0; i < burst + 30; i++) {
		const p = echo(A, R, i);
		rtr.receive(port, p, 0, p.length);
	}
	net.run(10);
	t.is(replies(net, 'alpha'), burst);
	t.is(rtr.counters.drops['echo-rate-limited'], 30);
	// From beta's /64, at the same instant: its own bucket.
	const other = rtr.ports.get('beta')!;
	const p = echo(B, R, 1);
	rtr.receive(other, p, 0, p.length);
	net.run(10);
	t.is(replies(net, 'beta'), 1, 'another prefix is answered');
	t.is(rtr.counters.drops['echo-rate-limited'], 30);
	// A second later the first prefix has tokens again.
	net.run(1000);
	const again = echo(A, R, 999);
	rtr.receive(port, again, 0, again.length);
	net.run(10);
	t.is(replies(net, 'alpha'), burst + 1);
});

test('ICMPv6 errors are limited per destination /64 before the node-wide RFC 4443 §2.4(f) bucket', (t) => {
	const net = up();
	const rtr = net.stacks.get('rtr')!.pipeline;
	const burst = DEFAULT_CONTROL_PLANE.replies.burst;
	const nowhere = parseAddr('2001:db8:ffff::1');
	const port = rtr.ports.get('alpha')!;
	for (let i = 0; i < burst + 20; i++) {
		const p = echo(A, nowhere, i);
		rtr.receive(port, p, 0, p.length);
	}
	net.run(10);
	const errors = (node: string) => net.host(node).received.filter((p) => p[6] === Proto.Icmpv6 && p[40] === Icmp6.DestUnreachable).length;
	t.is(errors('alpha'), burst);
	t.is(rtr.counters.icmpPrefixLimited, 20);
	t.is(rtr.counters.drops['no-route'], burst + 20, 'every packet is still dropped for its own reason');
	const p = echo(B, nowhere, 1);
	rtr.receive(rtr.ports.get('beta')!, p, 0, p.length);
	net.run(10);
	t.is(errors('beta'), 1, 'another prefix still gets its error');
});

test('packets for the node itself beyond the local rate are local-policed before any work', (t) => {
	const net = up(variant((j) => (j.nodes[1]!.controlPlane = {local: {perSecond: 10, burst: 5}})));
	const rtr = net.stacks.get('rtr')!.pipeline;
	const port = rtr.ports.get('alpha')!;
	for (let i = 0; i < 12; i++) {
		const p = echo(A, R, i);
		rtr.receive(port, p, 0, p.length);
	}
	net.run(10);
	t.is(rtr.counters.drops['local-policed'], 7);
	t.is(replies(net, 'alpha'), 5);
});

test('route exchange and BFD are policed per link, apart from the local rate', (t) => {
	const net = up(variant((j) => (j.nodes[1]!.controlPlane = {control: {perSecond: 100, burst: 20}, local: {perSecond: 1, burst: 1}})));
	const rtr = net.stacks.get('rtr')!.pipeline;
	const fromAlpha = rtr.ports.get('alpha')!;
	const before = rtr.counters.drops['control-policed'];
	for (let i = 0; i < 50; i++) {
		const p = bfdLike(alphaLL, rtrLL);
		rtr.receiveControl(fromAlpha, p, 0, p.length);
	}
	// In memory the links' own BFD and RIPng come with the data, spending the other bucket: this one is full.
	t.is(rtr.counters.drops['control-policed'] - before, 30, "alpha's link: 20 taken, 30 policed");
	t.is(rtr.counters.drops['local-policed'], 0, 'control packets never spend the local bucket');
	// beta's link has its own bucket: the session there stays up.
	net.run(2000);
	const bfd = net.stacks.get('rtr')!.router.bfd.sessions();
	t.true(bfd.some((s) => s.link === 'beta' && s.state === 'Up'));
});

test('the control channel takes only route exchange and BFD for this node: the rest is control-misuse, never forwarded', (t) => {
	const net = up();
	const rtr = net.stacks.get('rtr')!.pipeline;
	const fromAlpha = rtr.ports.get('alpha')!;
	const forwarded = rtr.counters.forwarded;
	const cases = [
		echo(A, B, 1), // data to be forwarded
		echo(alphaLL, rtrLL, 2), // link-local, but not a control protocol
		bfdLike(A, R), // a control port, but not link-local
		bfdLike(alphaLL, parseAddr('fe80::99')), // not this node's address
	];
	for (const p of cases) rtr.receiveControl(fromAlpha, p, 0, p.length);
	net.run(10);
	t.is(rtr.counters.drops['control-misuse'], cases.length);
	t.is(rtr.counters.forwarded, forwarded);
	t.is(net.host('beta').received.length, 0);
	t.is(fromAlpha.counters.rxControl, cases.length);
});

test('a link with ingress policing admits its rate from that link and counts the rest as policed', (t) => {
	let policedEchoes = 0;
	const net = new MemNet(variant((j) => (j.links[0]!.police = {at: 'rtr', perSecond: 100, burst: 10})), {
		onDrop: (reason, pkt) => {
			if (reason === 'policed' && pkt.info.upperProto === Proto.Icmpv6 && pkt.info.buf[pkt.info.upperOff] === Icmp6.EchoRequest) policedEchoes++;
		},
	});
	net.start();
	net.run(3000);
	const rtr = net.stacks.get('rtr')!.pipeline;
	const port = rtr.ports.get('alpha')!;
	const policedBefore = port.counters.policed;
	for (let i = 0; i < 40; i++) net.host('alpha').send(echo(A, B, i));
	net.run(50);
	// At one instant the bucket holds at most its burst of 10. In memory, route exchange and BFD share the
	// data channel (no control channel), so a packet of theirs just before may have taken a token.
	const passed = net.host('beta').received.filter((p) => p[40] === Icmp6.EchoRequest).length;
	t.true(passed <= 10 && passed >= 8, `${passed} echoes passed`);
	t.is(policedEchoes, 40 - passed, 'every echo not passed was policed');
	t.is(rtr.counters.drops.policed, port.counters.policed);
	t.true(port.counters.policed - policedBefore >= policedEchoes);
	// beta's link is not policed, nor alpha's end of the policed link (the replies it gets are not counted).
	t.is(net.stacks.get('alpha')!.pipeline.ports.get('rtr')!.counters.policed, 0);
	t.is(rtr.ports.get('beta')!.counters.policed, 0);
	// Routing over the policed link stays up: its route exchange and BFD are on the link's control channel
	// on the real network; here (no control channel) the session was up before the burst and stays up.
	net.run(2000);
	t.true(net.stacks.get('rtr')!.router.bfd.sessions().every((s) => s.state === 'Up'));
});

test('route exchange flooded on the data channel spends its own bucket, never the control channel\'s', (t) => {
	const net = up(variant((j) => (j.nodes[1]!.controlPlane = {control: {perSecond: 100, burst: 20}})));
	const rtr = net.stacks.get('rtr')!.pipeline;
	const fromAlpha = rtr.ports.get('alpha')!;
	const before = rtr.counters.drops['control-policed'];
	for (let i = 0; i < 300; i++) {
		const p = bfdLike(parseAddr(`fe80::${(0x100 + i).toString(16)}`), rtrLL);
		rtr.receive(fromAlpha, p, 0, p.length); // with the data, as an outsider on the link would send it
	}
	const flooded = rtr.counters.drops['control-policed'] - before;
	t.true(flooded >= 280, `the data channel's flood was policed: ${flooded}`);
	for (let i = 0; i < 20; i++) {
		const p = bfdLike(alphaLL, rtrLL);
		rtr.receiveControl(fromAlpha, p, 0, p.length);
	}
	t.is(rtr.counters.drops['control-policed'] - before, flooded, 'the control channel still had its whole burst');
});
