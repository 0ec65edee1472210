// The client's record of requests it sent to anycast destinations (patent
// S101), so that a response arriving from another address can be matched to
// the anycast address it answers (S103–S104), and to a request the host
// really sent: an echo reply to a sequence number the host asked, echoing
// the host's data; a UDP answer soon after a datagram it sent. Bounded, with idle expiry; evictions are
// counted. Echo, UDP and TCP flows live in tables of their own, so traffic an
// outsider provokes in one protocol cannot push the others out; within a
// table a flow that owes nothing goes before one that still expects answers.
import {u16} from '../wire/bytes.js';
import {Icmp6} from '../wire/icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import type {PacketInfo} from '../wire/packet.js';

export interface Flow {
	/**
	 * The anycast addresses the flow's requests went to, latest last (at most
	 * MAX_ANYCASTS): the key leaves the remote address out, so one echo
	 * identifier or port pair may ask two groups' S.
	 */
	anycasts: Uint8Array[];
	/** When the host last sent a request of this flow to each of `anycasts`. */
	askedAt: number[];
	proto: number;
	/** Last time (ms) a request or accepted response used the flow. */
	lastUsed: number;
	requests: number;
	responses: number;
	/** The smallest hop limit the host sent a request of this flow with: below 64 it is tracing the path. */
	minHopLimit: number;
	/**
	 * Echo: sequence numbers sent and not answered yet, each with a digest of
	 * the data the request carried (a reply echoes it: RFC 4443 §4.2).
	 */
	pending: Map<number, {data: number; anycast: Uint8Array}> | null;
	/** When the host last sent a request of this flow (UDP answers are expected soon after one). */
	lastRequest: number;
}

/** Anycast addresses one flow remembers. */
export const MAX_ANYCASTS = 4;

/** The anycast address of `flow` equal to the one at buf[off..off+16), or undefined. */
export function flowAnycast(flow: Flow, buf: Uint8Array, off: number): Uint8Array | undefined {
	return flow.anycasts.find((a) => {
		for (let i = 0; i < 16; i++) if (a[i] !== buf[off + i]) return false;
		return true;
	});
}

/** Echo sequence numbers remembered per flow: a ping keeps far fewer than this in flight. */
export const MAX_PENDING = 256;
/**
 * A UDP answer is expected this soon after a request of its flow (DNS
 * clients retry within a few seconds, RFC 1035 §4.2.1). UDP has no request
 * identity the client could check: within the window an answer passes, out
 * of it it is unsolicited. (Counting answers per request would let one
 * answer to a request spoofed from the client use up the real one's place.)
 */
export const UDP_ANSWER_WINDOW_MS = 5000;

/** Echo data digested per request: the first bytes and the length are enough to tell whose data a reply echoes. */
const DIGEST_BYTES = 64;

