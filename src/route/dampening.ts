// Flap dampening of BFD sessions, the figure-of-merit scheme of RFC 2439 §4.2
// that routers apply to BFD sessions too (RFC 5882 §3.2 asks that a session
// that flaps not make routing flap with it). Every time a session goes down
// from Up it earns a penalty; the penalty decays exponentially with a
// half-life; while it is above `suppress` the session is held down for
// routing even when BFD says Up, until it decays below `reuse` (or for at most
// `maxHoldMs`). A first failure is never delayed: dampening acts only on what
// repeats, so the failover bound stays what BFD's timers make it.
import type {Clock, TimerHandle} from '../util/clock.js';

export interface DampeningConfig {
	/** Penalty added per flap (RFC 2439's 1000). */
	penalty: number;
	/** Held down once the penalty reaches this. */
	suppress: number;
	/** Released once the penalty decays below this. */
	reuse: number;
	halfLifeMs: number;
	/** Longest hold-down, whatever the penalty. */
	maxHoldMs: number;
}

export const DEFAULT_DAMPENING: DampeningConfig = {penalty: 1000, suppress: 3000, reuse: 1500, halfLifeMs: 120_000, maxHoldMs: 300_000};

interface Entry {
	penalty: number;
	at: number;
	suppressedAt: number;
	timer: TimerHandle | undefined;
}

export class DampeningError extends Error {
	override readonly name = 'DampeningError';
	readonly code = 'bad-config';
}

export class Dampening {
	readonly config: DampeningConfig;
	/** Flaps counted, and times a session was held down. */
	flaps = 0;
	suppressions = 0;
	private readonly entries = new Map<string, Entry>();

	constructor(
		private readonly clock: Clock,
		config: Partial<DampeningConfig>,
		/** Called when a held session is released. */
		private readonly onReuse: (key: string) => void,
	) {
		this.config = {...DEFAULT_DAMPENING, ...config};
		const c = this.config;
		if (!(c.penalty > 0 && c.reuse > 0 && c.suppress > c.reuse && c.halfLifeMs > 0 && c.maxHoldMs > 0))
			throw new DampeningError(`dampening needs penalty > 0, suppress > reuse > 0 and positive times, got ${JSON.stringify(c)}`);
	}

	/** The penalty of `key` now. */
	penalty(key: string): number {
		const e = this.entries.get(key);
		return e ? this.decayed(e, this.clock.now()) : 0;
	}

	isSuppressed(key: string): boolean {
		return this.entries.get(key)?.timer !== undefined;
	}

	/** The session went down from Up. Returns true when it is now held down. */
	flap(key: string): boolean {
		const now = this.clock.now();
		let e = this.entries.get(key);
		if (!e) {
			e = {penalty: 0, at: now, suppressedAt: 0, timer: undefined};
			this.entries.set(key, e);
		}
		e.penalty = this.decayed(e, now) + this.config.penalty;
		e.at = now;
		this.flaps++;
		if (e.timer === undefined && e.penalty >= this.config.suppress) {
			e.suppressedAt = now;
			this.suppressions++;
		}
		if (e.penalty >= this.config.suppress || e.timer !== undefined) this.arm(key, e);
		return e.timer !== undefined;
	}

	/** Forgets a session (removed), and its hold-down. */
	forget(key: string): void {
		const e = this.entries.get(key);
		if (e) this.clock.clear(e.timer);
		this.entries.delete(key);
	}

	stop(): void {
		for (const e of this.entries.values()) this.clock.clear(e.timer);
		this.entries.clear();
	}

	private decayed(e: Entry, now: number): number {
		return e.penalty * Math.pow(2, -(now - e.at) / this.config.halfLifeMs);
	}

	/** (Re)arms the release: when the penalty reaches `reuse`, or at the hold-down's cap. */
	private arm(key: string, e: Entry): void {
		this.clock.clear(e.timer);
		const c = this.config;
		const toReuse = c.halfLifeMs * Math.log2(e.penalty / c.reuse);
		const cap = e.suppressedAt + c.maxHoldMs - this.clock.now();
		e.timer = this.clock.setTimeout(() => {
			e.timer = undefined;
			this.onReuse(key);
		}, Math.max(0, Math.min(toReuse, cap)));
	}
}
