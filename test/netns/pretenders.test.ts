// Issue 12 on the running network, as root: the default topology in its own
// namespaces (prefix p<pid>-), and pretenders crafted with scapy
// (test/netns/forge.py, Debian's python3-scapy) put on the attacker's (or
// terminal-a's) own wire. For each, the client's TUN is captured and must
// show no forged packet, and ping, dig and curl must see no duplicate, no
// error and no loss; each forgery is counted where it was stopped. The BFD
// flood must leave the internet router a bounded table and its real sessions Up.
import {spawn, spawnSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {ExecutionContext} from 'ava';
import {capture} from '../../src/cli/attack.js';
import type {NodeStatus} from '../../src/ops/status.js';
import type {DropReason} from '../../src/pipeline/drops.js';
import {findLink, linkIfname, underlayAddress} from '../../src/netns/names.js';
import {parseAddr} from '../../src/util/addr.js';
import {isRoot, rootTest} from '../io/netns.js';
import {UDP_ANSWER_WINDOW_MS} from '../../src/anycast/flows.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {bringUpNs} from '../../lab/nsnet.js';
import type {NsNet} from '../../lab/nsnet.js';

const test = rootTest('test/netns/pretenders.test.ts');
const FORGE = fileURLToPath(new URL('forge.py', import.meta.url));
const MARK = Buffer.from('anyguard-forged');
const S = '2001:db8:1:ac::53';
const CLIENT = '2001:db8:2:c::10';
const SERVER_A = '2001:db8:1:a::30';
const ATTACKER = '2001:db8:2:e::66';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let net: NsNet | undefined;

if (isRoot) {
	test.before(async () => {
		net = await bringUpNs(DEFAULT_TOPOLOGY, 'p');
	});
	test.after.always(async () => {
		await net?.down();
	});
}

/** Runs forge.py in `from`'s namespace, its packets onto its link to `peer` (its only link by default). */
function forge(from: string, args: Record<string, unknown>, peer?: string): Promise<{sent: number}> {
	const t = net!.topology;
	const to = peer ?? t.links.find((l) => l.a === from || l.b === from)!;
	const link = typeof to === 'string' ? findLink(t, from, to) : to;
	const other = link.a === from ? link.b : link.a;
	const spec = {dev: linkIfname(other), src: underlayAddress(t, link, from), dst: underlayAddress(t, link, other), client: CLIENT, S, ...args};
	return new Promise((resolve, reject) => {
		const child = spawn('ip', ['netns', 'exec', net!.ns(from), '/usr/bin/python3', FORGE, JSON.stringify(spec)], {stdio: ['ignore', 'pipe', 'pipe']});
		let out = '';
		let err = '';
		child.stdout.on('data', (d: Buffer) => (out += d.toString()));
		child.stderr.on('data', (d: Buffer) => (err += d.toString()));
		child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as {sent: number}) : reject(new Error(`forge.py ${String(args.recipe)} failed (${code}): ${err}`))));
	});
}

interface Ping {
	done: Promise<{transmitted: number; received: number; duplicates: number; errors: number; output: string}>;
	child: ChildProcess;
}

/** The client pings S with echo identifier `id`. */
function ping(id: number, count: number, interval = 0.2, size?: number): Ping {
	const child = spawn('ip', ['netns', 'exec', net!.ns('client'), 'ping', '-6', '-n', '-e', String(id), '-c', String(count), '-i', String(interval), '-W', '2', ...(size ? ['-s', String(size)] : []), S], {stdio: ['ignore', 'pipe', 'pipe']});
	let output = '';
	child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
	const done = new Promise<Awaited<Ping['done']>>((resolve) =>
		child.once('exit', () => {
			const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?/.exec(output);
			resolve({transmitted: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), duplicates: Number(m?.[3] ?? 0), errors: Number(m?.[4] ?? 0) || (/errors/.test(output) ? 1 : 0), output});
		}),
	);
	return {done, child};
}

/** Waits for the first reply of a ping, so the flow is open when the forgeries come. */
async function firstReply(p: Ping): Promise<void> {
	let seen = false;
	p.child.stdout!.on('data', (d: Buffer) => (seen ||= /bytes from/.test(d.toString())));
	for (let i = 0; i < 60 && !seen; i++) await sleep(50);
}

