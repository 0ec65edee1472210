import test from 'ava';
import fc from 'fast-check';
import {finish, fold, sum16, updateChecksum} from '../../src/wire/index.js';
import {fromHex} from '../helpers/bytes.js';

test('RFC 1071 §3 worked example', (t) => {
	// 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (after end-around carry).
	const bytes = fromHex('0001f203f4f5f6f7');
	t.is(fold(sum16(bytes, 0, bytes.length)), 0xddf2);
	t.is(finish(sum16(bytes, 0, bytes.length)), 0x220d);
});

test('an odd length pads the last byte with zero', (t) => {
	t.is(fold(sum16(fromHex('0102ab'), 0, 3)), 0x0102 + 0xab00);
});

test('fold handles sums far past 32 bits', (t) => {
	t.is(fold(0xffff * 70000), 0xffff);
	t.is(fold(0x1_0000_0000), 0x0001);
});

test('incremental update (RFC 1624) equals a full recomputation', (t) => {
	fc.assert(
		fc.property(fc.uint8Array({minLength: 32, maxLength: 200}), fc.uint8Array({minLength: 16, maxLength: 16}), fc.nat(8), (data, replacement, at) => {
			const off = at * 2;
			const before = finish(sum16(data, 0, data.length));
			const old = data.slice(off, off + 16);
			const changed = data.slice();
			changed.set(replacement, off);
			const full = finish(sum16(changed, 0, changed.length));
			const incremental = updateChecksum(before, old, 0, replacement, 0, 16);
			// One's complement has two zeros; RFC 1624 §3 notes the results may differ only as 0x0000 vs 0xffff.
			t.true(incremental === full || (incremental ^ full) === 0xffff, `${incremental} vs ${full}`);
			return incremental === full || (incremental ^ full) === 0xffff;
		}),
	);
});
