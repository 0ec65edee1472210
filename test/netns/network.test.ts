// The running network, as root: the default topology in its own namespaces
// (prefix t<pid>-), one role process per node on a real TUN and real veths,
// real ping, dig, dnsmasq, tracepath, tcpdump and tshark against it.
import {spawn, spawnSync} from 'node:child_process';
import {watchProbe} from '../../src/cli/probe.js';
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {ExecutionContext} from 'ava';
import {injectPackets, queryControl, queryStatus} from '../../src/ops/control.js';
import type {NodeStatus} from '../../src/ops/status.js';
import {files, linkIfname, underlayAddress} from '../../src/netns/names.js';
import {startDnsmasq} from '../../src/netns/setup.js';
import {ATTACKS, FLOOD_PACKETS, FORGED_MARK, craft, stopped} from '../../src/roles/attacker.js';
import {A} from '../helpers/net.js';
import type {AttackKind, AttackSpec} from '../../src/roles/attacker.js';
import {capture, runAttack} from '../../src/cli/attack.js';
import {runDemo} from '../../src/cli/demo.js';
import {LinkType, parsePacket, pcapHeader, pcapRecord, readPcap} from '../../src/wire/index.js';
import {isRoot, repoRoot, rootTest} from '../io/netns.js';
import {bringUp} from '../helpers/testnet.js';
import type {TestNet} from '../helpers/testnet.js';

const test = rootTest('test/netns/network.test.ts');
const S = '2001:db8:1:ac::53';
let net: TestNet | undefined;

const status = (node: string): Promise<NodeStatus> => queryStatus(files.socket(net!.state, node), 2000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `done` every 50 ms; fails with `what` after `ms`. */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
	const deadline = Date.now() + ms;
	while (!done()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
		await sleep(50);
	}
}

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

test('capture piped into tshark with the dissector prints S for each stamped response, as the README shows', async (t) => {
	// The README's pipeline, through a shell: tshark reads a pipe, not the socket pair Node gives a child.
	const anyguard = `${process.execPath} --import tsx ${join(repoRoot, 'src/cli/main.ts')}`;
	const pipeline = `${anyguard} capture client internet --topology ${net!.file} --state ${net!.stateRoot} | tshark -l -X lua_script:${join(repoRoot, 'contrib/wireshark/anyguard.lua')} -r - -Y anyguard -T fields -e anyguard.anycast -e anyguard.alg`;
	const shell = spawn('sh', ['-c', pipeline], {stdio: ['ignore', 'pipe', 'ignore'], detached: true});
	let out = '';
	shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
	const exited = new Promise((r) => shell.once('exit', r));
	const lines = () => out.split('\n').filter(Boolean).length;
	try {
		// tshark prints a line per stamped reply as it comes; ping until three have (the capture takes a moment to start).
		for (let i = 0; i < 80 && lines() < 3; i++) {
			net!.exec('client', 'ping', '-6', '-n', '-c', '1', '-W', '1', S);
			if (lines() < 3) await sleep(250);
		}
	} finally {
		process.kill(-shell.pid!, 'SIGINT'); // the whole pipeline: the capture, then tshark at end of input
		await exited;
	}
	const rows = out.trim().split('\n').filter(Boolean);
	t.true(rows.length >= 3, `tshark printed: ${out}`);
	for (const row of rows) t.is(row, `${S}\t1`, 'S, and the HMAC algorithm, for each stamped response');
});

test('capture: a ping of S taken at the client shows the stamped reply and option 0x1E in tshark, checksums good', async (t) => {
	const file = join(net!.stateRoot, 'capture.pcap');
	const capture = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'capture', 'client', 'internet', '-w', file, '--topology', net!.file, '--state', net!.stateRoot], {stdio: 'ignore'});
	const exited = new Promise((r) => capture.once('exit', r));
	// The node writes the pcap header when the capture subscribes: from then on every packet is recorded.
	const records = () => (existsSync(file) && statSync(file).size >= 24 ? readPcap(readFileSync(file), {partial: true}).packets : undefined);
	await until(() => records() !== undefined, 30_000, 'the capture started');
	net!.exec('client', 'ping', '-6', '-n', '-c', '2', '-i', '0.2', S);
	// The replies reached the host, so the node has recorded them; wait until they have crossed the control socket into the file.
	const echoes = () =>
		(records() ?? []).filter((p) => {
			try {
				const info = parsePacket(p.data);
				return info.upperProto === 58 && (p.data[info.upperOff] === 128 || p.data[info.upperOff] === 129);
			} catch {
				return false;
			}
		}).length;
	await until(() => echoes() >= 4, 10_000, 'the two requests and two replies are in the file');
	capture.kill('SIGINT');
	await exited;
	const fields = spawnSync('tshark', ['-n', '-r', file, '-o', 'udp.check_checksum:TRUE', '-Y', 'icmpv6.type == 129', '-T', 'fields', '-e', 'ipv6.src', '-e', 'ipv6.opt.type', '-e', 'icmpv6.checksum.status'], {encoding: 'utf8'});
	const rows = fields.stdout.trim().split('\n').filter(Boolean);
	t.true(rows.length >= 2, `echo replies captured: ${fields.stdout}${fields.stderr}`);
	for (const row of rows) {
		const [src, opt, checksum] = row.split('\t');
		t.is(src, '2001:db8:1:a::30', 'the reply on the wire comes from server-a');
		t.true(opt!.split(',').includes('0x1e'), `option 0x1E in tshark: ${opt}`);
		t.is(checksum, '1', 'tshark finds the ICMPv6 checksum good');
	}
	const text = spawnSync('tshark', ['-n', '-r', file, '-V', '-Y', 'icmpv6.type == 129'], {encoding: 'utf8'}).stdout;
	t.regex(text, /Experimental \(0x1E\)/);
});