async function counters(): Promise<Map<string, NodeStatus>> {
	const out = new Map<string, NodeStatus>();
	for (const n of net!.topology.nodes) out.set(n.name, await net!.status(n.name));
	return out;
}

const delta = (before: Map<string, NodeStatus>, after: Map<string, NodeStatus>, node: string, reason: DropReason) => after.get(node)!.counters.drops[reason] - before.get(node)!.counters.drops[reason];

/** Captures the client's TUN while `f` runs; returns the IPv6 packets seen and f's result. */
async function onClientTun<T>(f: () => Promise<T>): Promise<[T, Uint8Array[]]> {
	const tap = await capture(net!.ns('client'), 'tun0', 'ip6', net!.stateRoot, `tun-${Date.now()}`);
	try {
		const result = await f();
		await sleep(300);
		return [result, await tap.stop()];
	} catch (error) {
		await tap.stop();
		throw error;
	}
}

const forged = (packets: Uint8Array[]) => packets.filter((p) => Buffer.from(p).includes(MARK));

function expectClean(t: ExecutionContext, r: Awaited<Ping['done']>, seen: Uint8Array[], count: number): void {
	t.is(forged(seen).length, 0, 'no forged packet on the client TUN');
	t.is(r.duplicates, 0, r.output);
	t.is(r.errors, 0, r.output);
	t.is(r.received, count, r.output);
}

/** `dig @S TXT whoami.anyguard` from a fixed source port; the answer, or the error dig printed. */
function dig(port: number, name = 'whoami.anyguard'): string {
	const r = spawnSync('ip', ['netns', 'exec', net!.ns('client'), 'dig', '-b', `${CLIENT}#${port}`, '+time=1', '+tries=1', '+short', `@${S}`, 'TXT', name], {encoding: 'utf8', timeout: 10_000});
	return (r.stdout + r.stderr).trim().replace(/"/g, '');
}

test('item 1: echo replies in nested Fragment headers and every other wrapper, from S, server-a and the attacker: none reaches the client', async (t) => {
	const before = await counters();
	const id = 0x6101;
	const [r, seen] = await onClientTun(async () => {
		const p = ping(id, 10);
		await firstReply(p);
		const wrappers = ['frag2', 'frag-dst-frag', 'hbh-frag2', 'frag3', 'rh-dst-rh', 'frag', 'hbh-frag', 'dst-frag', 'frag-dst', 'rh0', 'rh4-frag', 'dst-dst', 'none'];
		const a = await forge('attacker', {recipe: 'echo-wrapped', echoId: id, seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], srcs: [S, SERVER_A, ATTACKER], wrappers, gapMs: 0.5});
		const b = await forge('attacker', {recipe: 'echo-real-fragments', echoId: id, seqs: [4, 5, 6], srcs: [S, SERVER_A]});
		t.is(a.sent, 13 * 3 * 10);
		t.true(b.sent >= 12);
		return p.done;
	});
	const after = await counters();
	expectClean(t, r, seen, 10);
	t.is(delta(before, after, 'internet', 'malformed-repeated-header'), 5 * 3 * 10, 'nested headers: refused by the first node that parses them');
	t.is(delta(before, after, 'client', 'src-is-anycast'), 8 * 10 + 3, 'from S: refused at the client');
	t.is(delta(before, after, 'client', 'id-missing'), 8 * 2 * 10 + 3, 'from server-a and the attacker, no identifier: refused at the client');
});

test('item 1 from inside: terminal-a wraps replies the same ways; the first node of ours refuses each', async (t) => {
	const before = await counters();
	const id = 0x6102;
	const [r, seen] = await onClientTun(async () => {
		const p = ping(id, 6);
		await firstReply(p);
		await forge('terminal-a', {recipe: 'echo-wrapped', echoId: id, seqs: [1, 2, 3, 4, 5, 6], srcs: [S, SERVER_A], wrappers: ['frag2', 'hbh-frag2', 'frag', 'dst-frag', 'none']});
		return p.done;
	});
	const after = await counters();
	expectClean(t, r, seen, 6);
	t.is(delta(before, after, 'router-a', 'malformed-repeated-header'), 2 * 2 * 6, 'nested: at router-a');
	t.is(delta(before, after, 'boundary', 'src-is-anycast'), 3 * 6, 'from S: at the boundary');
	t.is(delta(before, after, 'client', 'id-missing'), 3 * 6, "from server-a's address without an identifier: not an anycast response for the boundary, refused at the client");
});

