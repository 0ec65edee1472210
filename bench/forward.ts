// node.forward.pps: one router process between two UDP links, against the
// kernel forwarding the same traffic through the same namespaces and veths in
// the same run.
//
//   a ──veth── r ──veth── b        (namespaces f<pid>-a, -r, -b)
//
//   ours     a C sender (agio_bench udp-blast-hex) in a sends, from a's
//            underlay end, datagrams each holding one inner IPv6/UDP packet
//            (100-byte payload) for b's address; in r the router's pipeline
//            (buildStack of a router node, its two UdpLinks, wired with the
//            port glue `anyguard node` uses, src/assembly/ports.ts) forwards
//            them; a C recvmmsg sink in b counts what arrives on b's underlay end.
//   kernel   the same sender sends the inner packet's 100-byte payload
//            natively to b's address; r's kernel forwards
//            (net.ipv6.conf.all.forwarding=1, routes from src/netns/kernel.ts);
//            the same sink counts on b's address.
//   relay    a JS process moving each datagram from one UdpLink to the
//            other with no pipeline at all: what the I/O alone allows.
//   C relay  bench/native/c_relay.c in r between the same two links, a
//            static route to b: a userspace forwarder in C with the addon's
//            batching and GSO (the fair baseline of a userspace router).
//
// Each figure is the sink's rate, median of ROUNDS rounds, kernel, ours,
// relay and C relay alternating. The sender is pinned to cpu 1 and the forwarder to cpu 0;
// the sink is placed by the scheduler. Run as a script with `child ...` it is
// the JS side in r. ANYGUARD_BENCH_PROFILE=DIR writes a --cpu-prof of each
// `ours` round there.
import type * as M_assembly_ports from '../src/assembly/ports.js';
import type * as M_assembly_stack from '../src/assembly/stack.js';
import type * as M_config_topology from '../src/config/topology.js';
import type * as M_io_udp_link from '../src/io/udp-link.js';
import type * as M_netns_kernel from '../src/netns/kernel.js';
import type * as M_netns_names from '../src/netns/names.js';
import type * as M_ops_capture from '../src/ops/capture.js';
import type * as M_ops_trace from '../src/ops/trace.js';
import type * as M_util_addr from '../src/util/addr.js';
import type * as M_util_clock from '../src/util/clock.js';
import type * as M_util_log from '../src/util/log.js';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {codeKind, load} from './code.js';
import {withRatio} from './lib.js';
import {tool} from './native/build.js';
import type {Bench, Result} from './lib.js';
import {Procs, TOOL, k, median, sleep} from './proc.js';
import type {Json} from './proc.js';

const HERE = fileURLToPath(import.meta.url);
const SECONDS = 2;
const WARM = 0.5;
const ROUNDS = Number(process.env.ANYGUARD_BENCH_ROUNDS ?? 3);
const PAYLOAD = 100;
const ADDR = {a: '2001:db8:fa::1', r: '2001:db8:fa::2', b: '2001:db8:fa::3'};
const SINK_PORT = 9999;

type Kernel = typeof M_netns_kernel;
type Names = typeof M_netns_names;

// ---- the JS side in r ----------------------------------------------------------

