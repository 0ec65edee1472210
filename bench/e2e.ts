// End-to-end figures on the default topology, each against baselines on the
// same topology in the same run, the three networks up side by side and their
// rounds interleaved, so that the machine's load falls on all alike:
//
//   kernel    the Linux kernel forwarding (src/netns/kernel.ts): the same
//             namespaces, veths and node addresses, kernel routes along the
//             path the userspace routing takes, no TUNs and no processes.
//   C relay   the floor of a process-per-node design: the namespaces, veths
//             and TUNs of `anyguard up` (roles: false), and in each a minimal
//             C forwarder (bench/native/c_relay.c: static routes, no hooks,
//             the addon's batching and GSO), one process per node.
//   JS relay  the same with a Node process per node (bench/relay.mjs): the
//             addon's TUN and links, the same routes, no pipeline. Between the
//             C relay and anyguard it tells Node's and the addon's share.
//   anyguard  `anyguard up`: the role processes from dist/.
//
// The copy of the default topology drops the access links' ingress policing
// (10k packets/s at the internet router): neither baseline polices, and the
// figure is the cost of forwarding.
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
//   e2e.ping.rtt_*_us    ping -6 -i 0.01 from the client to S, PINGS in
//                        chunks of 100 per network, interleaved: p50 and p99
//                        of the reply times. In ours the reply is stamped by
//                        server-a, verified by the boundary and the client,
//                        and its source restored to S by the client.
//   e2e.hop.added_us_p50 (ours p50 − kernel p50) / the role processes a ping
//                        crosses there and back (10 on the default path);
//                        e2e.hop.c_relay_us_p50 the same for the C relays.
//   up.converge_ms       `anyguard up`: from the role processes' start to
//                        every node having a route to every host and S.
//   node.rss_mib         median resident memory of the role processes, once up.
//   failover.ms          anyguard probe asks S every 20 ms from the client;
//                        server-a's role process is SIGKILLed; the figure is
//                        when the first query that server-b answered was sent,
//                        after the kill. Baseline: the bound from the
//                        configuration, multiplier × BFD interval + the
//                        triggered-update maximum (docs/routing.md).
//
// Namespaces: k<pid>-* (kernel), c<pid>-* (C relays), j<pid>-* (JS relays) and b<pid>-* (ours); no
// host link; all removed in `finally` and on SIGINT.
import type * as M_cli_probe from '../src/cli/probe.js';
import type * as M_config_topology from '../src/config/topology.js';
import type * as M_netns_kernel from '../src/netns/kernel.js';
import type * as M_netns_names from '../src/netns/names.js';
import type * as M_netns_setup from '../src/netns/setup.js';
import type {Topology} from '../src/config/topology.js';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {codeKind, load} from './code.js';
import {tool} from './native/build.js';
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
const JS_RELAY = fileURLToPath(new URL('relay.mjs', import.meta.url));

type Setup = typeof M_netns_setup;
type Kernel = typeof M_netns_kernel;
type Topo = typeof M_config_topology;
type Names = typeof M_netns_names;

type ProbeMod = typeof M_cli_probe;

