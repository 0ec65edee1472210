// fast-check over every parser: arbitrary bytes and mutated real packets
// either parse or throw the parser's own error type, never anything else, and
// never loop. The wire codec (packet, options, extension headers, ICMPv6,
// UDP, destination options, pcap), the route codecs (RIPng, BFD), the
// identifier option, and the reassembler and fragmenter.
import test from 'ava';
import fc from 'fast-check';
import {ID_OPTION_TYPE, checkIdentifier, decodeIdentifier} from '../../src/anycast/option.js';
import {locateIdentifier} from '../../src/anycast/identifier.js';
import {Reassembler} from '../../src/pipeline/reassembly.js';
import {BfdWireError, decodeBfd, emptyBfdControl} from '../../src/route/bfd-wire.js';
import {RipngWireError, decodeRipngHeader, rteMetric, rteOffset, rtePrefix, rtePrefixLen} from '../../src/route/ripng-wire.js';
import {fragmentPacket} from '../../src/wire/fragment.js';
import {
	PacketInfo,
	WireError,
	buildPacket,
	checkIcmpv6,
	checkUdp,
	decodePacket,
	insertDestOption,
	parseExt,
	parseOptions,
	parsePacket,
	readPcap,
	removeDestOption,
} from '../../src/wire/index.js';
import {packet} from '../helpers/arbitrary.js';
import {seeds} from './corpus.js';
import {mutate} from './mutate.js';

const RUNS = Number(process.env.ANYGUARD_FUZZ_RUNS ?? 3000);
const pool = seeds();
const bytesOrSeed = fc.oneof(
	fc.uint8Array({maxLength: 300}),
	fc.tuple(fc.nat({max: pool.length - 1}), fc.nat({max: pool.length - 1}), fc.integer()).map(([i, j, s]) => {
		let x = s | 1;
		const rand = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
		return mutate(rand, pool[i]!, pool[j]!);
	}),
);

function only<E extends Error>(kind: new (...a: never[]) => E, f: () => unknown): boolean {
	try {
		f();
		return true;
	} catch (error) {
		if (error instanceof kind) return true;
		throw error;
	}
}

test('packet codec: parsePacket, decodePacket, the upper-layer checks and the option editors throw only WireError', (t) => {
	const info = new PacketInfo();
	fc.assert(
		fc.property(bytesOrSeed, (bytes) => {
			only(WireError, () => decodePacket(bytes));
			only(WireError, () => {
				parsePacket(bytes, info);
				if (!info.isFragment && info.upperProto === 17) checkUdp(info);
				if (!info.isFragment && info.upperProto === 58) checkIcmpv6(info);
				for (let i = 0; i < info.extCount; i++) parseExt(info.extProto[i]!, bytes, info.extOff[i]!, info.extLen[i]!);
				locateIdentifier(info);
				removeDestOption(info, ID_OPTION_TYPE);
				insertDestOption(info, {type: 0x3e, data: new Uint8Array(6)});
			});
		}),
		{numRuns: RUNS},
	);
	t.pass();
});

test('options: parseOptions throws only WireError on any option area', (t) => {
	fc.assert(fc.property(fc.uint8Array({maxLength: 64}), (area) => only(WireError, () => parseOptions(area, 0, area.length))), {numRuns: RUNS});
	t.pass();
});

test('identifier option: checkIdentifier and decodeIdentifier never throw', (t) => {
	fc.assert(
		fc.property(fc.uint8Array({maxLength: 120}), (data) => {
			checkIdentifier(data, 0, data.length);
			decodeIdentifier(data, 0, data.length);
		}),
		{numRuns: RUNS},
	);
	t.pass();
});

test('RIPng and BFD codecs throw only their own errors', (t) => {
	fc.assert(
		fc.property(fc.uint8Array({maxLength: 200}), (bytes) => {
			only(RipngWireError, () => {
				const h = decodeRipngHeader(bytes, 0, bytes.length);
				for (let i = 0; i < h.rteCount; i++) {
					const r = rteOffset(0, i);
					rtePrefix(bytes, r);
					rtePrefixLen(bytes, r);
					rteMetric(bytes, r);
				}
			});
			only(BfdWireError, () => decodeBfd(bytes, 0, bytes.length, emptyBfdControl()));
		}),
		{numRuns: RUNS},
	);
	t.pass();
});

test('pcap reader throws only WireError', (t) => {
	const header = Uint8Array.from(Buffer.from('d4c3b2a1020004000000000000000000ffff000065000000', 'hex'));
	fc.assert(
		fc.property(fc.uint8Array({maxLength: 200}), fc.boolean(), (body, withHeader) => {
			const file = withHeader ? new Uint8Array([...header, ...body]) : body;
			only(WireError, () => readPcap(file));
			only(WireError, () => readPcap(file, {partial: true}));
		}),
		{numRuns: RUNS},
	);
	t.pass();
});

test('reassembler: any stream of fragments stays within its bounds, and what completes parses or throws WireError', (t) => {
	const info = new PacketInfo();
	const limits = {timeoutMs: 1000, maxBytes: 32 * 1024, maxDatagrams: 16, maxFragments: 8};
	fc.assert(
		fc.property(
			fc.array(fc.record({id: fc.nat({max: 20}), offset: fc.nat({max: 64}), len: fc.integer({min: 1, max: 200}), more: fc.boolean(), at: fc.nat({max: 3000})}), {maxLength: 60}),
			(frags) => {
				const r = new Reassembler<number>(limits);
				let now = 0;
				for (const f of frags) {
					now += f.at % 100;
					const bytes = buildPacket({
						ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: new Uint8Array(16).fill(1), dst: new Uint8Array(16).fill(2)},
						ext: [{kind: 'fragment', offset: f.offset, more: f.more, identification: f.id}],
						upper: {proto: 58, raw: new Uint8Array(f.len).fill(f.id)},
					});
					const res = r.add(parsePacket(bytes, info), now, 0, () => {});
					if (res.kind === 'whole') only(WireError, () => decodePacket(res.datagram));
					if (r.size > limits.maxDatagrams || r.bytes > limits.maxBytes) return false;
				}
				r.expire(now + limits.timeoutMs, () => {});
				return r.size === 0 && r.bytes === 0;
			},
		),
		{numRuns: Math.ceil(RUNS / 3)},
	);
	t.pass();
});

test('fragmenter and reassembler agree: any packet, fragmented at any MTU, comes back byte for byte', (t) => {
	const info = new PacketInfo();
	fc.assert(
		fc.property(packet, fc.integer({min: 1280, max: 1500}), fc.nat(), (repr, mtu, id) => {
			if (repr.ext.some((e) => e.kind === 'fragment')) return true;
			const bytes = buildPacket(repr);
			const parsed = parsePacket(bytes, info);
			// Only packets that cannot be cut past a Routing header are in scope (ours never carry one).
			const pieces = fragmentPacket(parsed, mtu, id >>> 0);
			if (pieces.length === 0) return true; // nothing after the unfragmentable part: nothing to fragment
			const r = new Reassembler<number>();
			let whole: Uint8Array | undefined;
			for (const p of pieces) {
				if (p.length > mtu) return false;
				const res = r.add(parsePacket(p, new PacketInfo()), 0, 0, () => {});
				if (res.kind === 'whole') whole = res.datagram;
				if (res.kind === 'drop') return false;
			}
			return whole !== undefined && Buffer.from(whole).equals(Buffer.from(bytes));
		}),
		{numRuns: Math.ceil(RUNS / 3)},
	);
	t.pass();
});
