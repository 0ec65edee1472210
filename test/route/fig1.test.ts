// Acceptance (issue 3): the patent's Fig. 1 in memory, under simulated time.
import test from 'ava';
import {fig1, fig1Addr, FIG1_LL} from '../../src/route/fig1.js';
import type {Fig1Options} from '../../src/route/fig1.js';
import {DEFAULT_BFD} from '../../src/route/bfd.js';
import {DEFAULT_RIPNG_TIMERS} from '../../src/route/ripng.js';
import {parseAddr} from '../../src/util/addr.js';
import type {SimNetwork} from '../../src/route/sim.js';

const S = fig1Addr('S');
/** Long enough for BFD slow start (≈3 s) plus a few RIPng rounds. */
const SETTLE_MS = 10_000;

function converged(opts: Fig1Options = {}): SimNetwork {
	const net = fig1(opts);
	net.start();
	net.run(SETTLE_MS);
	return net;
}

/** The boundary's forwarding choice for S: which neighbour it sends to. */
function boundaryHop(net: SimNetwork): string | null {
	const b = net.router('boundary');
	const i = b.table.lookup(S, 0, 0);
	if (i < 0) return null;
	const nh = b.table.nextHop(i);
	for (const n of ['router-a', 'router-b']) if (nh.via !== null && nh.via.every((x, k) => x === parseAddr(FIG1_LL[n]!)[k])) return n;
	return `other:${nh.link}`;
}

for (const from of ['client', 'internet', 'boundary', 'attacker']) {
	test(`from ${from}, S resolves to server-a (the nearer server)`, (t) => {
		const net = converged();
		const r = net.resolve(from, S);
		t.is(r.end, 'server-a', JSON.stringify(r));
		t.true(r.path.includes('router-a'));
	});
}

test('from terminal-b, S resolves to server-b', (t) => {
	const net = converged();
	const r = net.resolve('terminal-b', S);
	t.is(r.end, 'server-b', JSON.stringify(r));
	t.deepEqual(r.path, ['terminal-b', 'router-b', 'server-b']);
	t.is(net.resolve('terminal-a', S).end, 'server-a');
});

test('with equal costs to both routers, the boundary spreads flows for S over both servers', (t) => {
	// Guards against the test passing by topology accident: the choice follows the metrics.
	const net = fig1({costB: 1});
	net.start();
	net.run(SETTLE_MS);
	const b = net.router('boundary');
	t.is(b.table.selected(S, 128).length, 2, 'equal cost: both servers in the ECMP set');
	const ends = new Set(Array.from({length: 32}, (_, i) => net.resolve('client', S, parseAddr(`2001:db8:2:c::${(i + 1).toString(16)}`)).end));
	t.deepEqual([...ends].sort(), ['server-a', 'server-b'], 'flows spread over both');
});

test('when server-a dies, the boundary moves S to server-b within 3 BFD intervals plus one triggered-update round', (t) => {
	const net = converged();
	t.is(boundaryHop(net), 'router-a');
	const died = net.clock.now();
	net.kill('server-a');
	const at = net.clock.advanceUntil(() => boundaryHop(net) === 'router-b', 10_000);
	t.not(at, null, 'never moved');
	// Detection: router-a's session to server-a expires detectMult × interval after the
	// last packet, which left no later than the death. Then router-a's triggered update
	// leaves within the hold-off bound and crosses one link.
	const detection = DEFAULT_BFD.detectMult * Math.max(DEFAULT_BFD.desiredMinTxMs, DEFAULT_BFD.requiredMinRxMs);
	const triggeredRound = DEFAULT_RIPNG_TIMERS.triggeredMaxMs + 1; // + link delay
	const took = at! - died;
	t.true(took <= detection + triggeredRound, `took ${took} ms, bound ${detection + triggeredRound} ms`);
	t.log(`failover took ${took.toFixed(1)} ms simulated (bound ${detection + triggeredRound} ms)`);
	t.is(net.resolve('client', S).end, 'server-b');
	net.run(SETTLE_MS);
	t.is(net.resolve('client', S).end, 'server-b', 'stable afterwards');
	t.is(net.resolve('terminal-a', S).end, 'server-b', 'terminal-a is now served through the boundary');
});

test('the failover bound holds for other BFD settings (computed from the config)', (t) => {
	for (const bfd of [{desiredMinTxMs: 50, requiredMinRxMs: 50, detectMult: 3}, {desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 5}]) {
		const net = converged({bfd, seed: 9});
		const died = net.clock.now();
		net.kill('server-a');
		const at = net.clock.advanceUntil(() => boundaryHop(net) === 'router-b', 10_000);
		const bound = bfd.detectMult * bfd.desiredMinTxMs + DEFAULT_RIPNG_TIMERS.triggeredMaxMs + 1;
		t.not(at, null);
		t.true(at! - died <= bound, `${JSON.stringify(bfd)}: took ${at! - died} ms, bound ${bound}`);
	}
});

test('when server-a returns, the route moves back', (t) => {
	const net = converged();
	net.kill('server-a');
	net.run(SETTLE_MS);
	t.is(boundaryHop(net), 'router-b');
	net.revive('server-a');
	const at = net.clock.advanceUntil(() => boundaryHop(net) === 'router-a', 2 * SETTLE_MS);
	t.not(at, null, 'never moved back');
	net.run(SETTLE_MS);
	t.is(net.resolve('client', S).end, 'server-a');
	t.is(net.resolve('terminal-b', S).end, 'server-b');
});

test('a failing health check withdraws S; recovery re-originates it', (t) => {
	let healthy = true;
	const net = fig1({checkA: () => healthy, checkIntervalMs: 200});
	net.start();
	net.run(SETTLE_MS);
	t.is(net.resolve('client', S).end, 'server-a');
	healthy = false;
	const failedAt = net.clock.now();
	const at = net.clock.advanceUntil(() => boundaryHop(net) === 'router-b', 5000);
	t.not(at, null);
	// One check interval to notice, then the withdrawal is a triggered update through router-a.
	t.true(at! - failedAt <= 200 + 2 * (DEFAULT_RIPNG_TIMERS.triggeredMaxMs + 1), `took ${at! - failedAt} ms`);
	t.is(net.resolve('client', S).end, 'server-b');
	net.run(2000);
	t.is(net.resolve('server-a', S).end, 'server-b', 'server-a itself no longer answers for S');
	healthy = true;
	t.not(net.clock.advanceUntil(() => boundaryHop(net) === 'router-a', 5000), null);
	t.is(net.resolve('client', S).end, 'server-a');
});

test('a silent failure of the boundary–router-a link also fails over to server-b, and back', (t) => {
	const net = converged();
	net.setLink('boundary-router-a', false);
	const down = net.clock.now();
	const at = net.clock.advanceUntil(() => boundaryHop(net) === 'router-b', 5000);
	t.not(at, null);
	t.true(at! - down <= DEFAULT_BFD.detectMult * DEFAULT_BFD.desiredMinTxMs, 'the boundary detects it itself, no update needed');
	net.setLink('boundary-router-a', true);
	t.not(net.clock.advanceUntil(() => boundaryHop(net) === 'router-a', SETTLE_MS), null);
});
