// npm run bench: runs every suite, prints a table and writes bench/results.json
// and the chart (bench/chart.svg and docs/performance.svg). Each figure that
// has a baseline was measured against it in this same run. Run with suite
// names, it writes bench/results.partial.json and leaves results.json and the
// chart as the last full run made them.
//
//   npm run bench                  every suite (about 4 minutes, needs root for tun, forward, e2e)
//   npm run bench -- forward e2e   the named suites only
//   npm run bench -- --quick       one round per network figure instead of three
import {readFileSync, writeFileSync} from 'node:fs';
import {cpus, release} from 'node:os';
import {fileURLToPath} from 'node:url';
import {ensureDist} from './code.js';
import {writeChart} from './chart.js';
import {meetsGoal} from './lib.js';
import type {Bench, Result} from './lib.js';

const suites: Array<[string, () => Promise<{run: Bench}>]> = [
	['wire', () => import('./wire.js')],
	['route', () => import('./route.js')],
	['anycast', () => import('./anycast.js')],
	['tun', () => import('./tun.js')],
	['forward', () => import('./forward.js')],
	['e2e', () => import('./e2e.js')],
	['flood', () => import('./flood.js')],
	['bfd', () => import('./bfd.js')],
	['chaos', () => import('./chaos.js')],
];
/** Suites that run the project's code from dist/ (role processes, the anycast timing child): built first when stale. */
const NETWORK = new Set(['forward', 'e2e', 'flood', 'bfd', 'chaos', 'anycast']);

function fmt(value: number): string {
	if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
	if (value >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
	return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function meets(result: Result): string {
	const met = meetsGoal(result);
	return met === undefined ? '' : met ? 'met' : 'MISSED';
}

function cpuModel(): string {
	try {
		return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? '';
	} catch {
		return cpus()[0]?.model ?? '';
	}
}

const args = process.argv.slice(2);
if (args.includes('--quick')) process.env.ANYGUARD_BENCH_ROUNDS ??= '1';
const only = args.filter((a) => !a.startsWith('--'));
const chosen = suites.filter(([name]) => only.length === 0 || only.includes(name));
const began = Date.now();
if (chosen.some(([name]) => NETWORK.has(name))) {
	const kind = ensureDist((line) => process.stderr.write(`${line}\n`));
	process.stderr.write(`bench: role processes run from ${kind}/\n`);
}
const results: Result[] = [];
const timings: Record<string, number> = {};
for (const [name, load] of chosen) {
	process.stderr.write(`bench: ${name} …\n`);
	const started = Date.now();
	results.push(...(await (await load()).run()));
	timings[name] = (Date.now() - started) / 1000;
	process.stderr.write(`bench: ${name} done in ${timings[name]!.toFixed(1)} s\n`);
}
const totalS = (Date.now() - began) / 1000;

const rows = results.map((r) => [r.name, fmt(r.value), r.unit, r.baseline ? r.baseline.name : '', r.baseline ? fmt(r.baseline.value) : '', r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '', r.goal ?? '', meets(r)]);
const header = ['name', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'goal', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
console.log(`\ntotal ${totalS.toFixed(1)} s (${Object.entries(timings).map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(', ')})`);

const machine = {cpus: cpus().length, model: cpuModel(), kernel: release(), node: process.version};
const date = new Date().toISOString();
// Only a run of every suite is a record: it writes bench/results.json and the chart. A run of some
// suites writes bench/results.partial.json and leaves both alone, so the chart never mixes runs.
const complete = chosen.length === suites.length;
const out = fileURLToPath(new URL(complete ? 'results.json' : 'results.partial.json', import.meta.url));
writeFileSync(out, JSON.stringify({machine, date, seconds: Math.round(totalS), suites: chosen.map(([n]) => n), complete, results}, null, 2) + '\n');
console.log(`wrote ${out}`);
const goals = results.filter((r) => r.goal);
const missed = goals.filter((r) => meetsGoal(r) === false);
console.log(`goals: ${goals.length - missed.length} of ${goals.length} met${missed.length ? `; missed: ${missed.map((r) => r.name).join(', ')}` : ''}`);
if (complete) {
	writeChart(results, `${date.slice(0, 16)}Z, ${machine.cpus} × ${machine.model}, Linux ${machine.kernel}, Node ${machine.node}; every ratio against its baseline of the same run (bench/results.json)`);
	console.log('wrote bench/chart.svg and docs/performance.svg');
} else {
	console.log('the chart (docs/performance.svg) is drawn from full runs only: npm run bench');
}
