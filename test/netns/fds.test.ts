// The chaos run's descriptor check (lab/chaos.ts) must see a leak and must not
// see a descriptor that is only open for a moment, such as the node's end of a
// status query that has just been answered. A CI run once failed on exactly
// that: one reading, taken straight after a query, counted the connection.
import {spawn} from 'node:child_process';
import {readdirSync} from 'node:fs';
import test from 'ava';
import {settledFdCount} from '../../lab/chaos.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// On SIGUSR1 the child opens a descriptor for 300 ms; on SIGUSR2 it opens one for good.
const child = `
const fs = require('node:fs');
const keep = [];
process.on('SIGUSR1', () => { const fd = fs.openSync('/dev/null', 'r'); setTimeout(() => fs.closeSync(fd), 300); });
process.on('SIGUSR2', () => keep.push(fs.openSync('/dev/null', 'r')));
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

test('settledFdCount: a descriptor open for a moment is not counted; one that stays is', async (t) => {
	const p = spawn(process.execPath, ['-e', child], {stdio: ['ignore', 'pipe', 'inherit']});
	t.teardown(() => p.kill('SIGKILL'));
	await new Promise((r) => p.stdout.once('data', r));
	const pid = p.pid!;
	const base = await settledFdCount(pid, 300);
	t.true(base > 0);

	p.kill('SIGUSR1');
	await sleep(100);
	t.is(readdirSync(`/proc/${pid}/fd`).length, base + 1, 'one reading counts the brief descriptor');
	t.is(await settledFdCount(pid, 2000, base), base, 'the settled count does not');

	p.kill('SIGUSR2');
	await sleep(100);
	t.is(await settledFdCount(pid, 1000, base), base + 1, 'a descriptor that stays is counted');
});
