// Property tests: emit → parse → emit round-trips, and no byte string makes
// the codec throw anything but WireError or run away.
import test from 'ava';
import fc from 'fast-check';
import {PacketInfo, WireError, buildPacket, checkIcmpv6, checkUdp, decodePacket, parsePacket, Proto} from '../../src/wire/index.js';
import {packet} from '../helpers/arbitrary.js';
import {readHex} from '../helpers/bytes.js';

test('emit → decode → emit gives the same bytes', (t) => {
	fc.assert(
		fc.property(packet, (repr) => {
			const bytes = buildPacket(repr);
			const again = buildPacket(decodePacket(bytes));
			return Buffer.compare(Buffer.from(bytes), Buffer.from(again)) === 0;
		}),
		{numRuns: 2000},
	);
	t.pass();
});

test('the chain walk reports every extension header with its offset', (t) => {
	fc.assert(
		fc.property(packet, (repr) => {
			const bytes = buildPacket(repr);
			const info = parsePacket(bytes);
			const firstLater = repr.ext.findIndex((e) => e.kind === 'fragment' && e.offset !== 0);
			const expected = firstLater < 0 ? repr.ext.length : firstLater + 1;
			if (info.extCount !== expected) return false;
			let pos = 40;
			for (let i = 0; i < info.extCount; i++) {
				if (info.extOff[i] !== pos) return false;
				pos += info.extLen[i]!;
			}
			return info.upperOff === pos && (firstLater >= 0 || info.upperProto === repr.upper.proto);
		}),
		{numRuns: 2000},
	);
	t.pass();
});

/** Runs every decoder over `bytes`; returns the error, if any. Anything but WireError fails the property. */
function decodeAll(bytes: Uint8Array, info: PacketInfo): void {
	try {
		parsePacket(bytes, info);
		if (!info.isFragment && info.upperProto === Proto.Udp) checkUdp(info);
		if (!info.isFragment && info.upperProto === Proto.Icmpv6) checkIcmpv6(info);
		decodePacket(bytes);
	} catch (error) {
		if (!(error instanceof WireError)) throw error;
	}
}

test('random bytes parse or throw WireError', (t) => {
	const info = new PacketInfo();
	fc.assert(
		fc.property(fc.uint8Array({maxLength: 300}), (bytes) => {
			if (bytes.length > 0) bytes[0] = (bytes[0]! & 0x0f) | 0x60; // mostly version 6, to get past the first check
			decodeAll(bytes, info);
		}),
		{numRuns: 5000},
	);
	t.pass();
});

const seeds = ['echo-request', 'udp', 'time-exceeded', 'packet-too-big'].map((name) => readHex(`wire/${name}.hex`));

test('mutated kernel packets parse or throw WireError', (t) => {
	const info = new PacketInfo();
	fc.assert(
		fc.property(
			fc.constantFrom(...seeds),
			fc.array(fc.tuple(fc.nat(), fc.nat({max: 255})), {minLength: 1, maxLength: 8}),
			fc.nat(),
			(seed, flips, cut) => {
				const bytes = seed.slice(0, seed.length - (cut % 8 === 0 ? cut % seed.length : 0));
				for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
				decodeAll(bytes, info);
			},
		),
		{numRuns: 5000},
	);
	t.pass();
});

test('mutated generated packets parse or throw WireError', (t) => {
	const info = new PacketInfo();
	fc.assert(
		fc.property(packet, fc.array(fc.tuple(fc.nat(), fc.nat({max: 255})), {minLength: 1, maxLength: 4}), (repr, flips) => {
			const bytes = buildPacket(repr);
			for (const [at, value] of flips) bytes[at % bytes.length] = value;
			decodeAll(bytes, info);
		}),
		{numRuns: 3000},
	);
	t.pass();
});
