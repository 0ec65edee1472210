// anyguard beside BIRD, as root: netns/topologies/interop-bird.json (the
// default Fig. 1 with internet and router-b run by BIRD 2 on the kernel) in
// its own namespaces, brought up with the README's script. Route exchange and
// BFD both ways, failover as BIRD sees it, tshark on the wire between the
// two implementations, every row of the attack table, and link conditions
// (delay, loss, down/up) changed on the running network.
import {spawnSync} from 'node:child_process';
import {watchProbe} from '../../src/cli/probe.js';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {ExecutionContext} from 'ava';
import {queryStatus} from '../../src/ops/control.js';
import type {NodeStatus} from '../../src/ops/status.js';
import {birdc, parseBirdBfd, parseBirdRoutes} from '../../src/netns/bird.js';
import type {KernelNodeStatus} from '../../src/netns/bird.js';
import {files, hostVeth, linkIfname} from '../../src/netns/names.js';
import {ATTACKS, FLOOD_PACKETS} from '../../src/roles/attacker.js';
import type {AttackKind, AttackSpec} from '../../src/roles/attacker.js';
import {capture, runAttack, stopPoint} from '../../src/cli/attack.js';
import {isRoot, repoRoot, rootTest} from '../io/netns.js';
import {bringUp} from '../helpers/testnet.js';
import type {TestNet} from '../helpers/testnet.js';

const test = rootTest('test/netns/interop-bird.test.ts');
const INTEROP = fileURLToPath(new URL('../../netns/topologies/interop-bird.json', import.meta.url));
const S = '2001:db8:1:ac::53';
const S128 = `${S}/128`;
let net: TestNet | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (node: string): Promise<NodeStatus> => queryStatus(files.socket(net!.state, node), 2000);

/** A BIRD command on `node`, through `anyguard birdc` as a person would run it. */
function birdcCli(node: string, ...command: string[]): string {
	const r = net!.cli('birdc', node, ...command);
	if (r.status !== 0) throw new Error(`anyguard birdc ${node} ${command.join(' ')}: ${r.status}\n${r.stdout}${r.stderr}`);
	return r.stdout;
}

/** BIRD's selected route to S on `node`, straight from its socket (fast enough to poll every few ms). */
function birdS(node: string): {metric: number; via: string} | undefined {
	const r = birdc(net!.state, node, ['show', 'route', 'for', S128, 'all'], 1000);
	const route = parseBirdRoutes(r.stdout).find((x) => x.prefix === S128 && x.selected);
	return route ? {metric: route.metric, via: route.via} : undefined;
}

/** The ms after `since` at which BIRD on internet held S at `metric`, polled every `stepMs` until `limitMs` after `since`; -1 if it never did. */
async function birdMetricAt(metric: number, since: number, limitMs: number, stepMs: number): Promise<number> {
	while (Date.now() - since < limitMs) {
		if (birdS('internet')?.metric === metric) return Date.now() - since;
		await sleep(stepMs);
	}
	return -1;
}

function dig(node: string): string {
	const r = net!.exec(node, 'dig', '+short', '+time=1', '+tries=1', `@${S}`, 'TXT', 'whoami.anyguard');
	return r.stdout.trim().replace(/"/g, '');
}

/** `anyguard status --json`: anyguard nodes' status, and kernel nodes' (BIRD's) as read from BIRD. */
function statusJson(): {nodes: Map<string, NodeStatus>; kernel: Map<string, KernelNodeStatus>} {
	const r = net!.cli('status', '--json');
	const list = JSON.parse(r.stdout) as Array<{name: string; status: NodeStatus | null; kernel?: KernelNodeStatus}>;
	return {
		nodes: new Map(list.filter((n) => n.status).map((n) => [n.name, n.status!])),
		kernel: new Map(list.filter((n) => n.kernel).map((n) => [n.name, n.kernel!])),
	};
}

/** ping's loss and average RTT. */
function ping(node: string, count: number, interval: string): {loss: number; avg: number; out: string} {
	const r = net!.exec(node, 'ping', '-6', '-n', '-q', '-c', String(count), '-i', interval, '-W', '1', S);
	const loss = Number(/([\d.]+)% packet loss/.exec(r.stdout)?.[1] ?? NaN);
	const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1] ?? NaN);
	return {loss, avg, out: r.stdout};
}

