// Forged responses against the client, on the running network: the default
// topology in namespaces, the attacker's host flooding the client with forged
// echo replies (wrong tags, no identifier, malformed and misplaced
// identifiers, and first fragments that never complete) while the client
// pings S five times a second. Reported: ping loss and round-trip times, the
// client role process's resident memory over the run (it must stay flat),
// and its log's growth — next to the same run without the flood.
//
// Then the control plane under load (issue 11, docs/pipeline.md): the client
// pings S every 50 ms while the attacker floods, and every node's BFD state
// changes, role-process restarts and resident memory are read —
//   flood.during.*           tcp6's SYN flood at S from spoofed sources of
//                            2001:db8:2::/48 with frag6's fragment flood at
//                            the client (the floods of issue 11);
//   flood.during.heaviest.*  agio_bench pkt-blast of a SYN to S into the
//                            attacker's TUN, as fast as the TUN takes it;
// beside flood.during.quiet.*, the same pings with no flood.
//
//   npm run bench flood                     60 s each (ANYGUARD_FLOOD_S), needs root;
//                                           the runs under load 10 s each (ANYGUARD_FLOOD_DURING_S)
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, readFileSync, statSync} from 'node:fs';
import {craft} from '../src/roles/attacker.js';
import type {AttackKind} from '../src/roles/attacker.js';
import {files} from '../src/netns/names.js';
import {parseAddr} from '../src/util/addr.js';
import {parsePacket} from '../src/wire/index.js';
import {DEFAULT_TOPOLOGY} from '../src/netns/names.js';
import {fragments} from '../lab/packets.js';
import {INJECT, bringUpNs} from '../lab/nsnet.js';
import type {NsNet} from '../lab/nsnet.js';
import {withRatio} from './lib.js';
import {TOOL} from './proc.js';
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

export interface DuringFigures {
	seconds: number;
	pings: number;
	loss: number;
	rttAvgMs: number;
	rttMaxMs: number;
	/** Packets the attacker's node read from its TUN, per second: the flood as offered. */
	offeredPps: number;
	/** Of those, dropped by the internet router's access policer. */
	policedPps: number;
	/** BFD state changes, all nodes together. */
	bfdChanges: number;
	/** Role processes that were not the same process at the end. */
	restarts: number;
	/** Largest resident memory of any role process during the run, and the largest growth of one, MiB. */
	rssMaxMiB: number;
	rssGrowthMiB: number;
	/** Most late any role process ran its timers, ms (event-loop delay). */
	loopDelayMaxMs: number;
}

/** A SYN from the attacker's own address to S's DNS port, as pkt-blast's packet. */
function synToS(): string {
	// scapy: IPv6(src='2001:db8:2:e::66', dst=S) / TCP(sport=40000, dport=53, flags='S', seq=1), checksum included.
	return '600000000014064020010db80002000e000000000000006620010db8000100ac00000000000000539c40003500000001000000005002200096840000';
}

/** One run of pings every 50 ms for `seconds`, with `floods` (commands in the attacker's namespace) running alongside. */
export async function duringRun(net: NsNet, seconds: number, floods: string[][]): Promise<DuringFigures> {
	const nodes = net.topology.nodes.map((n) => n.name);
	const pids = () => Object.fromEntries(nodes.map((n) => [n, net.pid(n)]));
	const statuses = async () => Object.fromEntries(await Promise.all(nodes.map(async (n) => [n, await net.status(n)] as const)));
	const pidsBefore = pids();
	const before = await statuses();
	const rssStart = Object.fromEntries(nodes.map((n) => [n, rssKiB(pidsBefore[n]!)]));
	const rssMax: Record<string, number> = {...rssStart};
	const count = Math.floor(seconds * 20);
	const ping = spawn('ip', ['netns', 'exec', net.ns('client'), 'ping', '-6', '-n', '-i', '0.05', '-c', String(count), '-W', '1', S], {stdio: ['ignore', 'pipe', 'ignore']});
	let pingOut = '';
	ping.stdout.on('data', (d: Buffer) => (pingOut += d.toString()));
	const pinged = new Promise<void>((resolve) => ping.on('exit', () => resolve()));
	const flooders = floods.map((cmd) => spawn('ip', ['netns', 'exec', net.ns('attacker'), 'timeout', '-s', 'INT', String(seconds), ...cmd], {stdio: 'ignore'}));
	const flooded = Promise.all(flooders.map((f) => new Promise<void>((resolve) => f.on('exit', () => resolve()))));
	const started = Date.now();
	while (Date.now() - started < seconds * 1000) {
		await sleep(500);
		for (const n of nodes) {
			try {
				rssMax[n] = Math.max(rssMax[n]!, rssKiB(net.pid(n)));
			} catch {
				// restarted between the pid read and /proc: counted below
			}
		}
	}
	await Promise.all([pinged, flooded]);
	const after = await statuses();
	const pidsAfter = pids();
	const loss = Number(/([\d.]+)% packet loss/.exec(pingOut)?.[1] ?? 100);
	const rtt = /= [\d.]+\/([\d.]+)\/([\d.]+)\//.exec(pingOut);
	const hostRx = (s: (typeof after)[string]) => s.ports.find((p) => p.kind === 'host')!.counters.rxPackets;
	const policed = (s: (typeof after)[string]) => s.ports.find((p) => p.name === 'attacker')?.counters.policed ?? 0;
	const mib = (kib: number) => Math.round(kib / 102.4) / 10;
	return {
		seconds,
		pings: count,
		loss,
		rttAvgMs: rtt ? Number(rtt[1]) : NaN,
		rttMaxMs: rtt ? Number(rtt[2]) : NaN,
		offeredPps: Math.round((hostRx(after.attacker!) - hostRx(before.attacker!)) / seconds),
		policedPps: Math.round((policed(after.internet!) - policed(before.internet!)) / seconds),
		bfdChanges: nodes.reduce((n, name) => n + after[name]!.bfdStateChanges - before[name]!.bfdStateChanges, 0),
		restarts: nodes.filter((n) => pidsAfter[n] !== pidsBefore[n]).length,
		rssMaxMiB: mib(Math.max(...Object.values(rssMax))),
		rssGrowthMiB: mib(Math.max(...nodes.map((n) => rssMax[n]! - rssStart[n]!))),
		loopDelayMaxMs: Math.max(...nodes.map((n) => after[n]!.loopDelay?.maxMs ?? 0)),
	};
}

