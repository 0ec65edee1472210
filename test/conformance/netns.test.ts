// The conformance rows of cases.ts again, on the real thing: the network of
// test/fixtures/conformance.json in namespaces (prefix c<pid>-), one role
// process per node on a TUN, packets injected into alpha's TUN from its
// namespace and the node's answers read back from it. Then Debian's
// ipv6toolkit throws its crafted packets at the nodes, and every node must
// still answer ping with its role process never restarted, and no BFD session
// may change state: the floods overrun the data sockets (the kernel drops
// what a node cannot read in time), never the links' control channels
// (docs/pipeline.md, "The control plane under load").
import type {NodeCounters} from '../../src/ops/status.js';
import {isRoot, rootTest} from '../io/netns.js';
import {CASES, CONFORMANCE_TOPOLOGY} from './cases.js';
import type {NodeName} from './cases.js';
import {check, sortReceived} from './check.js';
import {bringUpNs} from '../../lab/nsnet.js';
import type {NsNet} from '../../lab/nsnet.js';

const test = rootTest('test/conformance/netns.test.ts');
const NODES: NodeName[] = ['alpha', 'rtr', 'beta'];
let net: NsNet | undefined;

if (isRoot) {
	test.before(async () => {
		net = await bringUpNs(CONFORMANCE_TOPOLOGY, 'c');
	});
	test.after.always(async () => {
		await net?.down();
	});
}

async function counters(): Promise<Record<NodeName, NodeCounters>> {
	const out = {} as Record<NodeName, NodeCounters>;
	for (const n of NODES) out[n] = (await net!.status(n)).counters;
	return out;
}

for (const c of CASES.filter((x) => !x.memOnly)) {
	test(`${c.id} (TUN): ${c.rule}`, async (t) => {
		const before = await counters();
		const received = net!.inject('alpha', c.packets(), (c.waitMs ?? 0) + 400);
		check(t, c, {...sortReceived(received, c.echoId), before, after: await counters()});
	});
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pingOk(from: NodeName, address: string): boolean {
	const r = net!.exec(from, ['ping', '-6', '-n', '-c', '2', '-i', '0.2', '-W', '2', address]);
	return r.status === 0;
}

const ADDRESSES: Record<NodeName, string> = {alpha: '2001:db8:c:a::5', rtr: '2001:db8:c::1', beta: '2001:db8:c:b::6'};

test('ipv6toolkit: frag6, icmp6 and tcp6 floods and crafted headers crash or stall no node; every node still answers ping', async (t) => {
	const pids = Object.fromEntries(NODES.map((n) => [n, [net!.pid(n), net!.supervisorPid(n)]]));
	const A = ADDRESSES.alpha;
	const runs: Array<[string, string[]]> = [
		// frag6: the reassembly policy probe (overlapping fragments among its tests), atomic fragments, a fragment flood.
		['frag6 -p (overlaps)', ['frag6', '-i', 'tun0', '-s', A, '-d', ADDRESSES.beta, '-p', '-n']],
		['frag6 atomic', ['frag6', '-i', 'tun0', '-s', A, '-d', ADDRESSES.rtr, '-O', 'atomic', '-n']],
		['frag6 -F 500 (flood)', ['frag6', '-i', 'tun0', '-s', `${A.replace(/::5$/, '::')}/64`, '-d', ADDRESSES.beta, '-F', '500', '-l', '-z', '1', '-n']],
		// icmp6: forged Packet Too Big (MTU under 1280) and Parameter Problem at a router and a host.
		['icmp6 PTB', ['icmp6', '-i', 'tun0', '-s', A, '-d', ADDRESSES.rtr, '-t', '2', '-c', '0', '-m', '576', '-l', '-z', '1']],
		['icmp6 PP', ['icmp6', '-i', 'tun0', '-s', A, '-d', ADDRESSES.beta, '-t', '4', '-c', '1', '-l', '-z', '1']],
		// tcp6 -F: SYN floods from many sources of alpha's /64.
		['tcp6 -F 100', ['tcp6', '-i', 'tun0', '-s', `${A.replace(/::5$/, '::')}/64`, '-d', ADDRESSES.beta, '-a', '80', '-X', 'S', '-F', '100', '-l', '-z', '1']],
		// Long extension-header chains: 8 Destination Options headers, and a big Hop-by-Hop.
		['frag6 long chain', ['frag6', '-i', 'tun0', '-s', A, '-d', ADDRESSES.rtr, '-u', '64', '-u', '64', '-u', '64', '-u', '64', '-U', '64', '-U', '64', '-H', '256', '-O', 'first', '-n']],
		['tcp6 long chain', ['tcp6', '-i', 'tun0', '-s', A, '-d', ADDRESSES.beta, '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-u', '8', '-a', '80', '-X', 'S']],
	];
	const hostRx = async () => (await net!.status('alpha')).ports.find((p) => p.kind === 'host')!.counters.rxPackets;
	const bfd = async () => Object.fromEntries(await Promise.all(NODES.map(async (n) => [n, (await net!.status(n)).bfdStateChanges] as const)));
	const bfdBefore = await bfd();
	const dropsBefore = await counters();
	for (const [name, args] of runs) {
		const rx = await hostRx();
		const r = net!.exec('alpha', ['timeout', '-s', 'INT', '4', ...args], undefined, 15_000);
		const got = (await hostRx()) - rx;
		t.log(`${name}: exit ${r.status}, ${got} packets into alpha's node${r.stderr.trim() ? `; ${r.stderr.trim().split('\n')[0]}` : ''}`);
		t.true(got > 0, `${name} reached the node`);
	}
	const dropsAfter = await counters();
	for (const n of NODES) {
		const moved = Object.entries(dropsAfter[n].drops).filter(([k, v]) => v !== dropsBefore[n].drops[k as keyof NodeCounters['drops']]);
		t.log(`${n} drops: ${moved.map(([k, v]) => `${k} +${v - dropsBefore[n].drops[k as keyof NodeCounters['drops']]}`).join(', ') || 'none'}`);
	}
	t.deepEqual(await bfd(), bfdBefore, 'no BFD session changed state during the floods');
	for (const n of NODES) for (const m of NODES) if (n !== m && n !== 'rtr') t.true(pingOk(n, ADDRESSES[m]), `${n} pings ${m}`);
	for (const n of NODES) t.deepEqual([net!.pid(n), net!.supervisorPid(n)], pids[n], `${n}: role process and supervisor unchanged`);
});

test('supervision: a role process killed with SIGKILL is restarted and routes reconverge', async (t) => {
	const before = [net!.pid('rtr'), net!.supervisorPid('rtr')];
	process.kill(before[0]!, 'SIGKILL');
	let ok = false;
	const started = Date.now();
	for (let i = 0; i < 60 && !ok; i++) {
		await sleep(250);
		try {
			ok = net!.pid('rtr') !== before[0] && pingOk('alpha', ADDRESSES.beta);
		} catch {
			// the pid file is rewritten by the supervisor
		}
	}
	t.true(ok, 'alpha reaches beta through the restarted router');
	t.log(`reconverged ${Date.now() - started} ms after the kill`);
	t.is(net!.supervisorPid('rtr'), before[1]!, 'the same supervisor');
	t.not(net!.pid('rtr'), before[0], 'a new role process');
	const status = await net!.status('rtr');
	t.true(status.routes.some((r) => r.prefix === '2001:db8:c:b::/64' && r.selected));
});
