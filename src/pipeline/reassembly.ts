// Fragment reassembly (RFC 8200 §4.5) for the nodes that must read a whole
// datagram: the node's own stack, the client before it verifies a response,
// and the boundary router before it verifies one leaving the server network.
// Routers forward fragments untouched and never come here.
//
// Datagrams are keyed by (source, destination, Fragment Identification). Each
// fragment is copied once on arrival (receive buffers are reused by the next
// batch, docs/io.md), its payload kept as a view into that copy; the whole
// datagram is written once, when the last piece arrives. Memory is bounded in
// datagrams, fragments per datagram and bytes; when full, the oldest datagram
// gives way and the eviction is counted. A datagram is abandoned `timeoutMs`
// after its first-arriving fragment.
import {setU16, u16, u32} from '../wire/bytes.js';
import {IPV6, IPV6_HEADER_LEN} from '../wire/ipv6.js';
import type {PacketInfo} from '../wire/packet.js';
import type {DropReason} from './drops.js';

export interface ReassemblyLimits {
	/** Abandon a datagram this long after its first-arriving fragment (RFC 8200 §4.5: 60 s). */
	timeoutMs: number;
	/** Bytes held over all datagrams (fragment copies plus a per-fragment overhead). */
	maxBytes: number;
	/** Datagrams under reassembly at once. */
	maxDatagrams: number;
	/** Fragments held for one datagram: a datagram of 8-byte pieces is an attack. */
	maxFragments: number;
}

export const DEFAULT_REASSEMBLY: ReassemblyLimits = {timeoutMs: 60_000, maxBytes: 4 << 20, maxDatagrams: 1024, maxFragments: 256};

/** Bytes a held fragment costs beyond its copy: the bookkeeping object, roughly. */
const FRAGMENT_OVERHEAD = 96;

interface Piece<P> {
	/** Copy of the whole fragment packet, IPv6 header first. */
	bytes: Uint8Array;
	/** Fragment data: [start, end) of the original datagram's fragmentable part. */
	start: number;
	end: number;
	/** Offset of the fragment data in `bytes`. */
	dataOff: number;
	/** Offset of the Fragment header in `bytes`, and of the Next Header field that names it. */
	fragOff: number;
	nhField: number;
	port: P;
}

interface Datagram<P> {
	key: string;
	firstAt: number;
	/** Sorted by start. */
	pieces: Array<Piece<P>>;
	/** Length of the fragmentable part, once the last fragment (M = 0) came; -1 before. */
	total: number;
	have: number;
	bytes: number;
	/** Overlap seen (RFC 5722): later fragments are dropped too, silently, until the timeout. */
	dead: boolean;
}

export type AddResult<P> =
	| {kind: 'held'}
	/** The datagram, whole (Fragment header removed), and the fragments it was made of, in offset order. */
	| {kind: 'whole'; datagram: Uint8Array; fragments: Array<{bytes: Uint8Array; port: P}>}
	/** Drop this fragment; `pointer` (from the IPv6 header) asks for a Parameter Problem code 0 there. */
	| {kind: 'drop'; reason: DropReason; pointer?: number; discarded: number};

export interface Expired<P> {
	/** Timed out (RFC 8200 §4.5), or evicted to make room. */
	reason: 'frag-timeout' | 'frag-evicted';
	/** The first fragment (offset 0) if it arrived: RFC 8200 §4.5 sends Time Exceeded code 1 about it. */
	first: {bytes: Uint8Array; port: P} | null;
	fragments: number;
}

export class Reassembler<P> {
	private readonly datagrams = new Map<string, Datagram<P>>();
	private bytesHeld = 0;
	/** Datagrams removed to make room (their fragments are counted in `evictedFragments`). */
	evictions = 0;
	evictedFragments = 0;
	timeouts = 0;
	completed = 0;

	constructor(readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY) {}