/** The median RTT of `count` pings from the client. */
function medianRtt(count: number): number {
	const r = net!.exec('client', 'ping', '-6', '-n', '-c', String(count), '-i', '0.05', '-W', '1', S);
	const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
	if (rtts.length === 0) throw new Error(`no replies:\n${r.stdout}`);
	return rtts[Math.floor(rtts.length / 2)]!;
}

if (isRoot) {
	test.before(() => {
		// Its own host-route metric: with another test network up, the host's pings here go by -I this network's veth.
		net = bringUp('b', {source: INTEROP, metric: 150});
	});
	test.after.always(() => {
		if (!net) return;
		const r = net.teardown();
		net.dispose();
		if (r.status !== 0) console.error(r.output);
	});
}

test('setup: the README script brings interop-bird.json up, BIRD daemons included, and pings S from the host', (t) => {
	t.regex(net!.setupOutput, /BIRD configuration for internet, router-b/);
	t.regex(net!.setupOutput, /role processes and BIRD daemons, each under a supervisor/);
	t.regex(net!.setupOutput, /routing converged/);
	t.regex(net!.setupOutput, / 0% packet loss/);
});

test('ping S from the client and from the host through BIRD: 0 % loss, replies from S', (t) => {
	const inside = ping('client', 10, '0.1');
	t.is(inside.loss, 0, inside.out);
	const host = spawnSync('ping', ['-6', '-n', '-c', '10', '-i', '0.1', '-W', '2', '-I', hostVeth(net!.topology), S], {encoding: 'utf8'});
	t.regex(host.stdout, / 0% packet loss/, host.stdout);
	t.regex(host.stdout, new RegExp(`bytes from ${S}`));
});

test('BIRD learns from anyguard routers: S/128, the LAN and host prefixes, over RIPng, into its kernel table', (t) => {
	const internet = parseBirdRoutes(birdcCli('internet', 'show', 'route', 'all'));
	const at = (prefix: string) => internet.find((r) => r.prefix === prefix && r.selected);
	// boundary advertises S at metric 3 (router-a 1 + server-a's own 1 + its link to router-a 1); BIRD adds its interface metric 1 (RFC 2080 §2.4.2).
	t.deepEqual(at(S128), {prefix: S128, origin: 'ripng', via: 'via fe80::4%to-boundary', metric: 4, selected: true});
	t.is(at('2001:db8:2:c::/64')?.via, 'via fe80::1%to-client', "the client's host prefix, from the client");
	t.is(at('2001:db8:1:a::30/128')?.metric, 4, "server-a's address, through boundary and router-a");
	t.is(at('2001:db8:1::1/128')?.metric, 2, "boundary's own address");
	const routerB = parseBirdRoutes(birdcCli('router-b', 'show', 'route', 'all'));
	t.deepEqual(routerB.find((r) => r.prefix === S128 && r.selected), {prefix: S128, origin: 'ripng', via: 'via fe80::8%to-server-b', metric: 2, selected: true}, 'router-b: S at server-b, its own LAN');
	t.is(routerB.find((r) => r.prefix === '2001:db8:1:b::6/128' && r.selected)?.via, 'via fe80::a%to-terminal-b');
	// What BIRD selects is what the namespace's kernel forwards with.
	const kernel = net!.exec('internet', 'ip', '-6', 'route', 'show', S128);
	t.regex(kernel.stdout, /via fe80::4 dev to-boundary proto bird/);
});