function duringResults(prefix: string, what: string, d: DuringFigures, quiet: DuringFigures | undefined): Result[] {
	const r = (name: string, value: number, unit: string, extra: Partial<Result> = {}): Result => ({name: `${prefix}.${name}`, value, unit, ...extra});
	const out: Result[] = [
		r('loss_pct', d.loss, '%', {goal: '<= 1', note: `${d.pings} pings of S every 50 ms during ${what}`}),
		r('bfd_changes', d.bfdChanges, 'changes', {goal: '<= 0', note: 'BFD state changes, every node'}),
		r('restarts', d.restarts, 'processes', {goal: '<= 0'}),
		r('offered_pps', d.offeredPps, 'pps', {note: `read by the attacker's node from its TUN; ${d.policedPps} pps of it policed at the internet router`}),
		r('rss_max_mib', d.rssMaxMiB, 'MiB', {note: 'largest role process'}),
		r('rss_growth_mib', d.rssGrowthMiB, 'MiB', {goal: '<= 32', note: 'largest growth of one role process over the run'}),
		r('loop_delay_max_ms', d.loopDelayMaxMs, 'ms', {note: 'most late a role process ran its timers'}),
	];
	if (quiet) {
		const q = quietResults(quiet);
		out.push(withRatio(r('rtt_avg_ms', d.rttAvgMs, 'ms'), q.rtt), withRatio(r('rtt_max_ms', d.rttMaxMs, 'ms'), q.max));
	}
	return out;
}

function quietResults(q: DuringFigures): {rtt: Result; max: Result} {
	return {
		rtt: {name: 'flood.during.quiet.rtt_avg_ms', value: q.rttAvgMs, unit: 'ms', note: `${q.pings} pings of S every 50 ms, no flood`},
		max: {name: 'flood.during.quiet.rtt_max_ms', value: q.rttMaxMs, unit: 'ms'},
	};
}

/** The runs under load, on a network that is up. */
export async function duringSuite(net: NsNet, seconds: number): Promise<Result[]> {
	const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
	const quiet = await duringRun(net, seconds, []);
	const out: Result[] = [{name: 'flood.during.quiet.loss_pct', value: quiet.loss, unit: '%'}, ...Object.values(quietResults(quiet))];
	if (have('tcp6') && have('frag6')) {
		const tcp6 = ['tcp6', '-i', 'tun0', '-s', '2001:db8:2::/48', '-d', S, '-a', '53', '-X', 'S', '-F', '100', '-l', '-z', '1'];
		const frag6 = ['frag6', '-i', 'tun0', '-d', A_CLIENT, '-F', '100', '-l', '-z', '1'];
		out.push(...duringResults('flood.during', "tcp6's SYN flood at S and frag6's fragment flood at the client", await duringRun(net, seconds, [tcp6, frag6]), quiet));
	} else out.push({name: 'flood.during.skipped', value: 0, unit: '', note: 'tcp6 and frag6 (Debian ipv6toolkit) are not installed'});
	const blast = [TOOL, 'pkt-blast', 'tun0', String(seconds), synToS()];
	out.push(...duringResults('flood.during.heaviest', "the heaviest flood the attacker's TUN carries (agio_bench pkt-blast of a SYN to S)", await duringRun(net, seconds, [blast]), quiet));
	return out;
}

const A_CLIENT = '2001:db8:2:c::10';

export const run: Bench = async () => {
	if (process.getuid?.() !== 0) return [{name: 'flood.skipped', value: 0, unit: '', note: 'needs root (namespaces)'}];
	const seconds = Number(process.env.ANYGUARD_FLOOD_S ?? 60);
	const rate = Number(process.env.ANYGUARD_FLOOD_PPS ?? 10_000);
	const net = await bringUpNs(DEFAULT_TOPOLOGY, 'g');
	try {
		await sleep(2000);
		const quiet = await floodRun(net, seconds, rate, false);
		const loud = await floodRun(net, seconds, rate, true);
		const during = await duringSuite(net, Number(process.env.ANYGUARD_FLOOD_DURING_S ?? 10));
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
			...during,
		];
	} finally {
		await net.down();
	}
};
