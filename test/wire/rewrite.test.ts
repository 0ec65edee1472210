import test from 'ava';
import fc from 'fast-check';
import {PacketInfo, buildPacket, checkIcmpv6, checkUdp, parsePacket, rewriteDestination, rewriteSource, Proto} from '../../src/wire/index.js';
import {address, packet} from '../helpers/arbitrary.js';
import {readHex, toHex} from '../helpers/bytes.js';

test('rewriting the source equals building the packet with that source', (t) => {
	fc.assert(
		fc.property(packet, address, (repr, src) => {
			fc.pre(repr.upper.proto !== Proto.Tcp); // the generator's TCP is raw bytes with no valid checksum to keep
			const bytes = buildPacket(repr);
			const info = parsePacket(bytes, new PacketInfo());
			rewriteSource(info, src);
			const expected = buildPacket({...repr, ip: {...repr.ip, src}});
			if (toHex(bytes) === toHex(expected)) return true;
			// One's complement has two zeros: an ICMPv6 checksum may differ only as 0x0000 vs 0xffff.
			const at = info.upperOff + 2;
			const mine = (bytes[at]! << 8) | bytes[at + 1]!;
			const theirs = (expected[at]! << 8) | expected[at + 1]!;
			bytes[at] = bytes[at + 1] = expected[at] = expected[at + 1] = 0;
			return info.upperProto === Proto.Icmpv6 && (mine ^ theirs) === 0xffff && toHex(bytes) === toHex(expected);
		}),
		{numRuns: 2000},
	);
	t.pass();
});

test('a rewritten kernel packet still verifies, and rewriting back restores it', (t) => {
	for (const name of ['udp', 'echo-request']) {
		const bytes = readHex(`wire/${name}.hex`);
		const original = bytes.slice();
		const info = parsePacket(bytes);
		const s = Uint8Array.from({length: 16}, (_, i) => 0x20 + i);
		rewriteSource(info, s);
		rewriteDestination(info, s);
		t.notThrows(() => (info.upperProto === Proto.Udp ? checkUdp(info) : checkIcmpv6(info)), name);
		rewriteSource(info, original, 8);
		rewriteDestination(info, original, 24);
		t.is(toHex(bytes), toHex(original));
	}
});
