// Kernel nodes without root: the bird.conf up writes (and BIRD's own parser
// reading it), birdc output parsed for status, static "kernel" nodes and the
// routes their neighbours get, and both kinds converged in memory.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {fileURLToPath} from 'node:url';
import {TopologyError, loadTopology, parseTopology} from '../../src/config/topology.js';
import {staticRoutes} from '../../src/config/paths.js';
import {BIRD, BirdError, birdConfig, birdNeighbourRules, parseBirdBfd, parseBirdRoutes, parseKernelRoutes} from '../../src/netns/bird.js';
import {linkKind, processShare} from '../../src/netns/links.js';
import {MemNet} from '../../src/assembly/memnet.js';
import {A, DEFAULT_TOPOLOGY, echo} from '../helpers/net.js';

const INTEROP = fileURLToPath(new URL('../../netns/topologies/interop-bird.json', import.meta.url));
const interop = () => loadTopology(INTEROP);

/** The default topology's JSON with some nodes' roles changed. */
function withRoles(roles: Record<string, string>, edit: (json: {nodes: Array<Record<string, unknown>>; links: Array<Record<string, unknown>>}) => void = () => {}) {
	const t = loadTopology(DEFAULT_TOPOLOGY);
	const json = JSON.parse(JSON.stringify({...t, file: undefined, dir: undefined})) as {nodes: Array<Record<string, unknown>>; links: Array<Record<string, unknown>>};
	for (const n of json.nodes) if (roles[n.name as string]) n.role = roles[n.name as string];
	edit(json);
	return parseTopology(json, t.file);
}