	/** Datagrams under reassembly (overlap tombstones included). */
	get size(): number {
		return this.datagrams.size;
	}

	get bytes(): number {
		return this.bytesHeld;
	}

	/**
	 * Takes the fragment in `info` (which must have a Fragment header, and a
	 * complete header chain if it is a first fragment: RFC 7112 is checked
	 * before). `port` is remembered to send errors back the way it came.
	 */
	add(info: PacketInfo, now: number, port: P, gone: (e: Expired<P>) => void): AddResult<P> {
		const buf = info.buf;
		const o = info.off;
		const fh = info.extOff[info.fragIndex]!;
		const word = u16(buf, fh + 2);
		const offset = word & 0xfff8;
		const more = (word & 1) === 1;
		const dataOff = fh + 8;
		const len = info.end - dataOff;
		// RFC 8200 §4.5: with M set the length must be a multiple of 8; Parameter Problem code 0 at Payload Length.
		if (more && (len & 7) !== 0) return {kind: 'drop', reason: 'frag-bad-length', pointer: IPV6.payloadLength, discarded: 1};
		// …and the datagram may not pass 65535 bytes of payload; Parameter Problem code 0 at the Fragment Offset.
		if (fh - o - IPV6_HEADER_LEN + 8 + offset + len > 0xffff) return {kind: 'drop', reason: 'frag-bad-length', pointer: fh + 2 - o, discarded: 1};
		if (offset === 0 && !more) {
			// RFC 6946 §4: an atomic fragment is a whole datagram; it never joins a reassembly.
			this.completed++;
			return {kind: 'whole', datagram: withoutFragmentHeader(buf, o, info.end, fh, info.nextHeaderOffset(info.fragIndex) - o), fragments: [{bytes: buf.slice(o, info.end), port}]};
		}
		this.expire(now, gone);
		const key = keyOf(buf, o, u32(buf, fh + 4));
		let d = this.datagrams.get(key);
		if (!d) {
			d = {key, firstAt: now, pieces: [], total: -1, have: 0, bytes: 0, dead: false};
			this.datagrams.set(key, d);
		}
		if (d.dead) return {kind: 'drop', reason: 'frag-overlap', discarded: 1};
		const start = offset;
		const end = offset + len;
		if (!more) {
			// The last fragment fixes the length; a second, different one, or data already past it, is corrupt.
			if ((d.total >= 0 && d.total !== end) || (d.pieces.length > 0 && d.pieces[d.pieces.length - 1]!.end > end)) return this.abandon(d, 'frag-inconsistent');
		} else if (d.total >= 0 && end > d.total) return this.abandon(d, 'frag-inconsistent');
		// Find where it goes, and whether it touches a neighbour.
		let i = d.pieces.length;
		while (i > 0 && d.pieces[i - 1]!.start > start) i--;
		const before = i > 0 ? d.pieces[i - 1] : undefined;
		if (before && before.start === start && before.end === end) {
			// An exact duplicate (the network may duplicate packets): drop it alone (RFC 8200 §4.5).
			if (equalRange(before.bytes, before.dataOff, buf, dataOff, len)) return {kind: 'drop', reason: 'frag-duplicate', discarded: 1};
		}
		const after = i < d.pieces.length ? d.pieces[i] : undefined;
		if ((before && before.end > start) || (after && after.start < end)) return this.abandon(d, 'frag-overlap'); // RFC 5722 §4
		if (d.pieces.length >= this.limits.maxFragments) return this.abandon(d, 'frag-inconsistent');
		const cost = info.end - o + FRAGMENT_OVERHEAD;
		this.makeRoom(cost, d, gone);
		const bytes = buf.slice(o, info.end);
		d.pieces.splice(i, 0, {bytes, start, end, dataOff: dataOff - o, fragOff: fh - o, nhField: info.nextHeaderOffset(info.fragIndex) - o, port});
		d.have += len;
		d.bytes += cost;
		this.bytesHeld += cost;
		if (!more) d.total = end;
		if (d.total < 0 || d.have !== d.total) return {kind: 'held'};
		// No overlaps and every byte of [0, total) counted: the pieces tile the datagram.
		this.remove(d);
		this.completed++;
		return {kind: 'whole', datagram: assemble(d), fragments: d.pieces.map((p) => ({bytes: p.bytes, port: p.port}))};
	}

