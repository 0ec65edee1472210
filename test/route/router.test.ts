// When RIPng routes may be used (Router.usable): before a neighbour's BFD
// session has first come Up, RIPng's word is enough; once it has been Up, BFD
// decides (RFC 5882 §3.2), and a session held by dampening stays out.
import test from 'ava';
import {MemNet} from '../../src/assembly/memnet.js';
import {parseTopology} from '../../src/config/topology.js';
import {parseRoutePrefix} from '../../src/route/prefix.js';
import {parseAddr} from '../../src/util/addr.js';

const P = '2001:db8:99::/64';
const timers = {updateMs: 1000, timeoutMs: 4000, gcMs: 2000, triggeredMinMs: 20, triggeredMaxMs: 50};

/** a – b – c on the in-memory network, c delivering P (its host's LAN), BFD on both links. */
function line(): MemNet {
	const topology = parseTopology(
		{
			name: 'line',
			timers: {ripng: timers},
			groups: [],
			nodes: [
				{name: 'a', role: 'router', address: '2001:db8:98::1'},
				{name: 'b', role: 'router', address: '2001:db8:98::2'},
				{name: 'c', role: 'router', address: '2001:db8:98::3', host: {address: '2001:db8:99::5', prefixes: [P]}},
			],
			links: [
				{a: 'a', b: 'b'},
				{a: 'b', b: 'c'},
			],
		},
		'line.json',
	);
	return new MemNet(topology, {seed: 7});
}

const {addr, len} = parseRoutePrefix(P);
const router = (net: MemNet, node: string) => net.stacks.get(node.toLowerCase())!.router;
const route = (net: MemNet, node: string) => router(net, node).table.selected(addr, len)[0];
const state = (net: MemNet, node: string, link: string) => router(net, node).bfd.sessions().find((s) => s.link === link.toLowerCase())?.state;

test('a starting network uses RIPng routes before BFD is Up: converged in a few exchanges, not after the handshakes', (t) => {
	const net = line();
	net.start();
	let at = -1;
	net.clock.advanceUntil(() => {
		if (route(net, 'A')?.metric === 3) at = net.clock.now();
		return at >= 0;
	}, 5000);
	t.true(at >= 0 && at < 300, `A learned P after ${at} ms`);
	t.not(state(net, 'A', 'B'), 'Up', 'BFD still in its handshake (RFC 5880 §6.8.3: one packet a second before Up)');
	t.is(net.path('a', parseAddr('2001:db8:99::1')).at(-1), 'c');
	net.run(5000);
	t.is(state(net, 'A', 'B'), 'Up');
	t.is(route(net, 'A')?.metric, 3, 'and still once BFD is Up');
});

test('once Up, BFD decides: after its session went Down, a neighbour\'s RIPng is not used until BFD is Up again', (t) => {
	const net = line();
	net.start();
	net.run(5000);
	t.is(state(net, 'A', 'B'), 'Up');
	// B's process restarts before BFD notices: its new session says Down, A's goes Down (RFC 5880 §6.8.6).
	net.kill('b');
	net.run(50);
	net.revive('b');
	let sawDown = false;
	let ignored = 0;
	net.clock.advanceUntil(() => {
		if (state(net, 'A', 'B') !== 'Up') {
			sawDown = true;
			if (route(net, 'A') !== undefined) return true; // a route from B while its session is not Up: wrong
			ignored = router(net, 'A').ripng!.drops['neighbour-down'];
		}
		return sawDown && state(net, 'A', 'B') === 'Up';
	}, 10_000);
	t.true(sawDown);
	t.true(ignored > 0, 'B spoke RIPng meanwhile and A did not use it');
	t.is(state(net, 'A', 'B'), 'Up');
	net.run(500);
	t.is(route(net, 'A')?.metric, 3, 'back once BFD is Up');
	// B, a fresh process, used A's routes from its first exchange: its sessions were new.
	t.truthy(router(net, 'B').table.selected(addr, len)[0]);
});

test('a link that goes down and up starts its sessions afresh: routes over it are used before BFD is Up', (t) => {
	const net = line();
	net.start();
	net.run(5000);
	net.setLink('a', 'b', false, {carrier: true});
	net.run(100);
	t.is(route(net, 'A'), undefined);
	net.setLink('a', 'b', true, {carrier: true});
	let at = -1;
	const from = net.clock.now();
	net.clock.advanceUntil(() => {
		if (route(net, 'A')) at = net.clock.now() - from;
		return at >= 0;
	}, 5000);
	t.true(at >= 0 && at < 300, `back after ${at} ms`);
	t.not(state(net, 'A', 'B'), 'Up');
});