test('item 2: packets from S that match no flow — echo, UDP, TCP — are dropped at the client', async (t) => {
	const before = await counters();
	const id = 0x6201;
	const [r, seen] = await onClientTun(async () => {
		const p = ping(id, 6);
		await firstReply(p);
		await forge('attacker', {recipe: 'from-s', echoId: id, seqs: Array.from({length: 20}, (_, i) => i + 1)});
		return p.done;
	});
	const after = await counters();
	expectClean(t, r, seen, 6);
	t.is(delta(before, after, 'client', 'src-is-anycast'), 60);
});

const ERRORS: Array<[number, number]> = [[1, 0], [1, 1], [1, 2], [1, 3], [1, 4], [1, 5], [1, 6], [1, 7], [2, 0], [3, 0], [3, 1], [4, 0], [4, 1], [4, 2], [4, 3], [100, 0]];

test('item 3: a stream of forged ICMPv6 errors of every type and code quoting dig\'s query: 20 of 20 digs answered', async (t) => {
	const before = await counters();
	const port = 5300;
	const flood = forge('attacker', {recipe: 'icmp-errors', quote: 'udp', port, types: ERRORS, srcs: [ATTACKER, SERVER_A, '2001:db8:2::1', S], seconds: 8, gapMs: 0.3});
	await sleep(500);
	const answers: string[] = [];
	for (let i = 0; i < 20; i++) answers.push(dig(port));
	const {sent} = await flood;
	const after = await counters();
	t.deepEqual(answers.filter((a) => a !== 'server-a'), [], 'every dig got its answer');
	const dropped = (['id-missing', 'icmp-implausible', 'id-no-flow', 'src-is-anycast', 'id-unsolicited'] as DropReason[]).reduce((n, r) => n + delta(before, after, 'client', r), 0);
	t.log(`${sent} forged errors; the client dropped ${dropped}`);
	t.true(dropped >= sent * 0.95, `${dropped} of ${sent} dropped at the client`);
	t.true(delta(before, after, 'client', 'icmp-implausible') > 0 && delta(before, after, 'client', 'id-missing') > 0);
});

test('item 3: forged errors quoting the client\'s echo requests: ping sees no error', async (t) => {
	const before = await counters();
	const id = 0x6301;
	const [r, seen] = await onClientTun(async () => {
		const p = ping(id, 10);
		await firstReply(p);
		await forge('attacker', {recipe: 'icmp-errors', quote: 'echo', echoId: id, seqs: Array.from({length: 10}, (_, i) => i + 1), types: ERRORS, srcs: [ATTACKER, SERVER_A]});
		return p.done;
	});
	const after = await counters();
	expectClean(t, r, seen, 10);
	t.true(delta(before, after, 'client', 'id-missing') + delta(before, after, 'client', 'icmp-implausible') + delta(before, after, 'client', 'id-no-flow') >= ERRORS.length * 2 * 10 * 0.9);
});

test('item 4: 2,000 RIPng Requests and Responses from made-up link-local sources: not the link\'s neighbour, so no route and no BFD session; no real session goes down', async (t) => {
	const before = await net!.status('internet');
	const changes = before.bfdStateChanges;
	const real = before.bfd.map((b) => `${b.link} ${b.peer} ${b.state}`).sort();
	t.deepEqual(real.map((s) => s.split(' ')[2]), ['Up', 'Up', 'Up']);
	const p = ping(0x6401, 20, 0.2);
	await forge('attacker', {recipe: 'ripng', router: '2001:db8:2::1', n: 2000, gapMs: 0.2});
	await sleep(1500);
	const after = await net!.status('internet');
	const r = await p.done;
	// Policing turns part of the flood away first (the attacker's access link, the link's control rate);
	// what gets through is not from the link's one neighbour, and RIPng refuses it.
	const counted = (s: typeof before) => s.counters.drops['control-policed'] + s.counters.drops.policed + s.counters.drops['local-policed'] + s.counters.drops['control-invalid'];
	const notNeighbour = after.controlDrops.ripng!['not-neighbour']! - before.controlDrops.ripng!['not-neighbour']!;
	const invalid = after.counters.drops['control-invalid'] - before.counters.drops['control-invalid'];
	t.log(`internet: ${after.bfd.length} BFD sessions, ${counted(after) - counted(before)} packets policed or refused, ${notNeighbour} of them not from the neighbour`);
	t.true(notNeighbour > 0, 'made-up sources reached RIPng and were refused');
	t.true(invalid >= notNeighbour, 'each refusal counted by the node as control-invalid');
	t.true(counted(after) - counted(before) >= 2000, 'every forged packet policed or refused');
	t.deepEqual(after.bfd.map((b) => `${b.link} ${b.peer} ${b.state}`).sort(), real, 'the real sessions, all Up, and no other');
	t.is(after.bfdStateChanges, changes, 'no real session changed state');
	t.false(after.routes.some((x) => x.prefix.startsWith('2001:db8:77:')), 'no route from a made-up neighbour');
	t.is(r.received, 20, r.output);
});

