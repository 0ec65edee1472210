import test from 'ava';
import {parseAddr} from '../../src/util/addr.js';
import {
	RIPNG_REQUEST, RIPNG_RESPONSE, RipngWireError, decodeRipngHeader, encodeRipng, maxRtes, rteMetric, rteOffset, rtePrefix, rtePrefixLen, rteTag,
} from '../../src/route/ripng-wire.js';
import {BFD_LEN, BfdStateCode, BfdWireError, decodeBfd, emptyBfdControl, encodeBfd} from '../../src/route/bfd-wire.js';
import type {BfdControl, BfdWireCode} from '../../src/route/bfd-wire.js';
import type {RipngWireCode} from '../../src/route/ripng-wire.js';

test('RIPng: encode then decode gives back every RTE, in place', (t) => {
	const msg = encodeRipng(RIPNG_RESPONSE, [
		{nextHop: parseAddr('fe80::5')},
		{prefix: parseAddr('2001:db8:1:ac::53'), len: 128, metric: 2, tag: 0xbeef},
		{prefix: parseAddr('::'), len: 0, metric: 16},
	]);
	t.is(msg.length, 4 + 3 * 20);
	const h = decodeRipngHeader(msg, 0, msg.length);
	t.deepEqual(h, {command: RIPNG_RESPONSE, rteCount: 3});
	const r0 = rteOffset(0, 0);
	t.is(rteMetric(msg, r0), 0xff);
	t.deepEqual([...rtePrefix(msg, r0)], [...parseAddr('fe80::5')]);
	const r1 = rteOffset(0, 1);
	t.is(rtePrefix(msg, r1).buffer, msg.buffer, 'a view, not a copy');
	t.deepEqual([rtePrefixLen(msg, r1), rteMetric(msg, r1), rteTag(msg, r1)], [128, 2, 0xbeef]);
	t.deepEqual([rtePrefixLen(msg, rteOffset(0, 2)), rteMetric(msg, rteOffset(0, 2))], [0, 16]);
});

test('RIPng: a message embedded at an offset decodes the same', (t) => {
	const msg = encodeRipng(RIPNG_REQUEST, [{prefix: new Uint8Array(16), len: 0, metric: 16}]);
	const buf = new Uint8Array(100);
	buf.set(msg, 48);
	t.deepEqual(decodeRipngHeader(buf, 48, msg.length), {command: RIPNG_REQUEST, rteCount: 1});
});

const ripngBad: [string, number[], RipngWireCode][] = [
	['empty', [], 'truncated'],
	['header cut short', [2, 1, 0], 'truncated'],
	['partial RTE', [2, 1, 0, 0, ...new Array(19).fill(0)], 'bad-length'],
	['version 2', [2, 2, 0, 0], 'bad-version'],
	['version 0', [1, 0, 0, 0], 'bad-version'],
	['command 0', [0, 1, 0, 0], 'bad-command'],
	['command 3', [3, 1, 0, 0], 'bad-command'],
];
for (const [name, bytes, code] of ripngBad) {
	test(`RIPng malformed: ${name} -> ${code}`, (t) => {
		const b = Uint8Array.from(bytes);
		t.is(t.throws(() => decodeRipngHeader(b, 0, b.length), {instanceOf: RipngWireError})!.code, code);
	});
}

test('RIPng: RTEs per message follow RFC 2080 §2.1', (t) => {
	t.is(maxRtes(1280), 61);
	t.is(maxRtes(1500), 72);
});

function sample(): BfdControl {
	return {
		...emptyBfdControl(), diag: 3, state: BfdStateCode.Up, poll: true, detectMult: 3, myDisc: 0x01020304, yourDisc: 0xfffffffe,
		desiredMinTx: 100_000, requiredMinRx: 100_000, requiredMinEchoRx: 0,
	};
}

test('BFD: encode then decode round-trips every field', (t) => {
	const buf = new Uint8Array(BFD_LEN);
	t.is(encodeBfd(sample(), buf), 24);
	t.is(buf[0], (1 << 5) | 3);
	t.is(buf[1], (3 << 6) | 0x20);
	const out = decodeBfd(buf, 0, buf.length, emptyBfdControl());
	t.like(out, {diag: 3, state: BfdStateCode.Up, poll: true, final: false, detectMult: 3, length: 24, myDisc: 0x01020304, yourDisc: 0xfffffffe, desiredMinTx: 100_000});
});

const bfdBad: [string, (b: Uint8Array) => void, number | undefined, BfdWireCode][] = [
	['too short', () => {}, 23, 'truncated'],
	['version 0', (b) => (b[0] = b[0]! & 0x1f), undefined, 'bad-version'],
	['Length 20', (b) => (b[3] = 20), undefined, 'bad-length'],
	['Length beyond payload', (b) => (b[3] = 48), undefined, 'truncated'],
	['Detect Mult 0', (b) => (b[2] = 0), undefined, 'zero-detect-mult'],
	['Multipoint set', (b) => (b[1] = b[1]! | 1), undefined, 'multipoint'],
	['My Discriminator 0', (b) => b.fill(0, 4, 8), undefined, 'zero-my-discriminator'],
	['Authentication present', (b) => {
		b[1] = b[1]! | 0x04;
		b[3] = 24;
	}, undefined, 'bad-length'],
];
for (const [name, mutate, len, code] of bfdBad) {
	test(`BFD malformed: ${name} -> ${code}`, (t) => {
		const b = new Uint8Array(BFD_LEN);
		encodeBfd(sample(), b);
		mutate(b);
		t.is(t.throws(() => decodeBfd(b, 0, len ?? b.length, emptyBfdControl()), {instanceOf: BfdWireError})!.code, code);
	});
}

test('BFD: an authenticated packet of valid length is refused (no auth configured)', (t) => {
	const b = new Uint8Array(28);
	encodeBfd(sample(), b);
	b[1] = b[1]! | 0x04;
	b[3] = 28;
	t.is(t.throws(() => decodeBfd(b, 0, 28, emptyBfdControl()), {instanceOf: BfdWireError})!.code, 'auth-unsupported');
});