async function child(args: string[]): Promise<void> {
	const [mode, file] = args as [string, string];
	const {loadTopology} = await load<typeof M_config_topology>('config/topology');
	const {openUdpLink} = await load<typeof M_io_udp_link>('io/udp-link');
	const names = await load<Names>('netns/names');
	const t = loadTopology(file);
	const say = (obj: object) => process.stdout.write(JSON.stringify(obj) + '\n');
	const open = (peer: string) => {
		const link = names.findLink(t, 'r', peer);
		const ifname = names.linkIfname(peer);
		return openUdpLink({
			name: ifname,
			local: {address: names.underlayAddress(t, link, 'r'), ifname, port: names.LINK_PORT},
			peer: {address: names.underlayAddress(t, link, peer), port: names.LINK_PORT},
		});
	};
	const fromA = open('a');
	const toB = open('b');
	let drops = 0;
	if (mode === 'relay') {
		fromA.onReceive((buf, offsets, lengths, count) => {
			for (let i = 0; i < count; i++) toB.send(buf, offsets[i], lengths[i]);
		});
	} else {
		// What `anyguard node r` does (src/cli/node.ts), with a static route to b's address instead of RIPng's.
		const {buildStack} = await load<typeof M_assembly_stack>('assembly/stack');
		const {SystemClock} = await load<typeof M_util_clock>('util/clock');
		const {Tap} = await load<typeof M_ops_capture>('ops/capture');
		const {Tracer} = await load<typeof M_ops_trace>('ops/trace');
		const {attachLink, dropLogger} = await load<typeof M_assembly_ports>('assembly/ports');
		const {createLogger} = await load<typeof M_util_log>('util/log');
		const {parseAddr} = await load<typeof M_util_addr>('util/addr');
		const log = createLogger('r', {file: join(args[2]!, 'r.log'), level: 'info'});
		const onDrop = dropLogger(log);
		const stack = buildStack(t, 'r', {
			clock: new SystemClock(),
			wallNow: () => Date.now(),
			onDrop: (reason) => {
				drops++;
				onDrop(reason);
			},
		});
		const tracer = new Tracer(stack.pipeline);
		void tracer;
		const tap = new Tap();
		for (const [peer, port] of [
			['a', fromA],
			['b', toB],
		] as const)
			attachLink(stack, peer, port, undefined, tap);
		stack.start();
		stack.router.table.upsert({prefix: parseAddr(ADDR.b), len: 128, origin: 'static', metric: 1, nextHop: {kind: 'direct', link: 'b'}, advertise: false});
	}
	say({mode: 'ready'});
	await new Promise<void>((resolve) => createInterface({input: process.stdin}).once('line', () => resolve()));
	await sleep(WARM * 1000);
	const a0 = fromA.stats();
	const b0 = toB.stats();
	const t0 = performance.now();
	const cpu0 = process.cpuUsage();
	await sleep(SECONDS * 1000);
	const cpu = process.cpuUsage(cpu0);
	const a1 = fromA.stats();
	const b1 = toB.stats();
	const s = (performance.now() - t0) / 1000;
	say({
		mode: 'js',
		rxPps: (a1.rxPackets - a0.rxPackets) / s,
		txPps: (b1.txPackets - b0.txPackets) / s,
		rxBatch: (a1.rxPackets - a0.rxPackets) / Math.max(1, a1.rxBatches - a0.rxBatches),
		txBatch: (b1.txPackets - b0.txPackets) / Math.max(1, b1.txSyscalls - b0.txSyscalls),
		kernelDrops: a1.rxKernelDrops - a0.rxKernelDrops,
		txDrops: b1.txDrops - b0.txDrops,
		drops,
		// CPU time of the process per second of the window: 1 is one core busy.
		user: cpu.user / 1e6 / s,
		system: cpu.system / 1e6 / s,
	});
	process.exit(0);
}

if (process.argv[1] === HERE && process.argv[2] === 'child') await child(process.argv.slice(3));

// ---- the parent ---------------------------------------------------------------

/** The inner packet a → b: IPv6/UDP, 100-byte payload, hop limit 64, valid checksum. */
async function innerPacket(): Promise<string> {
	const {buildPacket} = await import('../src/wire/index.js');
	const {parseAddr} = await import('../src/util/addr.js');
	const packet = buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: parseAddr(ADDR.a), dst: parseAddr(ADDR.b)},
		ext: [],
		upper: {proto: 17, udp: {srcPort: 40000, dstPort: SINK_PORT, payload: new Uint8Array(PAYLOAD).fill(0x61)}},
	});
	return Buffer.from(packet).toString('hex');
}

/** The forwarder's CPU use in the window: user and system time per second. */
const cpuShare = (js: Json) => `${(Number(js.user) * 100).toFixed(0)}% user + ${(Number(js.system) * 100).toFixed(0)}% system`;