/** A copy of the default topology under `prefix`, key paths made absolute (as test/helpers/testnet.ts does), no ingress policing. */
function topologyCopy(topo: Topo, prefix: string, dir: string): string {
	const file = topo.copyTopology(DEFAULT_TOPOLOGY, prefix, join(dir, `${prefix}topology.json`));
	// No baseline polices: the kernel, the C relay and the JS relay forward whatever comes.
	const json = JSON.parse(readFileSync(file, 'utf8')) as {links: Array<{police?: unknown}>};
	for (const l of json.links) delete l.police;
	writeFileSync(file, JSON.stringify(json, null, 2));
	return file;
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

const empty = (): Measured => ({udp: [], udpSent: [], rtts: [], lost: 0});

/** The client's address and S of network `t`. */
function ends(t: Topology) {
	return {client: t.nodes.find((n) => n.role === 'client')!, server: t.groups[0]!.servers[0]!, S: t.groups[0]!.anycast};
}

/** A few pings first: neighbour discovery and route caches settle, and S must answer at all. */
function warmUp(t: Topology): void {
	const {client, S} = ends(t);
	const warm = spawnSync('ip', ['netns', 'exec', `${t.prefix}${client.name}`, 'ping', '-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', S], {encoding: 'utf8'});
	if (warm.status !== 0) throw new Error(`bench/e2e.ts: S does not answer pings in ${t.prefix}*: ${warm.stdout}${warm.stderr}`);
}

/** One UDP round through network `t`, client to S. */
async function udpRound(t: Topology, procs: Procs, out: Measured, log: (s: string) => void, label: string): Promise<void> {
	const ns = (n: string) => `${t.prefix}${n}`;
	const {client, server, S} = ends(t);
	const sink = procs.start(ns(server), [TOOL, 'udp-sink', S, String(SINK_PORT), String(SECONDS), String(WARM)], -1);
	await sink.line('ready');
	const blast = procs.start(ns(client.name), [TOOL, 'udp-blast', client.host!.address, '40000', S, String(SINK_PORT), String(WARM + SECONDS + 0.5), String(PAYLOAD)], -1);
	await sleep(50);
	sink.go();
	const got: Json = await sink.result();
	const sent = await blast.result();
	out.udp.push(Number(got.pps));
	out.udpSent.push(Number(sent.pps));
	log(`    ${label} udp: ${k(got.pps)}/s delivered, ${k(sent.pps)}/s sent`);
	await sleep(300); // let the queues drain before the next round
}

/** `count` pings from the client to S, every 10 ms. */
function pingChunk(t: Topology, count: number, out: Measured): void {
	const {client, S} = ends(t);
	const ping = spawnSync('ip', ['netns', 'exec', `${t.prefix}${client.name}`, 'ping', '-6', '-n', '-i', '0.01', '-c', String(count), '-W', '1', S], {encoding: 'utf8', timeout: 60_000});
	let got = 0;
	for (const m of ping.stdout.matchAll(/time=([\d.]+) ms/g)) {
		out.rtts.push(Number(m[1]) * 1000);
		got++;
	}
	out.lost += count - got;
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

/** The C relay's arguments for `node`: its TUN, its links' data sockets, the kernel plan's routes, and its own prefixes to the TUN. */
function relayArgs(t: Topology, kernel: Kernel, names: Names, node: string): string[] {
	const args = ['--tun', names.TUN_NAME];
	for (const l of t.links.filter((x) => x.a === node || x.b === node)) {
		const peer = l.a === node ? l.b : l.a;
		args.push('--link', names.linkIfname(peer), names.underlayAddress(t, l, node), names.underlayAddress(t, l, peer), String(names.LINK_PORT));
	}
	for (const r of kernel.kernelPlan(t).routes.filter((x) => x.node === node)) args.push('--route', r.prefix, names.linkIfname(r.peer));
	const spec = t.nodes.find((n) => n.name === node)!;
	if (spec.host) for (const p of [`${spec.host.address}/128`, ...(spec.host.prefixes ?? [])]) args.push('--route', p, 'tun');
	if (spec.role === 'server') for (const g of t.groups.filter((x) => spec.groups?.includes(x.name))) args.push('--route', `${g.anycast}/128`, 'tun');
	return args;
}

/** Resident memory of each role process of the running network, KiB: VmRSS, RssAnon (private) and Pss. */
function roleMemory(t: Topology, state: string): Array<{node: string; rss: number; anon: number; pss: number}> {
	const out = [];
	for (const n of t.nodes) {
		try {
			const pid = Number(readFileSync(join(state, `${n.name}.pid`), 'utf8'));
			const status = readFileSync(`/proc/${pid}/status`, 'utf8');
			const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
			const kib = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
			out.push({node: n.name, rss: kib(status, 'VmRSS'), anon: kib(status, 'RssAnon'), pss: kib(rollup, 'Pss')});
		} catch {
			// restarted between the pid file and /proc: left out
		}
	}
	return out;
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
	const names = await load<Names>('netns/names');
	const topo = await load<Topo>('config/topology');
	const {loadTopology} = topo;
	const probe = await load<ProbeMod>('cli/probe');
	const relay = tool('c_relay');
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-bench-e2e-'));
	const tag = process.pid % 1000;
	const kFile = topologyCopy(topo, `k${tag}-`, dir);
	const cFile = topologyCopy(topo, `c${tag}-`, dir);
	const jFile = topologyCopy(topo, `j${tag}-`, dir);
	const oFile = topologyCopy(topo, `b${tag}-`, dir);
	const kt = loadTopology(kFile);
	const ct = loadTopology(cFile);
	const jt = loadTopology(jFile);
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
		await setup.down(cFile, {stateRoot: dir, progress: silent});
		await setup.down(jFile, {stateRoot: dir, progress: silent});
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
		log(`  C relays (${ct.prefix}*, ${relay})`);
		await setup.up(cFile, {stateRoot: dir, hostLink: false, roles: false, progress: silent});
		for (const n of ct.nodes) await procs.start(`${ct.prefix}${n.name}`, [relay, ...relayArgs(ct, kernel, names, n.name)], -1).line('ready');
		log(`  JS relays (${jt.prefix}*, bench/relay.mjs)`);
		await setup.up(jFile, {stateRoot: dir, hostLink: false, roles: false, progress: silent});
		for (const n of jt.nodes) await procs.start(`${jt.prefix}${n.name}`, [process.execPath, JS_RELAY, ...relayArgs(jt, kernel, names, n.name)], -1).line('ready');
		log(`  anyguard (${ot.prefix}*, role processes from ${codeKind()}/)`);
		const {state, routingMs, livenessMs} = await setup.up(oFile, {stateRoot: dir, hostLink: false, restartDelayMs: 10_000, progress: quiet});
		await sleep(1000); // let start-up allocation settle before reading memory
		const memory = roleMemory(ot, state);

		const nets: Array<[string, Topology, Measured]> = [
			['kernel', kt, empty()],
			['c-relay', ct, empty()],
			['js-relay', jt, empty()],
			['anyguard', ot, empty()],
		];
		for (const [, t] of nets) warmUp(t);
		for (let i = 0; i < ROUNDS; i++) for (const [label, t, m] of nets) await udpRound(t, procs, m, log, `round ${i + 1} ${label}`);
		for (let done = 0; done < PINGS; done += 100) for (const [, t, m] of nets) pingChunk(t, Math.min(100, PINGS - done), m);
		for (const [label, , m] of nets) log(`    ${label} ping: ${m.rtts.length} replies, p50 ${percentile(m.rtts, 50).toFixed(0)} µs, p99 ${percentile(m.rtts, 99).toFixed(0)} µs`);
		const [kern, crel, jrel, ours] = nets.map(([, , m]) => m) as [Measured, Measured, Measured, Measured];
		const failMs = await failover(ot, state, setup, probe, log);

		const kUdp: Result = {
			name: 'e2e.udp.kernel.pps',
			value: median(kern.udp),
			unit: 'packets/s',
			note: `kernel forwarding, client → S, 100-byte payloads (baseline); rounds ${kern.udp.map(k).join(', ')}; sender ${k(median(kern.udpSent))}/s`,
		};
		const cUdp: Result = withRatio(
			{
				name: 'e2e.udp.c_relay.pps',
				value: median(crel.udp),
				unit: 'packets/s',
				note: `client → S through ${path.length} C relays (bench/native/c_relay.c); rounds ${crel.udp.map(k).join(', ')}; sender ${k(median(crel.udpSent))}/s`,
			},
			kUdp,
		);
		const oUdp: Result = withRatio(
			{
				name: 'e2e.udp.pps',
				value: median(ours.udp),
				unit: 'packets/s',
				note: `client → S through ${path.length} role processes (${codeKind()}); rounds ${ours.udp.map(k).join(', ')}; sender ${k(median(ours.udpSent))}/s`,
			},
			kUdp,
		);
		const p = (m: Measured, q: number) => percentile(m.rtts, q);
		const kP50: Result = {name: 'e2e.ping.kernel.rtt_p50_us', value: p(kern, 50), unit: 'µs', note: `ping -i 0.01, ${kern.rtts.length} replies, ${kern.lost} lost (baseline)`};
		const kP99: Result = {name: 'e2e.ping.kernel.rtt_p99_us', value: p(kern, 99), unit: 'µs', note: 'baseline'};
		const cP50: Result = withRatio({name: 'e2e.ping.c_relay.rtt_p50_us', value: p(crel, 50), unit: 'µs', note: `${crel.rtts.length} replies, ${crel.lost} lost`}, kP50);
		const cP99: Result = withRatio({name: 'e2e.ping.c_relay.rtt_p99_us', value: p(crel, 99), unit: 'µs'}, kP99);
		const kPerHop: Result = {name: 'e2e.hop.kernel_us_p50', value: p(kern, 50) / crossings, unit: 'µs', note: `kernel p50 RTT / ${crossings}: the kernel's share per node crossed (baseline)`};
		const cPerHop: Result = withRatio(
			{
				name: 'e2e.hop.c_relay_us_p50',
				value: (p(crel, 50) - p(kern, 50)) / crossings,
				unit: 'µs',
				note: `(C relay p50 ${p(crel, 50).toFixed(0)} − kernel p50 ${p(kern, 50).toFixed(0)} µs) / ${crossings} processes crossed: the floor of a process per node`,
			},
			kPerHop,
		);
		const jPerHop: Result = withRatio(
			{
				name: 'e2e.hop.js_relay_us_p50',
				value: (p(jrel, 50) - p(kern, 50)) / crossings,
				unit: 'µs',
				note: `(JS relay p50 ${p(jrel, 50).toFixed(0)} − kernel p50 ${p(kern, 50).toFixed(0)} µs) / ${crossings}: a Node process on the addon, no pipeline (context); p99 ${p(jrel, 99).toFixed(0)} µs; UDP ${k(median(jrel.udp))}/s`,
			},
			cPerHop,
		);
		const spread = (m: Measured) => p(m, 99) / p(m, 50);
		const kSpread: Result = {name: 'e2e.ping.kernel.p99_over_p50', value: spread(kern), unit: '×', note: 'kernel p99 / p50 (context)'};
		const cSpread: Result = {name: 'e2e.ping.c_relay.p99_over_p50', value: spread(crel), unit: '×', note: 'C relay p99 / p50 (baseline)'};
		const bfd = ot.timers.bfd;
		const triggeredMax = ot.timers.ripng.triggeredMaxMs ?? 200;
		const bound: Result = {
			name: 'failover.bound_ms',
			value: bfd.multiplier * bfd.intervalMs + triggeredMax,
			unit: 'ms',
			note: `the configuration's bound: ${bfd.multiplier} × BFD ${bfd.intervalMs} ms + triggered-update maximum ${triggeredMax} ms (baseline)`,
		};
		const mib = (kib: number) => kib / 1024;
		const rssNote = memory.map((x) => `${x.node} ${mib(x.rss).toFixed(0)}`).join(', ');
		results.push(
			kUdp,
			cUdp,
			oUdp,
			{
				name: 'e2e.udp.ratio_vs_kernel',
				value: oUdp.value / kUdp.value,
				unit: '×',
				baseline: {name: kUdp.name, value: kUdp.value},
				ratio: oUdp.value / kUdp.value,
				goal: '>= 0.7',
				note: 'e2e.udp.pps / e2e.udp.kernel.pps, same run',
			},
			withRatio({name: 'e2e.udp.vs_c_relay', value: oUdp.value, unit: 'packets/s', note: 'e2e.udp.pps against the C relays: what the pipeline costs over the floor of a process per node'}, cUdp),
			kP50,
			cP50,
			withRatio({name: 'e2e.ping.rtt_p50_us', value: p(ours, 50), unit: 'µs', note: `${ours.rtts.length} replies, ${ours.lost} lost; every reply stamped, verified twice`}, kP50),
			kP99,
			cP99,
			withRatio({name: 'e2e.ping.rtt_p99_us', value: p(ours, 99), unit: 'µs'}, kP99),
			kSpread,
			cSpread,
			withRatio({name: 'e2e.ping.p99_over_p50', value: spread(ours), unit: '×', goal: '<= 2', note: `anyguard p99 ${p(ours, 99).toFixed(0)} / p50 ${p(ours, 50).toFixed(0)} µs`}, cSpread),
			kPerHop,
			cPerHop,
			jPerHop,
			withRatio(
				{
					name: 'e2e.hop.added_us_p50',
					value: (p(ours, 50) - p(kern, 50)) / crossings,
					unit: 'µs',
					goal: '<= 50 and ratio <= 1.5',
					note: `(ours p50 ${p(ours, 50).toFixed(0)} − kernel p50 ${p(kern, 50).toFixed(0)} µs) / ${crossings} role processes crossed (${path.join(' → ')} and back); kernel's own share ${kPerHop.value.toFixed(1)} µs per node`,
				},
				cPerHop,
			),
			{name: 'up.converge_ms', value: routingMs, unit: 'ms', goal: '<= 2000', note: `anyguard up: role processes started to every node routing to every host and S at the metric the costs predict (${codeKind()}/)`},
			{name: 'up.bfd_up_ms', value: livenessMs, unit: 'ms', note: 'and to every link\'s BFD session Up: when up returns'},
			{name: 'node.rss_mib', value: mib(median(memory.map((x) => x.rss))), unit: 'MiB', goal: '<= 50', note: `VmRSS of the role processes, median of ${memory.length}: ${rssNote}`},
			{
				name: 'node.rss.private_mib',
				value: mib(median(memory.map((x) => x.anon))),
				unit: 'MiB',
				note: `RssAnon (the process's own pages; the rest of VmRSS is the node binary's file pages, shared by every process), median; PSS median ${mib(median(memory.map((x) => x.pss))).toFixed(1)} MiB`,
			},
			bound,
			withRatio({name: 'failover.ms', value: failMs, unit: 'ms', goal: '<= 500', note: "SIGKILL of server-a's role process to the first DNS query (every 20 ms) answered by server-b"}, bound),
		);
	} finally {
		await cleanup();
		process.removeListener('SIGINT', onSignal);
	}
	return results;
};
