import test from 'ava';
import fc from 'fast-check';
import {parseAddr} from '../../src/util/addr.js';
import {FibMap, popcnt} from '../../src/route/fib.js';
import {maskAddr, parseRoutePrefix} from '../../src/route/prefix.js';
import {RefTable} from './helpers/ref.js';

function build(routes: [string, number][]): FibMap {
	const m = new FibMap();
	for (const [p, v] of routes) {
		const {addr, len} = parseRoutePrefix(p);
		m.set(addr, len, v);
	}
	m.commit();
	return m;
}

const table: {name: string; routes: [string, number][]; lookups: [string, number][]}[] = [
	{name: 'empty table matches nothing', routes: [], lookups: [['2001:db8::1', 0], ['::', 0]]},
	{name: '/0 matches everything', routes: [['::/0', 7]], lookups: [['::', 7], ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 7], ['2001:db8::1', 7]]},
	{
		name: '/128 matches only itself',
		routes: [['2001:db8:1:ac::53/128', 3]],
		lookups: [['2001:db8:1:ac::53', 3], ['2001:db8:1:ac::52', 0], ['2001:db8:1:ac::54', 0], ['2001:db8:1:ac::53:0', 0]],
	},
	{
		name: 'a /128 differing only in the last two bits (the partial last stride)',
		routes: [['2001:db8::3/128', 3], ['2001:db8::/126', 9]],
		lookups: [['2001:db8::3', 3], ['2001:db8::2', 9], ['2001:db8::1', 9], ['2001:db8::', 9], ['2001:db8::4', 0]],
	},
	{
		name: 'overlapping prefixes: the longest wins',
		routes: [['::/0', 1], ['2000::/3', 2], ['2001:db8::/32', 3], ['2001:db8:1::/48', 4], ['2001:db8:1:a::/64', 5], ['2001:db8:1:a::30/128', 6]],
		lookups: [
			['3fff::1', 2], ['4000::', 1], ['2001:db8:ffff::', 3], ['2001:db8:1:b::1', 4], ['2001:db8:1:a::31', 5],
			['2001:db8:1:a::30', 6], ['2001:db9::', 2],
		],
	},
	{
		name: 'lengths at and around the direct-pointing boundary (/18) and stride edges',
		routes: [['2001::/16', 1], ['2001:8000::/17', 2], ['2001:c000::/18', 3], ['2001:e000::/19', 4], ['2001:e100::/24', 5], ['2001:e104::/30', 6]],
		lookups: [
			['2001:0::1', 1], ['2001:8000::', 2], ['2001:bfff::', 2], ['2001:c000::', 3], ['2001:e000::', 4], ['2001:e0ff::', 4],
			['2001:e100::', 5], ['2001:e104::', 6], ['2001:e107:ffff::', 6], ['2001:e108::', 5], ['2002::', 0],
		],
	},
	{
		name: 'siblings inside one stride keep their own values',
		routes: [['2001:db8:0:1::/64', 1], ['2001:db8:0:2::/64', 2], ['2001:db8:0:3::/64', 1], ['2001:db8::/62', 9]],
		lookups: [['2001:db8::', 9], ['2001:db8:0:1::', 1], ['2001:db8:0:2::', 2], ['2001:db8:0:3::', 1], ['2001:db8:0:4::', 0]],
	},
];

for (const t of table) {
	test(`LPM: ${t.name}`, (tt) => {
		const m = build(t.routes);
		const ref = new RefTable();
		for (const [p, v] of t.routes) {
			const {addr, len} = parseRoutePrefix(p);
			ref.set(addr, len, v);
		}
		for (const [dst, want] of t.lookups) {
			const a = parseAddr(dst);
			tt.is(m.lookup(a), want, dst);
			tt.is(ref.lookup(a), want, `reference disagrees on ${dst}`);
		}
	});
}

test('LPM: withdrawing the more specific prefix falls back to the covering one', (t) => {
	const m = build([['2001:db8::/32', 1], ['2001:db8:1::/48', 2], ['2001:db8:1:a::/64', 3]]);
	const dst = parseAddr('2001:db8:1:a::30');
	t.is(m.lookup(dst), 3);
	t.true(m.delete(parseAddr('2001:db8:1:a::'), 64));
	t.is(m.lookup(dst), 3, 'not visible before commit');
	m.commit();
	t.is(m.lookup(dst), 2);
	m.delete(parseAddr('2001:db8:1::'), 48);
	m.commit();
	t.is(m.lookup(dst), 1);
	m.delete(parseAddr('2001:db8::'), 32);
	m.commit();
	t.is(m.lookup(dst), 0);
	t.false(m.delete(parseAddr('2001:db8::'), 32));
});

test('LPM: changing and withdrawing a short (<= /18) prefix under existing longer ones', (t) => {
	const m = build([['::/0', 1], ['2001:db8::/32', 2]]);
	const inside = parseAddr('2001:db8::1');
	const outside = parseAddr('2001:db9::1');
	t.is(m.lookup(outside), 1);
	m.set(parseAddr('::'), 0, 5);
	m.commit();
	t.is(m.lookup(outside), 5);
	t.is(m.lookup(inside), 2);
	m.delete(parseAddr('::'), 0);
	m.commit();
	t.is(m.lookup(outside), 0);
	t.is(m.lookup(inside), 2);
});