	/** Abandons datagrams older than the timeout; `report` hears of each (with its first fragment, if that came). */
	expire(now: number, report: (e: Expired<P>) => void): void {
		for (const d of this.datagrams.values()) {
			if (now - d.firstAt < this.limits.timeoutMs) break; // Map order is arrival order, so expiry order
			this.remove(d);
			if (d.dead) continue; // abandoned already, silently (RFC 5722)
			this.timeouts++;
			report({reason: 'frag-timeout', first: firstPiece(d), fragments: d.pieces.length});
		}
	}

	private abandon(d: Datagram<P>, reason: DropReason): AddResult<P> {
		const discarded = d.pieces.length + 1;
		this.bytesHeld -= d.bytes;
		d.pieces = [];
		d.bytes = 0;
		d.have = 0;
		// RFC 8200 §4.5 / RFC 5722: no ICMP; the key stays, empty, so later fragments of it go too.
		d.dead = true;
		return {kind: 'drop', reason, discarded};
	}

	private makeRoom(cost: number, keep: Datagram<P>, evicted: (e: Expired<P>) => void): void {
		for (const d of this.datagrams.values()) {
			if (this.bytesHeld + cost <= this.limits.maxBytes && this.datagrams.size <= this.limits.maxDatagrams) return;
			if (d === keep) continue;
			this.remove(d);
			this.evictions++;
			this.evictedFragments += d.pieces.length;
			evicted({reason: 'frag-evicted', first: null, fragments: d.pieces.length});
		}
	}

	private remove(d: Datagram<P>): void {
		this.datagrams.delete(d.key);
		this.bytesHeld -= d.bytes;
	}
}

function keyOf(buf: Uint8Array, o: number, id: number): string {
	// RFC 8200 §4.5: source, destination and identification name a datagram.
	return `${Buffer.from(buf.buffer, buf.byteOffset + o + IPV6.src, 32).toString('latin1')}${id}`;
}

function equalRange(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
	for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
	return true;
}

function firstPiece<P>(d: Datagram<P>): {bytes: Uint8Array; port: P} | null {
	const p = d.pieces[0];
	return p && p.start === 0 ? {bytes: p.bytes, port: p.port} : null;
}

/**
 * The datagram: the first fragment's unfragmentable part, its Fragment
 * header's Next Header in place of the Fragment header (RFC 8200 §4.5: only
 * the offset-zero fragment's values are used), then the data in order.
 */
function assemble<P>(d: Datagram<P>): Uint8Array {
	const first = d.pieces[0]!;
	const unfrag = first.fragOff;
	const out = new Uint8Array(unfrag + d.total);
	out.set(first.bytes.subarray(0, unfrag), 0);
	out[first.nhField] = first.bytes[unfrag]!;
	setU16(out, IPV6.payloadLength, unfrag - IPV6_HEADER_LEN + d.total);
	for (const p of d.pieces) out.set(p.bytes.subarray(p.dataOff, p.dataOff + (p.end - p.start)), unfrag + p.start);
	return out;
}

function withoutFragmentHeader(buf: Uint8Array, o: number, end: number, fh: number, field: number): Uint8Array {
	const out = new Uint8Array(end - o - 8);
	out.set(buf.subarray(o, fh), 0);
	out.set(buf.subarray(fh + 8, end), fh - o);
	out[field] = buf[fh]!;
	setU16(out, IPV6.payloadLength, end - o - 8 - IPV6_HEADER_LEN);
	return out;
}
