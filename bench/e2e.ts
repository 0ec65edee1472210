// End-to-end figures on the default topology, each against the kernel
// forwarding the same topology in the same run (src/netns/kernel.ts): the same
// namespaces, veths and node addresses, kernel routes along the path the
// userspace routing takes, no TUNs and no processes.
//
//   e2e.udp.pps          agio_bench udp-blast in the client namespace sends
//                        100-byte UDP payloads from the client's address to
//                        S port 9999 as fast as it can; agio_bench udp-sink
//                        bound to S in server-a's namespace counts them.
//                        Median of ROUNDS rounds. In ours the path crosses
//                        five role processes (client, internet, boundary,
//                        router-a, server-a) and the sink is server-a's kernel
//                        behind its TUN; this direction is plain forwarding
//                        (only responses from S are stamped and verified).
//   e2e.ping.rtt_*_us    ping -6 -i 0.01 -c 300 from the client to S: p50
//                        and p99 of the reply times. In ours the reply is
//                        stamped by server-a, verified by the boundary and the
//                        client, and its source restored to S by the client.
//   e2e.hop.added_us_p50 (ours p50 − kernel p50) / the role processes a ping
//                        crosses there and back (10 on the default path).
//   failover.ms          anyguard probe asks S every 20 ms from the client;
//                        server-a's role process is SIGKILLed; the figure is
//                        when the first query that server-b answered was sent,
//                        after the kill. Baseline: the bound from the
//                        configuration, multiplier × BFD interval + the
//                        triggered-update maximum (docs/routing.md).
//
// Namespaces: k<pid>-* (kernel) and b<pid>-* (ours); no host link; both are
// removed in `finally` and on SIGINT.
import type * as M_cli_probe from '../src/cli/probe.js';
import type * as M_config_topology from '../src/config/topology.js';
import type * as M_netns_kernel from '../src/netns/kernel.js';
import type * as M_netns_setup from '../src/netns/setup.js';
import type {Topology} from '../src/config/topology.js';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {codeKind, load} from './code.js';
import {withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';
import {Procs, TOOL, k, median, sleep} from './proc.js';
import type {Json} from './proc.js';

const DEFAULT_TOPOLOGY = fileURLToPath(new URL('../netns/topologies/default.json', import.meta.url));
const SECONDS = 3;
const WARM = 0.5;
const ROUNDS = Number(process.env.ANYGUARD_BENCH_ROUNDS ?? 5);
const PINGS = 300;
const PAYLOAD = 100;
const SINK_PORT = 9999;

type Setup = typeof M_netns_setup;
type Kernel = typeof M_netns_kernel;
type Topo = typeof M_config_topology;

type ProbeMod = typeof M_cli_probe;

/** A copy of the default topology under `prefix`, key paths made absolute (as test/helpers/testnet.ts does). */
function topologyCopy(topo: Topo, prefix: string, dir: string): string {
	return topo.copyTopology(DEFAULT_TOPOLOGY, prefix, join(dir, `${prefix}topology.json`));
}

function percentile(xs: number[], p: number): number {
	const s = [...xs].sort((a, b) => a - b);
	if (s.length === 0) return NaN;
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

interface Measured {
	udp: number[];
	udpSent: number[];
	rtts: number[];
	lost: number;
}

/** UDP rounds and a ping series through network `t` (up already), client to S. */
async function measure(t: Topology, procs: Procs, log: (s: string) => void): Promise<Measured> {
	const ns = (n: string) => `${t.prefix}${n}`;
	const client = t.nodes.find((n) => n.role === 'client')!;
	const server = t.groups[0]!.servers[0]!;
	const S = t.groups[0]!.anycast;
	// A few pings first: neighbour discovery and route caches settle, and S must answer at all.
	const warm = spawnSync('ip', ['netns', 'exec', ns(client.name), 'ping', '-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', S], {encoding: 'utf8'});
	if (warm.status !== 0) throw new Error(`bench/e2e.ts: S does not answer pings in ${t.prefix}*: ${warm.stdout}${warm.stderr}`);
	const out: Measured = {udp: [], udpSent: [], rtts: [], lost: 0};
	for (let i = 0; i < ROUNDS; i++) {
		const sink = procs.start(ns(server), [TOOL, 'udp-sink', S, String(SINK_PORT), String(SECONDS), String(WARM)], -1);
		await sink.line('ready');
		const blast = procs.start(ns(client.name), [TOOL, 'udp-blast', client.host!.address, '40000', S, String(SINK_PORT), String(WARM + SECONDS + 0.5), String(PAYLOAD)], -1);
		await sleep(50);
		sink.go();
		const got: Json = await sink.result();
		const sent = await blast.result();
		out.udp.push(Number(got.pps));
		out.udpSent.push(Number(sent.pps));
		log(`    udp round ${i + 1}: ${k(got.pps)}/s delivered, ${k(sent.pps)}/s sent`);
		await sleep(300); // let the queues drain before the next round
	}
	const ping = spawnSync('ip', ['netns', 'exec', ns(client.name), 'ping', '-6', '-n', '-i', '0.01', '-c', String(PINGS), '-W', '1', S], {encoding: 'utf8', timeout: 60_000});
	for (const m of ping.stdout.matchAll(/time=([\d.]+) ms/g)) out.rtts.push(Number(m[1]) * 1000);
	out.lost = PINGS - out.rtts.length;
	log(`    ping: ${out.rtts.length} replies, p50 ${percentile(out.rtts, 50).toFixed(0)} µs`);
	return out;
}

/** The nodes a packet from the client to S crosses (ends included), by the kernel plan's routes. */
function pathToS(t: Topology, kernel: Kernel): string[] {
	const plan = kernel.kernelPlan(t);
	const S = `${t.groups[0]!.anycast}/128`;
	const path = [t.nodes.find((n) => n.role === 'client')!.name];
	for (;;) {
		const r = plan.routes.find((x) => x.node === path.at(-1) && x.prefix === S);
		if (!r || path.length > t.nodes.length) return path;
		path.push(r.peer);
	}
}

/** failover.ms: SIGKILL server-a's role process while probing S every 20 ms; when the first query server-b answered was sent. */
async function failover(t: Topology, state: string, setup: Setup, probe: ProbeMod, log: (s: string) => void): Promise<number> {
	const client = t.nodes.find((n) => n.role === 'client')!;
	const [first, second] = t.groups[0]!.servers as [string, string];
	const watch = probe.watchProbe(`${t.prefix}${client.name}`, setup.selfCommand(), t.groups[0]!.anycast, 20);
	try {
		const start = Date.now();
		if (!(await watch.waitFor(first, start, 10_000))) throw new Error(`bench/e2e.ts: ${first} never answered the probe`);
		await sleep(500);
		const pid = Number(readFileSync(join(state, `${first}.pid`), 'utf8'));
		const killed = Date.now();
		process.kill(pid, 'SIGKILL');
		const b = await watch.waitFor(second, killed, 5000);
		if (!b) throw new Error(`bench/e2e.ts: ${second} did not answer within 5 s of the kill`);
		const lost = watch.answers.filter((a) => a.sentAt >= killed && a.sentAt < b.sentAt).length;
		log(`    failover: ${b.sentAt - killed} ms (${lost} queries between the kill and the first answer from ${second})`);
		return b.sentAt - killed;
	} finally {
		watch.stop();
	}
}

export const run: Bench = async () => {
	if (process.getuid?.() !== 0) throw new Error('bench/e2e.ts needs root: it makes network namespaces');
	const log = (s: string) => process.stderr.write(`${s}\n`);
	const setup = await load<Setup>('netns/setup');
	const kernel = await load<Kernel>('netns/kernel');
	const topo = await load<Topo>('config/topology');
	const {loadTopology} = topo;
	const probe = await load<ProbeMod>('cli/probe');
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-bench-e2e-'));
	const tag = process.pid % 1000;
	const kFile = topologyCopy(topo, `k${tag}-`, dir);
	const oFile = topologyCopy(topo, `b${tag}-`, dir);
	const kt = loadTopology(kFile);
	const ot = loadTopology(oFile);
	const quiet = {step: (s: string) => log(`    up: ${s}`), detail: () => {}};
	const silent = {step: () => {}, detail: () => {}};
	const procs = new Procs();
	let cleaned = false;
	const cleanup = async () => {
		if (cleaned) return;
		cleaned = true;
		procs.killAll();
		await sleep(50);
		kernel.kernelDown(kt);
		await setup.down(oFile, {stateRoot: dir, progress: silent});
		rmSync(dir, {recursive: true, force: true});
	};
	const onSignal = () => void cleanup().finally(() => process.exit(130));
	process.once('SIGINT', onSignal);
	const results: Result[] = [];
	try {
		const path = pathToS(kt, kernel);
		const crossings = 2 * path.length;
		log(`  kernel baseline (${kt.prefix}*): path ${path.join(' → ')}`);
		kernel.kernelUp(kt);
		const kern = await measure(kt, procs, log);
		kernel.kernelDown(kt);

		log(`  anyguard (${ot.prefix}*, role processes from ${codeKind()}/)`);
		const {state} = await setup.up(oFile, {stateRoot: dir, hostLink: false, restartDelayMs: 10_000, progress: quiet});
		const ours = await measure(ot, procs, log);
		const failMs = await failover(ot, state, setup, probe, log);

		const kUdp: Result = {
			name: 'e2e.udp.kernel.pps',
			value: median(kern.udp),
			unit: 'packets/s',
			note: `kernel forwarding, client → S, 100-byte payloads (baseline); rounds ${kern.udp.map(k).join(', ')}; sender ${k(median(kern.udpSent))}/s`,
		};
		const oUdp: Result = withRatio(
			{
				name: 'e2e.udp.pps',
				value: median(ours.udp),
				unit: 'packets/s',
				note: `client → S through ${path.length} role processes (${codeKind()}); rounds ${ours.udp.map(k).join(', ')}; sender ${k(median(ours.udpSent))}/s`,
			},
			kUdp,
		);
		const kP50: Result = {name: 'e2e.ping.kernel.rtt_p50_us', value: percentile(kern.rtts, 50), unit: 'µs', note: `ping -i 0.01, ${kern.rtts.length} replies, ${kern.lost} lost (baseline)`};
		const kP99: Result = {name: 'e2e.ping.kernel.rtt_p99_us', value: percentile(kern.rtts, 99), unit: 'µs', note: 'baseline'};
		const added = (percentile(ours.rtts, 50) - kP50.value) / crossings;
		const kPerHop: Result = {
			name: 'e2e.hop.kernel_us_p50',
			value: kP50.value / crossings,
			unit: 'µs',
			note: `kernel p50 RTT / ${crossings}: the kernel's share per node crossed (baseline)`,
		};
		const bfd = ot.timers.bfd;
		const triggeredMax = ot.timers.ripng.triggeredMaxMs ?? 200;
		const bound: Result = {
			name: 'failover.bound_ms',
			value: bfd.multiplier * bfd.intervalMs + triggeredMax,
			unit: 'ms',
			note: `the configuration's bound: ${bfd.multiplier} × BFD ${bfd.intervalMs} ms + triggered-update maximum ${triggeredMax} ms (baseline)`,
		};
		results.push(
			kUdp,
			oUdp,
			{
				name: 'e2e.udp.ratio_vs_kernel',
				value: oUdp.value / kUdp.value,
				unit: '×',
				baseline: {name: kUdp.name, value: kUdp.value},
				ratio: oUdp.value / kUdp.value,
				goal: '>= 0.5',
				note: 'e2e.udp.pps / e2e.udp.kernel.pps, same run',
			},
			kP50,
			withRatio({name: 'e2e.ping.rtt_p50_us', value: percentile(ours.rtts, 50), unit: 'µs', note: `${ours.rtts.length} replies, ${ours.lost} lost; every reply stamped, verified twice`}, kP50),
			kP99,
			withRatio({name: 'e2e.ping.rtt_p99_us', value: percentile(ours.rtts, 99), unit: 'µs'}, kP99),
			kPerHop,
			withRatio(
				{
					name: 'e2e.hop.added_us_p50',
					value: added,
					unit: 'µs',
					goal: '<= 50',
					note: `(ours p50 ${percentile(ours.rtts, 50).toFixed(0)} − kernel p50 ${kP50.value.toFixed(0)} µs) / ${crossings} role processes crossed (${path.join(' → ')} and back)`,
				},
				kPerHop,
			),
			bound,
			withRatio({name: 'failover.ms', value: failMs, unit: 'ms', goal: '<= 500', note: 'SIGKILL of server-a\'s role process to the first DNS query (every 20 ms) answered by server-b'}, bound),
		);
	} finally {
		await cleanup();
		process.removeListener('SIGINT', onSignal);
	}
	return results;
};