test('trace: the probe goes client → … → server-a and back, each decision named', (t) => {
	const r = net!.cli('trace', '--json');
	t.is(r.status, 0, r.stderr);
	const trace = JSON.parse(r.stdout) as {requestPath: string[]; replyPath: string[]; events: Array<{node: string; decision: string}>};
	t.deepEqual(trace.requestPath, ['client', 'internet', 'boundary', 'router-a', 'server-a']);
	t.deepEqual(trace.replyPath, ['server-a', 'router-a', 'boundary', 'internet', 'client']);
	t.true(trace.events.some((e) => e.node === 'server-a' && e.decision === 'stamped'));
	t.true(trace.events.some((e) => e.node === 'boundary' && e.decision === 'verified'));
	t.true(trace.events.some((e) => e.node === 'client' && e.decision === 'verified'));
});

test('trace after server-a fails lists the hops to server-b', async (t) => {
	t.is(net!.cli('stop-node', 'server-a').status, 0);
	try {
		let trace: {requestPath: string[]} = {requestPath: []};
		for (let i = 0; i < 20 && trace.requestPath.at(-1) !== 'server-b'; i++) {
			await sleep(100);
			trace = JSON.parse(net!.cli('trace', '--json').stdout) as typeof trace;
		}
		t.deepEqual(trace.requestPath, ['client', 'internet', 'boundary', 'router-b', 'server-b']);
	} finally {
		net!.cli('start-node', 'server-a');
	}
	for (let i = 0; i < 100 && dig('client') !== 'server-a'; i++) await sleep(100);
	t.is(dig('client'), 'server-a', 'server-a is back');
});

test('status: tables for people, --json for scripts, and Prometheus text on the control socket', async (t) => {
	const text = net!.cli('status');
	t.is(text.status, 0, text.stderr);
	for (const section of ['NODES', 'LINKS', 'ROUTES boundary', 'DROPS']) t.true(text.stdout.includes(section), section);
	t.regex(text.stdout, /2001:db8:1:ac::53\/128 via fe80::5 dev router-a .*← nearest anycast server/);
	const json = JSON.parse(net!.cli('status', 'boundary', '--json').stdout) as Array<{name: string; status: NodeStatus}>;
	t.is(json.length, 1);
	t.is(json[0]!.status.role, 'boundary');
	t.true(json[0]!.status.bfd.every((b) => b.state === 'Up'));
	const metrics = await queryControl(files.socket(net!.state, 'boundary'), '/metrics');
	t.regex(metrics, /^anyguard_verified_total\{node="boundary",role="boundary"\} \d+$/m);
	t.regex(metrics, /^anyguard_drops_total\{node="boundary",role="boundary",reason="ingress-spoofed"\} \d+$/m);
	t.regex(metrics, /^anyguard_forwarded_bytes_total\{node="boundary",role="boundary"\} [1-9]\d*$/m);
	const client = await queryControl(files.socket(net!.state, 'client'), '/metrics');
	t.regex(client, /^anyguard_flows\{node="client",role="client"\} \d+$/m);
	t.regex(client, /^anyguard_replay_cache\{node="client",role="client"\} [1-9]\d*$/m);
	t.true(text.stdout.includes('BOUNDS'));
	t.regex(metrics, /^anyguard_table_capacity\{node="boundary",role="boundary",table="bfd sessions"\} [1-9]\d*$/m);
	t.regex(client, /^anyguard_table_entries\{node="client",role="client",table="replay cache"\} \d+$/m);
});