test('item 6: spoofed SYNs from S to the client\'s ports never reach its host; the flow table holds; forgeries on the ping are still judged', async (t) => {
	const before = await counters();
	const id = 0x6601;
	const [r, seen] = await onClientTun(async () => {
		const p = ping(id, 15, 0.2);
		await firstReply(p);
		await forge('attacker', {recipe: 'syn-from-s', n: 3000, gapMs: 0.1});
		await forge('attacker', {recipe: 'echo-wrapped', echoId: id, seqs: Array.from({length: 15}, (_, i) => i + 1), srcs: [SERVER_A, ATTACKER], wrappers: ['none']});
		return p.done;
	});
	const after = await counters();
	expectClean(t, r, seen, 15);
	t.is(delta(before, after, 'client', 'src-is-anycast'), 3000);
	t.is(delta(before, after, 'client', 'id-missing'), 30, 'the ping flow is still there to judge the forged replies');
	const flows = after.get('client')!.bounds.find((b) => b.table === 'flows')!;
	t.true(flows.size < 100 && flows.evicted === before.get('client')!.bounds.find((b) => b.table === 'flows')!.evicted, `flows ${flows.size}, evicted ${flows.evicted}`);
});

test('item 7: echo requests and DNS queries spoofed from the client: the real server answers, the client takes one answer per request it sent', async (t) => {
	const before = await counters();
	const id = 0x6701;
	const [r, seen] = await onClientTun(async () => {
		const p = ping(id, 10, 0.3);
		await firstReply(p);
		await forge('attacker', {recipe: 'reflect-echo', echoId: id, seqs: Array.from({length: 12}, (_, i) => i + 1), gapMs: 2});
		return p.done;
	});
	const mid = await counters();
	t.is(r.duplicates, 0, r.output);
	t.is(r.received, 10, r.output);
	t.is(forged(seen).length, 0);
	const unsolicited = delta(before, mid, 'client', 'id-unsolicited');
	t.is(unsolicited, 12, 'one genuine but unsolicited reply dropped per reflected request');
	// DNS: dig asks from a fixed port; queries spoofed from that port while it waits do not stop its answer,
	// and once its window has passed (UDP_ANSWER_WINDOW_MS) the answers they draw are nobody's.
	const port = 5301;
	const during = forge('attacker', {recipe: 'reflect-dns', port, n: 100, gapMs: 5});
	await sleep(300);
	t.is(dig(port), 'server-a');
	await during;
	await sleep(UDP_ANSWER_WINDOW_MS + 500);
	const quiet = await counters();
	await forge('attacker', {recipe: 'reflect-dns', port, n: 200, gapMs: 2});
	await sleep(300);
	const after = await counters();
	t.true(delta(quiet, after, 'client', 'id-unsolicited') >= 190, `${delta(quiet, after, 'client', 'id-unsolicited')} reflected answers dropped as unsolicited`);
	t.true(after.get('client')!.bounds.find((b) => b.table === 'replay cache')!.size - quiet.get('client')!.bounds.find((b) => b.table === 'replay cache')!.size <= 0, 'none entered the replay cache');
});

