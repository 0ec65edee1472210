// I/O figures (suite `tun`): the addon's TUN reader and writer and its UDP
// link, each against a plain-C program doing the same job on the same kernel
// path in the same run (bench/native/agio_bench.c, built on demand into build/bench/).
//
//   tun.read.pps    a C sender hands packets to the TUN's transmit routine
//                   (AF_PACKET, qdisc bypassed); the JS reader drains them.
//                   Baseline: a C poll+read loop on the same TUN, same sender.
//   tun.write.pps   JS writes one UDP packet after another into the TUN, to a
//                   socket of the kernel's. Baseline: a C write(2) loop.
//   udp.recv.pps    a C sendmmsg sender in one namespace, the JS UdpLink in
//                   another across a veth. Baseline: a C recvmmsg sink.
//   udp.send.pps    JS UdpLink.sendBatch of 64 equal datagrams across the
//                   veth: one UDP GSO message per sendmmsg. Baseline: the C
//                   sender doing the same (bench/native/c_send.c); the C
//                   sendmmsg of 64 one-datagram messages (udp.send.c.pps) is
//                   kept as context.
//   udp.forward.pps a JS forwarder between two UdpLinks (receive batch in,
//                   the same packets out); counted at a C sink beyond it.
//                   Baseline: a C forwarder with the addon's batching and GSO
//                   (bench/native/c_relay.c) between the same links, same
//                   sender and sink.
//
// Needs root (namespaces); the namespaces are named agio-bench-<pid>-* and
// removed at the end. Sender and receiver are pinned to different cores when
// the machine has two, so the sender is not starved by the reader it feeds.
// Run as a script with `child ...` it is the JS side inside a namespace.
import {execFileSync, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';
import {tool} from './native/build.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The plain-C baselines (bench/native/agio_bench.c), built on first use. */
const TOOL = tool('agio_bench');
const PREFIX = `agio-bench-${process.pid}-`;
/** Seconds measured per figure, after WARM seconds of traffic. */
const SECONDS = 1.5;
const WARM = 0.4;
/** Rounds of the TUN read figure, the one with a goal. */
const ROUNDS = 3;
/** UDP payload the senders use: 64-byte datagrams on the links, 112-byte IPv6/UDP packets on the TUN. */
const PAYLOAD = 64;

type Json = Record<string, number | string>;

// ---- the JS side, run inside a namespace ------------------------------------

/** What the kernel offered a TUN (read + dropped for a full ring, tun_net_xmit) per its statistics; 0 for other ports. */
function offered(dev: string): number {
	let sum = 0;
	for (const counter of ['tx_packets', 'tx_dropped']) {
		try {
			sum += Number(readFileSync(`/sys/class/net/${dev}/statistics/${counter}`, 'utf8'));
		} catch {
			return 0;
		}
	}
	return sum;
}

async function child(args: string[]): Promise<void> {
	const io = await import('../src/io/index.js');
	const say = (obj: object) => process.stdout.write(JSON.stringify(obj) + '\n');
	const go = () => new Promise<void>((resolve) => createInterface({input: process.stdin}).once('line', () => resolve()));
	const sleep = (s: number) => new Promise((resolve) => setTimeout(resolve, s * 1000));
	// Each receiver touches every packet's length, as any consumer must.
	let sum = 0;
	const touch = (_buf: Uint8Array, _offsets: Uint32Array, lengths: Uint32Array, count: number) => {
		for (let i = 0; i < count; i++) sum += lengths[i]!;
	};
	/** Counts rxPackets of `port` (or txPackets of `out`) over SECONDS, after go + WARM. */
	const measure = async (
		port: {name: string; stats(): {rxPackets: number; rxBatches: number; rxKernelDrops: number}},
		out?: {stats(): {txPackets: number; txSyscalls: number; txDrops: number}},
	) => {
		say({mode: 'ready'});
		await go();
		await sleep(WARM);
		const a = port.stats();
		const ao = out?.stats();
		const oa = offered(port.name);
		const t0 = performance.now();
		await sleep(SECONDS);
		const b = port.stats();
		const bo = out?.stats();
		const ob = offered(port.name);
		const seconds = (performance.now() - t0) / 1000;
		const packets = bo && ao ? bo.txPackets - ao.txPackets : b.rxPackets - a.rxPackets;
		say({
			mode: 'js',
			pps: packets / seconds,
			batch: (b.rxPackets - a.rxPackets) / Math.max(1, b.rxBatches - a.rxBatches),
			kernelDrops: b.rxKernelDrops - a.rxKernelDrops,
			offered: (ob - oa) / seconds,
			...(bo && ao ? {txBatch: (bo.txPackets - ao.txPackets) / Math.max(1, bo.txSyscalls - ao.txSyscalls), txDrops: bo.txDrops - ao.txDrops} : {}),
			sum,
		});
		process.exit(0);
	};
	const [mode, ...rest] = args;
	if (mode === 'tun-read') {
		const tun = io.openTun(rest[0]!);
		tun.onReceive(touch);
		await measure(tun);
	} else if (mode === 'udp-recv') {
		const [ifname, local, port, peer, peerPort] = rest as [string, string, string, string, string];
		const link = io.openUdpLink({local: {address: local, ifname, port: Number(port)}, peer: {address: peer, port: Number(peerPort)}});
		link.onReceive(touch);
		await measure(link);
	} else if (mode === 'udp-forward') {
		const [if1, if2, local, port, peer1, peer2] = rest as [string, string, string, string, string, string];
		const from = io.openUdpLink({local: {address: local, ifname: if1, port: Number(port)}, peer: {address: peer1, port: Number(port)}});
		const to = io.openUdpLink({local: {address: local, ifname: if2, port: Number(port)}, peer: {address: peer2, port: Number(port)}});
		from.onReceive((buf, offsets, lengths, count) => {
			for (let i = 0; i < count; i++) to.send(buf, offsets[i], lengths[i]);
		});
		await measure(from, to);
	} else if (mode === 'tun-write' || mode === 'udp-send') {
		// Writes for SECONDS after a short warm-up; reports packets accepted per second.
		const packet = Buffer.from(rest.at(-1)!, 'hex');
		const port =
			mode === 'tun-write'
				? io.openTun(rest[0]!)
				: io.openUdpLink({local: {address: rest[1]!, ifname: rest[0]!, port: Number(rest[2])}, peer: {address: rest[3]!, port: Number(rest[4])}});
		const batch = 64;
		const offsets = new Uint32Array(batch);
		const lengths = new Uint32Array(batch).fill(packet.length);
		const step = mode === 'tun-write' ? () => (port.send(packet) ? 1 : 0) : () => port.sendBatch(packet, offsets, lengths, batch);
		say({mode: 'ready'});
		await go();
		for (let i = 0; i < 20_000; i++) step();
		const a = port.stats();
		const t0 = performance.now();
		const end = t0 + SECONDS * 1000;
		let now = t0;
		while (now < end) {
			for (let i = 0; i < 256; i++) step();
			now = performance.now();
		}
		const b = port.stats();
		say({mode: 'js', pps: (b.txPackets - a.txPackets) / ((now - t0) / 1000), drops: b.txDrops - a.txDrops, errors: b.txErrors - a.txErrors});
		process.exit(0);
	} else {
		throw new Error(`bench/tun.ts child: unknown mode ${mode}`);
	}
}

if (process.argv[1] === HERE && process.argv[2] === 'child') await child(process.argv.slice(3));

// ---- the parent: namespaces and processes --------------------------------------

function ip(...args: string[]): string {
	return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

function addNs(suffix: string): string {
	const ns = PREFIX + suffix;
	ip('netns', 'add', ns);
	ip('-n', ns, 'link', 'set', 'lo', 'up');
	return ns;
}

function cleanup(): void {
	for (const line of ip('netns', 'list').split('\n')) {
		const ns = line.split(' ')[0] ?? '';
		if (ns.startsWith(PREFIX)) ip('netns', 'del', ns);
	}
}

function veth(a: [string, string, string], b: [string, string, string]): void {
	ip('link', 'add', a[1], 'mtu', '1548', 'netns', a[0], 'type', 'veth', 'peer', 'name', b[1], 'mtu', '1548', 'netns', b[0]);
	for (const [ns, dev, addr] of [a, b]) {
		ip('-n', ns, 'link', 'set', 'dev', dev, 'addrgenmode', 'none');
		ip('-n', ns, '-6', 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad');
		ip('-n', ns, 'link', 'set', 'dev', dev, 'up');
	}
}

const twoCores = cpus().length >= 2 && existsSync('/usr/bin/taskset');

class Proc {
	readonly lines: Json[] = [];
	private readonly proc: ChildProcess;
	private readonly done: Promise<void>;
	private stderr = '';

	constructor(ns: string, cmd: string[], cpu: number) {
		const pinned = twoCores && cpu >= 0 ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
		this.proc = spawn('ip', ['netns', 'exec', ns, ...pinned], {cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe']});
		createInterface({input: this.proc.stdout!}).on('line', (line) => this.lines.push(JSON.parse(line) as Json));
		this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
		this.done = new Promise((resolve) => this.proc.on('exit', () => resolve()));
	}

	async line(mode: string, ms = 15_000): Promise<Json> {
		for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
			const hit = this.lines.find((l) => l.mode === mode);
			if (hit) return hit;
			if (this.proc.exitCode !== null) break;
		}
		throw new Error(`bench/tun.ts: no '${mode}' from ${this.proc.spawnargs.join(' ')}: ${this.stderr}`);
	}

	go(): void {
		this.proc.stdin!.write('go\n');
	}

	async result(): Promise<Json> {
		await this.done;
		const last = this.lines.at(-1);
		if (!last || last.mode === 'ready') throw new Error(`bench/tun.ts: ${this.proc.spawnargs.join(' ')} gave no result: ${this.stderr}`);
		return last;
	}

	kill(): void {
		if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
	}
}

const procs: Proc[] = [];
function start(ns: string, cmd: string[], cpu: number): Proc {
	const p = new Proc(ns, cmd, cpu);
	procs.push(p);
	return p;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const js = (...args: string[]) => [process.execPath, '--import', 'tsx', HERE, 'child', ...args];
const senderSeconds = String(WARM + SECONDS + 1);

/** Waits until the kernel has activated the device's queue: until then it drops what it sends there. */
async function waitUp(ns: string, dev: string): Promise<void> {
	for (let i = 0; i < 300; i++) {
		if (/state UP/.test(ip('-n', ns, 'link', 'show', 'dev', dev))) return;
		await sleep(10);
	}
	throw new Error(`bench/tun.ts: ${dev} in ${ns} did not come up`);
}

/** Starts `reader` (cpu 0), then `sender` (cpu 1), then lets the reader measure. */
async function readWith(readerNs: string, reader: string[], senderNs: string, sender: string[], dev?: string): Promise<{reader: Json; sender: Json}> {
	const r = start(readerNs, reader, 0);
	await r.line('ready');
	if (dev) await waitUp(readerNs, dev);
	const s = start(senderNs, sender, 1);
	await sleep(100);
	r.go();
	const out = {reader: await r.result(), sender: await s.result()};
	return out;
}

/** Starts a C sink (cpu 1), then `writer` (cpu 0); the writer's own rate is the figure. */
async function writeWith(sinkNs: string, sink: string[], writerNs: string, writer: string[], needsGo: boolean): Promise<{writer: Json; sink: Json}> {
	const k = start(sinkNs, sink, 1);
	await k.line('ready');
	k.go();
	const w = start(writerNs, writer, 0);
	if (needsGo) {
		await w.line('ready');
		w.go();
	}
	return {writer: await w.result(), sink: await k.result()};
}

/**
 * Starts `writer` (cpu 0) and, once it is sending, a sink (cpu 1) that counts
 * over a window inside the writer's: every sender is measured at the same
 * point of its run, whatever its start-up time.
 */
async function sendWith(sinkNs: string, sink: string[], writerNs: string, writer: string[], needsGo: boolean): Promise<{writer: Json; sink: Json}> {
	const w = start(writerNs, writer, 0);
	if (needsGo) {
		await w.line('ready');
		w.go();
	}
	await sleep(200);
	const k = start(sinkNs, sink, 1);
	await k.line('ready');
	k.go();
	return {writer: await w.result(), sink: await k.result()};
}

/** The round whose reader rate is the median. */
function median(rounds: Array<{reader: Json; sender: Json}>): {reader: Json; sender: Json} {
	return [...rounds].sort((x, y) => Number(x.reader.pps) - Number(y.reader.pps))[rounds.length >> 1]!;
}

const k = (n: unknown) => `${(Number(n) / 1e3).toFixed(0)}k/s`;

/** An IPv6/UDP packet from 2001:db8:b::2 to 2001:db8:b::1 port 9999, as hex (checksum 0 is fine: the sink never checks). */
async function tunPacket(): Promise<string> {
	const {buildPacket} = await import('../src/wire/index.js');
	const {parseAddr} = await import('../src/util/addr.js');
	const packet = buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: parseAddr('2001:db8:b::2'), dst: parseAddr('2001:db8:b::1')},
		ext: [],
		upper: {proto: 17, udp: {srcPort: 9998, dstPort: 9999, payload: new Uint8Array(PAYLOAD)}},
	});
	return Buffer.from(packet).toString('hex');
}

export const run: Bench = async () => {
	if (process.getuid?.() !== 0) throw new Error('bench/tun.ts needs root: it makes network namespaces and TUN devices');
	const results: Result[] = [];
	try {
		// TUN: the sender and both readers share one namespace.
		const t = addNs('tun');
		ip('-n', t, 'tuntap', 'add', 'dev', 'agb0', 'mode', 'tun');
		ip('-n', t, 'link', 'set', 'dev', 'agb0', 'addrgenmode', 'none');
		ip('-n', t, '-6', 'addr', 'add', '2001:db8:b::1/64', 'dev', 'agb0', 'nodad');
		ip('-n', t, 'link', 'set', 'dev', 'agb0', 'up');
		const hex = await tunPacket();
		const blastTun = [TOOL, 'pkt-blast', 'agb0', senderSeconds, hex];
		// This VM's figures swing from run to run; alternate C and JS rounds and keep each one's median round.
		const cRounds: Array<{reader: Json; sender: Json}> = [];
		const jsRounds: Array<{reader: Json; sender: Json}> = [];
		for (let round = 0; round < ROUNDS; round++) {
			cRounds.push(await readWith(t, [TOOL, 'tun-read', 'agb0', String(SECONDS), String(WARM)], t, blastTun, 'agb0'));
			jsRounds.push(await readWith(t, js('tun-read', 'agb0'), t, blastTun, 'agb0'));
		}
		const cRead = median(cRounds);
		const jsRead = median(jsRounds);
		const cReadR: Result = {name: 'tun.read.c.pps', value: Number(cRead.reader.pps), unit: 'packets/s', note: `C poll+read drain (baseline), median of ${ROUNDS}: ${cRounds.map((r) => k(r.reader.pps)).join(', ')}; kernel offered ${k(cRead.reader.offered!)} in the window`};
		results.push(
			cReadR,
			withRatio(
				{
					name: 'tun.read.pps',
					value: Number(jsRead.reader.pps),
					unit: 'packets/s',
					goal: '>= 3e5',
					note: `112-byte packets, median of ${ROUNDS}: ${jsRounds.map((r) => k(r.reader.pps)).join(', ')}; mean batch ${Number(jsRead.reader.batch).toFixed(1)}; kernel offered ${k(jsRead.reader.offered!)} in the window`,
				},
				cReadR,
			),
		);

		const sink = [TOOL, 'udp-sink', '2001:db8:b::1', '9999', String(SECONDS + 0.5), '0'];
		const cWrite = await writeWith(t, sink, t, [TOOL, 'tun-write', 'agb0', String(SECONDS), hex], false);
		const jsWrite = await writeWith(t, sink, t, js('tun-write', 'agb0', hex), true);
		const cWriteR: Result = {name: 'tun.write.c.pps', value: Number(cWrite.writer.pps), unit: 'packets/s', note: `C write(2) loop (baseline); kernel delivered ${k(cWrite.sink.pps)} to a socket`};
		results.push(
			cWriteR,
			withRatio(
				{
					name: 'tun.write.pps',
					value: Number(jsWrite.writer.pps),
					unit: 'packets/s',
					note: `112-byte packets, send() per packet; ${jsWrite.writer.drops} EAGAIN drops; kernel delivered ${k(jsWrite.sink.pps)} to a socket`,
				},
				cWriteR,
			),
		);

		// UDP links: a (sender) -- ua/fa -- f (receiver, forwarder) -- fc/uc -- c (sink).
		const a = addNs('a');
		const f = addNs('f');
		const c = addNs('c');
		veth([a, 'ua', 'fe80::a'], [f, 'fa', 'fe80::f']);
		veth([f, 'fc', 'fe80::f'], [c, 'uc', 'fe80::c']);
		const blastLink = [TOOL, 'udp-blast', 'fe80::a%ua', '7000', 'fe80::f%ua', '7000', senderSeconds, String(PAYLOAD)];
		// Both receivers drain with recvmmsg(2), 64 a call, until a call comes back short; alternating rounds.
		const cRecvRounds: Array<{reader: Json; sender: Json}> = [];
		const jsRecvRounds: Array<{reader: Json; sender: Json}> = [];
		for (let round = 0; round < ROUNDS; round++) {
			cRecvRounds.push(await readWith(f, [TOOL, 'udp-sink', 'fe80::f%fa', '7000', String(SECONDS), String(WARM)], a, blastLink));
			jsRecvRounds.push(await readWith(f, js('udp-recv', 'fa', 'fe80::f', '7000', 'fe80::a', '7000'), a, blastLink));
		}
		const cRecv = median(cRecvRounds);
		const jsRecv = median(jsRecvRounds);
		const cRecvR: Result = {name: 'udp.recv.c.pps', value: Number(cRecv.reader.pps), unit: 'packets/s', note: `C recvmmsg sink, 64 a call (baseline), median of ${ROUNDS}: ${cRecvRounds.map((r) => k(r.reader.pps)).join(', ')}; sender ${k(cRecv.sender.pps)}`};
		results.push(
			cRecvR,
			withRatio(
				{
					name: 'udp.recv.pps',
					value: Number(jsRecv.reader.pps),
					unit: 'packets/s',
					note: `64-byte datagrams, median of ${ROUNDS}: ${jsRecvRounds.map((r) => k(r.reader.pps)).join(', ')}; mean batch ${Number(jsRecv.reader.batch).toFixed(1)}; ${jsRecv.reader.kernelDrops} socket-buffer drops; sender ${k(jsRecv.sender.pps)}`,
				},
				cRecvR,
			),
		);

		// The sink's window: 0.8 s, from 0.3 s after the writer began (SECONDS = 1.5 s of sending).
		const linkSink = [TOOL, 'udp-sink', 'fe80::f%fa', '7000', '0.8', '0.1'];
		const payloadHex = '60'.repeat(PAYLOAD);
		const cSend = await sendWith(f, linkSink, a, [TOOL, 'udp-blast', 'fe80::a%ua', '7000', 'fe80::f%ua', '7000', String(SECONDS), String(PAYLOAD)], false);
		const jsSend = await sendWith(f, linkSink, a, js('udp-send', 'ua', 'fe80::a', '7000', 'fe80::f', '7000', payloadHex), true);
		const gsoSend = await sendWith(f, linkSink, a, [tool('c_send'), 'fe80::a%ua', '7000', 'fe80::f%ua', '7000', String(SECONDS), String(PAYLOAD), '64'], false);
		// Counted where they arrive: a GSO message the kernel accepted may still lose segments on the
		// way (the veth's backlog), so what sendmmsg accepted overstates what was sent.
		const cSendR: Result = {name: 'udp.send.c.pps', value: Number(cSend.sink.pps), unit: 'packets/s', note: `context: C sendmmsg of 64 one-datagram messages, no GSO (less batching than ours), counted at the sink; ${k(cSend.writer.pps)} accepted`};
		const gsoSendR: Result = {name: 'udp.send.c_gso.pps', value: Number(gsoSend.sink.pps), unit: 'packets/s', note: `C sendmmsg of one GSO message of 64 datagrams, as the addon sends a batch (baseline), counted at the sink; ${k(gsoSend.writer.pps)} accepted, ${gsoSend.writer.drops} EAGAIN drops`};
		results.push(
			cSendR,
			gsoSendR,
			withRatio(
				{name: 'udp.send.pps', value: Number(jsSend.sink.pps), unit: 'packets/s', note: `sendBatch of 64 (one GSO message), counted at the sink; ${k(jsSend.writer.pps)} accepted, ${jsSend.writer.drops} EAGAIN drops`},
				gsoSendR,
			),
			withRatio({name: 'udp.send.vs_no_gso', value: Number(jsSend.sink.pps), unit: 'packets/s', note: 'context: udp.send.pps against the C sender without GSO (what GSO buys, not JS against C)'}, cSendR),
		);

		// Forwarding: counted at the C sink beyond the forwarder, over the same window.
		// Three busy processes on two cores: pinning starves whichever shares a
		// core with the sender's softirq work, so the scheduler places them.
		// The C forwarder first, with the same sender and sink.
		const cFwdSink = start(c, [TOOL, 'udp-sink', 'fe80::c%uc', '7000', String(SECONDS), String(WARM)], -1);
		const cForwarder = start(f, [tool('c_relay'), '--link', 'fa', 'fe80::f', 'fe80::a', '7000', '--link', 'fc', 'fe80::f', 'fe80::c', '7000', '--route', '::/0', 'fc'], -1);
		await cFwdSink.line('ready');
		await cForwarder.line('ready');
		const cFwdSender = start(a, blastLink, -1);
		await sleep(100);
		cFwdSink.go();
		const cFwdOut = await cFwdSink.result();
		const cFwdSent = await cFwdSender.result();
		cForwarder.kill();
		const cFwdR: Result = {name: 'udp.forward.c.pps', value: Number(cFwdOut.pps), unit: 'packets/s', note: `C forwarder (bench/native/c_relay.c: recvmmsg 64, sendmmsg with GSO) between the same links, counted at the C sink (baseline); sender ${k(cFwdSent.pps)}`};
		const fwdSink = start(c, [TOOL, 'udp-sink', 'fe80::c%uc', '7000', String(SECONDS), String(WARM)], -1);
		const forwarder = start(f, js('udp-forward', 'fa', 'fc', 'fe80::f', '7000', 'fe80::a', 'fe80::c'), -1);
		await fwdSink.line('ready');
		await forwarder.line('ready');
		const fwdSender = start(a, blastLink, -1);
		await sleep(100);
		forwarder.go();
		fwdSink.go();
		const fwd = {reader: await forwarder.result(), sender: await fwdSender.result()};
		const fwdOut = await fwdSink.result();
		results.push(
			cFwdR,
			withRatio(
				{
					name: 'udp.forward.pps',
					value: Number(fwdOut.pps),
					unit: 'packets/s',
					note: `JS forwarder between two links, no processing, counted at the C sink after it: forwarder sent ${k(fwd.reader.pps)}, rx batch ${Number(fwd.reader.batch).toFixed(1)}, tx batch ${Number(fwd.reader.txBatch).toFixed(1)}, ${fwd.reader.kernelDrops} socket-buffer drops; sender ${k(fwd.sender.pps)}`,
				},
				cFwdR,
			),
		);
	} finally {
		for (const p of procs) p.kill();
		cleanup();
	}
	return results;
};
