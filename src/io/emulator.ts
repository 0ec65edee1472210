// A wire with conditions, in the process: one direction of a link that
// delays each packet (with jitter), loses a share at random, and carries at
// most a rate. What the kernel would do with tc netem where it has it; this
// machine's kernel is built without netem (CONFIG_NET_SCH_NETEM), and no
// other kernel mechanism here holds a packet for a while and lets it go
// (docs/routing.md, "Link conditions"). The role processes sit on every wire
// that has an anyguard end, so they carry the conditions there.
//
// A line is a FIFO: packets leave in the order they came, each at its
// release time (arrival + delay + jitter, never earlier than the packet
// before it: jitter never reorders a channel). Packets are copied once into
// an arena when they are queued and leave in batches from it, so a timer
// costs one call per batch, not per packet. A line with no condition is not
// used at all (the caller sends directly).
import type {Clock, TimerHandle} from '../util/clock.js';

export interface LineSettings {
	delayMs?: number;
	/** ± this much, uniformly; at most delayMs. */
	jitterMs?: number;
	/** Share lost at random, %. */
	lossPct?: number;
	/** Bits per second. */
	rateBps?: number;
	/** Everything is dropped. */
	down?: boolean;
}

export type Deliver = (buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number) => void;

/** The serialisation state one direction of a link shares between its lines (data and control). */
export class WireState {
	/** When the last packet finished leaving, ms on the clock. */
	busyUntil = 0;
}

export interface LineStats {
	/** Packets handed on (at once or after their delay). */
	delivered: number;
	/** Packets that waited in the line. */
	queued: number;
	/** Lost at random (loss). */
	lost: number;
	/** Dropped because the line was full: more than `queueMs` of backlog at the rate, or the arena. */
	overflow: number;
	/** Dropped while the link was down. */
	downDropped: number;
	/** Packets in the line now. */
	depth: number;
}

export interface DelayLineOptions {
	clock: Clock;
	deliver: Deliver;
	random?: () => number;
	/** Shared with the other line of the same direction, so both count against one rate. */
	wire?: WireState;
	/**
	 * Network control (route exchange, BFD): never waits behind the rate's
	 * backlog nor is tail-dropped for it, though its bytes count against the
	 * rate. Loss and delay apply as to everything on the wire.
	 */
	priority?: boolean;
	/** Most packets held at once (default 8192). */
	slots?: number;
	/** Most bytes held at once (default 16 MiB). */
	bytes?: number;
	/** Most backlog the rate may build before the tail is dropped, ms (default 100, like a tbf latency). */
	queueMs?: number;
}

export class DelayLine {
	readonly stats: LineStats = {delivered: 0, queued: 0, lost: 0, overflow: 0, downDropped: 0, depth: 0};
	private settings: LineSettings = {};
	private readonly clock: Clock;
	private readonly deliver: Deliver;
	private readonly random: () => number;
	private readonly wire: WireState;
	private readonly priority: boolean;
	private readonly queueMs: number;
	private readonly arenaBytes: number;
	/** Made when the first packet has to wait: most lines on a network carry no condition and never hold one. */
	private arena: Uint8Array | undefined;
	private readonly offs: Uint32Array;
	private readonly lens: Uint32Array;
	private readonly release: Float64Array;
	/** Scratch for one batch out. */
	private readonly outOffs: Uint32Array;
	private readonly outLens: Uint32Array;
	private head = 0;
	private count = 0;
	/** Next free byte in the arena. */
	private writeAt = 0;
	private lastRelease = 0;
	private timer: TimerHandle | undefined;

	constructor(o: DelayLineOptions) {
		this.clock = o.clock;
		this.deliver = o.deliver;
		this.random = o.random ?? Math.random;
		this.wire = o.wire ?? new WireState();
		this.priority = o.priority ?? false;
		this.queueMs = o.queueMs ?? 100;
		const slots = o.slots ?? 8192;
		this.arenaBytes = o.bytes ?? 16 << 20;
		this.offs = new Uint32Array(slots);
		this.lens = new Uint32Array(slots);
		this.release = new Float64Array(slots);
		this.outOffs = new Uint32Array(slots);
		this.outLens = new Uint32Array(slots);
	}

	/** Changes the conditions; packets already in the line keep their release times. */
	set(settings: LineSettings): void {
		this.settings = {...settings};
	}

	get current(): LineSettings {
		return {...this.settings};
	}

