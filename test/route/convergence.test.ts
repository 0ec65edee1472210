// Route-exchange edge cases: count-to-infinity and flapping links.
import test from 'ava';
import {SimNetwork, dumpNetwork} from '../../src/route/sim.js';
import type {RouterConfig} from '../../src/route/router.js';
import {parseRoutePrefix} from '../../src/route/prefix.js';
import {seededRandom} from '../../src/util/clock.js';
import {fig1} from '../../src/route/fig1.js';

const P = '2001:db8:99::/64';
const timers = {updateMs: 1000, timeoutMs: 4000, gcMs: 2000};

/** Routers named in `nodes`, linked as listed; `owner` has P connected on a stub link. */
function network(nodes: string[], links: [string, string][], owner: string, bfd: boolean): SimNetwork {
	const net = new SimNetwork({seed: 4});
	const cfg = new Map<string, RouterConfig>();
	for (const n of nodes) cfg.set(n, {name: n, ripng: timers, links: []});
	nodes.forEach((n, i) => {
		if (n === owner) cfg.get(n)!.links.push({id: 'stub', linkLocal: `fe80::${i + 1}`, addresses: ['2001:db8:99::1/64'], ripng: false});
	});
	for (const [a, b] of links) {
		cfg.get(a)!.links.push({id: b, linkLocal: `fe80::${nodes.indexOf(a) + 1}`, bfd});
		cfg.get(b)!.links.push({id: a, linkLocal: `fe80::${nodes.indexOf(b) + 1}`, bfd});
	}
	for (const c of cfg.values()) net.addNode(c);
	for (const [a, b] of links) net.addLink(`${a}-${b}`, [{node: a, link: b}, {node: b, link: a}]);
	return net;
}

/** Samples every node's best metric for P after each event; returns per-node metric histories (changes only). */
function watch(net: SimNetwork, nodes: string[], ms: number): Map<string, number[]> {
	const {addr, len} = parseRoutePrefix(P);
	const hist = new Map<string, number[]>(nodes.map((n) => [n, []]));
	const sample = (): boolean => {
		for (const n of nodes) {
			const sel = net.router(n).table.selected(addr, len);
			const m = sel.length === 0 ? 16 : sel[0]!.metric;
			const h = hist.get(n)!;
			if (h.at(-1) !== m) h.push(m);
		}
		return false;
	};
	net.clock.advanceUntil(sample, ms);
	return hist;
}

for (const bfd of [false, true]) {
	test(`line A–B–C, C loses P: poisoned reverse stops counting to infinity (BFD ${bfd ? 'on' : 'off'})`, (t) => {
		const nodes = ['A', 'B', 'C'];
		const net = network(nodes, [['A', 'B'], ['B', 'C']], 'C', bfd);
		net.start();
		net.run(10_000);
		const {addr, len} = parseRoutePrefix(P);
		t.is(net.router('A').table.selected(addr, len)[0]?.metric, 3);
		net.router('C').linkDown('stub');
		const hist = watch(net, nodes, timers.timeoutMs + timers.gcMs + 5000);
		t.log(JSON.stringify(Object.fromEntries(hist)));
		for (const n of nodes) {
			const h = hist.get(n)!;
			t.is(h.at(-1), 16, `${n} ends unreachable: ${h}`);
			// Only the step to 16: no intermediate growing metrics (no counting).
			t.true(h.slice(1, -1).length === 0, `${n} counted: ${h}`);
			t.is(net.router(n).table.routes(addr, len).length, 0, `${n} forgot P after gc`);
		}
	});
}

test('triangle with a tail: when the tail link fails silently, P is gone everywhere, bounded, without counting', (t) => {
	const nodes = ['A', 'B', 'C', 'D'];
	const net = network(nodes, [['A', 'B'], ['B', 'C'], ['A', 'C'], ['C', 'D']], 'D', false);
	net.start();
	net.run(10_000);
	net.setLink('C-D', false);
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
	for (const n of ['A', 'B', 'C']) t.is(net.router(n).table.routes(addr, len).length, 0, `${n} has no stale candidate left`);
});

test('a flapping link leaves no stale routes: tables end equal to a freshly converged network', (t) => {
	const rnd = seededRandom(11);
	const net = fig1({seed: 3});
	net.start();
	net.run(10_000);
	for (let i = 0; i < 40; i++) {
		net.setLink('boundary-router-a', false, {carrier: i % 3 === 0});
		net.run(20 + rnd() * 400);
		net.setLink('boundary-router-a', true, {carrier: i % 3 === 0});
		net.run(20 + rnd() * 400);
		if (i % 10 === 5) {
			net.setLink('lan-b', false);
			net.run(rnd() * 600);
			net.setLink('lan-b', true);
		}
	}
	net.run(15_000);
	const fresh = fig1({seed: 77});
	fresh.start();
	fresh.run(15_000);
	t.deepEqual(dumpNetwork(net), dumpNetwork(fresh));
});
