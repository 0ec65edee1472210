// The native TUN reader and writer against the kernel, in namespaces of
// their own: what the kernel sends into the TUN reaches JS byte for byte (the
// same bytes tcpdump sees on the device), what JS writes reaches the kernel
// (it answers an echo request), close() leaves nothing running, and the
// errors a node operator will meet are IoErrors that name the device.
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {parseAddr} from '../../src/util/addr.js';
import {decodePacket, readPcap} from '../../src/wire/index.js';
import {addNs, addTun, cleanup, ip, isRoot, peerScript, rootTest, runIn, spawnIn} from './netns.js';
import type {Child} from './netns.js';

const rtest = rootTest('test/io/tun.test.ts');
if (isRoot) test.after.always(cleanup);

const KERNEL = '2001:db8:a::1';
const PEER = '2001:db8:a::2';

/** A namespace with TUN `agt0` holding KERNEL/64; deleted (with the device) when the test ends. */
function tunNs(t: {teardown(fn: () => void): void}, suffix: string): string {
	const ns = addNs(suffix);
	t.teardown(() => ip('netns', 'del', ns));
	addTun(ns, 'agt0', `${KERNEL}/64`);
	return ns;
}

function track(t: {teardown(fn: () => void): void}, child: Child): Child {
	t.teardown(() => child.kill());
	return child;
}

rtest('packets the kernel sends into the TUN arrive in JS byte-exact, as tcpdump sees them', async (t) => {
	const ns = tunNs(t, 'rx');
	const dir = mkdtempSync(join(tmpdir(), 'agio-'));
	t.teardown(() => rmSync(dir, {recursive: true, force: true}));
	const pcap = join(dir, 'tun.pcap');
	const peer = track(t, spawnIn(ns, peerScript, ['capture', 'agt0', '3']));
	const ready = await peer.waitFor('ready');
	t.is(ready.mtu, 1500);
	t.true((ready.ifindex as number) > 0);

	const dump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-Z', 'root', '-U', '-n', '-c', '3', '-i', 'agt0', '-w', pcap, 'icmp6 and ip6[40] == 128'], {stdio: ['ignore', 'ignore', 'pipe']});
	t.teardown(() => void (dump.exitCode === null && dump.kill('SIGKILL')));
	const dumpExit = new Promise<number | null>((resolve) => dump.on('exit', resolve));
	await new Promise<void>((resolve, reject) => {
		let err = '';
		dump.stderr.on('data', (d: Buffer) => {
			err += d.toString();
			if (err.includes('listening on')) resolve();
		});
		dump.on('exit', () => reject(new Error(`tcpdump ended: ${err}`)));
	});

	// No echo replies will come: ping exits non-zero, which is expected.
	runIn(ns, ['ping', '-6', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', '-s', '100', '-p', 'a5', PEER]);
	t.is(await peer.exit(), 0);
	await Promise.race([dumpExit, new Promise((resolve) => setTimeout(resolve, 5000))]);

	const packets = peer.lines.filter((l) => l.event === 'packet').map((l) => l.hex as string);
	t.is(packets.length, 3);
	const captured = readPcap(new Uint8Array(readFileSync(pcap))).packets.map((p) => Buffer.from(p.data).toString('hex'));
	t.deepEqual(packets, captured);
	const first = decodePacket(Uint8Array.from(Buffer.from(packets[0]!, 'hex')));
	t.deepEqual(first.ip.dst, parseAddr(PEER));
	t.is(first.upper.proto, 58);
	const done = peer.lines.find((l) => l.event === 'done')!;
	t.true(done.closed as boolean);
	const stats = done.stats as Record<string, number>;
	t.true(stats.rxPackets! >= 3);
	t.is(stats.rxErrors, 0);
});

rtest('a packet written from JS reaches the kernel: it answers the echo request', async (t) => {
	const ns = tunNs(t, 'tx');
	const peer = track(t, spawnIn(ns, peerScript, ['echo', 'agt0', KERNEL, PEER]));
	const ready = await peer.waitFor('ready');
	t.true(ready.sent as boolean);
	const reply = await peer.waitFor('reply');
	t.is(await peer.exit(), 0);
	const packet = decodePacket(Uint8Array.from(Buffer.from(reply.hex as string, 'hex'))); // verifies the ICMPv6 checksum
	t.deepEqual(packet.ip.src, parseAddr(KERNEL));
	t.deepEqual(packet.ip.dst, parseAddr(PEER));
	if (packet.upper.proto !== 58 || !('icmp' in packet.upper) || packet.upper.icmp.kind !== 'echo') return t.fail('not an echo');
	t.is(packet.upper.icmp.type, 129);
	t.is(packet.upper.icmp.identifier, 0x4a47);
	t.is(packet.upper.icmp.sequence, 7);
	t.deepEqual([...packet.upper.icmp.data], Array.from({length: 56}, (_, i) => i));
	const stats = reply.stats as Record<string, number>;
	t.is(stats.txPackets, 1);
	t.is(stats.txBytes, 40 + 8 + 56);
	t.is(stats.txDrops, 0);
});

rtest('close() releases the device at once and the process exits by itself', async (t) => {
	const ns = tunNs(t, 'close');
	const peer = track(t, spawnIn(ns, peerScript, ['reopen', 'agt0']));
	t.is(await peer.exit(), 0);
	const done = peer.lines.find((l) => l.event === 'done');
	t.deepEqual(done, {event: 'done', afterClose: false, closed: [true, true]});
});

rtest('deleting the device under an open TUN reports device-gone to onError', async (t) => {
	const ns = tunNs(t, 'gone');
	const peer = track(t, spawnIn(ns, peerScript, ['gone', 'agt0']));
	await peer.waitFor('ready');
	ip('-n', ns, 'link', 'del', 'agt0');
	const error = await peer.waitFor('error');
	t.is(error.name, 'IoError');
	t.is(error.code, 'device-gone');
	t.regex(error.message as string, /agt0/);
	t.is(await peer.exit(), 0);
});

rtest('a TUN already attached elsewhere is busy; a non-owner is refused with permission', async (t) => {
	const ns = tunNs(t, 'perm');
	const holder = track(t, spawnIn(ns, peerScript, ['gone', 'agt0']));
	await holder.waitFor('ready');
	const second = track(t, spawnIn(ns, peerScript, ['open', 'agt0']));
	t.is(await second.exit(), 0);
	t.like(second.lines[0], {event: 'error', name: 'IoError', code: 'busy'});
	holder.kill();
	await holder.exit();

	const nobody = track(t, spawnIn(ns, peerScript, ['open', 'agt0'], 65534));
	t.is(await nobody.exit(), 0);
	t.like(nobody.lines[0], {event: 'error', name: 'IoError', code: 'permission'});
	t.regex(nobody.lines[0]!.message as string, /TUN device agt0/);
});