test('LPM: lookup reads the address at an offset inside a larger buffer', (t) => {
	const m = build([['2001:db8:1:a::30/128', 4], ['2001:db8::/32', 1]]);
	const buf = new Uint8Array(40).fill(0xff); // bytes after the address must not leak into the match
	buf.set(parseAddr('2001:db8:1:a::30'), 24);
	t.is(m.lookup(buf, 24), 4);
	buf[39] = 0x31;
	t.is(m.lookup(buf, 24), 1);
});

test('popcnt counts bits of 32-bit words', (t) => {
	for (const [v, n] of [[0, 0], [1, 1], [-1, 32], [0x80000000 | 0, 1], [0x55555555, 16], [0x12345678, 13]] as const) t.is(popcnt(v), n);
});

// Random tables, inserts and withdrawals, against the brute-force reference.
const byte = fc.integer({min: 0, max: 255});
const addrArb = fc.tuple(fc.constantFrom(0x20, 0x2a, 0x26, 0x00, 0xff), fc.array(byte, {minLength: 15, maxLength: 15}))
	.map(([first, rest]) => Uint8Array.from([first, ...rest]));
const lenArb = fc.oneof(fc.integer({min: 0, max: 128}), fc.constantFrom(0, 16, 17, 18, 19, 24, 32, 48, 64, 126, 127, 128));
const opArb = fc.record({del: fc.boolean(), addr: addrArb, len: lenArb, value: fc.integer({min: 1, max: 50}), commit: fc.boolean()});

test('LPM property: random inserts and withdrawals agree with brute force', (t) => {
	fc.assert(fc.property(fc.array(opArb, {minLength: 1, maxLength: 80}), fc.array(addrArb, {maxLength: 40}), fc.integer({min: 0, max: 2 ** 31 - 1}), (ops, probes, seed) => {
		const m = new FibMap();
		const ref = new RefTable();
		for (const op of ops) {
			const addr = maskAddr(op.addr, op.len);
			if (op.del && ref.routes.length > 0) {
				const victim = ref.routes[seed % ref.routes.length]!;
				m.delete(victim.addr, victim.len);
				ref.delete(victim.addr, victim.len);
			} else {
				m.set(addr, op.len, op.value);
				ref.set(addr, op.len, op.value);
			}
			if (op.commit) m.commit();
		}
		m.commit();
		// Probe random addresses and addresses right at and beside each prefix.
		const dsts: Uint8Array[] = [...probes];
		for (const r of ref.routes) {
			dsts.push(r.addr);
			const last = Uint8Array.from(r.addr);
			for (let i = r.len; i < 128; i++) last[i >> 3]! |= 0x80 >> (i & 7);
			dsts.push(last);
			if (r.len > 0) {
				const flip = Uint8Array.from(r.addr);
				const bit = (seed + r.len) % r.len;
				flip[bit >> 3]! ^= 0x80 >> (bit & 7);
				dsts.push(flip);
				const past = Uint8Array.from(last); // the first address after the prefix
				for (let i = 15; i >= 0; i--) if (++past[i]! <= 0xff && past[i] !== 0) break;
				dsts.push(past);
			}
		}
		for (const d of dsts) {
			if (m.lookup(d) !== ref.lookup(d)) return false;
		}
		return true;
	}), {numRuns: 300, seed: 20251124});
	t.pass();
});

test('LPM property: clustered tables (shared leading bytes) agree with brute force', (t) => {
	const cluster = fc.tuple(fc.array(byte, {minLength: 16, maxLength: 16}), fc.integer({min: 2, max: 15}), fc.array(byte, {minLength: 16, maxLength: 16}))
		.map(([base, keep, tail]) => Uint8Array.from(base.map((b, i) => (i < keep ? 0x20 + (i === 0 ? 0 : b % 2) : tail[i]!))));
	fc.assert(fc.property(fc.array(fc.record({addr: cluster, len: lenArb, value: fc.integer({min: 1, max: 5})}), {minLength: 1, maxLength: 120}), fc.array(cluster, {maxLength: 60}), (routes, probes) => {
		const m = new FibMap();
		const ref = new RefTable();
		for (const r of routes) {
			const a = maskAddr(r.addr, r.len);
			m.set(a, r.len, r.value);
			ref.set(a, r.len, r.value);
		}
		m.commit();
		return [...probes, ...ref.routes.map((r) => r.addr)].every((d) => m.lookup(d) === ref.lookup(d));
	}), {numRuns: 200, seed: 7});
	t.pass();
});

test('LPM: heavy churn (each commit rebuilds a slot; old space is compacted) keeps answers right', (t) => {
	const m = new FibMap();
	const ref = new RefTable();
	let x = 12345;
	const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
	const live: [Uint8Array, number][] = [];
	for (let i = 0; i < 3000; i++) {
		if (live.length > 50 && next() % 3 === 0) {
			const [a, len] = live.splice(next() % live.length, 1)[0]!;
			t.is(m.delete(a, len), ref.delete(a, len));
		} else {
			const len = 34 + (next() % 40);
			const p = maskAddr(parseAddr(`2001:db8:${(next() % 4).toString(16)}:${(next() % 65536).toString(16)}:${(next() % 65536).toString(16)}::`), len);
			const v = 1 + (next() % 9);
			m.set(p, len, v);
			ref.set(p, len, v);
			live.push([p, len]);
		}
		m.commit();
	}
	const probes = [...ref.routes.map((r) => r.addr), ...Array.from({length: 500}, () => parseAddr(`2001:db8:${(next() % 4).toString(16)}:${(next() % 65536).toString(16)}::${(next() % 65536).toString(16)}`))];
	for (const d of probes) t.is(m.lookup(d), ref.lookup(d));
	t.true(ref.routes.length > 100);
});
