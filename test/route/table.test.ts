import test from 'ava';
import fc from 'fast-check';
import {parseAddr} from '../../src/util/addr.js';
import {RouteError, RouteTable} from '../../src/route/table.js';
import {flowHash} from '../../src/wire/ipv6.js';
import type {RouteChange, RouteInput} from '../../src/route/table.js';
import {maskAddr, parseRoutePrefix} from '../../src/route/prefix.js';
import type {NextHopSpec, Origin} from '../../src/route/types.js';
import {RefTable} from './helpers/ref.js';

const via = (link: string, ll: string): NextHopSpec => ({kind: 'via', link, via: parseAddr(ll)});

function route(prefix: string, nextHop: NextHopSpec, metric: number, origin: Origin = 'learned', extra: Partial<RouteInput> = {}): RouteInput {
	const {addr, len} = parseRoutePrefix(prefix);
	return {prefix: addr, len, nextHop, metric, origin, source: nextHop.kind === 'via' ? `${nextHop.link}` : '', ...extra};
}

function hopOf(t: RouteTable, dst: string, hash = 0): string | null {
	const i = t.lookup(parseAddr(dst), 0, hash);
	if (i < 0) return null;
	const nh = t.nextHop(i);
	return nh.kind === 'via' ? nh.link : nh.kind;
}

const S = '2001:db8:1:ac::53/128';

test('among routes to one prefix the lowest metric wins: the nearest server', (t) => {
	const tab = new RouteTable();
	// As RIPng inserts them: metric = reported distance + link cost.
	tab.upsert(route(S, via('router-b', 'fe80::6'), 5, 'learned', {rd: 2}));
	t.is(hopOf(tab, '2001:db8:1:ac::53'), 'router-b');
	tab.upsert(route(S, via('router-a', 'fe80::5'), 3, 'learned', {rd: 2}));
	t.is(hopOf(tab, '2001:db8:1:ac::53'), 'router-a');
	tab.withdraw(parseRoutePrefix(S).addr, 128, 'learned', via('router-a', 'fe80::5'), 'router-a');
	t.is(hopOf(tab, '2001:db8:1:ac::53'), 'router-b', 'the alternate takes over at once');
});

test('origin ranks before metric: connected, then static, then learned', (t) => {
	const tab = new RouteTable();
	tab.upsert(route('2001:db8::/32', via('a', 'fe80::1'), 1));
	tab.upsert(route('2001:db8::/32', via('b', 'fe80::2'), 9, 'static'));
	t.is(hopOf(tab, '2001:db8::1'), 'b');
	tab.upsert(route('2001:db8::/32', {kind: 'direct', link: 'lan'}, 12, 'connected'));
	t.is(hopOf(tab, '2001:db8::1'), 'direct');
});

test('equal-cost routes: a flow keeps its next hop, and only flows of a removed member move', (t) => {
	const tab = new RouteTable();
	const links = ['l0', 'l1', 'l2', 'l3'];
	for (const [i, l] of links.entries()) tab.upsert(route('2001:db8::/32', via(l, `fe80::${i + 1}`), 2, 'learned', {rd: 1}));
	const dst = parseAddr('2001:db8::99');
	const flows = Array.from({length: 400}, (_, i) => flowHash(parseAddr(`2001:db8:2::${i.toString(16)}`), 0, dst, 0));
	const before = flows.map((h) => tab.nextHop(tab.lookup(dst, 0, h)).link);
	t.deepEqual(flows.map((h) => tab.nextHop(tab.lookup(dst, 0, h)).link), before, 'deterministic');
	const used = new Set(before);
	t.is(used.size, 4, 'flows spread over every member');
	tab.withdraw(parseRoutePrefix('2001:db8::/32').addr, 32, 'learned', via('l2', 'fe80::3'), 'l2');
	const after = flows.map((h) => tab.nextHop(tab.lookup(dst, 0, h)).link);
	for (const [i, b] of before.entries()) {
		if (b !== 'l2') t.is(after[i], b, `flow ${i} stayed`);
		else t.not(after[i], 'l2');
	}
	// Inserting the member again gives the original assignment back.
	tab.upsert(route('2001:db8::/32', via('l2', 'fe80::3'), 2, 'learned', {rd: 1}));
	t.deepEqual(flows.map((h) => tab.nextHop(tab.lookup(dst, 0, h)).link), before);
});

