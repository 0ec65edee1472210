// Link conditions as people write them (src/config/conditions.ts) and as the
// topology validates them.
import test from 'ava';
import {ConditionSyntaxError, applyAssignments, conditionsOf, formatConditions, parseDuration, parseLoss, parseRate} from '../../src/config/conditions.js';
import {TopologyError, parseTopology} from '../../src/config/topology.js';

test('durations, losses and rates in the units tc uses', (t) => {
	t.is(parseDuration('20ms'), 20);
	t.is(parseDuration('1.5s'), 1500);
	t.is(parseDuration('250us'), 0.25);
	t.is(parseDuration('0'), 0);
	t.is(parseDuration(7), 7);
	t.is(parseLoss('1%'), 1);
	t.is(parseLoss('0.5'), 0.5);
	t.is(parseRate('10mbit'), 10_000_000);
	t.is(parseRate('500kbit'), 500_000);
	t.is(parseRate('1Gbit'), 1_000_000_000);
	t.is(parseRate('1mbps'), 8_000_000, 'bytes per second, as tc writes them');
});

test('bad values name what is wrong, never a stack', (t) => {
	t.throws(() => parseDuration('20'), {instanceOf: ConditionSyntaxError, message: /needs a unit/});
	t.throws(() => parseDuration('fast'), {instanceOf: ConditionSyntaxError, message: /not a duration/});
	t.throws(() => parseDuration('11s'), {instanceOf: ConditionSyntaxError, message: /0 to 10 s/});
	t.throws(() => parseLoss('101%'), {instanceOf: ConditionSyntaxError, message: /0 to 100/});
	t.throws(() => parseLoss('-1%'), {instanceOf: ConditionSyntaxError, message: /not a percentage/});
	t.throws(() => parseRate('10 furlongs'), {instanceOf: ConditionSyntaxError, message: /not a rate/});
	t.throws(() => parseRate('1kbit'), {instanceOf: ConditionSyntaxError, message: /8kbit to 100gbit/});
	t.throws(() => conditionsOf({delay: '1ms', jitter: '2ms'}), {instanceOf: ConditionSyntaxError, message: /larger than the delay/});
});

test('set words change only what they name; 0 clears; the result reads back the same', (t) => {
	const a = applyAssignments({}, ['delay=20ms', 'loss=1%']);
	t.deepEqual(a, {delayMs: 20, lossPct: 1});
	const b = applyAssignments(a, ['jitter=2ms', 'rate=10mbit', 'mtu=1400']);
	t.deepEqual(b, {delayMs: 20, lossPct: 1, jitterMs: 2, rateBps: 10_000_000, mtu: 1400});
	t.is(formatConditions(b), 'delay=20ms jitter=2ms loss=1% rate=10mbit mtu=1400');
	t.deepEqual(applyAssignments({}, formatConditions(b).split(' ')), b, 'what status prints, set takes');
	const c = applyAssignments(b, ['delay=0', 'jitter=0', 'loss=0', 'rate=0']);
	t.deepEqual(c, {mtu: 1400});
	t.is(formatConditions({mtu: 1500}), '', 'the usual MTU is not news');
	t.is(formatConditions({down: true, delayMs: 1500}), 'down delay=1.5s');
	t.throws(() => applyAssignments({}, []), {message: /at least one/});
	t.throws(() => applyAssignments({}, ['speed=1']), {message: /unknown condition "speed"/});
	t.throws(() => applyAssignments({}, ['delay']), {message: /not key=value/});
	t.throws(() => applyAssignments({delayMs: 5}, ['jitter=6ms']), {message: /larger than the delay/});
});

const base = {
	name: 't',
	groups: [],
	nodes: [
		{name: 'a', role: 'router', address: '2001:db8:9::1'},
		{name: 'b', role: 'router', address: '2001:db8:9::2'},
	],
};

test('the topology checks each link condition and names the link', (t) => {
	const ok = parseTopology({...base, links: [{a: 'a', b: 'b', delay: '20ms', jitter: '1ms', loss: '0.5%', rate: '100mbit'}]}, 'x.json');
	t.deepEqual(conditionsOf(ok.links[0]!), {delayMs: 20, jitterMs: 1, lossPct: 0.5, rateBps: 100_000_000, mtu: 1500});
	const bad = (link: Record<string, unknown>) => t.throws(() => parseTopology({...base, links: [{a: 'a', b: 'b', ...link}]}, 'x.json'), {instanceOf: TopologyError});
	t.regex(bad({delay: 'soon'}).message, /links\[0\]\.delay: delay "soon" is not a duration/);
	t.regex(bad({loss: '200%'}).message, /links\[0\]\.loss: loss must be 0 to 100/);
	t.regex(bad({delay: '1ms', jitter: '5ms'}).message, /links\[0\]: jitter 5ms is larger than the delay 1ms/);
	t.regex(bad({rate: 'lots'}).message, /links\[0\]\.rate/);
});