function birdParses(t: ExecutionContext, text: string): void {
	if (!BIRD) {
		t.fail('BIRD is not installed (apt-get install -y bird2): its parser must read what up writes');
		return;
	}
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-bird-'));
	try {
		writeFileSync(join(dir, 'bird.conf'), text);
		const r = spawnSync(BIRD, ['-p', '-c', join(dir, 'bird.conf')], {encoding: 'utf8'});
		t.is(r.status, 0, `bird -p: ${r.stderr}`);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

test('interop-bird.json is the default topology with internet and router-b run by BIRD: same names, addresses and links', (t) => {
	const d = loadTopology(DEFAULT_TOPOLOGY);
	const b = interop();
	t.deepEqual(b.nodes.map((n) => [n.name, n.address ?? n.host?.address]), d.nodes.map((n) => [n.name, n.address ?? n.host?.address]));
	t.deepEqual(b.nodes.filter((n) => n.role !== d.nodes.find((x) => x.name === n.name)!.role).map((n) => [n.name, n.role]), [['internet', 'bird'], ['router-b', 'bird']]);
	t.deepEqual(b.links.map((l) => [l.a, l.b, l.cost]), d.links.map((l) => [l.a, l.b, l.cost]));
	t.deepEqual(b.links.map((l) => linkKind(b, l)), ['tun', 'tun', 'tun', 'udp', 'tun', 'udp', 'udp', 'tun', 'tun']);
});

test("router-b's bird.conf: RIPng per link with the link's cost as the metric, the topology's timers, BFD per neighbour, routes only from the topology's neighbours", (t) => {
	const conf = birdConfig(interop(), 'router-b', '/run/anyguard/ag');
	t.regex(conf, /log "\/run\/anyguard\/ag\/router-b\.log"/, 'the log is in the state directory');
	t.regex(conf, /interface "to-boundary" \{ metric 3; update time 1; timeout time 4; garbage time 2; ttl security yes; bfd yes; \}/, 'boundary–router-b costs 3');
	t.regex(conf, /interface "to-server-b" \{ metric 1;/);
	t.regex(conf, /interface "to-terminal-b" \{ metric 1;/);
	t.is(conf.match(/min rx interval 100 ms; min tx interval 100 ms; idle tx interval 1000 ms; multiplier 3;/g)?.length, 3, 'one BFD interface per neighbour');
	t.regex(conf, /import where \(ifname = "to-boundary" && from = fe80::4\) \|\| \(ifname = "to-server-b" && from = fe80::8\) \|\| \(ifname = "to-terminal-b" && from = fe80::a\);/);
	t.regex(conf, /protocol direct \{ ipv6; interface "lo"; \}/);
	t.regex(conf, /protocol kernel \{ ipv6 \{ import none; export all; \}; \}/);
	birdParses(t, conf);
});

test("nftables before BIRD: RIPng and BFD on each link only from the topology's neighbour there", (t) => {
	const rules = birdNeighbourRules(interop(), 'internet');
	t.regex(rules, /table inet anyguard_neighbours \{/);
	t.regex(rules, /type filter hook input priority 0; policy accept;/);
	t.deepEqual([...rules.matchAll(/iifname "(\S+)" udp dport \{ 521, 3784 \} ip6 saddr != (\S+) counter drop/g)].map((m) => [m[1], m[2]]), [['to-client', 'fe80::1'], ['to-attacker', 'fe80::3'], ['to-boundary', 'fe80::4']]);
	// nft -c (check only) needs CAP_NET_ADMIN; root's run, as in CI, checks the syntax with nftables itself.
	if (process.getuid?.() !== 0) return;
	const nft = ['/usr/sbin/nft', '/sbin/nft'].find((p) => existsSync(p));
	if (!nft) return t.fail('nftables is not installed (apt-get install -y nftables)');
	const r = spawnSync(nft, ['-c', '-f', '-'], {input: rules, encoding: 'utf8'});
	t.is(r.status, 0, `nft -c: ${r.stderr}`);
});

test("the topology's timers reach bird.conf, in BIRD's whole seconds", (t) => {
	const json = JSON.parse(JSON.stringify({...interop(), file: undefined, dir: undefined})) as {timers: {ripng: Record<string, number>; bfd: Record<string, number>}};
	json.timers.ripng = {updateMs: 5000, timeoutMs: 30_000, gcMs: 20_000};
	json.timers.bfd = {intervalMs: 250, multiplier: 5};
	const conf = birdConfig(parseTopology(json, INTEROP), 'internet', '/s');
	t.regex(conf, /update time 5; timeout time 30; garbage time 20;/);
	t.regex(conf, /min rx interval 250 ms; min tx interval 250 ms; idle tx interval 1000 ms; multiplier 5;/);
	t.throws(() => birdConfig(interop(), 'boundary', '/s'), {instanceOf: BirdError, message: /not a bird node/});
});

test('kernel and bird nodes are checked like the rest: an address, and nothing of an anyguard role', (t) => {
	const bad = (roles: Record<string, string>, edit: Parameters<typeof withRoles>[1]) => t.throws(() => withRoles(roles, edit), {instanceOf: TopologyError});
	t.regex(bad({internet: 'bird'}, (j) => delete j.nodes.find((n) => n.name === 'internet')!.address).message, /nodes\[1\]\.address: a bird node needs an address/);
	t.regex(bad({client: 'kernel'}, () => {}).message, /nodes\[0\]\.(address|host)/);
	t.regex(bad({'router-a': 'bird'}, (j) => (j.nodes.find((n) => n.name === 'router-a')!.groups = ['dns'])).message, /it has no groups/);
});

test('a static "kernel" node: shortest-path routes of its own, and static routes through it on its neighbours, advertised', (t) => {
	const k = withRoles({internet: 'kernel'});
	const own = staticRoutes(k, 'internet');
	t.deepEqual(own.find((r) => r.prefix === '2001:db8:1:ac::53/128'), {prefix: '2001:db8:1:ac::53/128', peer: 'boundary', dist: 3}, 'S via boundary, to server-a, cost 3');
	t.deepEqual(own.find((r) => r.prefix === '2001:db8:2:c::/64'), {prefix: '2001:db8:2:c::/64', peer: 'client', dist: 1});
	const boundary = staticRoutes(k, 'boundary', (p) => p === 'internet');
	t.deepEqual(boundary.map((r) => r.prefix).sort(), ['2001:db8:2:c::/64', '2001:db8:2:c::10/128', '2001:db8:2:e::66/128', '2001:db8:2::1/128'].sort());
	t.deepEqual(processShare(k, k.links[2]!, {delayMs: 5, lossPct: 1}), {delayMs: 5, lossPct: 1}, 'a tun link: the anyguard end carries every condition');
	t.deepEqual(processShare(k, k.links[3]!, {delayMs: 5, lossPct: 1}), {delayMs: 5}, 'a udp link: the kernel drops, the ends delay');
});

test('in memory, BIRD and kernel nodes are routers: the client reaches S at server-a, and a kernel internet passes it on statically', (t) => {
	for (const [label, topo] of [['bird', interop()], ['kernel', withRoles({internet: 'kernel'})]] as const) {
		const net = new MemNet(topo);
		net.start();
		net.run(5000);
		t.deepEqual(net.path('client', A.S), ['client', 'internet', 'boundary', 'router-a', 'server-a'], label);
		t.deepEqual(net.path('terminal-b', A.S), ['terminal-b', 'router-b', 'server-b'], label);
		const host = net.host('client');
		const before = host.received.length;
		host.send(echo('request', A.client, A.S, 7));
		net.run(50);
		t.is(host.received.length - before, 1, `${label}: the echo reply reached the client's host`);
	}
});

test("a bird node beside a static kernel node is refused with the reason: BIRD 2.0 cannot name a dashed interface after a link-local next hop", (t) => {
	const k = withRoles({'router-b': 'bird', 'terminal-b': 'kernel'}, (j) => {
		const n = j.nodes.find((x) => x.name === 'terminal-b')!;
		for (const f of ['host', 'groups', 'keys']) delete n[f];
		n.address = '2001:db8:1:b::66';
	});
	t.is(linkKind(k, k.links.find((l) => l.b === 'terminal-b')!), 'veth');
	t.throws(() => birdConfig(k, 'router-b', '/s'), {instanceOf: BirdError, message: /static routes through terminal-b need a point-to-point link/});
});

test('birdc output, parsed for status: routes with their RIP metric and next hop, BFD sessions', (t) => {
	const routes = parseBirdRoutes(`BIRD 2.0.12 ready.
Table master6:
2001:db8:1:ac::53/128 unicast [ripng 12:15:46.519] * (120/4)
	via fe80::4 on to-boundary
2001:db8:2::1/128    unicast [direct1 12:15:41.589] * (240)
	dev lo
2001:db8:9::/64      unicast [ripng 12:15:46.519] * (120/3)
	via fe80::4 on to-boundary
	via fe80::6 on to-router-b
`);
	t.deepEqual(routes, [
		{prefix: '2001:db8:1:ac::53/128', origin: 'ripng', via: 'via fe80::4%to-boundary', metric: 4, selected: true},
		{prefix: '2001:db8:2::1/128', origin: 'direct1', via: 'dev lo', metric: 0, selected: true},
		{prefix: '2001:db8:9::/64', origin: 'ripng', via: 'via fe80::4%to-boundary, via fe80::6%to-router-b', metric: 3, selected: true},
	]);
	const bfd = parseBirdBfd(`BIRD 2.0.12 ready.
bfd1:
IP address                Interface  State      Since         Interval  Timeout
fe80::4                   to-boundary Up         12:15:46.455    0.100    0.300
fe80::3                   to-attacker Down       12:15:45.999    1.000    0.000
`);
	t.deepEqual(bfd.map((b) => [b.peer, b.link, b.state, b.intervalMs, b.timeoutMs]), [['fe80::4', 'to-boundary', 'Up', 100, 300], ['fe80::3', 'to-attacker', 'Down', 1000, 0]]);
	const kernel = parseKernelRoutes('2001:db8:1:ac::53 via fe80::4 dev to-boundary proto static src 2001:db8:2::1 metric 1024 pref medium\nfe80::/64 dev to-boundary proto kernel metric 256 pref medium\n');
	t.deepEqual(kernel, [{prefix: '2001:db8:1:ac::53/128', origin: 'static', via: 'via fe80::4%to-boundary', metric: 1024, selected: true}]);
});
