// Summarizes a V8 CPU profile (node --cpu-prof): self time per function,
// largest first. `npx tsx bench/profile.ts FILE.cpuprofile [N]`; with
// ANYGUARD_BENCH_PROFILE=DIR, bench/forward.ts profiles the router process.
import {readFileSync} from 'node:fs';
import {relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ROOT} from './code.js';

interface ProfileNode {
	id: number;
	callFrame: {functionName: string; url: string; lineNumber: number};
	hitCount?: number;
}

interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

export interface SelfTime {
	fn: string;
	where: string;
	ms: number;
	share: number;
}

/** Self time per function (summed over call sites). `busyOnly` leaves out the idle and program roots from the shares. */
export function selfTimes(file: string, busyOnly = true): {rows: SelfTime[]; totalMs: number; busyMs: number} {
	const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
	const byId = new Map(p.nodes.map((n) => [n.id, n]));
	const self = new Map<number, number>();
	for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
	const rows = new Map<string, SelfTime>();
	let total = 0;
	let busy = 0;
	for (const [id, us] of self) {
		const n = byId.get(id)!;
		const name = n.callFrame.functionName || '(anonymous)';
		total += us;
		if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
			if (name === '(garbage collector)') busy += us;
			if (busyOnly && name !== '(garbage collector)') continue;
		} else busy += us;
		let url = n.callFrame.url;
		if (url.startsWith('file://')) url = relative(ROOT, fileURLToPath(url));
		const where = url ? `${url}:${n.callFrame.lineNumber + 1}` : '';
		const key = `${name} ${where}`;
		const row = rows.get(key) ?? {fn: name, where, ms: 0, share: 0};
		row.ms += us / 1000;
		rows.set(key, row);
	}
	const out = [...rows.values()].sort((a, b) => b.ms - a.ms);
	for (const r of out) r.share = r.ms / (busy / 1000);
	return {rows: out, totalMs: total / 1000, busyMs: busy / 1000};
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const [file, n] = process.argv.slice(2);
	if (!file) throw new Error('usage: bench/profile.ts FILE.cpuprofile [N]');
	const {rows, totalMs, busyMs} = selfTimes(file);
	console.log(`profile ${file}: ${(totalMs / 1000).toFixed(2)} s sampled, ${(busyMs / 1000).toFixed(2)} s busy in JS, GC and the runtime`);
	for (const r of rows.slice(0, Number(n ?? 25))) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.fn}  ${r.where}`);
}
