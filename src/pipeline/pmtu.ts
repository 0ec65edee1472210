// Path MTU per destination for the traffic a node originates itself (echo
// replies, ICMPv6 errors, control plane), learnt from Packet Too Big (RFC 8201).
// Bounded: past `capacity` the least recently learnt entry goes.
import {IPV6_MIN_MTU} from '../wire/ipv6.js';

export class PmtuCache {
	private readonly entries = new Map<string, {mtu: number; at: number}>();
	evictions = 0;

	constructor(
		readonly capacity = 1024,
		/** RFC 8201 §4: wait at least 5 minutes (10 recommended) before trying a larger MTU again. */
		readonly ageMs = 10 * 60_000,
	) {}

	get size(): number {
		return this.entries.size;
	}

	/** The path MTU to the address at buf[off..off+16), or `linkMtu` when nothing smaller is known. */
	get(buf: Uint8Array, off: number, linkMtu: number, now: number): number {
		if (this.entries.size === 0) return linkMtu;
		const k = key(buf, off);
		const e = this.entries.get(k);
		if (!e) return linkMtu;
		if (now - e.at > this.ageMs) {
			this.entries.delete(k);
			return linkMtu;
		}
		return Math.min(e.mtu, linkMtu);
	}

	/**
	 * A Packet Too Big reported `mtu` for packets to the address at buf[off..].
	 * RFC 8201 §4: never below the IPv6 minimum link MTU, so a report under
	 * 1280 lowers the estimate to 1280 at most. Returns true when the estimate fell.
	 */
	update(buf: Uint8Array, off: number, mtu: number, linkMtu: number, now: number): boolean {
		const clamped = Math.max(IPV6_MIN_MTU, mtu);
		if (clamped >= this.get(buf, off, linkMtu, now)) return false;
		const k = key(buf, off);
		this.entries.delete(k);
		if (this.entries.size >= this.capacity) {
			this.entries.delete(this.entries.keys().next().value as string);
			this.evictions++;
		}
		this.entries.set(k, {mtu: clamped, at: now});
		return true;
	}
}

function key(buf: Uint8Array, off: number): string {
	return Buffer.from(buf.buffer, buf.byteOffset + off, 16).toString('latin1');
}
