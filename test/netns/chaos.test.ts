// Faults on the running default network (issue 11): about a minute of killed
// role processes, links set down and up, loss bursts and a stopped DNS service,
// one at a time, while the client asks S every 20 ms. Afterwards routing is
// back where it started, nothing leaked, and `down` removes everything.
// The figures go to `npm run bench -- chaos` (docs/reliability.md); here they
// are logged, and the checks are the ones that must hold whatever the timing.
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {leftovers, runChaos} from '../../lab/chaos.js';
import {bringUpNs} from '../../lab/nsnet.js';
import type {NsNet} from '../../lab/nsnet.js';
import {isRoot, rootTest} from '../io/netns.js';

const test = rootTest('test/netns/chaos.test.ts');
let net: NsNet | undefined;

if (isRoot) {
	test.before(async () => {
		net = await bringUpNs(DEFAULT_TOPOLOGY, 'h');
	});
	test.after.always(async () => {
		await net?.down();
	});
}

test('chaos: a minute of faults, then routes as they were, every process alive, no descriptor leaked, and down leaves nothing', async (t) => {
	t.timeout(240_000);
	const seconds = Number(process.env.ANYGUARD_CHAOS_S ?? 60);
	const seed = Number(process.env.ANYGUARD_CHAOS_SEED ?? 1);
	const r = await runChaos(net!, {seconds, seed, log: (line) => t.log(line)});
	t.log(`seed ${seed}: ${r.faults.length} faults; ${r.answered} of ${r.sent} queries answered (${r.availability.toFixed(1)} %), longest gap ${r.longestGapMs} ms, reconverged ${r.reconvergeMs} ms after the last fault`);
	t.true(r.faults.length >= 8, 'faults kept coming for the whole run');
	t.true(r.alive, 'every role process is alive');
	t.true(r.routesEqual, `routes differ from the start: ${r.routeDiff.join('; ')}`);
	t.true(r.reconvergeMs >= 0, 'routing returned to its start');
	t.deepEqual(r.fdGrowth, [], 'no role process holds more descriptors than at the start');
	// Liveness, not speed (the bench has the figures): a fault on the client's only path (its own process,
	// internet, the boundary) costs a restart and BFD's start, seconds; a link or session that never came
	// back would leave the client without answers for the rest of the run.
	t.true(r.longestGapMs < 15_000, `longest gap ${r.longestGapMs} ms`);
	const pids = net!.topology.nodes.flatMap((n) => [net!.pid(n.name), net!.supervisorPid(n.name)]);
	const prefix = net!.topology.prefix;
	await net!.down();
	net = undefined;
	t.deepEqual(leftovers(prefix, pids), [], 'down removed every namespace and process');
});