export const run: Bench = async () => {
	if (process.getuid?.() !== 0) throw new Error('bench/forward.ts needs root: it makes network namespaces');
	const kernel = await load<Kernel>('netns/kernel');
	const {loadTopology} = await load<typeof M_config_topology>('config/topology');
	const names = await load<Names>('netns/names');
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-bench-fwd-'));
	const file = join(dir, 'topology.json');
	writeFileSync(
		file,
		JSON.stringify({
			name: 'forward',
			description: 'one router between two links (bench/forward.ts)',
			prefix: `f${process.pid % 1000}-`,
			groups: [],
			nodes: Object.entries(ADDR).map(([name, address]) => ({name, role: 'router', address})),
			links: [
				{a: 'a', b: 'r'},
				{a: 'r', b: 'b'},
			],
		}),
	);
	const t = loadTopology(file);
	const ns = (n: string) => names.namespace(t, n);
	const procs = new Procs();
	const results: Result[] = [];
	const onSignal = () => {
		procs.killAll();
		kernel.kernelDown(t);
		process.exit(130);
	};
	process.once('SIGINT', onSignal);
	try {
		kernel.kernelUp(t);
		// The userspace network's underlay on the same veths: the underlay ends are there already; MTU inner + 48.
		for (const l of t.links)
			for (const [node, peer] of [
				[l.a, l.b],
				[l.b, l.a],
			] as const)
				kernel.run(['ip', '-n', ns(node), 'link', 'set', 'dev', names.linkIfname(peer), 'mtu', String(l.mtu + names.UNDERLAY_OVERHEAD)]);
		const hex = await innerPacket();
		const linkAR = names.findLink(t, 'a', 'r');
		const linkRB = names.findLink(t, 'r', 'b');
		const aEnd = `${names.underlayAddress(t, linkAR, 'a')}%${names.linkIfname('r')}`;
		const rEndA = `${names.underlayAddress(t, linkAR, 'r')}%${names.linkIfname('r')}`;
		const bEnd = `${names.underlayAddress(t, linkRB, 'b')}%${names.linkIfname('r')}`;
		const port = String(names.LINK_PORT);
		const blastFor = String(WARM + SECONDS + 1);
		const profileDir = process.env.ANYGUARD_BENCH_PROFILE;

		const kernelRound = async (): Promise<Json> => {
			const sink = procs.start(ns('b'), [TOOL, 'udp-sink', ADDR.b, String(SINK_PORT), String(SECONDS), String(WARM)], -1);
			await sink.line('ready');
			const blast = procs.start(ns('a'), [TOOL, 'udp-blast', ADDR.a, '40000', ADDR.b, String(SINK_PORT), blastFor, String(PAYLOAD)], 1);
			await sleep(100);
			sink.go();
			const out = await sink.result();
			return {...out, sent: Number((await blast.result()).pps)};
		};
		/** One round through the forwarder in r (started and ready): a sink on b, the encapsulated blast from a; `go` starts a forwarder that waits for it. */
		const throughR = async (go: () => void = () => {}): Promise<{sink: Json; sent: number}> => {
			const sink = procs.start(ns('b'), [TOOL, 'udp-sink', bEnd, port, String(SECONDS), String(WARM)], -1);
			await sink.line('ready');
			const blast = procs.start(ns('a'), [TOOL, 'udp-blast-hex', aEnd, port, rEndA, port, blastFor, hex], 1);
			await sleep(100);
			sink.go();
			go();
			return {sink: await sink.result(), sent: Number((await blast.result()).pps)};
		};
		const jsRound = async (mode: 'node' | 'relay'): Promise<{sink: Json; js: Json; sent: number}> => {
			const flags = profileDir && mode === 'node' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
			const fwd = procs.start(ns('r'), [process.execPath, ...flags, '--import', 'tsx', HERE, 'child', mode, file, dir], 0);
			await fwd.line('ready');
			const round = await throughR(() => fwd.go());
			return {...round, js: await fwd.result()};
		};

		const cRelayArgs = [
			'--link', names.linkIfname('a'), names.underlayAddress(t, linkAR, 'r'), names.underlayAddress(t, linkAR, 'a'), port,
			'--link', names.linkIfname('b'), names.underlayAddress(t, linkRB, 'r'), names.underlayAddress(t, linkRB, 'b'), port,
			'--route', `${ADDR.b}/128`, names.linkIfname('b'),
		];
		const cRound = async (): Promise<{sink: Json; sent: number}> => {
			const fwd = procs.start(ns('r'), [tool('c_relay'), ...cRelayArgs], 0);
			await fwd.line('ready');
			const round = await throughR();
			fwd.kill();
			await fwd.exited();
			return round;
		};
		const kRounds: Json[] = [];
		const oRounds: Array<{sink: Json; js: Json; sent: number}> = [];
		const rRounds: Array<{sink: Json; js: Json; sent: number}> = [];
		const cRounds: Array<{sink: Json; sent: number}> = [];
		for (let i = 0; i < ROUNDS; i++) {
			kRounds.push(await kernelRound());
			oRounds.push(await jsRound('node'));
			rRounds.push(await jsRound('relay'));
			cRounds.push(await cRound());
		}
		const pick = <T extends {sink: Json}>(rounds: T[]) => [...rounds].sort((x, y) => Number(x.sink.pps) - Number(y.sink.pps))[rounds.length >> 1]!;
		const kernelR: Result = {
			name: 'node.forward.kernel.pps',
			value: median(kRounds.map((r) => Number(r.pps))),
			unit: 'packets/s',
			note: `kernel IPv6 forwarding in r of the same 100-byte UDP payloads (baseline); rounds ${kRounds.map((r) => k(r.pps)).join(', ')}; sender ${k(median(kRounds.map((r) => Number(r.sent))))}/s`,
		};
		const relay = pick(rRounds);
		const relayR: Result = {
			name: 'node.forward.relay.pps',
			value: median(rRounds.map((r) => Number(r.sink.pps))),
			unit: 'packets/s',
			note: `a JS process moving datagrams between the same two UdpLinks, no pipeline: the I/O ceiling; rounds ${rRounds.map((r) => k(r.sink.pps)).join(', ')}; rx batch ${Number(relay.js.rxBatch).toFixed(1)}, ${relay.js.kernelDrops} socket-buffer drops; CPU ${cpuShare(relay.js)}`,
		};
		const ours = pick(oRounds);
		const oursR: Result = {
			name: 'node.forward.pps',
			value: median(oRounds.map((r) => Number(r.sink.pps))),
			unit: 'packets/s',
			goal: '>= 1e5',
			note: `one router process (${codeKind()}) between two UDP links, counted at the sink; rounds ${oRounds.map((r) => k(r.sink.pps)).join(', ')}; median round: rx ${k(ours.js.rxPps)}/s in batches of ${Number(ours.js.rxBatch).toFixed(1)}, tx batch ${Number(ours.js.txBatch).toFixed(1)}, ${ours.js.kernelDrops} socket-buffer drops, ${ours.js.drops} pipeline drops; CPU ${cpuShare(ours.js)}; sender ${k(ours.sent)}/s`,
		};
		const cRelayR: Result = {
			name: 'node.forward.c_relay.pps',
			value: median(cRounds.map((r) => Number(r.sink.pps))),
			unit: 'packets/s',
			note: `bench/native/c_relay.c in r: recvmmsg 64, sendmmsg with GSO, a static route, no pipeline; rounds ${cRounds.map((r) => k(r.sink.pps)).join(', ')}; sender ${k(median(cRounds.map((r) => r.sent)))}/s`,
		};
		results.push(
			kernelR,
			withRatio(oursR, kernelR),
			withRatio(relayR, kernelR),
			withRatio(cRelayR, kernelR),
			withRatio({name: 'node.forward.vs_relay', value: oursR.value, unit: 'packets/s', note: "node.forward.pps against the bare JS relay: the ratio is the pipeline's share of the cost"}, relayR),
			withRatio({name: 'node.forward.vs_c_relay', value: oursR.value, unit: 'packets/s', note: 'node.forward.pps against the C forwarder with the same batching'}, cRelayR),
		);
	} finally {
		procs.killAll();
		await sleep(50);
		kernel.kernelDown(t);
		rmSync(dir, {recursive: true, force: true});
		process.removeListener('SIGINT', onSignal);
	}
	return results;
};
