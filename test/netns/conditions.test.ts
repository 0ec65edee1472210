// Random loss on a veth end (src/netns/conditions.ts): the kernel drops the
// share asked of what arrives, silently (ping, which would send again on a
// local drop, sees the loss), and 0 % takes the rule away again.
import {spawnSync} from 'node:child_process';
import {lossDropped, setLoss} from '../../src/netns/conditions.js';
import {addNs, cleanup, ip, isRoot, rootTest} from '../io/netns.js';

const test = rootTest('test/netns/conditions.test.ts');

if (isRoot) test.after.always(() => cleanup());

function pings(ns: string, count: number): number {
	const r = spawnSync('ip', ['netns', 'exec', ns, 'ping', '-6', '-n', '-q', '-c', String(count), '-i', '0.002', '-W', '1', '2001:db8:fe::2'], {encoding: 'utf8'});
	return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? -1);
}

test('setLoss drops about the share asked on the device, and 0 % removes it', (t) => {
	const a = addNs('loss-a');
	const b = addNs('loss-b');
	ip('-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b);
	ip('-n', a, 'addr', 'add', '2001:db8:fe::1/64', 'dev', 'va', 'nodad');
	ip('-n', b, 'addr', 'add', '2001:db8:fe::2/64', 'dev', 'vb', 'nodad');
	ip('-n', a, 'link', 'set', 'va', 'up');
	ip('-n', b, 'link', 'set', 'vb', 'up');
	// Neighbour discovery first: packets sent while it resolves may be dropped from its small queue.
	spawnSync('ip', ['netns', 'exec', a, 'ping', '-6', '-n', '-q', '-c', '1', '-W', '3', '2001:db8:fe::2']);
	t.is(pings(a, 200), 200, 'no loss before');
	// Loss on b's end: what a sends b is lost on arrival.
	setLoss(b, 'vb', 100);
	t.is(pings(a, 50), 0, '100 %: nothing arrives');
	setLoss(b, 'vb', 30);
	const got = pings(a, 1000);
	t.true(got > 600 && got < 800, `30 % of the requests lost: ${got} of 1000 answered`);
	t.true(Math.abs(lossDropped(b, 'vb') - (1000 - got)) <= 5, `the rule counted the requests it dropped: ${lossDropped(b, 'vb')}`);
	setLoss(b, 'vb', 0);
	t.is(pings(a, 200), 200, 'the loss is gone');
	t.throws(() => setLoss(a, 'va', 101), {message: /0\.\.100/});
});
