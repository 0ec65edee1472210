import test from 'ava';
import {parseTopology, loadTopology} from '../../src/config/topology.js';
import {MemNet} from '../../src/assembly/memnet.js';
import {Dampening, DampeningError} from '../../src/route/dampening.js';
import {SimClock} from '../../src/util/clock.js';
import {CONFORMANCE_TOPOLOGY} from '../conformance/cases.js';

const config = {penalty: 1000, suppress: 2500, reuse: 1000, halfLifeMs: 10_000, maxHoldMs: 60_000};

test('a first flap is never held; repeated flaps are, until the penalty decays to reuse', (t) => {
	const clock = new SimClock();
	const released: string[] = [];
	const d = new Dampening(clock, config, (k) => released.push(k));
	t.false(d.flap('s'), 'one flap');
	t.is(Math.round(d.penalty('s')), 1000);
	clock.advance(10_000);
	t.is(Math.round(d.penalty('s')), 500, 'half-life');
	t.false(d.flap('s'));
	t.true(d.flap('s'), '500 + 1000 + 1000 reaches 2500');
	t.true(d.isSuppressed('s'));
	t.is(d.suppressions, 1);
	// Released when 2500 decays to 1000: 10 s × log2(2.5) ≈ 13.2 s.
	clock.advance(13_000);
	t.true(d.isSuppressed('s'));
	clock.advance(300);
	t.false(d.isSuppressed('s'));
	t.deepEqual(released, ['s']);
	t.is(d.flaps, 3);
	t.false(d.isSuppressed('other'), 'sessions are apart');
});

test('a flap while held pushes the release out, but never past maxHoldMs from the start of the hold', (t) => {
	const clock = new SimClock();
	const released: number[] = [];
	const d = new Dampening(clock, {...config, maxHoldMs: 20_000}, () => released.push(clock.now()));
	for (let i = 0; i < 3; i++) d.flap('s');
	t.true(d.isSuppressed('s'));
	for (let i = 0; i < 20; i++) {
		clock.advance(1000);
		d.flap('s');
	}
	t.true(released.length >= 1);
	t.true(released[0]! <= 20_000, `released at ${released[0]} ms, within the 20 s cap`);
});

test('bad dampening parameters are refused', (t) => {
	t.throws(() => new Dampening(new SimClock(), {suppress: 1000, reuse: 2000}, () => {}), {instanceOf: DampeningError});
	const base = loadTopology(CONFORMANCE_TOPOLOGY);
	const json = JSON.parse(JSON.stringify({...base, file: undefined, dir: undefined})) as {timers: {bfd: Record<string, unknown>}};
	json.timers.bfd.dampening = {halfLifeMs: 5};
	t.throws(() => parseTopology(json, 'x.json'), {message: /timers\.bfd\.dampening\.halfLifeMs/});
});

test('routing: a neighbour that flaps repeatedly is held down though BFD is Up, then comes back', (t) => {
	const base = loadTopology(CONFORMANCE_TOPOLOGY);
	const json = JSON.parse(JSON.stringify({...base, file: undefined, dir: undefined})) as {timers: {bfd: Record<string, unknown>}};
	json.timers.bfd.dampening = {...config, suppress: 2000};
	const net = new MemNet(parseTopology(json, base.file));
	net.start();
	net.run(4000);
	const rtr = net.stacks.get('rtr')!;
	const toBeta = () => net.path('rtr', '2001:db8:c:b::6').join(' ');
	t.is(toBeta(), 'rtr beta');
	// beta's process dies and comes back three times in quick succession.
	for (let i = 0; i < 3; i++) {
		net.kill('beta');
		net.run(1000);
		t.is(toBeta(), 'rtr (no route)', `down ${i + 1}`);
		net.revive('beta');
		net.run(4000);
	}
	const session = rtr.router.bfd.sessions().find((s) => s.link === 'beta')!;
	t.is(session.state, 'Up', 'BFD is Up again');
	t.true(rtr.router.held('beta', session.peer), 'but routing holds it down');
	t.is(toBeta(), 'rtr (no route)');
	t.is(rtr.router.dampening!.suppressions, 1);
	// The penalty decays to reuse and the routes come back.
	net.run(20_000);
	t.false(rtr.router.held('beta', session.peer));
	t.is(toBeta(), 'rtr beta');
});

test('without dampening, the same flaps leave routing following BFD at once', (t) => {
	const net = new MemNet(loadTopology(CONFORMANCE_TOPOLOGY));
	net.start();
	net.run(4000);
	for (let i = 0; i < 3; i++) {
		net.kill('beta');
		net.run(1000);
		net.revive('beta');
		net.run(4000);
	}
	t.is(net.path('rtr', '2001:db8:c:b::6').join(' '), 'rtr beta');
	t.is(net.stacks.get('rtr')!.router.dampening, null);
});
