// Failover on the whole default topology in memory: when server-a dies, the
// boundary moves S to server-b, and nodes upstream never lose S meanwhile
// (the new, longer distance from the same next hop is believed at once).
import test from 'ava';
import {A, converged} from '../helpers/net.js';

test('server-a dies: S moves to server-b, and no node upstream is left without a route to S', (t) => {
	const net = converged();
	net.run(7000); // BFD sessions are Up and timers settled
	t.deepEqual(net.path('client', A.S), ['client', 'internet', 'boundary', 'router-a', 'server-a']);
	net.kill('server-a');
	const gaps: string[] = [];
	let movedAt = -1;
	const start = net.clock.now();
	for (let ms = 0; ms < 3000; ms += 5) {
		net.run(5);
		for (const node of ['client', 'internet', 'boundary']) {
			const table = net.stacks.get(node)!.router.table;
			if (table.lookup(A.S, 0, 0) < 0) gaps.push(`${node} at ${net.clock.now() - start} ms`);
		}
		if (movedAt < 0 && net.path('client', A.S).at(-1) === 'server-b') movedAt = net.clock.now() - start;
	}
	t.log(`the client's path reached server-b after ${movedAt} ms of simulated time`);
	t.deepEqual(gaps.slice(0, 5), [], 'S stayed reachable upstream');
	t.true(movedAt > 0 && movedAt <= 3 * 100 + 200 + 50, `moved after ${movedAt} ms`);
	t.deepEqual(net.path('client', A.S), ['client', 'internet', 'boundary', 'router-b', 'server-b']);
});
