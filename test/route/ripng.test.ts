import test from 'ava';
import {formatAddr, parseAddr} from '../../src/util/addr.js';
import {SimClock, seededRandom} from '../../src/util/clock.js';
import {RipngSpeaker} from '../../src/route/ripng.js';
import {MAX_ROUTES_PER_NEIGHBOUR, DEFAULT_RIPNG_TIMERS} from '../../src/route/ripng-types.js';
import type {RipngDropReason} from '../../src/route/ripng-types.js';
import {RIPNG_PORT, RIPNG_REQUEST, RIPNG_RESPONSE, decodeRipngHeader, encodeRipng, rteMetric, rteOffset, rtePrefix, rtePrefixLen} from '../../src/route/ripng-wire.js';
import type {RteInput} from '../../src/route/ripng-wire.js';
import {RouteTable} from '../../src/route/table.js';
import {parseRoutePrefix, formatPrefix} from '../../src/route/prefix.js';

const N1 = parseAddr('fe80::1');
const SELF_A = parseAddr('fe80::99');

interface Sent {
	at: number;
	link: string;
	dst: string;
	dstPort: number;
	command: number;
	rtes: Map<string, number>;
}

function speaker(timers = {}) {
	const clock = new SimClock();
	const table = new RouteTable();
	const sent: Sent[] = [];
	const sp = new RipngSpeaker({
		clock, table, random: seededRandom(5), timers,
		links: [{id: 'a', linkLocal: SELF_A, cost: 1}, {id: 'b', linkLocal: parseAddr('fe80::98'), cost: 2}],
		send: (link, payload, dst, dstPort) => {
			const h = decodeRipngHeader(payload, 0, payload.length);
			const rtes = new Map<string, number>();
			for (let i = 0; i < h.rteCount; i++) {
				const o = rteOffset(0, i);
				rtes.set(formatPrefix(rtePrefix(payload, o), rtePrefixLen(payload, o)), rteMetric(payload, o));
			}
			sent.push({at: clock.now(), link, dst: [...dst].join(','), dstPort, command: h.command, rtes});
		},
	});
	return {clock, table, sp, sent};
}

function response(rtes: RteInput[]): Uint8Array {
	return encodeRipng(RIPNG_RESPONSE, rtes);
}

const rte = (p: string, metric: number): RteInput => {
	const {addr, len} = parseRoutePrefix(p);
	return {prefix: addr, len, metric};
};
const meta = {src: N1, srcPort: RIPNG_PORT, hopLimit: 255};

test('a valid response installs routes at received metric + link cost', (t) => {
	const {table, sp} = speaker();
	sp.start();
	sp.receive('b', response([rte('2001:db8:1::/48', 3), rte('2001:db8:2::/48', 15)]), meta);
	const [r] = table.selected(parseRoutePrefix('2001:db8:1::/48').addr, 48);
	t.like(r, {metric: 5, rd: 3, origin: 'learned'});
	t.is(r!.nextHop.link, 'b');
	t.is(table.selected(parseRoutePrefix('2001:db8:2::/48').addr, 48).length, 0, '15 + 2 is infinity');
});

const invalid: [string, Uint8Array, Partial<typeof meta>, RipngDropReason][] = [
	['source not link-local', response([rte('2001:db8::/32', 1)]), {src: parseAddr('2001:db8::1')}, 'not-link-local-source'],
	['hop limit 254', response([rte('2001:db8::/32', 1)]), {hopLimit: 254}, 'bad-hop-limit'],
	['source port not 521', response([rte('2001:db8::/32', 1)]), {srcPort: 5000}, 'bad-source-port'],
	['our own message looped back', response([rte('2001:db8::/32', 1)]), {src: SELF_A}, 'own-message'],
	['truncated', Uint8Array.of(2, 1), {}, 'truncated'],
	['version 2', Uint8Array.of(2, 2, 0, 0), {}, 'bad-version'],
	['metric 0', response([rte('2001:db8::/32', 0)]), {}, 'rte-bad-metric'],
	['metric 17', response([rte('2001:db8::/32', 17)]), {}, 'rte-bad-metric'],
	['prefix length 129', response([{prefix: parseAddr('2001:db8::'), len: 129, metric: 1}]), {}, 'rte-bad-prefix-len'],
	['multicast prefix', response([rte('ff02::/16', 1)]), {}, 'rte-multicast-prefix'],
	['link-local prefix', response([rte('fe80::/64', 1)]), {}, 'rte-link-local-prefix'],
	['bits past the prefix length', response([{prefix: parseAddr('2001:db8::1'), len: 64, metric: 1}]), {}, 'rte-host-bits'],
];
for (const [name, bytes, m, reason] of invalid) {
	test(`RIPng input check: ${name} is dropped as ${reason}`, (t) => {
		const {table, sp} = speaker();
		sp.start();
		sp.receive('a', bytes, {...meta, ...m});
		t.is(sp.drops[reason], 1);
		t.is(Object.values(sp.drops).reduce((x, y) => x + y, 0), 1, 'counted once, under one reason');
		t.is(table.size, 0, 'nothing learned');
	});
}

