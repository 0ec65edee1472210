// The in-process wire (src/io/emulator.ts), on simulated time: delay, jitter
// that never reorders, random loss, a rate with network control first, and
// the bounds of its queue.
import test from 'ava';
import {DelayLine, WireState} from '../../src/io/emulator.js';
import {SimClock, seededRandom} from '../../src/util/clock.js';

function line(opts: {random?: () => number; priority?: boolean; wire?: WireState; slots?: number; bytes?: number} = {}) {
	const clock = new SimClock();
	const got: Array<{at: number; id: number; len: number}> = [];
	const l = new DelayLine({
		clock,
		deliver: (buf, offs, lens, n) => {
			for (let i = 0; i < n; i++) got.push({at: clock.now(), id: buf[offs[i]!]!, len: lens[i]!});
		},
		...opts,
	});
	const packet = (id: number, len = 100) => {
		const b = new Uint8Array(len + 10);
		b[5] = id;
		return {b, off: 5, len};
	};
	const send = (id: number, len = 100) => {
		const p = packet(id, len);
		return l.push(p.b, p.off, p.len);
	};
	return {clock, got, l, send};
}

test('a line with no condition hands a packet on at once, from the caller\'s buffer', (t) => {
	const {got, l, send} = line();
	t.false(l.active);
	t.true(send(1));
	t.deepEqual(got, [{at: 0, id: 1, len: 100}]);
});

test('delay holds every packet for that long, in order, and copies it (the sender may reuse its buffer)', (t) => {
	const {clock, got, l, send} = line();
	l.set({delayMs: 20});
	t.true(l.active);
	for (let i = 1; i <= 5; i++) {
		send(i);
		clock.advance(1);
	}
	t.is(got.length, 0, 'nothing yet');
	clock.advance(30);
	t.deepEqual(got.map((g) => g.id), [1, 2, 3, 4, 5]);
	for (const [i, g] of got.entries()) t.true(Math.abs(g.at - (20 + i)) <= 0.5, `packet ${i + 1} left at ${g.at} ms, sent at ${i} ms`);
	t.is(l.stats.queued, 5);
	t.is(l.stats.depth, 0);
});

test('jitter varies the delay within ±jitter and never reorders', (t) => {
	const {clock, got, l, send} = line({random: seededRandom(7)});
	l.set({delayMs: 20, jitterMs: 10});
	const sentAt: number[] = [];
	for (let i = 0; i < 200; i++) {
		sentAt.push(clock.now());
		send(i % 256);
		clock.advance(5);
	}
	clock.advance(100);
	t.is(got.length, 200);
	t.deepEqual(got.map((g) => g.id), sentAt.map((_, i) => i % 256), 'FIFO');
	const delays = got.map((g, i) => g.at - sentAt[i]!);
	t.true(Math.min(...delays) >= 10 - 0.5 && Math.max(...delays) <= 30 + 0.5, `delays ${Math.min(...delays)}..${Math.max(...delays)} ms`);
	t.true(new Set(delays.map((d) => Math.round(d))).size > 10, 'they do vary');
	for (let i = 1; i < got.length; i++) t.true(got[i]!.at >= got[i - 1]!.at);
});

test('loss drops about the share asked, silently for the sender', (t) => {
	const {got, l, send} = line({random: seededRandom(3)});
	l.set({lossPct: 10});
	let accepted = 0;
	for (let i = 0; i < 10_000; i++) if (send(1)) accepted++;
	t.is(accepted, 10_000, 'a lossy wire does not tell the sender');
	t.true(got.length > 8800 && got.length < 9200, `${got.length} of 10000 arrived`);
	t.is(l.stats.lost + got.length, 10_000);
});

test('rate paces the bytes, tail-drops beyond the queue, and network control goes first without being dropped', (t) => {
	const wire = new WireState();
	const data = line({wire});
	const clock = data.clock;
	const got: number[] = [];
	const control = new DelayLine({clock, wire, priority: true, deliver: (buf, offs, _l, n) => {
		for (let i = 0; i < n; i++) got.push(buf[offs[i]!]!);
	}});
	// 1 mbit/s: a 1250-byte packet takes 10 ms; 100 ms of queue holds about 10 of them.
	data.l.set({rateBps: 1_000_000});
	control.set({rateBps: 1_000_000});
	let refused = 0;
	for (let i = 0; i < 30; i++) if (!data.send(i, 1250)) refused++;
	t.true(refused >= 15 && refused <= 20, `${refused} of 30 refused: the queue holds 100 ms`);
	t.is(data.l.stats.overflow, refused);
	const b = new Uint8Array(48);
	b[0] = 99;
	t.true(control.push(b, 0, 48), 'control is never tail-dropped');
	clock.advance(500);
	t.deepEqual(got, [99]);
	const times = data.got.map((g) => g.at);
	for (let i = 1; i < times.length; i++) t.true(times[i]! - times[i - 1]! >= 9.5, `paced: ${times[i]! - times[i - 1]!} ms between packets`);
});

test('down refuses everything, and the sender is told', (t) => {
	const {got, l, send} = line();
	l.set({down: true});
	t.false(send(1));
	t.is(l.stats.downDropped, 1);
	t.is(got.length, 0);
});

test('a full arena refuses, and frees as packets leave (wrapping around)', (t) => {
	const {clock, got, l, send} = line({bytes: 2000, slots: 64});
	l.set({delayMs: 10});
	let ok = 0;
	for (let i = 0; i < 40; i++) if (send(i, 100)) ok++;
	t.true(ok >= 19 && ok <= 20, `${ok} of 40 fit in 2000 bytes`);
	clock.advance(5);
	clock.advance(6);
	t.is(got.length, ok);
	// Round and round the arena (a fresh one, 2000 bytes, about three rounds in flight): every packet comes back whole and in order.
	const ids: number[] = [];
	for (let round = 0; round < 50; round++) {
		for (let i = 0; i < 3; i++) {
			t.true(send((round * 3 + i) % 256, 150 + i * 40));
			ids.push((round * 3 + i) % 256);
		}
		clock.advance(4);
	}
	clock.advance(20);
	t.deepEqual(got.slice(ok).map((g) => g.id), ids);
});
