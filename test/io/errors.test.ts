// The errors an operator meets when opening a port, without root: each is
// an IoError with a fixed code and a message naming the device, never a raw
// system error. Attaching by name never creates a device.
import {execFileSync} from 'node:child_process';
import test from 'ava';
import {IoError, isIoError, nativeAvailable, openTun, openUdpLink} from '../../src/io/index.js';

test('the native addon is built and loads', (t) => {
	t.true(nativeAvailable(), 'build/Release/anyguard_io.node is missing: run npm install or npx node-gyp rebuild');
});

test('a TUN device that does not exist: no-device, named, and not created by the attempt', (t) => {
	const name = `agnx${process.pid % 100000}`;
	const error = t.throws(() => openTun(name), {instanceOf: IoError});
	t.is(error?.name, 'IoError');
	t.is(error?.code, 'no-device');
	t.regex(error?.message ?? '', new RegExp(`TUN device ${name} does not exist; create it with \`ip tuntap add dev ${name} mode tun\``));
	t.true(isIoError(error));
	t.throws(() => execFileSync('ip', ['link', 'show', 'dev', name], {stdio: 'ignore'}));
});

test('a device that is not a TUN: not-tun', (t) => {
	const error = t.throws(() => openTun('lo'), {instanceOf: IoError});
	t.is(error?.code, 'not-tun');
	t.regex(error?.message ?? '', /TUN device lo exists but is not a TUN device/);
});

test('bad names and arguments: bad-argument before any system call', (t) => {
	for (const name of ['', 'a'.repeat(16), 'a b', '../x']) t.is(t.throws(() => openTun(name), {instanceOf: IoError})?.code, 'bad-argument');
	t.is(t.throws(() => openTun('lo', {batch: 0}), {instanceOf: IoError})?.code, 'bad-argument');
	const link = {local: {address: '::1', port: 0}, peer: {address: '::1', port: 9}};
	t.is(t.throws(() => openUdpLink({...link, peer: {address: 'fe80::zz', port: 9}}), {instanceOf: IoError})?.code, 'bad-address');
	t.is(t.throws(() => openUdpLink({...link, peer: {address: '::1', port: 0}}), {instanceOf: IoError})?.code, 'bad-argument');
	t.is(t.throws(() => openUdpLink({...link, batch: 2000}), {instanceOf: IoError})?.code, 'bad-argument');
	t.is(t.throws(() => openUdpLink({...link, local: {address: 'fe80::1%lo', ifname: 'eth9', port: 0}}), {instanceOf: IoError})?.code, 'bad-argument');
});

test('a UDP link on an interface that does not exist: no-device; on an address not here: bad-address', (t) => {
	const gone = t.throws(() => openUdpLink({local: {address: 'fe80::1', ifname: 'agnx-none', port: 0}, peer: {address: 'fe80::2', port: 9}}), {instanceOf: IoError});
	t.is(gone?.code, 'no-device');
	t.regex(gone?.message ?? '', /agnx-none/);
	const absent = t.throws(() => openUdpLink({local: {address: '2001:db8:ffff::1', port: 0}, peer: {address: '2001:db8:ffff::2', port: 9}}), {instanceOf: IoError});
	t.is(absent?.code, 'bad-address');
});

test('a UDP link over loopback carries packets both ways and drops datagrams from anyone else', async (t) => {
	const a = openUdpLink({name: 'lo-a', local: {address: '::1', port: 0}, peer: {address: '::1', port: 9}});
	// Now that a's port is known, b can name it as its peer, and a is reopened to name b.
	const b = openUdpLink({name: 'lo-b', local: {address: '::1', port: 0}, peer: {address: '::1', port: a.local.port}});
	a.close();
	const a2 = openUdpLink({name: 'lo-a', local: {address: '::1', port: a.local.port}, peer: {address: '::1', port: b.local.port}});
	const stranger = openUdpLink({name: 'lo-x', local: {address: '::1', port: 0}, peer: {address: '::1', port: b.local.port}});
	t.teardown(() => [a2, b, stranger].forEach((p) => p.close()));
	const got: string[] = [];
	const done = new Promise<void>((resolve) => {
		b.onReceive((buf, offsets, lengths, count) => {
			for (let i = 0; i < count; i++) got.push(Buffer.from(buf.subarray(offsets[i]!, offsets[i]! + lengths[i]!)).toString());
			// Echo back from inside the batch: queued, and sent when the batch returns.
			for (let i = 0; i < count; i++) t.true(b.send(buf, offsets[i]!, lengths[i]!));
			if (got.length >= 3) resolve();
		});
	});
	const echoed: string[] = [];
	const back = new Promise<void>((resolve) =>
		a2.onReceive((buf, offsets, lengths, count) => {
			for (let i = 0; i < count; i++) echoed.push(Buffer.from(buf.subarray(offsets[i]!, offsets[i]! + lengths[i]!)).toString());
			if (echoed.length >= 3) resolve();
		}),
	);
	t.true(stranger.send(Buffer.from('not from the peer')));
	const batch = Buffer.from('onetwothree');
	t.is(a2.sendBatch(batch, Uint32Array.of(0, 3, 6), Uint32Array.of(3, 3, 5), 3), 3);
	await done;
	await back;
	t.deepEqual(got, ['one', 'two', 'three']);
	t.deepEqual(echoed, ['one', 'two', 'three']);
	const sb = b.stats();
	t.is(sb.rxForeign, 1);
	t.is(sb.rxPackets, 3);
	t.is(sb.txPackets, 3);
	t.true(sb.txSyscalls <= 3);
	t.is(a2.stats().txPackets, 3);
	t.is(a2.stats().txSyscalls, 1);
	a2.close();
	a2.close();
	t.true(a2.closed);
	t.false(a2.send(batch));
});
