// Packets the tests and the benchmarks both make.
import {IPV6, IPV6_HEADER_LEN, buildPacket} from '../src/wire/index.js';

/**
 * Fragments of a datagram with no extension headers: `pieces` are [start,
 * end) of its payload (the fragmentable part), last = no M flag. Overlaps
 * and gaps are allowed: they are what some conformance rows test, and what
 * the fragment floods send.
 */
export function fragments(whole: Uint8Array, id: number, pieces: Array<[number, number, boolean?]>): Uint8Array[] {
	const payload = whole.subarray(IPV6_HEADER_LEN);
	const src = whole.slice(IPV6.src, IPV6.src + 16);
	const dst = whole.slice(IPV6.dst, IPV6.dst + 16);
	return pieces.map(([start, end, last]) =>
		buildPacket({
			ip: {trafficClass: 0, flowLabel: 0, hopLimit: whole[IPV6.hopLimit]!, src, dst},
			ext: [{kind: 'fragment', offset: start / 8, more: !last, identification: id}],
			upper: {proto: whole[IPV6.nextHeader]!, raw: payload.subarray(start, Math.min(end, payload.length))},
		}),
	);
}
