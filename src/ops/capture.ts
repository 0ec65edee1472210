// Packet capture at a node's ports: what `anyguard capture` streams (GET
// /capture on the control socket, control.ts). The port glue
// (src/assembly/ports.ts) tests `active` on every packet, so a tap costs one
// boolean test per packet while nobody listens.
import type {PortTap} from '../io/types.js';
import {LinkType, pcapHeader, pcapRecord} from '../wire/pcap.js';

export type Direction = 'in' | 'out';

interface Subscriber {
	/** Port name, or undefined for every port. */
	port: string | undefined;
	write: (chunk: Uint8Array) => void;
}

export class Tap implements PortTap {
	private readonly subscribers = new Set<Subscriber>();
	/** True while at least one capture runs; callers test it before calling record(). */
	active = false;

	/** Starts a capture: the pcap header (link type IPv6, 229) is written at once. Returns the function that stops it. */
	subscribe(port: string | undefined, write: (chunk: Uint8Array) => void): () => void {
		const s: Subscriber = {port, write};
		write(pcapHeader(LinkType.Ipv6));
		this.subscribers.add(s);
		this.active = true;
		return () => {
			this.subscribers.delete(s);
			this.active = this.subscribers.size > 0;
		};
	}

	record(port: string, _dir: Direction, buf: Uint8Array, off: number, len: number): void {
		let record: Uint8Array | undefined;
		for (const s of this.subscribers) {
			if (s.port !== undefined && s.port !== port) continue;
			record ??= pcapRecord(buf.subarray(off, off + len), Date.now());
			s.write(record);
		}
	}
}
