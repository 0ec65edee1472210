import test from 'ava';
import {PrefixLimiter, TokenBucket} from '../../src/util/rate.js';
import {parseAddr} from '../../src/util/addr.js';

test('a token bucket gives its burst at once, then its rate', (t) => {
	const b = new TokenBucket({perSecond: 10, burst: 3}, 0);
	t.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
	t.false(b.take(50), 'half a token after 50 ms');
	t.true(b.take(100));
	t.false(b.take(100));
	t.true(b.take(10_000) && b.take(10_000) && b.take(10_000));
	t.false(b.take(10_000), 'never more than the burst');
	t.is(b.refused, 4);
});

test('a prefix limiter keeps one bucket per /64, whatever the host bits', (t) => {
	const l = new PrefixLimiter({perSecond: 1, burst: 2, buckets: 1024}, 42);
	const a1 = parseAddr('2001:db8:1:2::1');
	const a2 = parseAddr('2001:db8:1:2:ffff::9');
	const b = parseAddr('2001:db8:1:3::1');
	t.is(l.slot(a1, 0), l.slot(a2, 0));
	t.true(l.take(a1, 0, 0));
	t.true(l.take(a2, 0, 0));
	t.false(l.take(a1, 0, 0), 'the /64 spent its burst');
	if (l.slot(b, 0) !== l.slot(a1, 0)) t.true(l.take(b, 0, 0), 'another /64 has its own');
	t.is(l.refused, 1);
});

test('prefixes spread over the buckets, and a different key spreads them differently', (t) => {
	const count = (key: number) => {
		const l = new PrefixLimiter({perSecond: 1, burst: 1, buckets: 256}, key);
		const used = new Set<number>();
		for (let i = 0; i < 256; i++) used.add(l.slot(parseAddr(`2001:db8:${i.toString(16)}::1`), 0));
		return {used: used.size, first: l.slot(parseAddr('2001:db8::1'), 0)};
	};
	const a = count(1);
	t.true(a.used > 140, `256 prefixes fill ${a.used} of 256 buckets`);
	const others = [2, 3, 4, 5, 6, 7, 8].map((k) => count(k).first);
	t.true(others.some((s) => s !== a.first), 'the key changes where a prefix lands');
});

test('prefix length: /48 groups what /64 separates; bad parameters are refused', (t) => {
	const l = new PrefixLimiter({perSecond: 1, burst: 1, prefixLen: 48}, 7);
	t.is(l.slot(parseAddr('2001:db8:1:2::1'), 0), l.slot(parseAddr('2001:db8:1:9::1'), 0));
	const odd = new PrefixLimiter({perSecond: 1, burst: 1, prefixLen: 60}, 7);
	t.is(odd.slot(parseAddr('2001:db8:1:20::1'), 0), odd.slot(parseAddr('2001:db8:1:2f::1'), 0));
	t.throws(() => new PrefixLimiter({perSecond: 1, burst: 1, buckets: 1000}), {instanceOf: RangeError});
	t.throws(() => new PrefixLimiter({perSecond: 1, burst: 1, prefixLen: 129}), {instanceOf: RangeError});
});
