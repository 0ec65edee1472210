// The client's record of requests it sent to anycast destinations (patent
// S101), so that a response arriving from another address can be matched to
// the anycast address it answers (S103–S104). Bounded, with idle expiry;
// evictions are counted.
import {u16} from '../wire/bytes.js';
import {Icmp6} from '../wire/icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import type {PacketInfo} from '../wire/packet.js';

export interface Flow {
	/** The anycast address the request went to. */
	anycast: Uint8Array;
	/** Last time (ms) a request or accepted response used the flow. */
	lastUsed: number;
	requests: number;
	responses: number;
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
 * The client-side identifiers [local, remote] of the upper layer at `off`:
 * for a request the host sent (`out`), or a response it receives (`in`).
 * Null when the packet has none (not echo, UDP or TCP).
 */
function flowIds(buf: Uint8Array, proto: number, off: number, len: number, direction: 'out' | 'in'): [number, number] | null {
	if (proto === Proto.Udp || proto === Proto.Tcp) {
		if (len < 4) return null;
		const src = u16(buf, off);
		const dst = u16(buf, off + 2);
		return direction === 'out' ? [src, dst] : [dst, src];
	}
	if (proto === Proto.Icmpv6) {
		if (len < 8 || buf[off] !== (direction === 'out' ? Icmp6.EchoRequest : Icmp6.EchoReply)) return null;
		return [u16(buf, off + 4), 0];
	}
	return null;
}

export class FlowTable {
	private readonly flows = new Map<string, Flow>();
	evictions = 0;
	expired = 0;

	constructor(
		readonly idleMs = 30_000,
		readonly capacity = 16384,
	) {}

	get size(): number {
		return this.flows.size;
	}

	/** Records a request the host sent to `anycast` (the packet's destination). Returns false when the packet has no flow identity. */
	track(info: PacketInfo, now: number): boolean {
		const ids = flowIds(info.buf, info.upperProto, info.upperOff, info.upperLen, 'out');
		if (!ids || info.isFragment) return false;
		const k = key(info.upperProto, info.buf, info.off + IPV6.src, ids[0], ids[1]);
		let flow = this.flows.get(k);
		if (flow) {
			this.flows.delete(k); // re-insert: Map order is least recently used first
		} else {
			if (this.flows.size >= this.capacity) this.evictOldest();
			const dst = info.off + IPV6.dst;
			flow = {anycast: info.buf.slice(dst, dst + 16), lastUsed: now, requests: 0, responses: 0};
		}
		flow.lastUsed = now;
		flow.requests++;
		this.flows.set(k, flow);
		return true;
	}

	/** The flow a response in `info` answers, or undefined. */
	matchResponse(info: PacketInfo, now: number): Flow | undefined {
		const ids = flowIds(info.buf, info.upperProto, info.upperOff, info.upperLen, 'in');
		if (!ids || info.isFragment) return undefined;
		return this.live(key(info.upperProto, info.buf, info.off + IPV6.dst, ids[0], ids[1]), now);
	}

	/**
	 * The flow an ICMPv6 error's quoted packet belongs to (RFC 5927 §4: check the
	 * quoted headers against open connections), or undefined. The quoted packet
	 * must be one of ours: from `local`, to the flow's anycast address.
	 */
	matchQuoted(quoted: Uint8Array, now: number): Flow | undefined {
		if (quoted.length < IPV6_HEADER_LEN + 8 || quoted[0]! >>> 4 !== 6) return undefined;
		// Only the common case, no extension headers in the quote, is matched.
		const proto = quoted[IPV6.nextHeader]!;
		const ids = flowIds(quoted, proto, IPV6_HEADER_LEN, quoted.length - IPV6_HEADER_LEN, 'out');
		if (!ids) return undefined;
		const flow = this.live(key(proto, quoted, IPV6.src, ids[0], ids[1]), now);
		if (!flow) return undefined;
		for (let i = 0; i < 16; i++) if (quoted[IPV6.dst + i] !== flow.anycast[i]) return undefined;
		return flow;
	}

	private live(k: string, now: number): Flow | undefined {
		const flow = this.flows.get(k);
		if (!flow) return undefined;
		if (now - flow.lastUsed > this.idleMs) {
			this.flows.delete(k);
			this.expired++;
			return undefined;
		}
		return flow;
	}

	private evictOldest(): void {
		const oldest = this.flows.keys().next().value as string;
		this.flows.delete(oldest);
		this.evictions++;
	}

	/** Removes idle flows; call from a timer. */
	sweep(now: number): void {
		for (const [k, flow] of this.flows) {
			if (now - flow.lastUsed <= this.idleMs) break;
			this.flows.delete(k);
			this.expired++;
		}
	}
}