test('real DNS and failover: server-a answers; killed, server-b within 1 s; restarted, server-a again', async (t) => {
	t.is(dig('client'), 'server-a');
	// One prober in the client namespace asks every 20 ms from one socket and logs each answer.
	const prober = watchProbe(net!.ns('client'), [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts')], S, 20);
	try {
		await prober.waitFor('server-a', 0, 5000);
		const pid = Number(readFileSync(files.pid(net!.state, 'server-a'), 'utf8'));
		const killed = Date.now();
		process.kill(pid, 'SIGKILL');
		const b = await prober.waitFor('server-b', killed, 5000);
		const failover = b ? b.sentAt - killed : -1;
		t.log(`failover: the first query answered by server-b was sent ${failover} ms after the kill`);
		console.log(`    failover.ms (namespaces, DNS every 20 ms): ${failover}`);
		t.true(failover >= 0 && failover < 1000, `failover took ${failover} ms`);
		// The supervisor restarts server-a; routing moves back to the nearer server.
		const back = await prober.waitFor('server-a', killed, 10_000);
		t.log(`server-a answered again for a query sent ${back ? back.sentAt - killed : -1} ms after the kill`);
		t.truthy(back, 'server-a answers again after its supervisor restarted it');
		t.not(Number(readFileSync(files.pid(net!.state, 'server-a'), 'utf8')), pid, 'a new role process');
	} finally {
		prober.stop();
	}
});

test('health check: dnsmasq on server-a dies, S is withdrawn there and server-b answers; restarted, server-a again', async (t) => {
	t.is(dig('client'), 'server-a');
	const downs = async () => (await Promise.all(['router-a', 'server-a'].map((n) => status(n)))).reduce((sum, s) => sum + s.bfdDowns, 0);
	const downsBefore = await downs();
	const pid = Number(readFileSync(join(net!.state, 'server-a.dnsmasq.pid'), 'utf8'));
	const killed = Date.now();
	process.kill(pid, 'SIGKILL');
	try {
		// The health check withdraws S first; only then has server-b a reason to answer.
		let a = await status('server-a');
		while (Date.now() - killed < 5000 && a.anycast.some((x) => x.originated)) {
			await sleep(50);
			a = await status('server-a');
		}
		t.false(a.anycast.some((x) => x.originated), 'server-a no longer originates S');
		t.true(a.anycast.some((x) => Number(x.failures) > 0), 'failed checks are counted');
		t.log(`server-a withdrew S ${Date.now() - killed} ms after dnsmasq died`);
		let answer = '';
		while (Date.now() - killed < 5000 && (answer = dig('client')) !== 'server-b') await sleep(50);
		t.is(answer, 'server-b', 'server-b answers once server-a fails its health check');
		t.log(`server-b answered ${Date.now() - killed} ms after dnsmasq died on server-a`);
		t.is(await downs(), downsBefore, 'no BFD session between router-a and server-a went down meanwhile: the health check moved S, not a lost neighbour');
	} finally {
		startDnsmasq(net!.topology, net!.topology.nodes.find((n) => n.name === 'server-a')!, net!.state, {step: () => {}, detail: () => {}});
	}
	let answer = '';
	const restarted = Date.now();
	while (Date.now() - restarted < 15_000 && (answer = dig('client')) !== 'server-a') await sleep(100);
	t.is(answer, 'server-a', `server-a answers again once its check passes; server-a: ${JSON.stringify((await status('server-a')).anycast)}`);
	t.log(`server-a answered again ${Date.now() - restarted} ms after dnsmasq restarted`);
});

/** Captures on the client's TUN while `fn` runs; returns the IPv6 packets seen. */
async function onClientTun<T>(fn: () => Promise<T>): Promise<[T, Uint8Array[]]> {
	const tap = await capture(net!.ns('client'), 'tun0', 'ip6', net!.stateRoot, 'client-tun');
	const result = await fn();
	await sleep(200);
	return [result, await tap.stop()];
}

const marked = (p: Uint8Array) => Buffer.from(p).includes(FORGED_MARK);

/** `anyguard status --json` for every node, as a script would read it. */
function statusJson(): Map<string, NodeStatus> {
	const r = net!.cli('status', '--json');
	return new Map((JSON.parse(r.stdout) as Array<{name: string; status: NodeStatus}>).map((n) => [n.name, n.status]));
}

for (const kind of Object.keys(ATTACKS) as AttackKind[]) {
	const spec: AttackSpec = ATTACKS[kind];
	test(`attack ${kind}: no forged packet reaches the client's TUN; stopped at ${spec.droppedAt} (${spec.reason})`, async (t: ExecutionContext) => {
		const before = statusJson();
		const [r, seen] = await onClientTun(() => runAttack(net!.topology, kind, {count: 3, stateRoot: net!.stateRoot, echoId: 0x4200 + Object.keys(ATTACKS).indexOf(kind)}));
		const after = statusJson();
		const sent = spec.flood ? FLOOD_PACKETS : 3;
		t.is(r.sent, sent);
		t.is(r.dropped, sent, `${r.dropped} of ${sent} stopped (${r.spec.reason}) at ${r.spec.droppedAt}`);
		t.is(stopped(spec, after.get(spec.droppedAt)!) - stopped(spec, before.get(spec.droppedAt)!), r.dropped, 'status --json shows them');
		if (spec.flood) {
			const at = after.get(spec.droppedAt)!;
			t.is(at.bfd.length, before.get(spec.droppedAt)!.bfd.length, 'no BFD session for a made-up neighbour');
			t.true(at.bfd.every((b) => b.state === 'Up'), 'the real sessions stay Up');
		}
		t.is(after.get('client')!.counters.verified - before.get('client')!.counters.verified, r.victim.received, 'verified responses = pings answered');
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
	t.truthy(underlayAddress(net!.topology, link, 'boundary'));
});

test('logs stay bounded: a 60 s flood of forged responses grows no log by 5 MB; the client keeps answering', async (t) => {
	const seconds = Number(process.env.ANYGUARD_FLOOD_S ?? 60);
	const logs = () => new Map(readdirSync(net!.state).filter((f) => f.endsWith('.log')).map((f) => [f, statSync(join(net!.state, f)).size]));
	const before = logs();
	const echoId = 0x5151;
	const victim = spawn('ip', ['netns', 'exec', net!.ns('client'), 'ping', '-6', '-n', '-q', '-e', String(echoId), '-i', '0.2', '-w', String(seconds), S], {stdio: ['ignore', 'pipe', 'ignore']});
	let output = '';
	victim.stdout.on('data', (d: Buffer) => (output += d.toString()));
	const done = new Promise((r) => victim.once('exit', r));
	const forged = craft('no-id', {client: A.client, anycast: A.S, self: A.attacker, server: A.serverA, echoId, sequences: Array.from({length: 500}, (_, i) => i + 1), wallNow: Date.now()});
	const socket = files.socket(net!.state, 'attacker');
	// Where a forged packet can go: policed at the internet router, dropped by the client, or lost, counted, at a
	// socket on the way (the sender's failed writes, the receiver's kernel drops), when the machine is too busy.
	const tally = async () => {
		const [attacker, internet, client] = await Promise.all(['attacker', 'internet', 'client'].map((n) => status(n)));
		const port = (s: NodeStatus, name: string) => s.ports.find((p) => p.name === name)!;
		return {
			dropped: client!.counters.drops['id-missing'],
			policed: port(internet!, 'attacker').counters.policed,
			lost: port(attacker!, 'internet').counters.txFailed + (port(internet!, 'attacker').io?.rxKernelDrops ?? 0) + port(internet!, 'client').counters.txFailed + (port(client!, 'internet').io?.rxKernelDrops ?? 0),
		};
	};
	const first = await tally();
	const until = Date.now() + seconds * 1000;
	let sent = 0;
	while (Date.now() < until) {
		sent += (await injectPackets(socket, forged, 5000)).injected;
		await sleep(20);
	}
	await done;
	const after = logs();
	const growth = [...after].map(([f, size]) => [f, size - (before.get(f) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
	t.log(`${sent} forged responses in ${seconds} s; largest log growth: ${growth.slice(0, 3).map(([f, g]) => `${f} +${g} B`).join(', ')}`);
	for (const [f, g] of growth) t.true(g < 5 * 1024 * 1024, `${f} grew by ${g} bytes`);
	// The attacker's access link is policed at the internet router (default.json): what passes the policer reaches the client and is dropped there.
	const last = await tally();
	const drops = last.dropped - first.dropped;
	const policed = last.policed - first.policed;
	const lost = last.lost - first.lost;
	t.log(`policed ${policed}, dropped by the client ${drops}, lost at a busy socket ${lost}`);
	t.true(drops + policed + lost >= sent * 0.99, `of ${sent} forged responses, ${policed} were policed at the internet router, ${drops} dropped by the client as id-missing, ${lost} lost at a busy socket (counted)`);
	t.true(drops > 0, 'the client met the flood');
	const m = /(\d+) packets transmitted, (\d+) received/.exec(output);
	t.truthy(m, output);
	t.true(Number(m![2]) >= Number(m![1]) * 0.95, `the victim's pings kept succeeding: ${m![0]}`);
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
	const again = net.teardown();
	net.dispose();
	net = undefined;
	t.is(r.status, 0, r.output);
	t.is(again.status, 0, `teardown is idempotent: ${again.output}`);
	t.false(spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.includes(prefix), 'no namespace');
	t.false(spawnSync('ip', ['link', 'show'], {encoding: 'utf8'}).stdout.includes(`${prefix}host`), 'no host veth');
	t.false(spawnSync('ip', ['-6', 'route'], {encoding: 'utf8'}).stdout.includes(`${prefix}host`), 'no host route');
	for (const pid of pids) t.false(existsSync(`/proc/${pid}`), `process ${pid} is gone`);
});