test('feasibility: an alternate whose reported distance is not below the best distance is not used', (t) => {
	const tab = new RouteTable();
	const p = '2001:db8:9::/48';
	// Best via A: metric 3, neighbour reported 2. Alternate via B reports 3 (it may be routing through us).
	tab.upsert(route(p, via('a', 'fe80::a'), 3, 'learned', {rd: 2, source: 'a'}));
	tab.upsert(route(p, via('b', 'fe80::b'), 4, 'learned', {rd: 3, source: 'b'}));
	// Alternate via C reports 1: strictly closer than our best, so loop-free.
	tab.upsert(route(p, via('c', 'fe80::c'), 5, 'learned', {rd: 1, source: 'c'}));
	tab.withdraw(parseRoutePrefix(p).addr, 48, 'learned', via('a', 'fe80::a'), 'a');
	t.is(hopOf(tab, '2001:db8:9::1'), 'c');
	tab.withdraw(parseRoutePrefix(p).addr, 48, 'learned', via('c', 'fe80::c'), 'c');
	t.is(hopOf(tab, '2001:db8:9::1'), null, 'B is infeasible: unreachable rather than a possible loop');
	const views = tab.routes(parseRoutePrefix(p).addr, 48);
	t.is(views.length, 1);
	t.true(views[0]!.stale);
	// B re-advertises after hearing we lost the route: fresh information is usable.
	tab.upsert(route(p, via('b', 'fe80::b'), 4, 'learned', {rd: 3, source: 'b'}));
	t.is(hopOf(tab, '2001:db8:9::1'), 'b');
});

test('routes inserted and withdrawn between lookups are visible at once', (t) => {
	const tab = new RouteTable();
	const dst = parseAddr('2001:db8:1:a::30');
	t.is(tab.lookup(dst, 0, 0), -1);
	tab.upsert(route('2001:db8::/32', via('up', 'fe80::1'), 2));
	t.is(hopOf(tab, '2001:db8:1:a::30'), 'up');
	tab.upsert(route('2001:db8:1:a::/64', {kind: 'direct', link: 'lan'}, 1, 'connected'));
	t.is(hopOf(tab, '2001:db8:1:a::30'), 'direct');
	tab.withdraw(parseRoutePrefix('2001:db8:1:a::/64').addr, 64, 'connected', {kind: 'direct', link: 'lan'});
	t.is(hopOf(tab, '2001:db8:1:a::30'), 'up');
});

test('batch defers the FIB commit and delivers one change list', (t) => {
	const tab = new RouteTable();
	const seen: RouteChange[][] = [];
	tab.onChange((c) => seen.push([...c]));
	tab.batch(() => {
		tab.upsert(route('2001:db8:1::/48', via('a', 'fe80::1'), 2));
		tab.upsert(route('2001:db8:2::/48', via('a', 'fe80::1'), 2));
		t.is(tab.lookup(parseAddr('2001:db8:1::1'), 0, 0), -1, 'not committed inside the batch');
	});
	t.is(seen.length, 1);
	t.is(seen[0]!.length, 2);
	t.is(hopOf(tab, '2001:db8:1::1'), 'a');
	tab.withdraw(parseRoutePrefix('2001:db8:1::/48').addr, 48, 'learned', via('a', 'fe80::1'), 'a');
	t.is(seen.length, 2);
	t.true(seen[1]![0]!.removed);
	t.false(tab.upsert(route('2001:db8:2::/48', via('a', 'fe80::1'), 2)), 'an identical refresh changes nothing');
	t.is(seen.length, 2);
});

