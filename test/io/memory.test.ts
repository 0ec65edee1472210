// The in-memory ports keep the native contract (batches over a reused area,
// counted drops, idempotent close) and are deterministic: loss and delay come
// only from the hooks and the clock the test gives.
import test from 'ava';
import {IoError} from '../../src/io/index.js';
import type {PacketPort} from '../../src/io/index.js';
import {MemoryDevice, memoryLinkPair} from './memory.js';
import {SimClock} from '../../src/util/clock.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

/** Collects what a port receives, as copies, with the batch sizes. */
function collect(port: PacketPort): {packets: number[][]; batches: number[]} {
	const out = {packets: [] as number[][], batches: [] as number[]};
	port.onReceive((buf, offsets, lengths, count) => {
		out.batches.push(count);
		for (let i = 0; i < count; i++) out.packets.push([...buf.subarray(offsets[i]!, offsets[i]! + lengths[i]!)]);
	});
	return out;
}

test('MemoryDevice: inject delivers in batches of at most `batch`, 8-byte aligned in one area', (t) => {
	const dev = new MemoryDevice('tun-a', {batch: 2});
	const seen: number[] = [];
	let area: Uint8Array | undefined;
	dev.onReceive((buf, offsets, lengths, count) => {
		area ??= buf;
		t.is(buf, area); // one area, reused
		for (let i = 0; i < count; i++) {
			t.is(offsets[i]! % 8, 0);
			seen.push(lengths[i]!);
		}
	});
	const got = collect(dev); // replaces the handler above
	dev.inject(bytes(1), bytes(2, 2), bytes(3, 3, 3));
	t.deepEqual(got.packets, [[1], [2, 2], [3, 3, 3]]);
	t.deepEqual(got.batches, [2, 1]);
	t.deepEqual(seen, []);
	t.like(dev.stats(), {rxPackets: 3, rxBytes: 6, rxBatches: 2});
	t.is(dev.kind, 'tun');
	t.is(dev.name, 'tun-a');
});

test('MemoryDevice: send copies the bytes, takeSent drains in order, over-MTU and full queue are counted', (t) => {
	const dev = new MemoryDevice('tun-b', {mtu: 4, txCapacity: 2});
	const buf = bytes(9, 1, 2, 3, 9);
	t.true(dev.send(buf, 1, 3));
	buf[1] = 0xff; // the device took a copy
	t.false(dev.send(new Uint8Array(5))); // over the MTU
	t.true(dev.send(bytes(7)));
	t.false(dev.send(bytes(8))); // queue full: dropped, as EAGAIN would
	t.deepEqual(dev.takeSent().map((p) => [...p]), [[1, 2, 3], [7]]);
	t.deepEqual(dev.takeSent(), []);
	t.like(dev.stats(), {txPackets: 2, txBytes: 4, txErrors: 1, txDrops: 1});
	t.is(dev.sendBatch(bytes(1, 2, 3, 4), Uint32Array.of(0, 2), Uint32Array.of(2, 2), 2), 2);
	t.is(dev.pending, 2);
	t.throws(() => dev.send(bytes(1), 0, 2), {instanceOf: IoError});
});

test('MemoryDevice: close is idempotent and stops both directions', (t) => {
	const dev = new MemoryDevice();
	const got = collect(dev);
	dev.close();
	dev.close();
	t.true(dev.closed);
	t.false(dev.send(bytes(1)));
	dev.inject(bytes(1));
	t.deepEqual(got.packets, []);
});

test('MemoryDevice: fail() goes to onError, or is thrown when there is no handler', (t) => {
	const dev = new MemoryDevice('tun-c');
	t.throws(() => dev.fail(), {instanceOf: IoError, message: /tun-c/});
	const errors: string[] = [];
	dev.onError((e) => errors.push(e.code));
	dev.fail();
	t.deepEqual(errors, ['device-gone']);
});

test('memoryLinkPair without a clock: packets wait on the wire until flush()', (t) => {
	const wire = memoryLinkPair({name: 'l1'});
	const {a, b} = wire;
	const atB = collect(b);
	const atA = collect(a);
	t.true(a.send(bytes(1)));
	t.true(a.send(bytes(2)));
	t.true(b.send(bytes(3)));
	t.deepEqual(atB.packets, []);
	t.is(wire.pending, 3);
	t.is(wire.flush(), 3);
	t.deepEqual(atB.packets, [[1], [2]]);
	t.deepEqual(atB.batches, [2]);
	t.deepEqual(atA.packets, [[3]]);
	t.is(a.name, 'l1.a');
	t.is(b.peer.address, a.local.address);
});

test('memoryLinkPair: a handler that answers from inside its batch does not recurse', (t) => {
	const wire = memoryLinkPair();
	let depth = 0;
	wire.b.onReceive((buf, offsets, lengths, count) => {
		depth++;
		t.is(depth, 1);
		for (let i = 0; i < count; i++) wire.b.send(buf, offsets[i]!, lengths[i]!);
		depth--;
	});
	const atA = collect(wire.a);
	wire.a.send(bytes(5));
	wire.flush();
	t.deepEqual(atA.packets, []);
	wire.flush();
	t.deepEqual(atA.packets, [[5]]);
});

test('memoryLinkPair with a clock: delay and loss hooks are applied deterministically', (t) => {
	const clock = new SimClock();
	const tapped: string[] = [];
	const wire = memoryLinkPair({
		clock,
		delay: (packet) => (packet[0] === 1 ? 10 : 5), // the first packet is overtaken
		loss: (_packet, from, seq) => from === 'a' && seq === 2,
		tap: (packet, from) => tapped.push(`${from}${packet[0]}`),
	});
	const atB = collect(wire.b);
	for (const v of [1, 2, 3, 4]) wire.a.send(bytes(v));
	t.is(wire.lost, 1);
	t.deepEqual(tapped, ['a1', 'a2', 'a3', 'a4']);
	clock.advance(4);
	t.deepEqual(atB.packets, []);
	clock.advance(1);
	t.deepEqual(atB.packets, [[2], [4]]);
	t.deepEqual(atB.batches, [2]);
	clock.advance(5);
	t.deepEqual(atB.packets, [[2], [4], [1]]);
	t.is(wire.pending, 0);
	t.like(wire.a.stats(), {txPackets: 4}); // loss is on the wire: the sender does not see it
	t.like(wire.b.stats(), {rxPackets: 3, rxBatches: 2});
	wire.a.send(bytes(9));
	wire.close();
	clock.advance(100);
	t.deepEqual(atB.packets.length, 3);
	t.is(clock.pending, 0);
});

test('memoryLinkPair: a delay without a clock is refused', (t) => {
	t.throws(() => memoryLinkPair({delay: 1}), {instanceOf: IoError, message: /clock/});
});
