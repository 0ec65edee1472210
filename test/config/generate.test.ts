// anyguard generate: the same parameters give the same file; the file passes
// the checks a hand-written one does; and routing on it (the in-memory
// network, the same stacks as the real one) sends each client to the server
// the link costs predict.
import test from 'ava';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {GENERATED_ANYCAST, GenerateError, generateTopology, predictCatchment} from '../../src/config/generate.js';
import type {GenerateOptions} from '../../src/config/generate.js';
import {writeGenerated} from '../../src/cli/generate.js';
import {MemNet} from '../../src/assembly/memnet.js';
import type {Topology} from '../../src/config/topology.js';
import {parseAddr} from '../../src/util/addr.js';

const small: GenerateOptions = {sites: 4, clients: 8, routers: 10, shape: 'tiered', seed: 7};

function written<T>(o: GenerateOptions, fn: (t: Topology, file: string) => T): T {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-gen-'));
	try {
		const file = join(dir, 'net.json');
		return fn(writeGenerated(o, file), file);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

test('the same parameters give the same topology; another seed another', (t) => {
	for (const shape of ['tiered', 'geometric'] as const) {
		const a = JSON.stringify(generateTopology({...small, shape}).json);
		t.is(JSON.stringify(generateTopology({...small, shape}).json), a, shape);
		t.not(JSON.stringify(generateTopology({...small, shape, seed: 8}).json), a, `${shape}, seed 8`);
	}
});

for (const shape of ['tiered', 'geometric'] as const) {
	test(`${shape}: the written file loads with every check (keys included): routers + 2 × sites + clients nodes, connected, costs 1..3`, (t) => {
		written({...small, shape, sites: 10, clients: 40, routers: 50, seed: 1}, (topo, file) => {
			t.is(topo.nodes.length, 50 + 2 * 10 + 40);
			t.is(topo.groups[0]!.anycast, GENERATED_ANYCAST);
			t.deepEqual(topo.groups[0]!.servers, Array.from({length: 10}, (_, i) => `srv${i + 1}`));
			t.true(topo.links.every((l) => l.cost >= 1 && l.cost <= 3), 'costs 1..3');
			const catchment = predictCatchment(topo);
			t.is(catchment.size, 40);
			for (const [client, p] of catchment) t.true(p.cost <= 14 && p.servers.length > 0, `${client}: cost ${p.cost}`);
			t.regex(readFileSync(file, 'utf8'), /"name": "c40"/);
		});
	});
}

test('bad parameters are refused with the option named, never a stack trace', (t) => {
	t.throws(() => generateTopology({...small, sites: 0}), {instanceOf: GenerateError, message: /--sites takes a whole number 1\.\.4000, got 0/});
	t.throws(() => generateTopology({...small, clients: 1.5}), {instanceOf: GenerateError, message: /--clients/});
	t.throws(() => generateTopology({...small, shape: 'ring' as 'tiered'}), {instanceOf: GenerateError, message: /--shape takes tiered or geometric, got ring/});
	t.throws(() => generateTopology({sites: 1, clients: 1, routers: 400, shape: 'geometric', seed: 1}), {instanceOf: GenerateError, message: /farther from every site than RIPng reaches/});
});

/** The server a packet to S from `client` reaches, following each node's selected route (the first of an ECMP set). */
function reached(net: MemNet, client: string): string | undefined {
	const S = parseAddr(GENERATED_ANYCAST);
	let at = client;
	for (let hops = 0; hops < 32; hops++) {
		const stack = net.stacks.get(at)!;
		if (stack.spec.role === 'server') return at;
		const route = stack.router.table.match(S)[0];
		if (!route?.nextHop.link) return undefined;
		at = route.nextHop.link;
	}
	return undefined;
}

for (const shape of ['tiered', 'geometric'] as const) {
	test(`${shape}: routing sends each client to a server the link costs predict (in memory, RIPng and BFD as on the real network)`, (t) => {
		// Seeds whose costs split the six clients over all three sites, no ties.
		written({sites: 3, clients: 6, routers: 8, shape, seed: shape === 'tiered' ? 2 : 4}, (topo) => {
			const net = new MemNet(topo);
			net.start();
			net.run(15_000);
			const catchment = predictCatchment(topo);
			t.log([...catchment].map(([c, p]) => `${c} → ${reached(net, c)} (predicted ${p.servers.join('|')}, cost ${p.cost})`).join(', '));
			t.is(new Set([...catchment.keys()].map((c) => reached(net, c))).size, 3, 'the clients split over the three sites');
			for (const [client, p] of catchment) {
				const server = reached(net, client);
				t.true(server !== undefined && p.servers.includes(server), `${client}: reached ${server}, predicted ${p.servers.join(' or ')} at cost ${p.cost}`);
			}
			// A site withdrawn: its clients move to the next nearest.
			const first = topo.groups[0]!.servers[0]!;
			net.kill(first);
			net.run(5000);
			const without = predictCatchment({...topo, groups: [{...topo.groups[0]!, servers: topo.groups[0]!.servers.slice(1)}]});
			for (const [client, p] of without) {
				const server = reached(net, client);
				t.true(server !== undefined && p.servers.includes(server), `${first} down: ${client} reached ${server}, predicted ${p.servers.join(' or ')}`);
			}
		});
	});
}