test('anycast routes are flagged in the forwarding group', (t) => {
	const tab = new RouteTable();
	tab.upsert(route(S, {kind: 'local'}, 1, 'connected', {anycast: true}));
	tab.upsert(route('2001:db8:1:a::/64', {kind: 'direct', link: 'lan'}, 1, 'connected'));
	t.true(tab.groupIsAnycast(tab.lookupGroup(parseAddr('2001:db8:1:ac::53'), 0)));
	t.false(tab.groupIsAnycast(tab.lookupGroup(parseAddr('2001:db8:1:a::1'), 0)));
	t.is(tab.lookupGroup(parseAddr('3fff::'), 0), 0);
});

test('invalid routes are refused with a code', (t) => {
	const tab = new RouteTable();
	const cases: [RouteInput, RouteError['code']][] = [
		[route('2001:db8::/32', via('a', 'fe80::1'), 16), 'bad-metric'],
		[route('2001:db8::/32', via('a', 'fe80::1'), -1), 'bad-metric'],
		[{...route('2001:db8::/32', via('a', 'fe80::1'), 1), prefix: parseAddr('2001:db8::1')}, 'bad-prefix'],
	];
	for (const [r, code] of cases) t.is(t.throws(() => tab.upsert(r), {instanceOf: RouteError})!.code, code);
	t.throws(() => tab.nextHop(99), {instanceOf: RouteError});
	t.is(t.throws(() => tab.upsert({...route('::/0', via('a', 'fe80::1'), 1), len: 129}))!.name, 'PrefixError');
});

test('property: RouteTable lookups agree with brute force over random upserts and withdrawals', (t) => {
	const byte = fc.integer({min: 0, max: 255});
	const addrArb = fc.array(byte, {minLength: 16, maxLength: 16}).map((b) => Uint8Array.from([0x20, ...b.slice(1)]));
	const op = fc.record({addr: addrArb, len: fc.integer({min: 0, max: 128}), link: fc.integer({min: 0, max: 3}), metric: fc.integer({min: 1, max: 15}), del: fc.boolean()});
	fc.assert(fc.property(fc.array(op, {maxLength: 60}), fc.array(addrArb, {maxLength: 30}), (ops, probes) => {
		const tab = new RouteTable();
		const ref = new RefTable(); // value: 1 + link index of the best (lowest metric, then lowest link) route
		const cands = new Map<string, {addr: Uint8Array; len: number; m: Map<number, number>}>();
		for (const o of ops) {
			const addr = maskAddr(o.addr, o.len);
			const key = `${addr.join(',')}/${o.len}`;
			const c = cands.get(key) ?? {addr, len: o.len, m: new Map<number, number>()};
			cands.set(key, c);
			const nh = via(`l${o.link}`, `fe80::${o.link + 1}`);
			if (o.del) {
				tab.withdraw(addr, o.len, 'static', nh);
				c.m.delete(o.link);
			} else {
				tab.upsert({prefix: addr, len: o.len, origin: 'static', metric: o.metric, nextHop: nh});
				c.m.set(o.link, o.metric);
			}
			if (c.m.size === 0) ref.delete(addr, o.len);
			else {
				const min = Math.min(...c.m.values());
				ref.set(addr, o.len, min);
			}
		}
		for (const d of [...probes, ...ref.routes.map((r) => r.addr)]) {
			const i = tab.lookup(d, 0, 0);
			const want = ref.lookup(d);
			if (want === 0 ? i !== -1 : i === -1) return false;
			if (i >= 0) {
				// The chosen link must be one of the minimum-metric candidates of the longest match.
				const match = ref.routes.filter((r) => maskAddr(d, r.len).every((b, k) => b === r.addr[k])).sort((a, b) => b.len - a.len)[0]!;
				const c = cands.get(`${match.addr.join(',')}/${match.len}`)!;
				const link = Number(tab.nextHop(i).link!.slice(1));
				if (c.m.get(link) !== match.value) return false;
			}
		}
		return true;
	}), {numRuns: 150, seed: 3});
	t.pass();
});
