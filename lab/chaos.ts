// Faults on a running network while the client asks S over DNS every 20 ms
// (issue 11): SIGKILL of a random role process, a link set down and up, a
// burst of 30 % random loss on a link, dnsmasq stopped on a server — one at a
// time, in an order drawn from a seed, each followed by a short calm. Then it
// waits for routing to return to where it started and reports availability,
// the longest gap, the time to reconverge, and what was leaked. Shared by the
// root test (test/netns/chaos.test.ts) and `npm run bench -- chaos`.
import {readdirSync, readFileSync} from 'node:fs';
import {spawnSync} from 'node:child_process';
import {watchProbe} from '../src/cli/probe.js';
import type {ProbeAnswer} from '../src/cli/probe.js';
import {setLoss} from '../src/netns/conditions.js';
import {linkIfname} from '../src/netns/names.js';
import {alive, selfCommand, startDnsmasq} from '../src/netns/setup.js';
import type {NodeStatus, RouteStatus} from '../src/ops/status.js';
import {seededRandom} from '../src/util/clock.js';
import type {NsNet} from './nsnet.js';

export type FaultKind = 'kill' | 'link-flap' | 'loss-burst' | 'dns-stop';

export interface Fault {
	kind: FaultKind;
	target: string;
	/** ms from the start of the run. */
	at: number;
	ms: number;
}

