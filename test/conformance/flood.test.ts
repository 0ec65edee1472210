// Bounded resources under a flood, on the running network: the default
// topology in namespaces (prefix f<pid>-), 10 s of forged responses from the
// attacker's host at the client while the client pings S (bench/flood.ts runs
// the same for 60 s and reports the figures). The client's memory and log
// stay flat, its role process does not restart, the pings keep succeeding.
import {isRoot, rootTest} from '../io/netns.js';
import {floodRun} from '../../bench/flood.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {bringUpNs} from '../../lab/nsnet.js';
import type {NsNet} from '../../lab/nsnet.js';

const test = rootTest('test/conformance/flood.test.ts');
let net: NsNet | undefined;

if (isRoot) {
	test.before(async () => {
		net = await bringUpNs(DEFAULT_TOPOLOGY, 'f');
	});
	test.after.always(async () => {
		await net?.down();
	});
}

test('flood: 10 s of forged responses at the client; pings keep succeeding, memory and log stay flat', async (t) => {
	const f = await floodRun(net!, 10, 2000, true);
	t.log(JSON.stringify(f));
	t.true(f.sent >= 10_000, `${f.sent} forged packets sent`);
	const dropped = Object.values(f.clientDrops).reduce((a, b) => a + b, 0);
	t.true(dropped >= f.sent * 0.5, `the client dropped ${dropped} of ${f.sent}`);
	t.true(f.loss <= 10, `${f.loss}% ping loss during the flood`);
	t.true(f.rssEndKiB - f.rssStartKiB <= 16 * 1024, `client RSS grew ${f.rssEndKiB - f.rssStartKiB} KiB`);
	t.true(f.logGrowthBytes <= 64 * 1024, `client log grew ${f.logGrowthBytes} bytes (drops are summarized once a second)`);
	t.false(f.restarted, 'the client role process never restarted');
});
