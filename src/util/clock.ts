// Time source for protocol timers. Everything that schedules work (RIPng, BFD,
// anycast health checks) takes a Clock, so tests drive it with SimClock and get
// the same event order on every run.

/** Opaque handle returned by setTimeout/setInterval. */
export interface TimerHandle {
	readonly id: number;
}

export interface Clock {
	/** Milliseconds on a monotonic scale (not wall-clock time). */
	now(): number;
	setTimeout(fn: () => void, ms: number): TimerHandle;
	setInterval(fn: () => void, ms: number): TimerHandle;
	/** Cancels a timeout or interval; undefined and already-fired handles are ignored. */
	clear(handle: TimerHandle | undefined): void;
}

export class ClockError extends Error {
	override readonly name = 'ClockError';
	constructor(readonly code: 'bad-delay' | 'reentrant-advance', message: string) {
		super(message);
	}
}

function checkDelay(ms: number): number {
	if (!Number.isFinite(ms) || ms < 0) throw new ClockError('bad-delay', `timer delay must be a finite number >= 0, got ${ms}`);
	return ms;
}

/** Real time: performance.now() and Node's timers. Timers are unref'd so they never keep the process alive. */
export class SystemClock implements Clock {
	private nextId = 1;
	private readonly live = new Map<number, NodeJS.Timeout>();

	now(): number {
		return performance.now();
	}

	setTimeout(fn: () => void, ms: number): TimerHandle {
		const id = this.nextId++;
		const t = setTimeout(() => {
			this.live.delete(id);
			fn();
		}, checkDelay(ms));
		t.unref();
		this.live.set(id, t);
		return {id};
	}

	setInterval(fn: () => void, ms: number): TimerHandle {
		const id = this.nextId++;
		const t = setInterval(fn, Math.max(1, checkDelay(ms)));
		t.unref();
		this.live.set(id, t);
		return {id};
	}

	clear(handle: TimerHandle | undefined): void {
		if (handle === undefined) return;
		const t = this.live.get(handle.id);
		if (t === undefined) return;
		clearTimeout(t); // clearTimeout also clears intervals in Node
		this.live.delete(handle.id);
	}
}

interface SimTimer {
	id: number;
	at: number;
	/** Insertion order: timers due at the same instant fire in the order they were set. */
	seq: number;
	fn: () => void;
	/** > 0 for intervals. */
	every: number;
	cancelled: boolean;
}

/**
 * Simulated time. Nothing happens until advance(): timers then fire in (due time,
 * creation order), and now() reads the due time of the timer being run. A timer
 * set with delay 0 from inside a callback runs in the same advance, after the
 * callbacks already due.
 */
export class SimClock implements Clock {
	private t: number;
	private seq = 0;
	private nextId = 1;
	private readonly heap: SimTimer[] = [];
	private readonly byId = new Map<number, SimTimer>();
	private advancing = false;

	constructor(start = 0) {
		this.t = start;
	}

	now(): number {
		return this.t;
	}

	setTimeout(fn: () => void, ms: number): TimerHandle {
		return this.add(fn, checkDelay(ms), 0);
	}

	setInterval(fn: () => void, ms: number): TimerHandle {
		// A zero-period interval would never let time move on.
		const every = Math.max(checkDelay(ms), 1);
		return this.add(fn, every, every);
	}

	clear(handle: TimerHandle | undefined): void {
		if (handle === undefined) return;
		const timer = this.byId.get(handle.id);
		if (timer === undefined) return;
		timer.cancelled = true;
		this.byId.delete(handle.id);
	}

	/** Timers still scheduled. */
	get pending(): number {
		return this.byId.size;
	}

	/** Moves time forward by `ms`, firing every timer due on the way. */
	advance(ms: number): void {
		this.advanceUntil(() => false, ms);
	}

	/**
	 * Moves time forward by at most `maxMs`, checking `done` before starting and after
	 * every timer callback. Returns the simulated time at which `done` first held, or
	 * null (time then stands at start + maxMs).
	 */
	advanceUntil(done: () => boolean, maxMs: number): number | null {
		if (this.advancing) throw new ClockError('reentrant-advance', 'advance() called from inside a timer callback');
		const end = this.t + checkDelay(maxMs);
		this.advancing = true;
		try {
			if (done()) return this.t;
			for (;;) {
				const top = this.heap[0];
				if (top === undefined || top.at > end) break;
				this.pop();
				if (top.cancelled) continue;
				this.t = top.at;
				if (top.every > 0) {
					top.at += top.every;
					top.seq = this.seq++;
					this.push(top);
				} else {
					this.byId.delete(top.id);
				}
				top.fn();
				if (done()) return this.t;
			}
			this.t = end;
			return null;
		} finally {
			this.advancing = false;
		}
	}

	/**
	 * Like advance(), but lets promise callbacks and I/O run after every timer, for
	 * code whose timers start asynchronous work (e.g. a health check returning a Promise).
	 */
	async advanceAsync(ms: number): Promise<void> {
		const end = this.t + checkDelay(ms);
		for (;;) {
			await new Promise<void>((resolve) => setImmediate(resolve));
			const top = this.heap[0];
			if (top === undefined || top.at > end) break;
			this.advanceUntil(() => false, top.at - this.t);
		}
		this.t = end;
	}

	private add(fn: () => void, delay: number, every: number): TimerHandle {
		const timer: SimTimer = {id: this.nextId++, at: this.t + delay, seq: this.seq++, fn, every, cancelled: false};
		this.byId.set(timer.id, timer);
		this.push(timer);
		return {id: timer.id};
	}

	private less(a: SimTimer, b: SimTimer): boolean {
		return a.at < b.at || (a.at === b.at && a.seq < b.seq);
	}

	private push(timer: SimTimer): void {
		const h = this.heap;
		h.push(timer);
		let i = h.length - 1;
		while (i > 0) {
			const p = (i - 1) >> 1;
			if (!this.less(h[i]!, h[p]!)) break;
			[h[i], h[p]] = [h[p]!, h[i]!];
			i = p;
		}
	}

	private pop(): void {
		const h = this.heap;
		const last = h.pop()!;
		if (h.length === 0) return;
		h[0] = last;
		let i = 0;
		for (;;) {
			const l = 2 * i + 1;
			const r = l + 1;
			let m = i;
			if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
			if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
			if (m === i) break;
			[h[i], h[m]] = [h[m]!, h[i]!];
			i = m;
		}
	}
}

/** Deterministic PRNG (mulberry32) for jitter in tests and synthetic tables. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