export interface ChaosReport {
	seconds: number;
	faults: Fault[];
	sent: number;
	answered: number;
	/** answered / sent, %. */
	availability: number;
	/** Longest stretch without an answer, measured between the send times of answered queries, ms. */
	longestGapMs: number;
	/** From the end of the last fault until every node's selected routes equal those at the start (or -1: never, within the wait). */
	reconvergeMs: number;
	routesEqual: boolean;
	/** Routes that differ at the end, `node: prefix` (empty when equal). */
	routeDiff: string[];
	/** Role processes whose open file descriptors grew, with before → after (the same node's process, or its successor). */
	fdGrowth: string[];
	/** Every role process alive at the end. */
	alive: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where a route leads, for comparing: `local`, `direct LINK` or `via ADDR%LINK`. */
function hop(r: RouteStatus): string {
	const h = r.nextHop;
	return h.kind === 'local' ? 'local' : h.kind === 'direct' ? `direct ${h.link}` : `via ${h.via}%${h.link}`;
}

/** Selected routes of a node, as `prefix hop metric` lines: what "the routes are as they were" compares. */
function routeSet(s: NodeStatus): string[] {
	return s.routes.filter((r) => r.selected).map((r) => `${r.prefix} ${hop(r)} ${r.metric}`).sort();
}

async function routes(net: NsNet): Promise<Map<string, string[]>> {
	const out = new Map<string, string[]>();
	for (const n of net.topology.nodes) {
		try {
			out.set(n.name, routeSet(await net.status(n.name)));
		} catch {
			out.set(n.name, ['(unreachable)']);
		}
	}
	return out;
}

function diff(a: Map<string, string[]>, b: Map<string, string[]>): string[] {
	const out: string[] = [];
	for (const [node, before] of a) {
		const after = b.get(node) ?? [];
		for (const r of before) if (!after.includes(r)) out.push(`${node}: lost ${r}`);
		for (const r of after) if (!before.includes(r)) out.push(`${node}: new ${r}`);
	}
	return out;
}

function fdCount(pid: number): number {
	try {
		return readdirSync(`/proc/${pid}/fd`).length;
	} catch {
		return -1;
	}
}

/**
 * A process's descriptors without the transient ones: the least count seen in `ms`, sampled every 50 ms,
 * ending early once it is at most `atMost`. A status query's connection is still open in the node for a
 * moment after its answer has reached us, so one reading straight after a query counts it; a leaked
 * descriptor stays for the whole window.
 */
export async function settledFdCount(pid: number, ms: number, atMost = -1): Promise<number> {
	let least = fdCount(pid);
	const end = Date.now() + ms;
	while (least > atMost && Date.now() < end) {
		await sleep(50);
		const n = fdCount(pid);
		if (n >= 0 && (least < 0 || n < least)) least = n;
	}
	return least;
}

/** Waits until `ok` holds, polling every 100 ms; returns the ms it took, or -1 after `ms`. */
async function until(ok: () => Promise<boolean> | boolean, ms: number): Promise<number> {
	const start = Date.now();
	while (Date.now() - start < ms) {
		if (await ok()) return Date.now() - start;
		await sleep(100);
	}
	return -1;
}

export interface ChaosOptions {
	seconds?: number;
	seed?: number;
	log?: (line: string) => void;
	/** How long to wait for routing to return after the last fault. */
	settleMs?: number;
}

export async function runChaos(net: NsNet, o: ChaosOptions = {}): Promise<ChaosReport> {
	const seconds = o.seconds ?? 60;
	const random = seededRandom(o.seed ?? 1);
	const log = o.log ?? (() => {});
	const t = net.topology;
	const nodes = t.nodes.map((n) => n.name);
	const servers = t.nodes.filter((n) => n.role === 'server');
	const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
	const startRoutes = await routes(net);
	const fdsBefore = new Map<string, number>();
	for (const n of nodes) fdsBefore.set(n, await settledFdCount(net.pid(n), 500));
	const S = t.groups[0]!.anycast;
	const probe = watchProbe(net.ns(t.nodes.find((n) => n.role === 'client')!.name), selfCommand(), S, 20);
	const faults: Fault[] = [];
	const began = Date.now();
	await sleep(1000);
	const kinds: FaultKind[] = ['kill', 'link-flap', 'loss-burst', 'dns-stop'];
	while (Date.now() - began < seconds * 1000) {
		const kind = pick(kinds);
		const at = Date.now() - began;
		let target = '';
		if (kind === 'kill') {
			// One role process at a time, never all: wait for its supervisor to start the next before going on.
			target = pick(nodes);
			const pid = net.pid(target);
			process.kill(pid, 'SIGKILL');
			await until(() => {
				try {
					return net.pid(target) !== pid && alive(net.pid(target));
				} catch {
					return false;
				}
			}, 15_000);
		} else if (kind === 'link-flap') {
			const l = pick(t.links);
			target = `${l.a}–${l.b}`;
			spawnSync('ip', ['netns', 'exec', net.ns(l.a), 'ip', 'link', 'set', linkIfname(l.b), 'down']);
			await sleep(1500 + random() * 1500);
			spawnSync('ip', ['netns', 'exec', net.ns(l.a), 'ip', 'link', 'set', linkIfname(l.b), 'up']);
		} else if (kind === 'loss-burst') {
			const l = pick(t.links);
			target = `${l.a}–${l.b}`;
			setLoss(net.ns(l.a), linkIfname(l.b), 30);
			setLoss(net.ns(l.b), linkIfname(l.a), 30);
			await sleep(2000 + random() * 2000);
			setLoss(net.ns(l.a), linkIfname(l.b), 0);
			setLoss(net.ns(l.b), linkIfname(l.a), 0);
		} else {
			const n = pick(servers);
			target = n.name;
			const pidFile = `${net.state}/${n.name}.dnsmasq.pid`;
			try {
				process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
			} catch {
				// already gone
			}
			await sleep(2000 + random() * 1000);
			startDnsmasq(t, n, net.state, {step: () => {}, detail: () => {}});
		}
		const fault = {kind, target, at, ms: Date.now() - began - at};
		faults.push(fault);
		log(`${(at / 1000).toFixed(1).padStart(5)} s  ${kind.padEnd(10)} ${target}  (${fault.ms} ms)`);
		await sleep(1500 + random() * 1500);
	}
	const lastEnd = faults.length > 0 ? faults.at(-1)!.at + faults.at(-1)!.ms : 0;
	const settle = await until(async () => diff(startRoutes, await routes(net)).length === 0, o.settleMs ?? 30_000);
	const reconvergeMs = settle < 0 ? -1 : Date.now() - began - lastEnd;
	await sleep(500);
	probe.stop();
	const endRoutes = await routes(net);
	const answers = probe.answers.filter((a: ProbeAnswer) => a.sentAt >= began + 1000 && a.sentAt <= began + lastEnd);
	const answered = answers.filter((a) => !a.lost && a.answer).sort((a, b) => a.sentAt - b.sentAt);
	let longestGapMs = 0;
	for (let i = 1; i < answered.length; i++) longestGapMs = Math.max(longestGapMs, answered[i]!.sentAt - answered[i - 1]!.sentAt);
	const fdGrowth: string[] = [];
	for (const n of nodes) {
		const before = fdsBefore.get(n)!;
		const after = await settledFdCount(net.pid(n), 3000, before);
		if (after > before) fdGrowth.push(`${n}: ${before} → ${after}`);
	}
	const routeDiff = diff(startRoutes, endRoutes);
	return {
		seconds,
		faults,
		sent: answers.length,
		answered: answered.length,
		availability: answers.length ? (100 * answered.length) / answers.length : 0,
		longestGapMs,
		reconvergeMs,
		routesEqual: routeDiff.length === 0,
		routeDiff,
		fdGrowth,
		alive: nodes.every((n) => alive(net.pid(n))),
	};
}

/** Whether anything of `prefix` is left on the machine: namespaces, or processes whose pids the state directory named. */
export function leftovers(prefix: string, pids: number[]): string[] {
	const ns = (spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout ?? '').split('\n').filter((l) => l.startsWith(prefix));
	return [...ns.map((l) => `namespace ${l.split(' ')[0]}`), ...pids.filter(alive).map((p) => `process ${p}`)];
}
