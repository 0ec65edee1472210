// The running network, as root: the default topology in its own namespaces
// (prefix t<pid>-), one role process per node on a real TUN and real veths,
// real ping, dig, dnsmasq, tracepath, tcpdump and tshark against it.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {ExecutionContext} from 'ava';
import {queryStatus} from '../../src/node/control.js';
import type {NodeStatus} from '../../src/node/status.js';
import {files, linkIfname, underlayAddress} from '../../src/netns/names.js';
import {startDnsmasq} from '../../src/netns/setup.js';
import {ATTACKS, FORGED_MARK} from '../../src/roles/attacker.js';
import type {AttackKind} from '../../src/roles/attacker.js';
import {runAttack} from '../../src/cli/attack.js';
import {runDemo} from '../../src/cli/demo.js';
import {LinkType, pcapHeader, pcapRecord, readPcap} from '../../src/wire/index.js';
import {isRoot, repoRoot, rootTest} from '../io/netns.js';
import {bringUp} from '../helpers/testnet.js';
import type {TestNet} from '../helpers/testnet.js';

const test = rootTest('test/netns/network.test.ts');
const S = '2001:db8:1:ac::53';
let net: TestNet | undefined;

const status = (node: string): Promise<NodeStatus> => queryStatus(files.socket(net!.state, node), 2000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dig(node: string): string {
	const r = net!.exec(node, 'dig', '+short', '+time=1', '+tries=1', `@${S}`, 'TXT', 'whoami.anyguard');
	return r.stdout.trim().replace(/"/g, '');
}

if (isRoot) {
	test.before(() => {
		net = bringUp('t');
	});
}

test('setup: the README command brings the network up and pings S from the host', (t) => {
	t.regex(net!.setupOutput, /up in [\d.]+ s/);
	t.regex(net!.setupOutput, / 0% packet loss/);
});

test('ping S from the host and from the client namespace: no loss, answered by server-a, verified', async (t) => {
	const before = {client: (await status('client')).counters.verified, server: (await status('server-a')).counters.stamped};
	const host = spawnSync('ping', ['-6', '-n', '-c', '5', '-i', '0.2', '-W', '2', S], {encoding: 'utf8'});
	t.regex(host.stdout, / 0% packet loss/, host.stdout);
	const inside = net!.exec('client', 'ping', '-6', '-n', '-c', '5', '-i', '0.2', '-W', '2', S);
	t.regex(inside.stdout, / 0% packet loss/, inside.stdout);
	t.regex(inside.stdout, new RegExp(`bytes from ${S.replace(/:/g, ':')}`), 'replies come from S, restored by the client');
	const after = {client: (await status('client')).counters.verified, server: (await status('server-a')).counters.stamped};
	t.true(after.client - before.client >= 10, `client verified ${after.client - before.client}`);
	t.true(after.server - before.server >= 10, `server-a stamped ${after.server - before.server}`);
});

test('nearest server from inside: terminal-b is answered by server-b, for ping and dig', async (t) => {
	const before = (await status('server-b')).counters.stamped;
	const ping = net!.exec('terminal-b', 'ping', '-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', S);
	t.regex(ping.stdout, / 0% packet loss/);
	t.is(dig('terminal-b'), 'server-b');
	t.true((await status('server-b')).counters.stamped - before >= 4);
});

test('real DNS and failover: server-a answers; killed, server-b within 1 s; restarted, server-a again', async (t) => {
	t.is(dig('client'), 'server-a');
	// One prober in the client namespace asks every 20 ms from one socket and logs each answer.
	const answers: Array<{sentAt: number; answer?: string | null; lost?: boolean}> = [];
	const prober = spawn('ip', ['netns', 'exec', net!.ns('client'), process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'probe', S, '--interval', '20', '--count', '600'], {stdio: ['ignore', 'pipe', 'ignore']});
	let buffered = '';
	prober.stdout.on('data', (d: Buffer) => {
		buffered += d.toString();
		const lines = buffered.split('\n');
		buffered = lines.pop()!;
		for (const line of lines) if (line) answers.push(JSON.parse(line) as (typeof answers)[number]);
	});
	try {
		for (let i = 0; i < 100 && !answers.some((a) => a.answer === 'server-a'); i++) await sleep(50);
		const pid = Number(readFileSync(files.pid(net!.state, 'server-a'), 'utf8'));
		const killed = Date.now();
		process.kill(pid, 'SIGKILL');
		const firstAfter = (name: string, from: number) => answers.filter((a) => a.answer === name && a.sentAt >= from).sort((x, y) => x.sentAt - y.sentAt)[0];
		for (let i = 0; i < 100 && !firstAfter('server-b', killed); i++) await sleep(50);
		const b = firstAfter('server-b', killed);
		const failover = b ? b.sentAt - killed : -1;
		t.log(`failover: the first query answered by server-b was sent ${failover} ms after the kill`);
		console.log(`    failover.ms (namespaces, DNS every 20 ms): ${failover}`);
		t.true(failover >= 0 && failover < 1000, `failover took ${failover} ms`);
		// The supervisor restarts server-a; routing moves back to the nearer server.
		for (let i = 0; i < 200 && !firstAfter('server-a', killed); i++) await sleep(50);
		const back = firstAfter('server-a', killed);
		t.log(`server-a answered again for a query sent ${back ? back.sentAt - killed : -1} ms after the kill`);
		t.truthy(back, 'server-a answers again after its supervisor restarted it');
		t.not(Number(readFileSync(files.pid(net!.state, 'server-a'), 'utf8')), pid, 'a new role process');
	} finally {
		prober.kill();
	}
});

test('health check: dnsmasq on server-a dies, S is withdrawn there and server-b answers; restarted, server-a again', async (t) => {
	t.is(dig('client'), 'server-a');
	const pid = Number(readFileSync(join(net!.state, 'server-a.dnsmasq.pid'), 'utf8'));
	const killed = Date.now();
	process.kill(pid, 'SIGKILL');
	let answer = '';
	while (Date.now() - killed < 5000 && (answer = dig('client')) !== 'server-b') await sleep(50);
	t.is(answer, 'server-b', 'server-b answers once server-a fails its health check');
	t.log(`server-b answered ${Date.now() - killed} ms after dnsmasq died on server-a`);
	const a = await status('server-a');
	t.false(a.anycast.some((x) => x.originated), 'server-a no longer originates S');
	t.true(a.anycast.some((x) => Number(x.failures) > 0), 'failed checks are counted');
	startDnsmasq(net!.topology, net!.topology.nodes.find((n) => n.name === 'server-a')!, net!.state, {step: () => {}, detail: () => {}});
	const restarted = Date.now();
	while (Date.now() - restarted < 15_000 && (answer = dig('client')) !== 'server-a') await sleep(100);
	t.is(answer, 'server-a', `server-a answers again once its check passes; server-a: ${JSON.stringify((await status('server-a')).anycast)}`);
	t.log(`server-a answered again ${Date.now() - restarted} ms after dnsmasq restarted`);
});

/** Captures on the client's TUN while `fn` runs; returns the IPv6 packets seen. */
async function onClientTun<T>(fn: () => Promise<T>): Promise<[T, Uint8Array[]]> {
	const file = join(net!.stateRoot, 'client-tun.pcap');
	const child = spawn('ip', ['netns', 'exec', net!.ns('client'), 'tcpdump', '-i', 'tun0', '--immediate-mode', '-U', '-n', '-w', file, 'ip6'], {stdio: 'ignore'});
	for (let i = 0; i < 60 && !(existsSync(file) && readFileSync(file).length >= 24); i++) await sleep(50);
	const result = await fn();
	await sleep(200);
	child.kill('SIGINT');
	await new Promise((r) => child.once('exit', r));
	return [result, readPcap(readFileSync(file), {partial: true}).packets.map((p) => p.data)];
}

const marked = (p: Uint8Array) => Buffer.from(p).includes(FORGED_MARK);

for (const kind of Object.keys(ATTACKS) as AttackKind[]) {
	test(`attack ${kind}: no forged packet reaches the client's TUN; dropped at ${ATTACKS[kind].droppedAt} (${ATTACKS[kind].reason})`, async (t: ExecutionContext) => {
		const [r, seen] = await onClientTun(() => runAttack(net!.topology, kind, {count: 3, stateRoot: net!.stateRoot, echoId: 0x4200 + Object.keys(ATTACKS).indexOf(kind)}));
		t.is(r.sent, 3);
		t.is(r.dropped, 3, `drops for ${r.spec.reason} at ${r.spec.droppedAt}`);
		t.is(r.victim.duplicates, 0, r.victim.output);
		t.is(r.victim.received, 3, r.victim.output);
		t.false(seen.some(marked), 'no forged payload on the client TUN');
		// Replays carry genuine bytes: on the TUN each echo reply appears once.
		const replies = seen.filter((p) => p[6] === 58 && p[40] === 129).map((p) => (p[46]! << 8) | p[47]!);
		t.is(new Set(replies).size, replies.length, `one reply per sequence number: ${replies.join(',')}`);
	});
}

test('traceroute: tracepath from the client lists the userspace routers, hop by hop', (t) => {
	const r = net!.exec('client', 'tracepath', '-6', '-n', '-m', '10', S);
	t.log(r.stdout);
	const hops = [...r.stdout.matchAll(/^\s*(\d+):\s+(\S+)/gm)].map((m) => m[2]);
	for (const router of ['2001:db8:2::1', '2001:db8:1::1', '2001:db8:1:a::1']) t.true(hops.includes(router), `hop ${router}`);
	t.regex(r.stdout, /reached/);
});

test('route exchange and BFD packets captured on a link decode in tshark without errors', async (t) => {
	const file = join(net!.stateRoot, 'link.pcap');
	const link = net!.topology.links.find((l) => l.a === 'boundary' && l.b === 'router-a')!;
	const r = spawnSync('ip', ['netns', 'exec', net!.ns('boundary'), 'timeout', '3', 'tcpdump', '-i', linkIfname('router-a'), '-U', '-n', '-w', file, 'udp'], {encoding: 'utf8'});
	t.true(r.status === 124 || r.status === 0, r.stderr);
	// The veth carries the underlay: strip its IPv6 and UDP headers to get our packets.
	const inner = readPcap(readFileSync(file), {partial: true}).packets.map((p) => p.data.subarray(48));
	t.true(inner.length > 10, `captured ${inner.length}`);
	const out = join(net!.stateRoot, 'inner.pcap');
	writeFileSync(out, Buffer.concat([pcapHeader(LinkType.Ipv6), ...inner.map((p, i) => pcapRecord(p, i))]));
	const fields = spawnSync('tshark', ['-n', '-r', out, '-T', 'fields', '-e', 'frame.protocols'], {encoding: 'utf8'}).stdout;
	t.regex(fields, /ripng/, 'RIPng decoded');
	t.regex(fields, /bfd/, 'BFD decoded');
	const bad = spawnSync('tshark', ['-n', '-r', out, '-Y', '_ws.malformed || _ws.expert.severity >= 0x600000'], {encoding: 'utf8'}).stdout.trim();
	t.is(bad, '', 'no malformed packets or warnings');
	t.truthy(underlayAddress(link, 'boundary'));
});

test('demo: the narrated run pings, stops every pretender shown, fails over and back', async (t) => {
	const lines: string[] = [];
	const ok = await runDemo(net!.topology, {stateRoot: net!.stateRoot, out: (line) => lines.push(line)});
	t.log(lines.join('\n'));
	t.true(ok, lines.join('\n'));
	t.regex(lines.join('\n'), /server-b answers queries sent \d+ ms after server-a stopped/);
});

if (isRoot) test.after.always('teardown leaves no namespace, veth, route or process behind', (t) => {
	if (!net) return;
	const pids = ['client', 'server-a', 'boundary'].flatMap((n) => {
		try {
			return [Number(readFileSync(files.pid(net!.state, n), 'utf8'))];
		} catch {
			return [];
		}
	});
	const r = net.teardown();
	const prefix = net.prefix;
	net = undefined;
	t.is(r.status, 0, r.output);
	t.false(spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.includes(prefix), 'no namespace');
	t.false(spawnSync('ip', ['link', 'show'], {encoding: 'utf8'}).stdout.includes(`${prefix}host`), 'no host veth');
	t.false(spawnSync('ip', ['-6', 'route'], {encoding: 'utf8'}).stdout.includes(`${prefix}host`), 'no host route');
	for (const pid of pids) t.false(existsSync(`/proc/${pid}`), `process ${pid} is gone`);
});
