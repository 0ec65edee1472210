import test from 'ava';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
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

/** A process that has exited: no longer in /proc, or a zombie (state Z) not yet reaped. */
function dead(pid: number): boolean {
	try {
		return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return true;
	}
}

test('commandHealthCheck: one helper runs every check; a timeout kills it and the command, the next check starts another', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-health-'));
	try {
		const log = join(dir, 'parents');
		const flag = join(dir, 'hang');
		// Records the process that ran it (the helper shell), hangs while the flag file exists.
		const check = commandHealthCheck('/bin/sh', ['-c', `echo $PPID >> ${log}; while [ -e ${flag} ]; do sleep 0.05; done; exit 0`], 500);
		for (let i = 0; i < 4; i++) t.true(await check());
		const parents = () => readFileSync(log, 'utf8').trim().split('\n');
		t.is(new Set(parents()).size, 1, 'four checks, one helper: the role process forked once');
		writeFileSync(flag, '');
		t.false(await check(), 'a hanging command times out');
		const hung = Number(parents().at(-1));
		rmSync(flag);
		t.true(await check(), 'the next check runs under a new helper');
		t.is(new Set(parents()).size, 2);
		t.true(dead(hung), 'the timed-out helper was killed (gone, or a zombie its parent has not reaped yet)');
		// Two originators (a server's two groups) share the check: concurrent checks queue, each gets its answer.
		t.deepEqual(await Promise.all([check(), check(), check()]), [true, true, true]);
		t.is(new Set(parents()).size, 2);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
