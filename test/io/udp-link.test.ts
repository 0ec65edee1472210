// The UDP underlay link between two namespaces over a veth pair with
// link-local addresses: a 1500-byte inner packet fits a 1548-byte underlay
// MTU (IPv6 40 + UDP 8), a 1501-byte one is refused and counted, and a
// datagram from another port of the peer is dropped and counted.
import test from 'ava';
import {addNs, addVeth, cleanup, ip, isRoot, peerScript, rootTest, spawnIn} from './netns.js';
import type {Child} from './netns.js';

const rtest = rootTest('test/io/udp-link.test.ts');
if (isRoot) test.after.always(cleanup);

const PORT = 6081;

rtest('a link over a veth carries a 1500-byte inner packet and counts what it refuses', async (t) => {
	const a = addNs('la');
	t.teardown(() => ip('netns', 'del', a));
	const b = addNs('lb');
	t.teardown(() => ip('netns', 'del', b));
	addVeth({ns: a, dev: 'ul0', addr: 'fe80::a'}, {ns: b, dev: 'ul0', addr: 'fe80::b'}, 1500 + 48);

	const receiver = spawnIn(b, peerScript, ['link-recv', 'ul0', 'fe80::b', String(PORT), 'fe80::a', String(PORT), '2']);
	t.teardown(() => receiver.kill());
	const ready = await receiver.waitFor('ready');
	t.is(ready.mtu, 1500);
	t.like(ready.local, {address: 'fe80::b', ifname: 'ul0', port: PORT});

	const sender: Child = spawnIn(a, peerScript, ['link-send', 'ul0', 'fe80::a', String(PORT), 'fe80::b', String(PORT), String(PORT + 1)]);
	t.teardown(() => sender.kill());
	t.is(await sender.exit(), 0);
	const sent = sender.lines.find((l) => l.event === 'done')!;
	t.deepEqual(sent.results, [true, false, true]);
	t.is(sent.mtu, 1500);
	t.like(sent.stats, {txPackets: 2, txBytes: 1700, txErrors: 1, txDrops: 0});

	t.is(await receiver.exit(), 0);
	const packets = receiver.lines.filter((l) => l.event === 'packet');
	t.deepEqual(
		packets.map((p) => p.length),
		[1500, 200],
	);
	t.is(packets[0]!.hex, sent.full);
	t.like(receiver.lines.find((l) => l.event === 'done')!.stats, {rxPackets: 2, rxBytes: 1700, rxForeign: 1, rxTruncated: 0, rxErrors: 0});
});
