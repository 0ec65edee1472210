// The tracer on the default topology in memory: the probe's path and each
// node's decision, and the path after server-a fails.
import test from 'ava';
import {Tracer} from '../../src/ops/trace.js';
import type {TraceEvent} from '../../src/ops/trace.js';
import type {MemNet} from '../../src/assembly/memnet.js';
import {A, converged, echo} from '../helpers/net.js';

/** The network, with a tracer on every node, fed its drops as the role process does. */
function tracedNet(): [MemNet, Map<string, Tracer>] {
	const tracers = new Map<string, Tracer>();
	const net = converged({onDrop: (reason, pkt, node) => tracers.get(node.name)?.dropped(reason, pkt)});
	for (const [name, stack] of net.stacks) tracers.set(name, new Tracer(stack.pipeline));
	return [net, tracers];
}

function probe(net: MemNet, tracers: Map<string, Tracer>, id: number): TraceEvent[] {
	for (const t of tracers.values()) t.arm(id);
	net.host('client').send(echo('request', A.client, A.S, id));
	net.run(50);
	return [...tracers.values()].flatMap((t) => t.take(id)).sort((a, b) => a.at - b.at);
}

const hops = (events: TraceEvent[], kind: TraceEvent['kind']) => events.filter((e) => e.kind === kind && e.decision !== 'received').map((e) => `${e.node}:${e.decision}`);

test('trace: request to server-a and back, with the stamp and both verifications', (t) => {
	const [net, tracers] = tracedNet();
	const events = probe(net, tracers, 0xa001);
	t.deepEqual(hops(events, 'echo-request'), ['client:forwarded', 'internet:forwarded', 'boundary:forwarded', 'router-a:forwarded', 'server-a:delivered']);
	t.deepEqual(hops(events, 'echo-reply'), ['server-a:stamped', 'router-a:forwarded', 'boundary:verified', 'internet:forwarded', 'client:verified']);
});

test('trace: after server-a fails, the request goes to server-b; a dropped probe shows its reason', (t) => {
	const [net, tracers] = tracedNet();
	net.kill('server-a');
	net.run(1000);
	const events = probe(net, tracers, 0xa002);
	t.is(events.filter((e) => e.kind === 'echo-request').at(-1)?.node, 'server-b');
	// A forged reply for an armed identifier: the client's drop is in the trace.
	for (const tr of tracers.values()) tr.arm(0xa003);
	net.host('client').send(echo('request', A.client, A.S, 0xa003));
	net.run(50);
	net.host('attacker').send(echo('reply', A.attacker, A.client, 0xa003, 1));
	net.run(50);
	const drops = [...tracers.values()].flatMap((x) => x.take(0xa003)).filter((e) => e.decision.startsWith('dropped'));
	t.deepEqual(drops.map((e) => `${e.node} ${e.decision}`), ['client dropped: id-missing']);
});

test('an unarmed tracer notes nothing', (t) => {
	const [net, tracers] = tracedNet();
	net.host('client').send(echo('request', A.client, A.S, 0xa004));
	net.run(50);
	t.is([...tracers.values()].reduce((n, x) => n + x.events.length, 0), 0);
});