test('anyguard routers learn BIRD\'s routes, and anyguard status lists them', async (t) => {
	const boundary = await status('boundary');
	const r = (prefix: string) => boundary.routes.find((x) => x.prefix === prefix && x.selected);
	t.like(r('2001:db8:2::1/128'), {origin: 'learned', nextHop: {kind: 'via', link: 'internet', via: 'fe80::2'}, metric: 2}, "internet's own address, from BIRD (its direct protocol on lo)");
	t.like(r('2001:db8:2:c::/64'), {nextHop: {kind: 'via', link: 'internet', via: 'fe80::2'}, metric: 3}, "the client's prefix, passed on by BIRD");
	t.like(r('2001:db8:1:b::1/128'), {nextHop: {kind: 'via', link: 'router-b', via: 'fe80::6'}, metric: 4}, "router-b's address, from BIRD across the cost-3 link");
	t.like(r('2001:db8:1:b::30/128'), {nextHop: {kind: 'via', link: 'router-b', via: 'fe80::6'}, metric: 5}, 'server-b, through BIRD on router-b');
	const backup = boundary.routes.find((x) => x.prefix === S128 && !x.selected);
	t.like(backup, {nextHop: {kind: 'via', link: 'router-b', via: 'fe80::6'}, metric: 5}, 'S at server-b through BIRD, the further anycast route');
	const text = net!.cli('status').stdout;
	t.regex(text, /2001:db8:2::1\/128 via fe80::2 dev internet proto learned metric 2/);
	t.regex(text, /internet\s+bird \(BIRD\)\s+up/);
	const json = statusJson();
	t.true(json.kernel.get('internet')!.routes.some((x) => x.prefix === S128 && x.origin === 'ripng'), "status --json carries BIRD's table");
});

test('BFD sessions are Up on both sides: birdc show bfd sessions, and anyguard status', async (t) => {
	for (const [node, peers] of [['internet', ['fe80::1', 'fe80::3', 'fe80::4']], ['router-b', ['fe80::4', 'fe80::8', 'fe80::a']]] as const) {
		const sessions = parseBirdBfd(birdcCli(node, 'show', 'bfd', 'sessions'));
		t.deepEqual(sessions.map((s) => s.peer).sort(), [...peers], `${node}: one session per neighbour`);
		for (const s of sessions) {
			t.is(s.state, 'Up', `${node} ↔ ${s.peer}`);
			t.is(s.intervalMs, 100, 'the topology\'s interval');
			t.is(s.timeoutMs, 300, 'interval × multiplier 3');
		}
	}
	for (const [node, link, peer] of [['boundary', 'internet', 'fe80::2'], ['boundary', 'router-b', 'fe80::6'], ['client', 'internet', 'fe80::2'], ['server-b', 'router-b', 'fe80::6'], ['terminal-b', 'router-b', 'fe80::6']] as const) {
		const s = (await status(node)).bfd.find((b) => b.link === link);
		t.like(s, {peer, state: 'Up', remoteState: 'Up', detectTimeMs: 300}, `${node} → BIRD on ${link}`);
	}
});

test('dig: server-a answers the client, server-b answers terminal-b', (t) => {
	t.is(dig('client'), 'server-a');
	t.is(dig('terminal-b'), 'server-b');
});