test('a bad RTE is dropped without losing the good ones beside it', (t) => {
	const {table, sp} = speaker();
	sp.start();
	sp.receive('a', response([rte('2001:db8:1::/48', 0), rte('2001:db8:2::/48', 2)]), meta);
	t.is(sp.drops['rte-bad-metric'], 1);
	t.is(table.selected(parseRoutePrefix('2001:db8:2::/48').addr, 48).length, 1);
});

test('a next-hop RTE redirects the following routes; a non-link-local one means the sender', (t) => {
	const {table, sp} = speaker();
	sp.start();
	sp.receive('a', response([{nextHop: parseAddr('fe80::77')}, rte('2001:db8:1::/48', 1), {nextHop: parseAddr('2001:db8::9')}, rte('2001:db8:2::/48', 1)]), meta);
	t.deepEqual([...table.selected(parseRoutePrefix('2001:db8:1::/48').addr, 48)[0]!.nextHop.via!], [...parseAddr('fe80::77')]);
	t.deepEqual([...table.selected(parseRoutePrefix('2001:db8:2::/48').addr, 48)[0]!.nextHop.via!], [...N1]);
	t.is(sp.drops['rte-next-hop-not-link-local'], 1);
});

test('split horizon with poisoned reverse: a route is advertised as 16 back onto its own link', (t) => {
	const {clock, sp, sent} = speaker();
	sp.start();
	sp.receive('a', response([rte('2001:db8:1::/48', 2)]), meta);
	clock.advance(DEFAULT_RIPNG_TIMERS.updateMs * 2);
	const onA = sent.filter((s) => s.link === 'a' && s.command === RIPNG_RESPONSE && s.rtes.has('2001:db8:1::/48'));
	const onB = sent.filter((s) => s.link === 'b' && s.command === RIPNG_RESPONSE && s.rtes.has('2001:db8:1::/48'));
	t.true(onA.length > 0 && onB.length > 0);
	for (const s of onA) t.is(s.rtes.get('2001:db8:1::/48'), 16);
	for (const s of onB) t.is(s.rtes.get('2001:db8:1::/48'), 3);
});

test('a change goes out as a triggered update at once; the next waits for the hold-off', (t) => {
	const timers = {updateMs: 60_000, triggeredMinMs: 200, triggeredMaxMs: 400};
	const {clock, sp, sent} = speaker(timers);
	sp.start();
	clock.advance(10);
	const t0 = clock.now();
	sp.receive('a', response([rte('2001:db8:1::/48', 2)]), meta);
	clock.advance(0);
	const first = sent.filter((s) => s.link === 'b' && s.rtes.has('2001:db8:1::/48'));
	t.is(first.length, 1);
	t.is(first[0]!.at, t0, 'no delay when no update went out recently');
	t.is(first[0]!.rtes.size, 1, 'only the changed route');
	sp.receive('a', response([rte('2001:db8:1::/48', 2), rte('2001:db8:2::/48', 4)]), meta);
	clock.advance(1000);
	const second = sent.filter((s) => s.link === 'b' && s.rtes.has('2001:db8:2::/48'));
	t.is(second.length, 1);
	t.true(second[0]!.at - t0 >= timers.triggeredMinMs && second[0]!.at - t0 <= timers.triggeredMaxMs);
	t.is(sp.stats.triggeredSent, 2);
});

test('a route that is not refreshed times out, is advertised as 16 for the gc time, then forgotten', (t) => {
	const timers = {updateMs: 500, timeoutMs: 2000, gcMs: 1500};
	const {clock, table, sp, sent} = speaker(timers);
	sp.start();
	sp.receive('a', response([rte('2001:db8:1::/48', 2)]), meta);
	clock.advance(timers.timeoutMs - 300);
	t.is(table.selected(parseRoutePrefix('2001:db8:1::/48').addr, 48).length, 1);
	const expired = clock.advanceUntil(() => table.size === 0, 1000);
	t.not(expired, null);
	t.is(sp.stats.routesTimedOut, 1);
	const after = (at: number) => sent.filter((s) => s.link === 'b' && s.at >= at && s.rtes.has('2001:db8:1::/48'));
	clock.advance(timers.updateMs * 1.5);
	t.true(after(expired!).length > 0);
	for (const s of after(expired!)) t.is(s.rtes.get('2001:db8:1::/48'), 16);
	clock.advance(timers.gcMs + timers.updateMs);
	t.is(after(expired! + timers.gcMs + timers.updateMs * 1.5).length, 0, 'no longer mentioned after gc');
});

