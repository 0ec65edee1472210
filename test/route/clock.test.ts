import test from 'ava';
import {ClockError, SimClock, SystemClock, seededRandom} from '../../src/util/clock.js';

test('SimClock fires timers in due order, same-time timers in creation order', (t) => {
	const c = new SimClock();
	const log: string[] = [];
	c.setTimeout(() => log.push(`b@${c.now()}`), 20);
	c.setTimeout(() => log.push(`a@${c.now()}`), 10);
	c.setTimeout(() => log.push(`c@${c.now()}`), 20);
	c.setTimeout(() => {
		log.push(`d@${c.now()}`);
		c.setTimeout(() => log.push(`e@${c.now()}`), 0);
	}, 5);
	c.advance(15);
	t.deepEqual(log, ['d@5', 'e@5', 'a@10']);
	t.is(c.now(), 15);
	c.advance(5);
	t.deepEqual(log.slice(3), ['b@20', 'c@20']);
});

test('SimClock intervals repeat and clear() stops them', (t) => {
	const c = new SimClock();
	let n = 0;
	const h = c.setInterval(() => n++, 10);
	c.advance(35);
	t.is(n, 3);
	c.clear(h);
	c.advance(100);
	t.is(n, 3);
	t.is(c.pending, 0);
});

test('SimClock advanceUntil stops at the first event that makes the condition true', (t) => {
	const c = new SimClock();
	let x = 0;
	c.setTimeout(() => (x = 1), 7);
	c.setTimeout(() => (x = 2), 9);
	t.is(c.advanceUntil(() => x === 2, 100), 9);
	t.is(c.advanceUntil(() => x === 3, 50), null);
	t.is(c.now(), 59);
});

test('SimClock refuses bad delays and re-entrant advance', (t) => {
	const c = new SimClock();
	t.is(t.throws(() => c.setTimeout(() => {}, -1), {instanceOf: ClockError})!.code, 'bad-delay');
	t.is(t.throws(() => c.setTimeout(() => {}, Number.NaN), {instanceOf: ClockError})!.code, 'bad-delay');
	c.setTimeout(() => c.advance(1), 1);
	t.is(t.throws(() => c.advance(2), {instanceOf: ClockError})!.code, 'reentrant-advance');
});

test('SystemClock runs a timer and clear() cancels another', async (t) => {
	const c = new SystemClock();
	const keepAlive = setTimeout(() => {}, 10_000); // SystemClock timers are unref'd
	let fired = 0;
	const h = c.setTimeout(() => (fired += 10), 5);
	c.clear(h);
	await new Promise<void>((resolve) => c.setTimeout(() => {
		fired++;
		resolve();
	}, 5));
	clearTimeout(keepAlive);
	t.is(fired, 1);
	t.true(c.now() > 0);
});

test('seededRandom is deterministic per seed and within [0, 1)', (t) => {
	const a = seededRandom(42);
	const b = seededRandom(42);
	const xs = Array.from({length: 1000}, () => a());
	t.deepEqual(xs, Array.from({length: 1000}, () => b()));
	t.true(xs.every((x) => x >= 0 && x < 1));
	t.notDeepEqual(xs.slice(0, 5), Array.from({length: 5}, seededRandom(43)));
});
