// npm run bench: runs every suite, prints a table and writes bench/results.json.
// Each figure that has a baseline was measured against it in this same run.
import {writeFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {fileURLToPath} from 'node:url';
import type {Bench, Result} from './lib.js';

const suites: Array<[string, () => Promise<{run: Bench}>]> = [
	['wire', () => import('./wire.js')],
	['route', () => import('./route.js')],
	['anycast', () => import('./anycast.js')],
	['tun', () => import('./tun.js')],
];

function fmt(value: number): string {
	if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
	if (value >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
	return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

function meets(result: Result): string {
	if (!result.goal) return '';
	const [op, raw] = result.goal.split(' ') as [string, string];
	const goal = Number(raw);
	return (op === '>=' ? result.value >= goal : result.value <= goal) ? 'met' : 'MISSED';
}

const only = process.argv.slice(2);
const results: Result[] = [];
for (const [name, load] of suites) {
	if (only.length > 0 && !only.includes(name)) continue;
	process.stderr.write(`bench: ${name} …\n`);
	const started = Date.now();
	results.push(...(await (await load()).run()));
	process.stderr.write(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const rows = results.map((r) => [r.name, fmt(r.value), r.unit, r.baseline ? r.baseline.name : '', r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '', r.goal ?? '', meets(r)]);
const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'goal', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());

const out = fileURLToPath(new URL('results.json', import.meta.url));
writeFileSync(out, JSON.stringify({machine: {cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version}, date: new Date().toISOString(), results}, null, 2) + '\n');
console.log(`\nwrote ${out}`);
