// fast-check arbitraries for whole packets.
import fc from 'fast-check';
import type {ExtRepr, OptionRepr, PacketRepr, UpperRepr} from '../../src/wire/index.js';

export const address = fc.uint8Array({minLength: 16, maxLength: 16});

/** Any option but Pad1/PadN (the builder adds those). */
export const option: fc.Arbitrary<OptionRepr> = fc.record({
	type: fc.integer({min: 2, max: 255}),
	data: fc.uint8Array({maxLength: 24}),
});

/** Options with explicit Pad1/PadN among them, as a parser sees them. */
const optionWithPads: fc.Arbitrary<OptionRepr> = fc.oneof(
	option,
	fc.constant({type: 0, data: new Uint8Array(0)}),
	fc.integer({min: 0, max: 5}).map((n) => ({type: 1, data: new Uint8Array(n)})),
);

const options = fc.array(optionWithPads, {maxLength: 5});

const hopByHop: fc.Arbitrary<ExtRepr> = options.map((o) => ({kind: 'hop-by-hop', options: o}));
const destOpts: fc.Arbitrary<ExtRepr> = options.map((o) => ({kind: 'dest-opts', options: o}));
const routing: fc.Arbitrary<ExtRepr> = fc
	.record({routingType: fc.integer({min: 0, max: 255}), segmentsLeft: fc.constant(0), units: fc.integer({min: 0, max: 4})})
	.chain(({routingType, segmentsLeft, units}) =>
		fc.uint8Array({minLength: 4 + 8 * units, maxLength: 4 + 8 * units}).map((data): ExtRepr => ({kind: 'routing', routingType, segmentsLeft, data})),
	);
/** Only atomic fragments keep the upper layer whole, but any offset parses. */
const fragment: fc.Arbitrary<ExtRepr> = fc.record({
	kind: fc.constant('fragment' as const),
	offset: fc.integer({min: 0, max: 0x1fff}),
	more: fc.boolean(),
	identification: fc.nat({max: 0xffffffff}),
	reserved: fc.constant(0),
	res: fc.constant(0),
});

/** A chain in RFC 8200 §4.1 order: Hop-by-Hop first, if any; at most one Routing and one Fragment header (§4.1). */
export const chain: fc.Arbitrary<ExtRepr[]> = fc
	.tuple(fc.option(hopByHop, {nil: undefined}), fc.array(fc.oneof(destOpts, routing, fragment), {maxLength: 5}))
	.map(([hbh, rest]) => {
		const once = new Set<string>();
		const kept = rest.filter((h) => h.kind === 'dest-opts' || (!once.has(h.kind) && once.add(h.kind)));
		return hbh ? [hbh, ...kept] : kept;
	});

const upper: fc.Arbitrary<UpperRepr> = fc.oneof(
	fc.record({
		proto: fc.constant(58 as const),
		icmp: fc.oneof(
			fc.record({
				kind: fc.constant('echo' as const),
				type: fc.constantFrom(128 as const, 129 as const),
				code: fc.constant(0),
				identifier: fc.nat({max: 0xffff}),
				sequence: fc.nat({max: 0xffff}),
				data: fc.uint8Array({maxLength: 64}),
			}),
			fc.record({
				kind: fc.constant('error' as const),
				type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
				code: fc.nat({max: 6}),
				param: fc.nat({max: 0xffffffff}),
				invoking: fc.uint8Array({maxLength: 80}),
			}),
		),
	}),
	fc.record({
		proto: fc.constant(17 as const),
		udp: fc.record({srcPort: fc.nat({max: 0xffff}), dstPort: fc.nat({max: 0xffff}), payload: fc.uint8Array({maxLength: 64})}),
	}),
	fc.record({proto: fc.constantFrom(6, 59, 253), raw: fc.uint8Array({maxLength: 40})}),
);

export const packet: fc.Arbitrary<PacketRepr> = fc
	.record({
		ip: fc.record({trafficClass: fc.nat({max: 255}), flowLabel: fc.nat({max: 0xfffff}), hopLimit: fc.nat({max: 255}), src: address, dst: address}),
		ext: chain,
		upper,
	})
	.map((p) => {
		// A fragment's upper-layer bytes are opaque to the decoder: model them as raw.
		if (p.ext.some((e) => e.kind === 'fragment') && !('raw' in p.upper)) return {...p, upper: {proto: 253, raw: new Uint8Array(12)}};
		return p;
	});