test('UDP: forged DNS answers to dig\'s port from S, server-a and the attacker race the real one; dig gets the real answer every time', async (t) => {
	const before = await counters();
	const port = 5302;
	const flood = forge('attacker', {recipe: 'dns-answer', port, n: 300, srcs: [S, SERVER_A, ATTACKER], gapMs: 0.5});
	await sleep(200);
	const answers: string[] = [];
	for (let i = 0; i < 10; i++) answers.push(dig(port));
	await flood;
	const after = await counters();
	t.deepEqual(answers, Array(10).fill('server-a'));
	t.true(delta(before, after, 'client', 'src-is-anycast') >= 250, 'from S');
	t.true(delta(before, after, 'client', 'id-missing') > 0, "from server-a's and the attacker's address, during a query");
});

test('TCP: forged resets and data from S, server-a and the attacker into a live download from S; curl gets the file whole', async (t) => {
	// An HTTP server bound to S on both servers, a file of 24 MiB, fetched at a bounded rate so the attack lands mid-transfer.
	const file = join(net!.stateRoot, 'blob');
	writeFileSync(file, Buffer.alloc(24 << 20, 0x61).map((b, i) => (i * 2654435761) >>> 24));
	const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
	const servers = ['server-a', 'server-b'].map((n) =>
		spawn('ip', ['netns', 'exec', net!.ns(n), '/usr/bin/python3', '-m', 'http.server', '--bind', S, '--directory', net!.stateRoot, '8080'], {stdio: 'ignore'}),
	);
	try {
		// Both servers listening (the client's HEAD request is answered), whichever is nearest.
		for (let i = 0; i < 100; i++) {
			const head = spawnSync('ip', ['netns', 'exec', net!.ns('client'), 'curl', '-g', '-s', '-I', '-o', '/dev/null', '-w', '%{http_code}', `http://[${S}]:8080/blob`], {encoding: 'utf8', timeout: 5000});
			if (head.stdout === '200') break;
			await sleep(100);
		}
		const before = await counters();
		const out = join(net!.stateRoot, 'fetched');
		// The attacker watches the client's link (on-path): the connection's ports and sequence numbers. The
		// sniffer listens before the download starts, so it never misses it however slowly scapy loads.
		const sniffer = spawn('ip', ['netns', 'exec', net!.ns('client'), '/usr/bin/python3', '-c', SNIFF], {stdio: ['ignore', 'pipe', 'pipe']});
		const sniff = {stdout: '', stderr: ''};
		sniffer.stdout.on('data', (d: Buffer) => (sniff.stdout += d.toString()));
		sniffer.stderr.on('data', (d: Buffer) => (sniff.stderr += d.toString()));
		const sniffed = new Promise<void>((r) => sniffer.once('exit', () => r()));
		for (let i = 0; i < 600 && !sniff.stdout.includes('ready'); i++) await sleep(50);
		t.true(sniff.stdout.includes('ready'), `the sniffer started: ${sniff.stderr}`);
		const curl = spawn('ip', ['netns', 'exec', net!.ns('client'), 'curl', '-g', '-s', '--limit-rate', '6M', '-o', out, '-w', '%{http_code} %{size_download}', `http://[${S}]:8080/blob`], {stdio: ['ignore', 'pipe', 'pipe']});
		let result = '';
		curl.stdout.on('data', (d: Buffer) => (result += d.toString()));
		const done = new Promise<number | null>((r) => curl.once('exit', r));
		await sniffed;
		const seg = JSON.parse(sniff.stdout.trim().split('\n').at(-1)?.replace(/^ready$/, '') || '{}') as {sport?: number; dport?: number; seq?: number; ack?: number; len?: number};
		t.truthy(seg.dport, `sniffed a segment from S: ${sniff.stdout} ${sniff.stderr}`);
		const next = (seg.seq! + seg.len!) >>> 0;
		const common = {client: CLIENT, sport: 8080, dport: seg.dport, ack: seg.ack, srcs: [S, SERVER_A, ATTACKER]};
		await forge('attacker', {...common, recipe: 'tcp', flags: 'R', seq: next, n: 64, step: 1448});
		await forge('attacker', {...common, recipe: 'tcp', flags: 'RA', seq: next, n: 64, step: 1});
		await forge('attacker', {...common, recipe: 'tcp', flags: 'PA', seq: next, n: 64, step: 1448});
		const code = await done;
		const after = await counters();
		t.is(code, 0, `curl: ${result}`);
		t.is(result, `200 ${24 << 20}`);
		t.is(createHash('sha256').update(readFileSync(out)).digest('hex'), digest, 'the file is whole: no forged byte got in');
		const moved = (node: string) => Object.entries(after.get(node)!.counters.drops).filter(([k, v]) => v !== before.get(node)!.counters.drops[k as DropReason]).map(([k, v]) => `${k} +${v - before.get(node)!.counters.drops[k as DropReason]}`).join(', ');
		t.log(`client drops: ${moved('client')}; internet drops: ${moved('internet')}`);
		t.true(delta(before, after, 'client', 'src-is-anycast') >= 3 * 64, 'forged segments from S');
		t.true(delta(before, after, 'client', 'id-missing') >= 3 * 64, "forged segments from server-a's and the attacker's address on the connection's ports");
	} finally {
		for (const s of servers) s.kill();
	}
});