test("server-a's role process killed: BIRD's S route moves to the path to server-b within 1 s, the client's DNS queries follow; then back", async (t) => {
	t.deepEqual(birdS('internet'), {metric: 4, via: 'via fe80::4%to-boundary'});
	const prober = watchProbe(net!.ns('client'), [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts')], S, 20);
	try {
		t.truthy(await prober.waitFor('server-a', 0, 5000), 'the prober hears server-a first');
		const pid = Number(readFileSync(files.pid(net!.state, 'server-a'), 'utf8'));
		const killed = Date.now();
		process.kill(pid, 'SIGKILL');
		// Path to server-b from internet: boundary 1 + router-b 3 + server-b 1 + server-b's own 1.
		const moved = await birdMetricAt(6, killed, 3000, 5);
		t.log(`BIRD (internet): S at metric 6, the path to server-b, ${moved} ms after the kill`);
		console.log(`    interop.bird-failover.ms (BIRD's S route on internet): ${moved}`);
		t.true(moved >= 0 && moved < 1000, `BIRD's route moved after ${moved} ms`);
		t.is(birdS('internet')?.via, 'via fe80::4%to-boundary', 'still through boundary, which now holds only the path to router-b');
		const b = await prober.waitFor('server-b', killed, 3000);
		const dns = b ? b.sentAt - killed : -1;
		t.log(`DNS: the first query answered by server-b was sent ${dns} ms after the kill`);
		t.true(dns >= 0 && dns < 1000, `DNS followed after ${dns} ms`);
		// The supervisor restarts server-a: BIRD's route comes back, and so do the answers.
		const back = await birdMetricAt(4, killed, 20_000, 20);
		t.log(`BIRD back at metric 4 (server-a) ${back} ms after the kill`);
		t.true(back > 0, 'failback in BIRD');
		t.truthy(await prober.waitFor('server-a', killed, 5000), 'server-a answers again');
	} finally {
		prober.stop();
	}
});

/** tshark's fields of the packets in `file`, one row per packet. */
function tsharkRows(file: string, fields: string[]): string[][] {
	const r = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {encoding: 'utf8'});
	return r.stdout.split('\n').filter((l) => l.trim()).map((l) => l.split('\t'));
}

test('the wire between BIRD and anyguard: tshark decodes both sides\' RIPng and BFD with no warnings; hop limit 255; BFD source ports 49152–65535', async (t) => {
	for (const [kernelNode, anyguard, birdLl, ourLl] of [['internet', 'boundary', 'fe80::2', 'fe80::4'], ['router-b', 'server-b', 'fe80::6', 'fe80::8']] as const) {
		const tap = await capture(net!.ns(kernelNode), linkIfname(anyguard), 'udp', net!.stateRoot, `${kernelNode}-${anyguard}`);
		await sleep(2500);
		const frames = await tap.stop();
		t.true(frames.length > 20, `${kernelNode}–${anyguard}: ${frames.length} packets`);
		const file = join(net!.stateRoot, `${kernelNode}-${anyguard}.pcap`);
		const rows = tsharkRows(file, ['ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'udp.srcport', 'udp.dstport', 'frame.protocols']);
		for (const [who, src] of [['BIRD', birdLl], ['anyguard', ourLl]] as const) {
			const mine = rows.filter((r) => r[0] === src);
			t.true(mine.some((r) => /:ripng$/.test(r[5]!) && r[1] === 'ff02::9' && r[3] === '521'), `${who}'s RIPng responses to ff02::9 from port 521`);
			t.true(mine.some((r) => /:bfd$/.test(r[5]!) && r[4] === '3784'), `${who}'s BFD control packets to port 3784`);
			// RFC 2080 §2.4.2 (responses with hop limit 255) and RFC 5881 §5 (BFD's GTSM): 255 on every packet.
			t.deepEqual([...new Set(mine.map((r) => r[2]))], ['255'], `${who}: hop limit 255`);
			// RFC 5881 §4: the source port of BFD control packets is in 49152–65535.
			for (const r of mine.filter((x) => /:bfd$/.test(x[5]!))) t.true(Number(r[3]) >= 49152 && Number(r[3]) <= 65535, `${who}'s BFD source port ${r[3]}`);
		}
		const bad = spawnSync('tshark', ['-n', '-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= 0x600000'], {encoding: 'utf8'}).stdout.trim();
		t.is(bad, '', `${kernelNode}–${anyguard}: no malformed packets or warnings`);
		// Split horizon with poisoned reverse (RFC 2080 §2.6), both ways: each side sends back at 16 what it learned from the other.
		const entries = spawnSync('tshark', ['-n', '-r', file, '-Y', 'ripng', '-T', 'fields', '-e', 'ipv6.src', '-e', 'ripng.rte.ipv6_prefix', '-e', 'ripng.rte.metric', '-E', 'aggregator=;'], {encoding: 'utf8'}).stdout;
		const advertised = (src: string, prefix: string) => {
			const line = entries.split('\n').find((l) => l.startsWith(`${src}\t`) && l.split('\t')[1]!.split(';').includes(prefix));
			if (!line) return undefined;
			const [, prefixes, metrics] = line.split('\t');
			return Number(metrics!.split(';')[prefixes!.split(';').indexOf(prefix)]);
		};
		const birdAddr = kernelNode === 'internet' ? '2001:db8:2::1' : '2001:db8:1:b::1';
		t.is(advertised(ourLl, birdAddr), 16, `anyguard poisons BIRD's own address back to BIRD`);
		t.is(advertised(birdLl, kernelNode === 'internet' ? '2001:db8:1::1' : '2001:db8:1:b::30'), 16, `BIRD poisons ${anyguard}'s address back to it`);
	}
});

for (const kind of Object.keys(ATTACKS) as AttackKind[]) {
	const spec: AttackSpec = ATTACKS[kind];
	test(`attack ${kind} with BIRD routers: still stopped where the table says (${spec.droppedAt}, or past a BIRD router)`, async (t: ExecutionContext) => {
		const point = stopPoint(net!.topology, spec);
		const r = await runAttack(net!.topology, kind, {count: 3, stateRoot: net!.stateRoot, echoId: 0x4300 + Object.keys(ATTACKS).indexOf(kind)});
		const sent = spec.flood ? FLOOD_PACKETS : 3;
		t.is(r.sent, sent);
		t.is(r.spec.droppedAt, point.droppedAt);
		t.is(r.dropped, sent, `${r.dropped} of ${sent} stopped (${r.stoppedBy}) at ${r.spec.droppedAt}`);
		t.is(r.victim.duplicates, 0, r.victim.output);
		t.is(r.victim.received, 3, r.victim.output);
		if (point.bird) {
			// BIRD's RIPng would make a neighbour, and a BFD session, of every made-up sender: the rules before it stop each one.
			t.is(r.dropped, sent, 'every forged RIPng packet dropped before BIRD, counted');
			const sessions = parseBirdBfd(birdcCli(point.droppedAt, 'show', 'bfd', 'sessions'));
			t.deepEqual(sessions.map((s) => `${s.peer} ${s.state}`).sort(), ['fe80::1 Up', 'fe80::3 Up', 'fe80::4 Up'], "BIRD's sessions: its three neighbours, Up, and no other");
		}
	});
}

test('link conditions: a 20 ms delay on boundary–router-a raises the client\'s RTT to S by about 40 ms, shown in status', (t) => {
	const before = medianRtt(20);
	const set = net!.cli('link', 'boundary', 'router-a', 'set', 'delay=20ms');
	t.is(set.status, 0, set.stdout + set.stderr);
	t.regex(set.stdout, /boundary–router-a \(udp\): delay=20ms/);
	try {
		t.regex(net!.cli('status').stdout, /boundary\s+router-a\s+udp.*delay=20ms/);
		const after = medianRtt(20);
		t.log(`median RTT client → S: ${before} ms, then ${after} ms with 20 ms each way on boundary–router-a`);
		console.log(`    interop.delay-rise.ms (20 ms each way): ${(after - before).toFixed(1)}`);
		t.true(after - before > 35 && after - before < 55, `RTT rose by ${after - before} ms`);
	} finally {
		net!.cli('link', 'boundary', 'router-a', 'set', 'delay=0ms');
	}
	t.true(medianRtt(10) < before + 15, 'the delay is gone again');
});

test('link conditions: 10 % loss on boundary–router-a shows in the ping statistics', (t) => {
	const set = net!.cli('link', 'boundary', 'router-a', 'set', 'loss=10%');
	t.is(set.status, 0, set.stdout + set.stderr);
	try {
		// 10 % on each end's ingress: a round trip crosses it twice, 1 − 0.9² = 19 % expected.
		const r = ping('client', 400, '0.005');
		t.log(`400 pings across 10 % loss each way: ${r.loss} % lost`);
		console.log(`    interop.loss-pct (10 % each way, 400 pings): ${r.loss}`);
		t.true(r.loss >= 8 && r.loss <= 35, r.out);
	} finally {
		net!.cli('link', 'boundary', 'router-a', 'set', 'loss=0%');
	}
	t.is(ping('client', 50, '0.01').loss, 0, 'no loss once it is removed');
});

test('link conditions: boundary–router-a down fails S over to server-b (BIRD sees it), up fails it back', async (t) => {
	t.is(dig('client'), 'server-a');
	const down = net!.cli('link', 'boundary', 'router-a', 'down');
	t.is(down.status, 0, down.stdout + down.stderr);
	try {
		let answer = '';
		const from = Date.now();
		while (Date.now() - from < 5000 && (answer = dig('client')) !== 'server-b') await sleep(50);
		t.is(answer, 'server-b', 'server-b answers while the link is down');
		t.is(birdS('internet')?.metric, 6, 'BIRD on internet: S by the path to server-b');
		t.regex(net!.cli('status').stdout, /boundary\s+router-a\s+udp.*down/);
	} finally {
		const up = net!.cli('link', 'boundary', 'router-a', 'up');
		t.is(up.status, 0, up.stdout + up.stderr);
	}
	let answer = '';
	const from = Date.now();
	while (Date.now() - from < 15_000 && (answer = dig('client')) !== 'server-a') await sleep(100);
	t.is(answer, 'server-a', 'server-a again once the link is up');
	const r = ping('client', 10, '0.1');
	t.is(r.loss, 0, r.out);
});
