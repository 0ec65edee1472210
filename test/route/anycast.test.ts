import test from 'ava';
import {parseAddr} from '../../src/util/addr.js';
import {SimClock} from '../../src/util/clock.js';
import {AnycastOriginator, commandHealthCheck} from '../../src/route/anycast.js';
import type {HealthCheck} from '../../src/route/anycast.js';
import {RouteTable} from '../../src/route/table.js';

const S = parseAddr('2001:db8:1:ac::53');

function setup(check: HealthCheck | undefined, opts: {rise?: number; fall?: number; timeoutMs?: number} = {}) {
	const clock = new SimClock();
	const table = new RouteTable();
	const o = new AnycastOriginator({prefix: S, len: 128, intervalMs: 100, ...(check ? {check} : {}), ...opts}, {clock, table});
	const originated = () => table.selected(S, 128).some((r) => r.anycast && r.nextHop.kind === 'local');
	return {clock, table, o, originated};
}

test('without a check, S is originated while running and withdrawn on stop', (t) => {
	const {o, originated} = setup(undefined);
	t.false(originated());
	o.start();
	t.true(originated());
	o.stop();
	t.false(originated());
});

test('a failing check withdraws S; recovery re-originates it', (t) => {
	let ok = true;
	const {clock, o, originated} = setup(() => ok);
	o.start();
	t.true(originated());
	ok = false;
	clock.advance(100);
	t.false(originated());
	t.is(o.stats.withdrawals, 1);
	ok = true;
	clock.advance(100);
	t.true(originated());
	t.is(o.stats.originations, 2);
});

test('rise and fall require consecutive results', (t) => {
	const results = [true, true, false, true, false, false, true, true];
	const {clock, o, originated} = setup(() => results.shift() ?? true, {rise: 2, fall: 2});
	const seen: boolean[] = [];
	o.start();
	seen.push(originated());
	for (let i = 0; i < 7; i++) {
		clock.advance(100);
		seen.push(originated());
	}
	t.deepEqual(seen, [false, true, true, true, true, false, false, true]);
});

test('a check that throws counts as a failure', (t) => {
	const {o, originated} = setup(() => {
		throw new Error('boom');
	});
	o.start();
	t.false(originated());
	t.is(o.stats.errors, 1);
});

test('an asynchronous check that does not answer in time counts as a failure', async (t) => {
	let answer: (v: boolean) => void = () => {};
	let mode: 'ok' | 'hang' = 'ok';
	const {clock, o, originated} = setup(() => (mode === 'ok' ? Promise.resolve(true) : new Promise<boolean>((r) => (answer = r))), {timeoutMs: 50});
	o.start();
	await clock.advanceAsync(10);
	t.true(originated());
	mode = 'hang';
	await clock.advanceAsync(100 + 60);
	t.false(originated());
	t.is(o.stats.timeouts, 1);
	answer(true); // too late: ignored
	await clock.advanceAsync(1);
	t.false(originated());
});

test('commandHealthCheck: exit status 0 is healthy, anything else (or a timeout) is not', async (t) => {
	t.true(await commandHealthCheck(process.execPath, ['-e', 'process.exit(0)'])());
	t.false(await commandHealthCheck(process.execPath, ['-e', 'process.exit(3)'])());
	t.false(await commandHealthCheck(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], 300)());
});
