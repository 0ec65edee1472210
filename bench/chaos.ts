// Faults on the running default network (issue 11, docs/reliability.md): the
// client asks S over DNS every 20 ms for ANYGUARD_CHAOS_S (default 60) with no
// faults, then as long again while lab/chaos.ts kills role
// processes, flaps links, bursts 30 % loss on links and stops dnsmasq on a
// server, one at a time. Reported: availability, the longest gap, the time to
// reconverge after the last fault, whether routes ended as they started, and
// descriptors leaked.
//
//   npm run bench -- chaos            needs root
import {watchProbe} from '../src/cli/probe.js';
import {selfCommand} from '../src/netns/setup.js';
import {DEFAULT_TOPOLOGY} from '../src/netns/names.js';
import {runChaos} from '../lab/chaos.js';
import {bringUpNs} from '../lab/nsnet.js';
import type {NsNet} from '../lab/nsnet.js';
import {withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';
import {sleep} from './proc.js';

/** The same probing with no faults: availability and longest gap of the quiet network. */
async function quiet(net: NsNet, seconds: number): Promise<{availability: number; longestGapMs: number}> {
	const probe = watchProbe(net.ns('client'), selfCommand(), net.topology.groups[0]!.anycast, 20);
	const began = Date.now();
	await sleep(seconds * 1000 + 1500);
	probe.stop();
	const answers = probe.answers.filter((a) => a.sentAt >= began + 1000 && a.sentAt <= began + 1000 + seconds * 1000);
	const ok = answers.filter((a) => !a.lost && a.answer).sort((a, b) => a.sentAt - b.sentAt);
	let gap = 0;
	for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i]!.sentAt - ok[i - 1]!.sentAt);
	return {availability: answers.length ? (100 * ok.length) / answers.length : 0, longestGapMs: gap};
}

export const run: Bench = async () => {
	if (process.getuid?.() !== 0) return [{name: 'chaos.skipped', value: 0, unit: '', note: 'needs root (namespaces)'}];
	const seconds = Number(process.env.ANYGUARD_CHAOS_S ?? 60);
	const seed = Number(process.env.ANYGUARD_CHAOS_SEED ?? 1);
	const net = await bringUpNs(DEFAULT_TOPOLOGY, 'h');
	try {
		await sleep(2000);
		const q = await quiet(net, seconds);
		const r = await runChaos(net, {seconds, seed, log: (line) => process.stderr.write(`bench: chaos: ${line}\n`)});
		const kinds = Object.entries(r.faults.reduce<Record<string, number>>((m, f) => ({...m, [f.kind]: (m[f.kind] ?? 0) + 1}), {}))
			.map(([k, n]) => `${n} ${k}`)
			.join(', ');
		const qa: Result = {name: 'chaos.quiet.availability_pct', value: q.availability, unit: '%', note: `${seconds} s of DNS queries to S every 20 ms, no faults`};
		const qg: Result = {name: 'chaos.quiet.longest_gap_ms', value: q.longestGapMs, unit: 'ms'};
		return [
			{name: 'chaos.faults', value: r.faults.length, unit: 'faults', note: `${kinds}; seed ${seed}`},
			qa,
			withRatio({name: 'chaos.availability_pct', value: Math.round(r.availability * 10) / 10, unit: '%', note: `${r.answered} of ${r.sent} queries answered during ${seconds} s of faults`}, qa),
			qg,
			withRatio({name: 'chaos.longest_gap_ms', value: r.longestGapMs, unit: 'ms'}, qg),
			{name: 'chaos.reconverge_ms', value: r.reconvergeMs, unit: 'ms', note: 'from the end of the last fault until every node selects the routes it started with'},
			{name: 'chaos.routes_equal', value: r.routesEqual ? 1 : 0, unit: 'bool', goal: '>= 1', ...(r.routeDiff.length ? {note: r.routeDiff.join('; ')} : {})},
			{name: 'chaos.fd_growth', value: r.fdGrowth.length, unit: 'processes', goal: '<= 0', ...(r.fdGrowth.length ? {note: r.fdGrowth.join('; ')} : {})},
			{name: 'chaos.alive', value: r.alive ? 1 : 0, unit: 'bool', goal: '>= 1'},
		];
	} finally {
		await net.down();
	}
};
