// The conformance rows of cases.ts over in-memory links, without root: each
// row on a fresh, converged copy of test/fixtures/conformance.json.
import test from 'ava';
import {loadTopology} from '../../src/config/topology.js';
import {nodeCounters} from '../../src/ops/status.js';
import type {NodeCounters} from '../../src/ops/status.js';
import {MemNet} from '../../src/assembly/memnet.js';
import {isLinkLocal} from '../../src/util/addr.js';
import {structuredCloneCounters} from './util.js';
import {CASES, CONFORMANCE_TOPOLOGY} from './cases.js';
import type {NodeName} from './cases.js';
import {check, sortReceived} from './check.js';

const topology = loadTopology(CONFORMANCE_TOPOLOGY);
const NODES: NodeName[] = ['alpha', 'rtr', 'beta'];

function conformanceNet(): MemNet {
	const net = new MemNet(topology);
	net.start();
	net.run(3000);
	return net;
}

for (const c of CASES) {
	test(`${c.id}: ${c.rule}`, (t) => {
		const net = conformanceNet();
		const counters = () => Object.fromEntries(NODES.map((n) => [n, structuredCloneCounters(nodeCounters(net.stacks.get(n)!))])) as Record<NodeName, NodeCounters>;
		// Errors to alpha's link-local address end at alpha's node: catch them on the way in.
		const linkArrivals: Uint8Array[] = [];
		net.stacks.get('alpha')!.pipeline.addHook('prerouting', (pkt) => {
			const info = pkt.info;
			if (pkt.inPort?.kind === 'link' && isLinkLocal(info.buf, info.off + 24)) linkArrivals.push(info.buf.slice(info.off, info.end));
			return null;
		});
		const before = counters();
		const rtr = net.stacks.get('rtr')!.pipeline;
		for (const p of c.packets()) {
			if (c.memOnly) rtr.receive(rtr.ports.get('alpha')!, p.slice(), 0, p.length);
			else net.host('alpha').send(p);
			net.run(5);
		}
		net.run(c.waitMs ?? 100);
		const seen = sortReceived([...net.host('alpha').received, ...linkArrivals], c.echoId);
		check(t, c, {...seen, before, after: counters()});
	});
}
