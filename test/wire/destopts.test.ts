// Inserting and removing the Destination Options header before the upper layer,
// which the anycast server's stamping and the client's unstamping use.
import test from 'ava';
import fc from 'fast-check';
import {Opt, PacketInfo, Proto, WireError, buildPacket, checkIcmpv6, checkUdp, decodePacket, findOption, insertDestOption, parsePacket, removeDestOption} from '../../src/wire/index.js';
import type {OptionRepr} from '../../src/wire/index.js';
import {packet} from '../helpers/arbitrary.js';
import {addr, junk, readHex, toHex} from '../helpers/bytes.js';

const stamp: OptionRepr = {type: Opt.Anycast, data: new Uint8Array(20).fill(0x42), align: {x: 4, y: 2}};

function checkUpper(info: PacketInfo): void {
	if (info.upperProto === Proto.Udp) checkUdp(info);
	if (info.upperProto === Proto.Icmpv6) checkIcmpv6(info);
}

test('insert into a kernel packet with no extension headers, then remove: same bytes', (t) => {
	for (const name of ['echo-request', 'udp', 'time-exceeded']) {
		const bytes = readHex(`wire/${name}.hex`);
		const stamped = insertDestOption(parsePacket(bytes), stamp);
		const info = parsePacket(stamped);
		t.is(info.extCount, 1);
		t.is(info.extProto[0], Proto.DestOpts);
		t.is(stamped.length, bytes.length + 24);
		t.is(stamped[6], Proto.DestOpts);
		t.is(((stamped[4]! << 8) | stamped[5]!) + 40, stamped.length);
		t.is(findOption(stamped, 42, 64, Opt.Anycast), 42, 'aligned 4n+2 at the first option slot');
		t.notThrows(() => checkUpper(info), 'upper-layer checksum unchanged and still valid');
		const restored = removeDestOption(info, Opt.Anycast);
		t.is(toHex(restored!), toHex(bytes), name);
	}
});

test('insert merges into an existing final Destination Options header, keeping its options', (t) => {
	const other: OptionRepr = {type: 0x3e, data: Uint8Array.of(1, 2, 3)};
	const bytes = buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: addr('2001:db8:1:a::30'), dst: addr('2001:db8:2:c::10')},
		ext: [{kind: 'dest-opts', options: [other]}],
		upper: {proto: 17, udp: {srcPort: 53, dstPort: 4000, payload: Uint8Array.of(9)}},
	});
	const stamped = insertDestOption(parsePacket(bytes), stamp);
	const p = decodePacket(stamped);
	t.is(p.ext.length, 1);
	const types = p.ext[0]!.kind === 'dest-opts' ? p.ext[0]!.options.filter((o) => o.type > 1).map((o) => o.type) : [];
	t.deepEqual(types, [0x3e, Opt.Anycast]);
	// Removing leaves the other option, with the stamp turned into padding.
	const back = removeDestOption(parsePacket(stamped), Opt.Anycast)!;
	const q = decodePacket(back);
	t.is(q.ext.length, 1);
	t.deepEqual(q.ext[0]!.kind === 'dest-opts' ? q.ext[0]!.options.filter((o) => o.type > 1).map((o) => o.type) : [], [0x3e]);
	t.notThrows(() => checkUdp(parsePacket(back)));
});

test('insert after a Routing header and Hop-by-Hop: the new header goes last', (t) => {
	fc.assert(
		fc.property(packet, (repr) => {
			const bytes = buildPacket(repr);
			const info = parsePacket(bytes);
			if (info.isFragment) {
				try {
					insertDestOption(info, stamp);
					return false;
				} catch (error) {
					return error instanceof WireError && error.code === 'bad-value';
				}
			}
			const stamped = insertDestOption(info, stamp);
			const after = parsePacket(stamped, new PacketInfo());
			if (after.extProto[after.extCount - 1] !== Proto.DestOpts) return false;
			if (after.upperProto !== info.upperProto) return false;
			if (findOption(stamped, after.extOff[after.extCount - 1]! + 2, after.upperOff, Opt.Anycast) < 0) return false;
			checkUpper(after); // throws if a checksum broke
			const removed = removeDestOption(after, Opt.Anycast);
			if (!removed) return false;
			// With no final Destination Options header before, removal restores the exact bytes.
			if (info.extProto[info.extCount - 1] !== Proto.DestOpts || info.extCount === 0) return Buffer.compare(Buffer.from(removed), Buffer.from(bytes)) === 0;
			checkUpper(parsePacket(removed, new PacketInfo()));
			return true;
		}),
		{numRuns: 1000},
	);
	t.pass();
});

test('remove returns null when there is nothing to remove', (t) => {
	const bytes = readHex('wire/udp.hex');
	t.is(removeDestOption(parsePacket(bytes), Opt.Anycast), null);
	const stamped = insertDestOption(parsePacket(bytes), stamp);
	t.is(removeDestOption(parsePacket(stamped), 0x3e), null);
});

test('insert and remove can write into a caller buffer', (t) => {
	const bytes = readHex('wire/udp.hex');
	const out = junk(2000);
	const stamped = insertDestOption(parsePacket(bytes), stamp, out);
	t.is(stamped.buffer, out.buffer);
	t.notThrows(() => checkUdp(parsePacket(stamped)));
	t.is(t.throws(() => insertDestOption(parsePacket(bytes), stamp, new Uint8Array(10)), {instanceOf: WireError})?.code, 'bad-value');
});