/** Sniffs one data segment from S to the client on its TUN and prints its ports, sequence number and length; prints `ready` once listening. */
const SNIFF = `
import json
from scapy.all import AsyncSniffer, IPv6, TCP
s = AsyncSniffer(iface='tun0', count=1, lfilter=lambda p: IPv6 in p and TCP in p and p[IPv6].src == '${S}' and len(p[TCP].payload) > 0,
                 started_callback=lambda: print('ready', flush=True))
s.start()
s.join(timeout=20)
if s.running:
    s.stop()
p = s.results
if p:
    t = p[0][TCP]
    print(json.dumps({'sport': t.sport, 'dport': t.dport, 'seq': t.seq, 'ack': t.ack, 'len': len(t.payload)}), flush=True)
`;

test('ipv6toolkit from the attacker and from terminal-a: atomic fragments and SYNs from S, forged errors quoting a DNS query; none reaches the client', async (t) => {
	const before = await counters();
	const toolkit = (node: string, args: string[]) => {
		const r = spawnSync('ip', ['netns', 'exec', net!.ns(node), ...args], {encoding: 'utf8', timeout: 20_000});
		t.is(r.status, 0, `${args.join(' ')}: status ${r.status} ${r.signal ?? ''} ${r.error?.message ?? ''} ${r.stdout.slice(-300)} ${r.stderr}`);
	};
	const [, seen] = await onClientTun(async () => {
		const self = '2001:db8:2:e::66';
		toolkit('attacker', ['frag6', '-i', 'tun0', '-s', S, '-d', CLIENT, '-O', 'atomic', '-n']);
		toolkit('attacker', ['tcp6', '-i', 'tun0', '-s', S, '-d', CLIENT, '-a', '22', '-X', 'S']);
		for (const error of [['-e', '1'], ['-e', '3'], ['-E', '-m', '1280'], ['-A', '0'], ['-R', '1']])
			toolkit('attacker', ['icmp6', '-i', 'tun0', '-s', self, '-d', CLIENT, ...error, '-r', CLIENT, '-x', S, '-p', 'UDP', '-o', '5303', '-a', '53']);
		toolkit('terminal-a', ['frag6', '-i', 'tun0', '-s', S, '-d', CLIENT, '-O', 'atomic', '-n']);
		toolkit('terminal-a', ['icmp6', '-i', 'tun0', '-s', SERVER_A, '-d', CLIENT, '-e', '4', '-r', CLIENT, '-x', S, '-p', 'UDP', '-o', '5303', '-a', '53']);
	});
	const after = await counters();
	t.is(forged(seen).length, 0);
	const client = Buffer.from(parseAddr(CLIENT));
	t.deepEqual(seen.filter((p) => p[6] === 58 && p[40]! < 128 && !Buffer.from(p.subarray(8, 24)).equals(client)), [], 'no ICMPv6 error reached the client host');
	t.true(delta(before, after, 'client', 'src-is-anycast') >= 2, 'the atomic fragment and the SYN from S');
	t.true(delta(before, after, 'client', 'id-no-flow') >= 6, 'the errors quoting a query to S that no flow has');
	t.true(delta(before, after, 'boundary', 'src-is-anycast') >= 1, "terminal-a's atomic fragment from S");
});
