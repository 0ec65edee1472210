// Route-exchange edge cases on the in-memory network: count-to-infinity and
// flapping links. Each network is a topology of its own (routers only), or
// the default topology.
import test from 'ava';
import {MemNet} from '../../src/assembly/memnet.js';
import {parseTopology} from '../../src/config/topology.js';
import {parseRoutePrefix} from '../../src/route/prefix.js';
import {seededRandom} from '../../src/util/clock.js';
import {defaultTopology} from '../helpers/net.js';

const P = '2001:db8:99::/64';
const timers = {updateMs: 1000, timeoutMs: 4000, gcMs: 2000};

/** Routers named in `nodes`, linked as listed; `owner` delivers P (the prefix of its host's LAN). */
function network(nodes: string[], links: [string, string][], owner: string, bfd: boolean): MemNet {
	const topology = parseTopology(
		{
			name: 'convergence',
			timers: {ripng: timers},
			groups: [],
			nodes: nodes.map((n, i) => ({name: n.toLowerCase(), role: 'router', address: `2001:db8:98::${i + 1}`, ...(n === owner ? {host: {address: '2001:db8:99::5', prefixes: [P]}} : {})})),
			links: links.map(([a, b]) => ({a: a.toLowerCase(), b: b.toLowerCase(), bfd})),
		},
		'convergence.json',
	);
	return new MemNet(topology, {seed: 4});
}

const stack = (net: MemNet, n: string) => net.stacks.get(n.toLowerCase())!;

/** `node` loses P: its host's LAN is gone, and with it the connected route. */
function lose(net: MemNet, node: string): void {
	const {addr, len} = parseRoutePrefix(P);
	stack(net, node).router.table.withdraw(addr, len, 'connected', {kind: 'local'});
}

/** Samples every node's best metric for P after each event; returns per-node metric histories (changes only). */
function watch(net: MemNet, nodes: string[], ms: number): Map<string, number[]> {
	const {addr, len} = parseRoutePrefix(P);
	const hist = new Map<string, number[]>(nodes.map((n) => [n, []]));
	const sample = (): boolean => {
		for (const n of nodes) {
			const sel = stack(net, n).router.table.selected(addr, len);
			const m = sel.length === 0 ? 16 : sel[0]!.metric;
			const h = hist.get(n)!;
			if (h.at(-1) !== m) h.push(m);
		}
		return false;
	};
	net.clock.advanceUntil(sample, ms);
	return hist;
}

/** Every live node's routes, all candidates: what "converged to the same state" compares. */
function dumpNetwork(net: MemNet): string[] {
	const out: string[] = [];
	for (const [name, s] of net.stacks) if (!net.isDead(name)) for (const line of s.router.table.dump()) out.push(`${name}: ${line}`);
	return out;
}

for (const bfd of [false, true]) {
	test(`line A–B–C, C loses P: poisoned reverse stops counting to infinity (BFD ${bfd ? 'on' : 'off'})`, (t) => {
		const nodes = ['A', 'B', 'C'];
		const net = network(nodes, [['A', 'B'], ['B', 'C']], 'C', bfd);
		net.start();
		net.run(10_000);
		const {addr, len} = parseRoutePrefix(P);
		t.is(stack(net, 'A').router.table.selected(addr, len)[0]?.metric, 3);
		lose(net, 'C');
		const hist = watch(net, nodes, timers.timeoutMs + timers.gcMs + 5000);
		t.log(JSON.stringify(Object.fromEntries(hist)));
		for (const n of nodes) {
			const h = hist.get(n)!;
			t.is(h.at(-1), 16, `${n} ends unreachable: ${h}`);
			// Only the step to 16: no intermediate growing metrics (no counting).
			t.true(h.slice(1, -1).length === 0, `${n} counted: ${h}`);
			t.is(stack(net, n).router.table.routes(addr, len).length, 0, `${n} forgot P after gc`);
		}
	});
}

test('triangle with a tail: when the tail link fails silently, P is gone everywhere, bounded, without counting', (t) => {
	const nodes = ['A', 'B', 'C', 'D'];
	const net = network(nodes, [['A', 'B'], ['B', 'C'], ['A', 'C'], ['C', 'D']], 'D', false);
	net.start();
	net.run(10_000);
	net.setLink('c', 'd', false);
	const bound = timers.timeoutMs + timers.gcMs + 3 * timers.updateMs;
	const hist = watch(net, nodes.slice(0, 3), bound);
	t.log(JSON.stringify(Object.fromEntries(hist)));
	for (const n of ['A', 'B', 'C']) {
		const h = hist.get(n)!;
		t.is(h.at(-1), 16, `${n}: ${h}`);
		// At most one detour (a stale alternate) before infinity; never a climb towards 16.
		t.true(h.length <= 3, `${n} oscillated: ${h}`);
	}
	const {addr, len} = parseRoutePrefix(P);
	for (const n of ['A', 'B', 'C']) t.is(stack(net, n).router.table.routes(addr, len).length, 0, `${n} has no stale candidate left`);
});

test('a flapping link leaves no stale routes: tables end equal to a freshly converged network', (t) => {
	const rnd = seededRandom(11);
	const net = new MemNet(defaultTopology(), {seed: 3});
	net.start();
	net.run(10_000);
	// LAN b: router-b's links to server-b and terminal-b, down and up together.
	const lanB = (up: boolean) => {
		net.setLink('router-b', 'server-b', up);
		net.setLink('router-b', 'terminal-b', up);
	};
	for (let i = 0; i < 40; i++) {
		net.setLink('boundary', 'router-a', false, {carrier: i % 3 === 0});
		net.run(20 + rnd() * 400);
		net.setLink('boundary', 'router-a', true, {carrier: i % 3 === 0});
		net.run(20 + rnd() * 400);
		if (i % 10 === 5) {
			lanB(false);
			net.run(rnd() * 600);
			lanB(true);
		}
	}
	net.run(15_000);
	const fresh = new MemNet(defaultTopology(), {seed: 77});
	fresh.start();
	fresh.run(15_000);
	t.deepEqual(dumpNetwork(net), dumpNetwork(fresh));
});