test('a whole-table request is answered to its sender, with split horizon', (t) => {
	const {sp, sent} = speaker();
	sp.start();
	sp.receive('a', response([rte('2001:db8:1::/48', 2)]), meta);
	sp.receive('b', response([rte('2001:db8:2::/48', 2)]), {...meta, src: parseAddr('fe80::2')});
	const before = sent.length;
	sp.receive('a', encodeRipng(RIPNG_REQUEST, [{prefix: new Uint8Array(16), len: 0, metric: 16}]), {...meta, src: parseAddr('fe80::3'), srcPort: 6000, hopLimit: 64});
	const reply = sent.slice(before);
	t.is(reply.length, 1);
	t.is(reply[0]!.dst, [...parseAddr('fe80::3')].join(','));
	t.is(reply[0]!.dstPort, 6000);
	t.is(reply[0]!.rtes.get('2001:db8:1::/48'), 16);
	t.is(reply[0]!.rtes.get('2001:db8:2::/48'), 4);
});

test('neighbourDown withdraws every route from that neighbour at once and triggers an update', (t) => {
	const {clock, table, sp, sent} = speaker();
	sp.start();
	sp.receive('a', response([rte('2001:db8:1::/48', 2), rte('2001:db8:2::/48', 2)]), meta);
	clock.advance(1000);
	const before = sent.length;
	sp.neighbourDown('a', N1);
	t.is(table.selected(parseRoutePrefix('2001:db8:1::/48').addr, 48).length, 0);
	clock.advance(DEFAULT_RIPNG_TIMERS.triggeredMaxMs);
	const upd = sent.slice(before).find((s) => s.link === 'b' && s.command === RIPNG_RESPONSE)!;
	t.is(upd.rtes.get('2001:db8:1::/48'), 16);
	t.is(upd.rtes.get('2001:db8:2::/48'), 16);
});

test('routes from a neighbour that is not usable (BFD down) are ignored', (t) => {
	const clock = new SimClock();
	const table = new RouteTable();
	let up = false;
	const heard: string[] = [];
	const sp = new RipngSpeaker({
		clock, table, send: () => {}, links: [{id: 'a', linkLocal: SELF_A}],
		neighbourUsable: () => up, onNeighbour: (link) => heard.push(link),
	});
	sp.start();
	sp.receive('a', response([rte('2001:db8:1::/48', 2)]), meta);
	t.is(sp.drops['neighbour-down'], 1);
	t.is(table.size, 0);
	t.deepEqual(heard, ['a'], 'still reported, so BFD can start');
	up = true;
	sp.receive('a', response([rte('2001:db8:1::/48', 2)]), meta);
	t.is(table.size, 1);
});

test('bad configuration is refused', (t) => {
	const clock = new SimClock();
	const table = new RouteTable();
	const mk = (o: object) => () => new RipngSpeaker({clock, table, send: () => {}, links: [{id: 'a', linkLocal: SELF_A}], ...o});
	t.is(t.throws(mk({timers: {triggeredMinMs: 5, triggeredMaxMs: 1}}))!.name, 'RipngError');
	t.is(t.throws(mk({links: [{id: 'a', linkLocal: parseAddr('2001:db8::1')}]}))!.name, 'RipngError');
	t.is(t.throws(mk({links: [{id: 'a', linkLocal: SELF_A, cost: 16}]}))!.name, 'RipngError');
});

test('a Request starts BFD only from a speaker on the link: RIPng port, link-local source, hop limit 255', (t) => {
	const clock = new SimClock();
	const heard: string[] = [];
	const sp = new RipngSpeaker({clock, table: new RouteTable(), send: () => {}, links: [{id: 'a', linkLocal: SELF_A}], onNeighbour: (_l, addr) => heard.push(formatAddr(addr))});
	sp.start();
	const request = encodeRipng(RIPNG_REQUEST, [{prefix: new Uint8Array(16), len: 0, metric: 16}]);
	sp.receive('a', request, {src: parseAddr('fe80::7'), srcPort: RIPNG_PORT, hopLimit: 64});
	sp.receive('a', request, {src: parseAddr('fe80::8'), srcPort: 40000, hopLimit: 255});
	sp.receive('a', request, {src: parseAddr('2001:db8::9'), srcPort: RIPNG_PORT, hopLimit: 255});
	sp.receive('a', request, {src: parseAddr('fe80::a'), srcPort: RIPNG_PORT, hopLimit: 255});
	t.deepEqual(heard, ['fe80::a']);
});

test('a neighbour gives at most MAX_ROUTES_PER_NEIGHBOUR routes; the rest are rte-limit', (t) => {
	const {table, sp} = speaker();
	sp.start();
	const many = Array.from({length: MAX_ROUTES_PER_NEIGHBOUR + 10}, (_, i) => rte(`2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}00::/56`, 1));
	for (let i = 0; i < many.length; i += 70) sp.receive('a', response(many.slice(i, i + 70)), meta);
	t.is(sp.drops['rte-limit'], 10);
	t.is(table.size, MAX_ROUTES_PER_NEIGHBOUR);
	// A refresh of a route it has is no new route.
	sp.receive('a', response([many[0]!]), meta);
	t.is(sp.drops['rte-limit'], 10);
	// Another neighbour has its own budget.
	sp.receive('a', response([rte('2001:db8:ffff::/48', 1)]), {...meta, src: parseAddr('fe80::2')});
	t.is(table.size, MAX_ROUTES_PER_NEIGHBOUR + 1);
});