/** FNV-1a over the first DIGEST_BYTES of [off, end), and the length. */
function digest(buf: Uint8Array, off: number, end: number): number {
	let h = 0x811c9dc5;
	const stop = Math.min(end, off + DIGEST_BYTES);
	for (let i = off; i < stop; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
	return (Math.imul(h ^ (end - off), 0x01000193) ^ (end - off)) >>> 0;
}

/** A response's place in its flow: the echo sequence number it answers and the digest of the data it echoes (-1: not to be checked). */
export interface Match {
	flow: Flow;
	seq: number;
	data: number;
	/** For an error: the anycast address its quoted request went to. */
	anycast?: Uint8Array;
}

/**
 * Flow key as the client sees it: protocol, the client's address and the
 * transport identifiers. ICMPv6 echo is keyed by identifier, UDP and TCP by
 * both ports. The remote address is left out on purpose: the response comes
 * from a unicast address the client does not know in advance.
 */
function key(proto: number, local: Uint8Array, localOff: number, a: number, b: number): string {
	return `${proto}/${Buffer.from(local.buffer, local.byteOffset + localOff, 16).toString('hex')}/${a}/${b}`;
}

/**
 * The client-side identifiers [local, remote, seq] of the upper layer at
 * `off`: for a request the host sent (`out`), or a response it receives
 * (`in`). Null when the packet has none (not echo, UDP or TCP).
 */
function flowIds(buf: Uint8Array, proto: number, off: number, len: number, direction: 'out' | 'in'): [number, number, number] | null {
	if (proto === Proto.Udp || proto === Proto.Tcp) {
		if (len < 4) return null;
		const src = u16(buf, off);
		const dst = u16(buf, off + 2);
		return direction === 'out' ? [src, dst, 0] : [dst, src, 0];
	}
	if (proto === Proto.Icmpv6) {
		if (len < 8 || buf[off] !== (direction === 'out' ? Icmp6.EchoRequest : Icmp6.EchoReply)) return null;
		return [u16(buf, off + 4), 0, u16(buf, off + 6)];
	}
	return null;
}

/** TCP flags byte of the segment at `off`, or -1 when the header is cut short. */
function tcpFlags(buf: Uint8Array, off: number, len: number): number {
	return len >= 14 ? buf[off + 13]! : -1;
}
const TCP_RST = 0x04;

class Table {
	readonly flows = new Map<string, Flow>();
	evictions = 0;
	/** Evicted while still expecting answers (the table was full of such flows). */
	evictedOwing = 0;

	constructor(readonly capacity: number) {}

	/** Makes room: the least recently used flow that owes nothing, among the oldest few; else the least recently used. */
	evict(now: number): void {
		let scanned = 0;
		let victim: string | undefined;
		for (const [k, flow] of this.flows) {
			if (!owing(flow, now)) {
				victim = k;
				break;
			}
			if (++scanned === 64) break;
		}
		if (victim === undefined) {
			victim = this.flows.keys().next().value as string;
			this.evictedOwing++;
		}
		this.flows.delete(victim);
		this.evictions++;
	}
}

function owing(flow: Flow, now: number): boolean {
	if (flow.proto === Proto.Icmpv6) return flow.pending!.size > 0;
	if (flow.proto === Proto.Udp) return now - flow.lastRequest <= UDP_ANSWER_WINDOW_MS;
	return true; // a TCP connection expects segments for as long as it lives
}

export class FlowTable {
	private readonly tables: Record<number, Table>;
	expired = 0;

	constructor(
		readonly idleMs = 30_000,
		readonly capacity = 16384,
		/** Echo flows: at most one per identifier and host address; pings are few. */
		readonly echoCapacity = 4096,
	) {
		this.tables = {[Proto.Icmpv6]: new Table(echoCapacity), [Proto.Udp]: new Table(capacity), [Proto.Tcp]: new Table(capacity)};
	}

	get size(): number {
		return this.tables[Proto.Icmpv6]!.flows.size + this.tables[Proto.Udp]!.flows.size + this.tables[Proto.Tcp]!.flows.size;
	}

	get evictions(): number {
		return this.tables[Proto.Icmpv6]!.evictions + this.tables[Proto.Udp]!.evictions + this.tables[Proto.Tcp]!.evictions;
	}

	/** Evictions of flows that still expected answers: only a host opening more flows than the table holds causes them. */
	get evictedOwing(): number {
		return this.tables[Proto.Icmpv6]!.evictedOwing + this.tables[Proto.Udp]!.evictedOwing + this.tables[Proto.Tcp]!.evictedOwing;
	}

	/**
	 * Records a request the host sent to `anycast` (the packet's destination).
	 * A first fragment counts (it holds the upper-layer header, RFC 7112); later
	 * fragments do not. A TCP reset opens nothing: it is the host refusing a
	 * segment, not asking. Returns false when the packet opened or used no flow.
	 */
	track(info: PacketInfo, now: number): boolean {
		if (info.isFragment && info.fragmentOffset !== 0) return false;
		const proto = info.upperProto;
		const ids = flowIds(info.buf, proto, info.upperOff, info.upperLen, 'out');
		if (!ids) return false;
		const table = this.tables[proto]!;
		const k = key(proto, info.buf, info.off + IPV6.src, ids[0], ids[1]);
		let flow = table.flows.get(k);
		if (proto === Proto.Tcp && (tcpFlags(info.buf, info.upperOff, info.upperLen) & TCP_RST) !== 0) {
			if (flow) flow.lastUsed = now;
			return flow !== undefined;
		}
		if (flow) {
			table.flows.delete(k); // re-insert: Map order is least recently used first
		} else {
			if (table.flows.size >= table.capacity) table.evict(now);
			flow = {anycasts: [], askedAt: [], proto, lastUsed: now, requests: 0, responses: 0, minHopLimit: 255, pending: proto === Proto.Icmpv6 ? new Map() : null, lastRequest: now};
		}
		const dst = info.off + IPV6.dst;
		let anycast = flowAnycast(flow, info.buf, dst);
		if (!anycast) {
			anycast = info.buf.slice(dst, dst + 16);
			flow.anycasts.push(anycast);
			flow.askedAt.push(now);
			if (flow.anycasts.length > MAX_ANYCASTS) {
				flow.anycasts.shift();
				flow.askedAt.shift();
			}
		}
		flow.askedAt[flow.anycasts.indexOf(anycast)] = now;
		flow.lastUsed = now;
		flow.lastRequest = now;
		flow.requests++;
		flow.minHopLimit = Math.min(flow.minHopLimit, info.buf[info.off + IPV6.hopLimit]!);
		if (flow.pending) {
			// A later fragment's data is not here; a first fragment's echo data is digested as far as it goes.
			flow.pending.delete(ids[2]);
			flow.pending.set(ids[2], {data: info.isFragment ? -1 : digest(info.buf, info.upperOff + 8, info.end), anycast});
			if (flow.pending.size > MAX_PENDING) flow.pending.delete(flow.pending.keys().next().value as number);
		}
		table.flows.set(k, flow);
		return true;
	}

	/** The flow a response in `info` answers, or undefined. */
	matchResponse(info: PacketInfo, now: number): Match | undefined {
		if (info.isFragment) return undefined;
		const proto = info.upperProto;
		const ids = flowIds(info.buf, proto, info.upperOff, info.upperLen, 'in');
		if (!ids) return undefined;
		const flow = this.live(proto, key(proto, info.buf, info.off + IPV6.dst, ids[0], ids[1]), now);
		return flow ? {flow, seq: ids[2], data: proto === Proto.Icmpv6 ? digest(info.buf, info.upperOff + 8, info.end) : -1} : undefined;
	}

	/**
	 * The flow an ICMPv6 error's quoted packet belongs to (RFC 5927 §4: check
	 * the quoted headers against open connections), or undefined. The quoted
	 * packet must be one of ours: from the flow's host address, to its anycast
	 * address. Extension headers in the quote are walked as the kernel walks
	 * them; a quote cut short inside them matches nothing.
	 */
	matchQuoted(quoted: Uint8Array, now: number): Match | undefined {
		const upper = quotedUpper(quoted);
		if (!upper) return undefined;
		const [proto, off] = upper;
		const ids = flowIds(quoted, proto, off, quoted.length - off, 'out');
		if (!ids) return undefined;
		const flow = this.live(proto, key(proto, quoted, IPV6.src, ids[0], ids[1]), now);
		if (!flow) return undefined;
		const anycast = flowAnycast(flow, quoted, IPV6.dst);
		if (!anycast) return undefined;
		return {flow, seq: ids[2], data: -1, anycast}; // an error quotes the request as far as it fits: the data is not compared
	}

	/**
	 * Whether the flow still expects this answer, for S `anycast`: echo, a
	 * sequence number sent to that S and not answered, whose request carried
	 * the data the reply echoes; UDP, a request to that S sent within
	 * UDP_ANSWER_WINDOW_MS; TCP, a flow that asked that S (TCP checks its own
	 * sequence numbers).
	 */
	solicited(m: Match, now: number, anycast: Uint8Array): boolean {
		const flow = m.flow;
		const i = flow.anycasts.indexOf(anycast);
		if (i < 0) return false;
		if (flow.pending) {
			const sent = flow.pending.get(m.seq);
			return sent !== undefined && sent.anycast === anycast && (sent.data === -1 || m.data === -1 || sent.data === m.data);
		}
		if (flow.proto === Proto.Udp) return now - flow.askedAt[i]! <= UDP_ANSWER_WINDOW_MS;
		return true;
	}

	/** An answer was accepted: an echo request is answered once. */
	answered(m: Match, now: number): void {
		const flow = m.flow;
		flow.responses++;
		flow.lastUsed = now;
		flow.pending?.delete(m.seq);
	}

	private live(proto: number, k: string, now: number): Flow | undefined {
		const table = this.tables[proto];
		const flow = table?.flows.get(k);
		if (!flow) return undefined;
		if (now - flow.lastUsed > this.idleMs) {
			table!.flows.delete(k);
			this.expired++;
			return undefined;
		}
		return flow;
	}

	/** Removes idle flows; call from a timer. */
	sweep(now: number): void {
		for (const table of Object.values(this.tables)) {
			for (const [k, flow] of table.flows) {
				if (now - flow.lastUsed <= this.idleMs) break;
				table.flows.delete(k);
				this.expired++;
			}
		}
	}
}

/**
 * The upper-layer protocol and its offset in a quoted packet, after the
 * extension headers the quote carries (RFC 8200 §4: Hop-by-Hop, Destination
 * Options, Routing, and a first Fragment), or null when the quote is not an
 * IPv6 packet, is a later fragment, or ends inside its header chain.
 */
export function quotedUpper(quoted: Uint8Array): [number, number] | null {
	if (quoted.length < IPV6_HEADER_LEN + 8 || quoted[0]! >>> 4 !== 6) return null;
	let nh = quoted[IPV6.nextHeader]!;
	let pos = IPV6_HEADER_LEN;
	for (let i = 0; i < 16; i++) {
		if (nh === Proto.HopByHop || nh === Proto.DestOpts || nh === Proto.Routing) {
			if (pos + 2 > quoted.length) return null;
			const next = quoted[pos]!;
			pos += (quoted[pos + 1]! + 1) * 8;
			nh = next;
		} else if (nh === Proto.Fragment) {
			if (pos + 8 > quoted.length || (u16(quoted, pos + 2) & 0xfff8) !== 0) return null;
			nh = quoted[pos]!;
			pos += 8;
		} else {
			return pos + 8 <= quoted.length ? [nh, pos] : null;
		}
	}
	return null;
}