	/** Whether packets must go through the line: a condition is set, or packets still wait in it (so order is kept). */
	get active(): boolean {
		const s = this.settings;
		return this.count > 0 || Boolean(s.down || s.delayMs || s.jitterMs || s.lossPct || s.rateBps);
	}

	/**
	 * A packet enters the line. Returns false when the sender's end dropped it
	 * (down, or the line full: a full queue at one's own interface), true when
	 * it was taken — including when the wire then lost it, which the sender
	 * cannot tell.
	 */
	push(buf: Uint8Array, off: number, len: number): boolean {
		const s = this.settings;
		if (s.down) {
			this.stats.downDropped++;
			return false;
		}
		if (s.lossPct && this.random() * 100 < s.lossPct) {
			this.stats.lost++;
			return true;
		}
		const now = this.clock.now();
		let leaves = now;
		if (s.rateBps) {
			const txMs = (len * 8 * 1000) / s.rateBps;
			const w = this.wire;
			if (this.priority) {
				// Sent next, ahead of the backlog; the backlog waits for its bytes.
				w.busyUntil = Math.max(w.busyUntil, now) + txMs;
				leaves = now + txMs;
			} else {
				const start = Math.max(w.busyUntil, now);
				if (start - now > this.queueMs) {
					this.stats.overflow++;
					return false;
				}
				w.busyUntil = start + txMs;
				leaves = w.busyUntil;
			}
		}
		const jitter = s.jitterMs ? (2 * this.random() - 1) * s.jitterMs : 0;
		const at = Math.max(leaves + (s.delayMs ?? 0) + jitter, this.lastRelease);
		this.lastRelease = at;
		if (this.count === 0 && at <= now) {
			// Nothing waits and nothing delays it: on at once, from the caller's buffer.
			this.outOffs[0] = off;
			this.outLens[0] = len;
			this.stats.delivered++;
			this.deliver(buf, this.outOffs, this.outLens, 1);
			return true;
		}
		const where = this.allocate(len);
		if (where < 0) {
			this.stats.overflow++;
			return false;
		}
		this.arena ??= new Uint8Array(this.arenaBytes);
		this.arena.set(buf.subarray(off, off + len), where);
		const slot = (this.head + this.count) % this.offs.length;
		this.offs[slot] = where;
		this.lens[slot] = len;
		this.release[slot] = at;
		this.count++;
		this.stats.queued++;
		this.stats.depth = this.count;
		this.writeAt = where + len;
		if (this.timer === undefined) this.schedule();
		return true;
	}

	/** Drops whatever waits, and the timer; the line can be used again. */
	clear(): void {
		this.clock.clear(this.timer);
		this.timer = undefined;
		this.head = this.count = this.writeAt = 0;
		this.stats.depth = 0;
	}

	/** Where `len` bytes go in the arena, or -1 when it is full. The live bytes run from the head's offset to writeAt, maybe wrapping. */
	private allocate(len: number): number {
		if (this.count === this.offs.length) return -1;
		const cap = this.arenaBytes;
		if (this.count === 0) return len <= cap ? 0 : -1;
		const oldest = this.offs[this.head]!;
		if (this.writeAt > oldest) {
			if (cap - this.writeAt >= len) return this.writeAt;
			return len < oldest ? 0 : -1;
		}
		// Wrapped: free space is between writeAt and the oldest.
		return oldest - this.writeAt > len ? this.writeAt : -1;
	}

	private schedule(): void {
		const wait = Math.max(0, this.release[this.head]! - this.clock.now());
		this.timer = this.clock.setTimeout(() => this.flush(), wait);
	}

	private flush(): void {
		this.timer = undefined;
		// Timers run up to a millisecond late, never early: what is due within half of one goes now.
		const due = this.clock.now() + 0.5;
		let n = 0;
		while (n < this.count && this.release[(this.head + n) % this.offs.length]! <= due) {
			const slot = (this.head + n) % this.offs.length;
			this.outOffs[n] = this.offs[slot]!;
			this.outLens[n] = this.lens[slot]!;
			n++;
		}
		if (n > 0) {
			this.stats.delivered += n;
			// deliver must send (or copy) before it returns, as a receive handler does; only then are the slots free.
			this.deliver(this.arena!, this.outOffs, this.outLens, n);
		}
		this.head = (this.head + n) % this.offs.length;
		this.count -= n;
		this.stats.depth = this.count;
		if (this.count === 0) this.writeAt = 0;
		if (this.count > 0 && this.timer === undefined) this.schedule();
	}
}
