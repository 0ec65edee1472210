// Every node's /metrics text passes Prometheus's own checker (promtool check
// metrics, Debian's prometheus package): names, HELP and TYPE lines, label
// syntax, counters named _total.
import {spawnSync} from 'node:child_process';
import test from 'ava';
import {prometheus} from '../../src/ops/metrics.js';
import {nodeStatus} from '../../src/ops/status.js';
import {converged} from '../helpers/net.js';

const promtool = spawnSync('promtool', ['--version']).status === 0;
if (!promtool && process.env.CI) test('promtool is installed', (t) => t.fail('CI must install promtool: apt-get install -y prometheus'));
const t0 = promtool ? test : test.skip;
if (!promtool) console.error('\n*** test/node/metrics.test.ts: promtool is not installed (apt-get install -y prometheus): NOT checking /metrics ***\n');

t0('promtool check metrics accepts the /metrics of every node of the default network', (t) => {
	const net = converged();
	// Some traffic, so that counters and drops are not all zero.
	net.host('client').send(new Uint8Array(8));
	net.run(100);
	for (const [name, stack] of net.stacks) {
		const text = prometheus(nodeStatus(stack, 0));
		const r = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
		t.is(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
		t.is(`${r.stdout}${r.stderr}`.trim(), '', `${name}: no lint warnings`);
		t.regex(text, /^anyguard_drops_total\{node="[a-z-]+",role="[a-z]+",reason="[a-z-]+"\} \d+$/m);
	}
});

t0('promtool refuses what is not the exposition format: the check can fail', (t) => {
	const r = spawnSync('promtool', ['check', 'metrics'], {input: '# TYPE anyguard_x counter\nanyguard_x{node="a" 1\n', encoding: 'utf8'});
	t.not(r.status, 0);
});
