// `anyguard trace`: a probe's path, node by node. The CLI arms every node
// for one ICMPv6 echo identifier; each node then notes what it did with the
// request and the reply carrying that identifier: received, forwarded,
// delivered, dropped with a reason, or the event a role's hook noted on the
// packet (Packet.event: stamped, verified; ExtensionSpec.events). Costs one
// size test per packet while nothing is armed.
import type {DropReason} from '../pipeline/drops.js';
import type {Pipeline} from '../pipeline/pipeline.js';
import type {Packet} from '../pipeline/types.js';
import {formatAddr} from '../util/addr.js';
import {u16} from '../wire/bytes.js';
import {Icmp6} from '../wire/icmpv6.js';
import {IPV6, Proto} from '../wire/ipv6.js';

export interface TraceEvent {
	node: string;
	/** Wall-clock time, ms with µs precision. */
	at: number;
	id: number;
	kind: 'echo-request' | 'echo-reply';
	src: string;
	dst: string;
	port: string;
	/** received | forwarded | delivered | dropped: <reason>, or an extension's event (stamped, verified) */
	decision: string;
}

const MAX_EVENTS = 256;

export class Tracer {
	private readonly armed = new Map<number, number>(); // id → until (wall ms)
	readonly events: TraceEvent[] = [];

	constructor(private readonly node: Pipeline) {
		node.addHook('prerouting', (pkt) => {
			if (this.armed.size === 0) return null;
			const id = this.match(pkt);
			if (id >= 0) this.note(pkt, id, pkt.inPort?.name ?? '?', 'received');
			return null;
		});
		node.addHook('postrouting', (pkt) => {
			if (this.armed.size === 0) return null;
			const id = this.match(pkt);
			if (id < 0) return null;
			this.note(pkt, id, pkt.outPort?.name ?? '?', pkt.event ?? (pkt.outPort?.kind === 'host' ? 'delivered' : 'forwarded'));
			return null;
		});
	}

	/** Arms tracing of echo identifier `id` for `ms`. */
	arm(id: number, ms = 10_000): void {
		this.armed.set(id, Date.now() + ms);
	}

	/** The drop callback of the node: notes drops of armed packets. */
	dropped(reason: DropReason, pkt: Packet): void {
		if (this.armed.size === 0) return;
		const id = this.match(pkt);
		if (id >= 0) this.note(pkt, id, pkt.inPort?.name ?? '?', `dropped: ${reason}`);
	}

	take(id: number): TraceEvent[] {
		return this.events.filter((e) => e.id === id);
	}

	/** The armed echo identifier of the packet, or -1. */
	private match(pkt: Packet): number {
		const info = pkt.info;
		if (info.upperProto !== Proto.Icmpv6 || info.isFragment || info.upperLen < 8) return -1;
		const type = info.buf[info.upperOff];
		if (type !== Icmp6.EchoRequest && type !== Icmp6.EchoReply) return -1;
		const id = u16(info.buf, info.upperOff + 4);
		const until = this.armed.get(id);
		if (until === undefined) return -1;
		if (until < Date.now()) {
			this.armed.delete(id);
			return -1;
		}
		return id;
	}

	private note(pkt: Packet, id: number, port: string, decision: string): void {
		const info = pkt.info;
		this.events.push({
			node: this.node.name,
			at: performance.timeOrigin + performance.now(),
			id,
			kind: info.buf[info.upperOff] === Icmp6.EchoRequest ? 'echo-request' : 'echo-reply',
			src: formatAddr(info.buf, info.off + IPV6.src),
			dst: formatAddr(info.buf, info.off + IPV6.dst),
			port,
			decision,
		});
		if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
	}
}
