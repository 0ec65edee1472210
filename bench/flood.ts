// Forged responses against the client, on the running network: the default
// topology in namespaces, the attacker's host flooding the client with forged
// echo replies (wrong tags, no identifier, malformed and misplaced
// identifiers, and first fragments that never complete) while the client
// pings S five times a second. Reported: ping loss and round-trip times, the
// client role process's resident memory over the run (it must stay flat),
// and its log's growth — next to the same run without the flood.
//
//   npm run bench flood                     60 s each (ANYGUARD_FLOOD_S), needs root
import {spawn} from 'node:child_process';
import {existsSync, readFileSync, statSync} from 'node:fs';
import {craft} from '../src/roles/attacker.js';
import type {AttackKind} from '../src/roles/attacker.js';
import {files} from '../src/netns/names.js';
import {parseAddr} from '../src/util/addr.js';
import {parsePacket} from '../src/wire/index.js';
import {DEFAULT_TOPOLOGY} from '../test/helpers/net.js';
import {fragments} from '../test/conformance/cases.js';
import {INJECT, bringUpNs} from '../test/conformance/nsnet.js';
import type {NsNet} from '../test/conformance/nsnet.js';
import {withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';

export const ECHO_ID = 0x4242;
const S = '2001:db8:1:ac::53';

export interface FloodFigures {
	seconds: number;
	/** Forged packets the flooder handed the attacker's TUN. */
	sent: number;
	pings: number;
	loss: number;
	rttAvgMs: number;
	rttMaxMs: number;
	/** Client role process resident memory, KiB: after warm-up, at the end, and the largest seen. */
	rssStartKiB: number;
	rssEndKiB: number;
	rssMaxKiB: number;
	logGrowthBytes: number;
	/** Drops at the client during the run, by reason (the ones that moved). */
	clientDrops: Record<string, number>;
	restarted: boolean;
}

/** A couple of thousand distinct forged responses to the client's flow. */
export function forgedResponses(): Uint8Array[] {
	const A = {client: parseAddr('2001:db8:2:c::10'), S: parseAddr(S), attacker: parseAddr('2001:db8:2:e::66'), server: parseAddr('2001:db8:1:a::30')};
	const kinds: AttackKind[] = ['forged-tag', 'no-id', 'truncated-id', 'duplicate-id', 'oversized-id', 'misplaced-id'];
	const out: Uint8Array[] = [];
	for (let seq = 1; seq <= 200; seq++) {
		for (const kind of kinds) out.push(...craft(kind, {client: A.client, anycast: A.S, self: A.attacker, server: A.server, echoId: ECHO_ID, sequences: [seq], wallNow: Date.now()}));
	}
	// First fragments of forged responses that never complete: they sit in the client's reassembly buffer until it evicts them.
	const base = craft('forged-tag', {client: A.client, anycast: A.S, self: A.attacker, server: A.server, echoId: ECHO_ID, sequences: [1], wallNow: Date.now()})[0]!;
	const cut = (parsePacket(base).upperOff - 40 + 8 + 7) & ~7;
	for (let id = 0; id < 1000; id++) out.push(...fragments(base, 0x10000 + id, [[0, cut]]));
	return out;
}

function rssKiB(pid: number): number {
	const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return m ? Number(m[1]) : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One run on a network that is up: pings for `seconds`, with or without the flood at `rate` packets/s. */
export async function floodRun(net: NsNet, seconds: number, rate: number, flood: boolean): Promise<FloodFigures> {
	const pid = net.pid('client');
	const log = files.log(net.state, 'client');
	const logAt = existsSync(log) ? statSync(log).size : 0;
	const dropsBefore = (await net.status('client')).counters.drops;
	const rss: number[] = [];
	const count = Math.floor(seconds * 5);
	const ping = spawn('ip', ['netns', 'exec', net.ns('client'), 'ping', '-6', '-n', '-e', String(ECHO_ID), '-i', '0.2', '-c', String(count), '-W', '1', S], {stdio: ['ignore', 'pipe', 'ignore']});
	let pingOut = '';
	ping.stdout.on('data', (d: Buffer) => (pingOut += d.toString()));
	const pinged = new Promise<void>((resolve) => ping.on('exit', () => resolve()));
	let floodOut = '';
	let flooded: Promise<void> = Promise.resolve();
	if (flood) {
		const input = forgedResponses().map((p) => Buffer.from(p).toString('hex')).join('\n') + '\n';
		const f = spawn('ip', ['netns', 'exec', net.ns('attacker'), 'python3', INJECT, 'tun0', '--flood', String(seconds), '--rate', String(rate)], {stdio: ['pipe', 'pipe', 'ignore']});
		f.stdout.on('data', (d: Buffer) => (floodOut += d.toString()));
		f.stdin.end(input);
		flooded = new Promise<void>((resolve) => f.on('exit', () => resolve()));
	}
	const started = Date.now();
	while (Date.now() - started < seconds * 1000) {
		await sleep(1000);
		rss.push(rssKiB(pid));
	}
	await Promise.all([pinged, flooded]);
	const loss = Number(/([\d.]+)% packet loss/.exec(pingOut)?.[1] ?? 100);
	const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(pingOut);
	const dropsAfter = (await net.status('client')).counters.drops;
	const clientDrops: Record<string, number> = {};
	for (const [k, v] of Object.entries(dropsAfter)) if (v !== dropsBefore[k as keyof typeof dropsBefore]) clientDrops[k] = v - dropsBefore[k as keyof typeof dropsBefore];
	const warm = rss.slice(Math.min(2, rss.length - 1));
	return {
		seconds,
		sent: flood ? ((JSON.parse(floodOut.trim() || '{"sent":0}') as {sent: number}).sent ?? 0) : 0,
		pings: count,
		loss,
		rttAvgMs: rtt ? Number(rtt[1]) : NaN,
		rttMaxMs: rtt ? Number(rtt[2]) : NaN,
		rssStartKiB: warm[0] ?? 0,
		rssEndKiB: rss.at(-1) ?? 0,
		rssMaxKiB: Math.max(...rss),
		logGrowthBytes: (existsSync(log) ? statSync(log).size : 0) - logAt,
		clientDrops,
		restarted: net.pid('client') !== pid,
	};
}

export const run: Bench = async () => {
	if (process.getuid?.() !== 0) return [{name: 'flood.skipped', value: 0, unit: '', note: 'needs root (namespaces)'}];
	const seconds = Number(process.env.ANYGUARD_FLOOD_S ?? 60);
	const rate = Number(process.env.ANYGUARD_FLOOD_PPS ?? 10_000);
	const net = await bringUpNs(DEFAULT_TOPOLOGY, 'g');
	try {
		await sleep(2000);
		const quiet = await floodRun(net, seconds, rate, false);
		const loud = await floodRun(net, seconds, rate, true);
		process.stderr.write(`bench: flood: quiet ${JSON.stringify(quiet)}\nbench: flood: flood ${JSON.stringify(loud)}\n`);
		const r = (name: string, value: number, unit: string, note?: string): Result => ({name, value, unit, ...(note ? {note} : {})});
		const qRtt = r('flood.quiet.rtt_avg_ms', quiet.rttAvgMs, 'ms', `${seconds} s of pings to S, no flood`);
		const qMax = r('flood.quiet.rtt_max_ms', quiet.rttMaxMs, 'ms');
		const qRss = r('flood.quiet.rss_growth_kib', quiet.rssEndKiB - quiet.rssStartKiB, 'KiB');
		const qLog = r('flood.quiet.log_growth_bytes', quiet.logGrowthBytes, 'B');
		return [
			r('flood.pps', loud.sent / seconds, 'pps', `forged responses offered to the attacker's TUN for ${seconds} s`),
			r('flood.quiet.loss_pct', quiet.loss, '%'),
			r('flood.loss_pct', loud.loss, '%', `${loud.pings} pings during the flood`),
			qRtt,
			withRatio(r('flood.rtt_avg_ms', loud.rttAvgMs, 'ms'), qRtt),
			qMax,
			withRatio(r('flood.rtt_max_ms', loud.rttMaxMs, 'ms'), qMax),
			r('flood.quiet.rss_kib', quiet.rssEndKiB, 'KiB', 'client role process'),
			r('flood.rss_kib', loud.rssEndKiB, 'KiB', `max ${loud.rssMaxKiB} KiB`),
			qRss,
			r('flood.rss_vs_quiet_kib', loud.rssEndKiB - quiet.rssEndKiB, 'KiB', 'end of the flood run against end of the quiet run'),
			{...r('flood.rss_growth_kib', loud.rssEndKiB - loud.rssStartKiB, 'KiB', 'from 2 s in to the end'), goal: '<= 32768'},
			qLog,
			r('flood.log_growth_bytes', loud.logGrowthBytes, 'B'),
			r('flood.client_drops', Object.values(loud.clientDrops).reduce((a, b) => a + b, 0), 'packets', JSON.stringify(loud.clientDrops)),
		];
	} finally {
		await net.down();
	}
};
