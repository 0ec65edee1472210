// In-memory ports (test-only: no part of the program uses them; the in-memory
// network, src/assembly/memnet.ts, wires its links directly). For tests that
// run without root: a MemoryDevice stands in
// for a TUN device (the test plays the kernel: it injects inbound packets and
// reads what was sent), and memoryLinkPair() gives the two ends of a link with
// optional loss and delay. They keep the native ports' contract: batches over
// one reused receive area, drops counted, close() idempotent. Everything is
// deterministic: no randomness, and time only moves with the Clock given.
import type {Clock, TimerHandle} from '../../src/util/clock.js';
import {IoError, PortBase, emptyStats} from '../../src/io/types.js';
import type {IoErrorCode, PacketPort, PortStats, TunDevice, UdpEndpoint, UdpLink} from '../../src/io/types.js';

export interface MemoryPortOptions {
	name?: string;
	/** Largest packet send() accepts (default 1500); longer ones count as txErrors. */
	mtu?: number;
	/** Packets per receive batch (default 64). */
	batch?: number;
}

/** Receive area layout shared with the TUN reader: packets packed, each 8-byte aligned. */
const SLACK = 65536;

abstract class MemoryPort extends PortBase implements PacketPort {
	abstract readonly name: string;
	readonly mtu: number;
	protected readonly counters: PortStats = emptyStats();
	private readonly batch: number;
	private readonly area: Uint8Array;
	private readonly offsets: Uint32Array;
	private readonly lengths: Uint32Array;

	constructor(options: MemoryPortOptions) {
		super();
		this.mtu = options.mtu ?? 1500;
		this.batch = options.batch ?? 64;
		if (!Number.isInteger(this.batch) || this.batch < 1) throw new IoError('bad-argument', `batch must be a positive integer, got ${this.batch}`);
		this.area = new Uint8Array(this.batch * 2048 + SLACK);
		this.offsets = new Uint32Array(this.batch);
		this.lengths = new Uint32Array(this.batch);
	}

	send(packet: Uint8Array, off = 0, len = packet.length - off): boolean {
		if (this.isClosed) return false;
		if (off < 0 || len < 0 || off + len > packet.length) throw new IoError('bad-argument', `${this.name}: send range ${off}+${len} lies outside a ${packet.length}-byte buffer`);
		if (len > this.mtu) {
			this.counters.txErrors++;
			return false;
		}
		this.counters.txSyscalls++;
		if (!this.transmit(packet.slice(off, off + len))) {
			this.counters.txDrops++;
			return false;
		}
		this.counters.txPackets++;
		this.counters.txBytes += len;
		return true;
	}

	sendBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number {
		let accepted = 0;
		for (let i = 0; i < count; i++) if (this.send(buf, offsets[i], lengths[i])) accepted++;
		return accepted;
	}

	stats(): PortStats {
		return {...this.counters};
	}

	close(): void {
		this.isClosed = true;
	}

	/**
	 * Stops the port as a native one stops when its device is deleted: the
	 * error handler runs (or the error is thrown when there is none).
	 */
	fail(code: IoErrorCode = 'device-gone', message = `${this.name}: stopped receiving; the device is gone`): void {
		this.counters.rxErrors++;
		this.raise(new IoError(code, message));
	}

	/** Hands `packets` to the receive handler now, in batches, as the native reader would. Closed ports take nothing. */
	protected receive(packets: readonly Uint8Array[]): void {
		let i = 0;
		while (i < packets.length && !this.isClosed) {
			let pos = 0;
			let n = 0;
			while (n < this.batch && i < packets.length) {
				const p = packets[i]!;
				if (p.length > SLACK) throw new IoError('bad-argument', `${this.name}: a ${p.length}-byte packet is longer than any device delivers`);
				if (pos + p.length > this.area.length) break;
				this.area.set(p, pos);
				this.offsets[n] = pos;
				this.lengths[n] = p.length;
				pos += (p.length + 7) & ~7;
				this.counters.rxBytes += p.length;
				n++;
				i++;
			}
			this.counters.rxPackets += n;
			this.counters.rxBatches++;
			this.handler(this.area, this.offsets, this.lengths, n);
		}
	}

	/** Takes a copy of one sent packet; false means the kernel would have said EAGAIN. */
	protected abstract transmit(packet: Uint8Array): boolean;
}

export interface MemoryDeviceOptions extends MemoryPortOptions {
	ifindex?: number;
	/**
	 * Outbound packets held before send() starts dropping (txDrops), as a full
	 * kernel queue makes write(2) fail with EAGAIN. Default: unlimited.
	 */
	txCapacity?: number;
}

/** A TUN device in memory: inject() is the kernel sending to us, takeSent() is what we wrote to the kernel. */
export class MemoryDevice extends MemoryPort implements TunDevice {
	readonly kind = 'tun';
	readonly name: string;
	readonly ifindex: number;
	private readonly outbox: Uint8Array[] = [];
	private readonly txCapacity: number;

	constructor(name = 'mem0', options: MemoryDeviceOptions = {}) {
		super(options);
		this.name = name;
		this.ifindex = options.ifindex ?? 1;
		this.txCapacity = options.txCapacity ?? Infinity;
	}

	/** Delivers packets to the receive handler synchronously (copied into the receive area). */
	inject(...packets: Uint8Array[]): void {
		this.receive(packets);
	}

	/** Packets sent so far and not yet taken, oldest first. */
	get pending(): number {
		return this.outbox.length;
	}

	/** Returns and forgets the packets sent so far, oldest first. */
	takeSent(): Uint8Array[] {
		return this.outbox.splice(0, this.outbox.length);
	}

