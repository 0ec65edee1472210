// The kernel baseline's plan (src/netns/kernel.ts), computed from the default
// topology alone: addresses per node and static routes along the shortest
// path by link cost, S to the nearest server (no root needed); and, as root,
// the baseline itself forwarding a ping.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {loadTopology} from '../../src/config/topology.js';
import {kernelDown, kernelLinkAddress, kernelPlan, kernelUp} from '../../src/netns/kernel.js';
import {findLink, underlayAddress} from '../../src/netns/names.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {testTopologyFile} from '../helpers/testnet.js';

const t = loadTopology(DEFAULT_TOPOLOGY);
const plan = kernelPlan(t);
const route = (node: string, prefix: string) => plan.routes.find((r) => r.node === node && r.prefix === prefix);
const S = '2001:db8:1:ac::53/128';

test('S goes to the nearest server, as the userspace routing converges to', (t2) => {
	t2.is(route('client', S)?.peer, 'internet');
	t2.is(route('boundary', S)?.peer, 'router-a', 'router-a is nearer than router-b (cost 1 against 3)');
	t2.is(route('router-b', S)?.peer, 'server-b');
	t2.is(route('terminal-b', S)?.peer, 'router-b');
	t2.is(route('server-a', S), undefined, 'a server holds S itself');
});

test('each route leaves by the veth to its next hop, through the neighbour\'s address on that link, from the node\'s own address', (t2) => {
	const r = route('client', S)!;
	const link = t.links.findIndex((l) => l.a === 'client' && l.b === 'internet');
	t2.deepEqual(r, {node: 'client', prefix: S, peer: 'internet', via: kernelLinkAddress(link, 'b'), dev: 'to-internet', src: '2001:db8:2:c::10'});
	t2.is(route('internet', '2001:db8:2:c::/64')?.peer, 'client', 'host prefixes are routed to their node');
});

test('addresses: a /64, the underlay address and the link-local address on each veth end, node and anycast addresses on lo', (t2) => {
	const server = plan.addresses.get('server-a')!;
	t2.true(server.some(([dev, a]) => dev === 'lo' && a === '2001:db8:1:ac::53/128'));
	t2.true(server.some(([dev, a]) => dev === 'lo' && a === '2001:db8:1:a::30/128'));
	t2.true(server.some(([dev, a]) => dev === 'to-router-a' && a === `${underlayAddress(t, findLink(t, 'router-a', 'server-a'), 'server-a')}/64`));
	t2.false(plan.addresses.get('router-a')!.some(([dev, a]) => dev === 'lo' && a === '2001:db8:1:ac::53/128'), 'only servers hold S');
	const all = [...plan.addresses.values()].flat().filter(([dev]) => dev !== 'lo');
	t2.is(all.length, t.links.length * 6);
	t2.true(server.some(([dev, a]) => dev === 'to-router-a' && a === `fe80::${(t.nodes.findIndex((n) => n.name === 'server-a') + 1).toString(16)}/64`));
});

test('as root: the kernel baseline forwards a ping from the client to S and back', (t2) => {
	if (process.getuid?.() !== 0) return t2.fail('the namespace tests run as root (npm test in CI runs them so)');
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-kernel-'));
	const topo = loadTopology(testTopologyFile(`kb${process.pid % 10000}-`, dir));
	try {
		kernelUp(topo);
		const ping = spawnSync('ip', ['netns', 'exec', `${topo.prefix}client`, 'ping', '-6', '-n', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8:1:ac::53'], {encoding: 'utf8'});
		t2.is(ping.status, 0, ping.stdout + ping.stderr);
		t2.regex(ping.stdout, / 0% packet loss/);
	} finally {
		kernelDown(topo);
		rmSync(dir, {recursive: true, force: true});
	}
});