	protected transmit(packet: Uint8Array): boolean {
		if (this.outbox.length >= this.txCapacity) return false;
		this.outbox.push(packet);
		return true;
	}
}

/** Which end of the wire a packet left from. */
export type WireSide = 'a' | 'b';

export interface MemoryWireOptions extends MemoryPortOptions {
	/** Names of the two ends (default `${name}.a` / `${name}.b`, name default 'mem-link'). */
	names?: [string, string];
	/**
	 * Moves packets when time moves: each arrives `delay` ms after it was sent
	 * (default 0), on this clock. Without a clock, packets wait until flush().
	 */
	clock?: Clock;
	/** Milliseconds a packet spends on the wire; needs a clock. */
	delay?: number | ((packet: Uint8Array, from: WireSide, seq: number) => number);
	/** Return true to lose the packet (counted in `lost`). `seq` counts packets sent from that side, from 0. */
	loss?: (packet: Uint8Array, from: WireSide, seq: number) => boolean;
	/** Sees every packet put on the wire, lost or not (a capture point). */
	tap?: (packet: Uint8Array, from: WireSide) => void;
}

interface InFlight {
	due: number;
	packet: Uint8Array;
}

/** One end of a MemoryWire. */
export class MemoryLink extends MemoryPort implements UdpLink {
	readonly kind = 'udp';
	readonly name: string;
	readonly local: Readonly<Required<UdpEndpoint>>;
	readonly peer: Readonly<UdpEndpoint>;

	constructor(
		name: string,
		options: MemoryPortOptions,
		private readonly wire: MemoryWire,
		readonly side: WireSide,
	) {
		super(options);
		this.name = name;
		const [mine, theirs] = side === 'a' ? ['fe80::a', 'fe80::b'] : ['fe80::b', 'fe80::a'];
		this.local = {address: mine, ifname: name, port: 6000};
		this.peer = {address: theirs, ifname: name, port: 6000};
	}

	/** Called by the wire: packets arriving at this end. */
	arrive(packets: readonly Uint8Array[]): void {
		this.receive(packets);
	}

	protected transmit(packet: Uint8Array): boolean {
		this.wire.carry(this.side, packet);
		return true;
	}
}

/** Both ends of an in-memory link, and what happens between them. */
export class MemoryWire {
	readonly a: MemoryLink;
	readonly b: MemoryLink;
	/** Packets the loss hook took. */
	lost = 0;
	private readonly clock: Clock | undefined;
	private readonly options: MemoryWireOptions;
	private readonly queues: Record<WireSide, InFlight[]> = {a: [], b: []};
	private readonly seq: Record<WireSide, number> = {a: 0, b: 0};
	private readonly timers = new Set<TimerHandle>();

	constructor(options: MemoryWireOptions = {}) {
		this.options = options;
		this.clock = options.clock;
		if (options.delay !== undefined && !this.clock) throw new IoError('bad-argument', 'a MemoryWire delay needs a clock');
		const base = options.name ?? 'mem-link';
		const [na, nb] = options.names ?? [`${base}.a`, `${base}.b`];
		this.a = new MemoryLink(na, options, this, 'a');
		this.b = new MemoryLink(nb, options, this, 'b');
	}

	/** Packets on the wire, not yet delivered. */
	get pending(): number {
		return this.queues.a.length + this.queues.b.length;
	}

	/**
	 * Delivers every packet on the wire now, whatever its delay; returns how
	 * many. Needed when there is no clock. Answers sent by the handlers wait
	 * for the next flush, so two ends that echo each other cannot loop.
	 */
	flush(): number {
		return this.deliver(Infinity);
	}

	/** Called by a MemoryLink for each packet it sends. */
	carry(from: WireSide, packet: Uint8Array): void {
		const seq = this.seq[from]++;
		this.options.tap?.(packet, from);
		if (this.options.loss?.(packet, from, seq)) {
			this.lost++;
			return;
		}
		const d = this.options.delay;
		const delay = d === undefined ? 0 : typeof d === 'number' ? d : d(packet, from, seq);
		const due = this.clock ? this.clock.now() + delay : 0;
		// Keep each direction ordered by arrival time; equal times keep send order.
		const q = this.queues[from];
		let i = q.length;
		while (i > 0 && q[i - 1]!.due > due) i--;
		q.splice(i, 0, {due, packet});
		if (this.clock) {
			const timer: TimerHandle = this.clock.setTimeout(() => {
				this.timers.delete(timer);
				this.deliver(this.clock!.now());
			}, delay);
			this.timers.add(timer);
		}
	}

	/** Closes both ends and forgets what is on the wire. */
	close(): void {
		this.a.close();
		this.b.close();
		for (const t of this.timers) this.clock?.clear(t);
		this.timers.clear();
		this.queues.a.length = 0;
		this.queues.b.length = 0;
	}

	/** Delivers what was on the wire when called and is due by `now`; packets sent meanwhile wait for the next call. */
	private deliver(now: number): number {
		let total = 0;
		const limits = {a: this.queues.a.length, b: this.queues.b.length};
		for (const [from, to] of [
			['a', this.b],
			['b', this.a],
		] as const) {
			const q = this.queues[from];
			let n = 0;
			while (n < limits[from] && q[n]!.due <= now) n++;
			if (n === 0) continue;
			const packets = q.splice(0, n).map((f) => f.packet);
			total += n;
			to.arrive(packets);
		}
		return total;
	}
}

/** Two connected MemoryLinks: `const {a, b} = memoryLinkPair()`. */
export function memoryLinkPair(options: MemoryWireOptions = {}): MemoryWire {
	return new MemoryWire(options);
}
