// BFD asynchronous mode, single hop (RFC 5880, RFC 5881): one session per
// neighbour on a link. Pure logic: payload bytes in through receive(), out
// through the injected send(); timing from the injected Clock.
import type {Addr} from '../util/addr.js';
import type {Clock, TimerHandle} from '../util/clock.js';
import {BFD_PORT, BFD_SRC_PORT_MIN, BFD_STATE_NAMES, BfdDiag, BfdStateCode, BfdWireError, decodeBfd, emptyBfdControl, encodeBfd, BFD_LEN} from './bfd-wire.js';
import type {BfdStateName, BfdWireCode} from './bfd-wire.js';
import {prefixKey} from './prefix.js';
import type {LinkId, RxMeta, SendFn} from './types.js';

export interface BfdConfig {
	/** bfd.DesiredMinTxInterval once Up, ms. */
	desiredMinTxMs: number;
	/** bfd.RequiredMinRxInterval, ms. */
	requiredMinRxMs: number;
	/** bfd.DetectMult. */
	detectMult: number;
	/** DesiredMinTxInterval while not Up; RFC 5880 §6.8.3 requires at least 1 s. */
	slowTxMs: number;
	/**
	 * Sessions one link may hold. Anyone on a link can claim to be a neighbour,
	 * from as many link-local addresses as it likes; past this a new peer takes
	 * the place of the oldest session that has never been Up, or is refused.
	 */
	maxSessionsPerLink: number;
}

/** A point-to-point link has one neighbour; a few more leave room for a LAN and a restart. */
export const BFD_MAX_SESSIONS_PER_LINK = 8;

/** Lab default from issue 3: 100 ms × 3, so a dead neighbour is declared within 300 ms. */
export const DEFAULT_BFD: BfdConfig = {desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3, slowTxMs: 1000, maxSessionsPerLink: BFD_MAX_SESSIONS_PER_LINK};

export const BFD_DROP_REASONS = [
	'truncated', 'bad-version', 'bad-length', 'zero-detect-mult', 'multipoint', 'zero-my-discriminator', 'auth-unsupported',
	'bad-hop-limit', 'no-session', 'unknown-your-discriminator', 'zero-your-discriminator-not-down', 'session-mismatch', 'admin-down',
] as const;
export type BfdDropReason = (typeof BFD_DROP_REASONS)[number];
// Every wire error code is a drop reason.
const _wireCodesAreReasons: readonly BfdDropReason[] = [] as BfdWireCode[];
void _wireCodesAreReasons;

export class BfdError extends Error {
	override readonly name = 'BfdError';
	constructor(readonly code: 'bad-config', message: string) {
		super(message);
	}
}

export interface BfdEvent {
	link: LinkId;
	peer: Addr;
	state: BfdStateName;
	previous: BfdStateName;
	/** Local diagnostic (RFC 5880 §4.1). */
	diag: number;
}

export interface BfdSessionView {
	link: LinkId;
	peer: Addr;
	state: BfdStateName;
	remoteState: BfdStateName;
	localDisc: number;
	remoteDisc: number;
	/** Current transmit interval before jitter, ms (0: not transmitting). */
	txIntervalMs: number;
	/** Current detection time, ms. */
	detectTimeMs: number;
}

interface Session {
	link: LinkId;
	peer: Addr;
	key: string;
	srcPort: number;
	state: BfdStateCode;
	remoteState: BfdStateCode;
	localDisc: number;
	remoteDisc: number;
	diag: number;
	desiredMinTxUs: number;
	remoteMinRxUs: number;
	remoteDesiredMinTxUs: number;
	remoteDetectMult: number;
	pollActive: boolean;
	txTimer: TimerHandle | undefined;
	txDue: number;
	detectTimer: TimerHandle | undefined;
	/** Whether the session has ever been Up: one that has is a neighbour, not a claim. */
	wasUp: boolean;
}

export class BfdAgent {
	readonly config: BfdConfig;
	readonly drops: Record<BfdDropReason, number>;
	/** Every drop, whatever its reason: one number that a caller can compare before and after a receive. */
	dropped = 0;
	/** State transitions, all sessions. */
	stateChanges = 0;
	/** Transitions from Up to Down: the neighbour declared dead (by its timer or its word). */
	downs = 0;
	/** New peers turned away because their link held maxSessionsPerLink sessions that had all been Up. */
	refused = 0;
	/** Sessions that never came Up, removed to make room for a new peer on their link. */
	evicted = 0;
	private readonly clock: Clock;
	private readonly send: SendFn;
	private readonly random: () => number;
	private readonly onStateChange: (ev: BfdEvent) => void;
	private readonly beforeDetect: (link: LinkId) => void;
	private readonly byKey = new Map<string, Session>();
	private readonly byDisc = new Map<number, Session>();
	private nextPort = BFD_SRC_PORT_MIN;
	private readonly rx = emptyBfdControl();
	private readonly tx = emptyBfdControl();
	private stopped = false;

	constructor(opts: {
		clock: Clock;
		send: SendFn;
		config?: Partial<BfdConfig>;
		random?: () => number;
		onStateChange?: (ev: BfdEvent) => void;
		/**
		 * Called when a detection timer expires, before the session is declared
		 * down: reads what waits unread on the link (the process may have been
		 * too busy to poll), so that a late timer never outruns a packet already
		 * there. A packet read re-arms the timer, and the session lives on.
		 */
		beforeDetect?: (link: LinkId) => void;
	}) {
		this.clock = opts.clock;
		this.beforeDetect = opts.beforeDetect ?? (() => {});
		this.send = opts.send;
		this.random = opts.random ?? Math.random;
		this.onStateChange = opts.onStateChange ?? (() => {});
		this.config = {...DEFAULT_BFD, ...opts.config};
		const c = this.config;
		for (const k of ['desiredMinTxMs', 'requiredMinRxMs', 'slowTxMs'] as const) {
			if (!(c[k] > 0 && c[k] * 1000 <= 0xffffffff)) throw new BfdError('bad-config', `${k} must be > 0 and fit 32 bits of µs, got ${c[k]}`);
		}
		if (!Number.isInteger(c.detectMult) || c.detectMult < 1 || c.detectMult > 255) throw new BfdError('bad-config', `detectMult must be 1..255, got ${c.detectMult}`);
		if (!Number.isInteger(c.maxSessionsPerLink) || c.maxSessionsPerLink < 1) throw new BfdError('bad-config', `maxSessionsPerLink must be a whole number ≥ 1, got ${c.maxSessionsPerLink}`);
		this.drops = Object.fromEntries(BFD_DROP_REASONS.map((r) => [r, 0])) as Record<BfdDropReason, number>;
	}

	/**
	 * Starts a session to `peer` on `link` (idempotent). The session begins
	 * Down and comes Up by the three-way handshake. A link holds at most
	 * maxSessionsPerLink: a new peer replaces the link's oldest session that
	 * has never been Up, and is refused (counted) when every one has been.
	 * Returns whether the session exists.
	 */
	addSession(link: LinkId, peer: Addr): boolean {
		if (this.stopped) return false;
		const key = sessionKey(link, peer);
		if (this.byKey.has(key)) return true;
		let onLink = 0;
		let claim: Session | undefined;
		for (const s of this.byKey.values()) {
			if (s.link !== link) continue;
			onLink++;
			claim ??= s.wasUp ? undefined : s; // Map order: the oldest first
		}
		if (onLink >= this.config.maxSessionsPerLink) {
			if (!claim) {
				this.refused++;
				return false;
			}
			this.evicted++;
			this.removeSession(claim.link, claim.peer);
		}
		let disc = 0;
		while (disc === 0 || this.byDisc.has(disc)) disc = Math.floor(this.random() * 0xffffffff) >>> 0;
		const s: Session = {
			link, peer: Uint8Array.from(peer), key, srcPort: this.nextPort,
			state: BfdStateCode.Down, remoteState: BfdStateCode.Down, localDisc: disc, remoteDisc: 0, diag: BfdDiag.None,
			desiredMinTxUs: this.slowTxUs(), remoteMinRxUs: 1, remoteDesiredMinTxUs: 0, remoteDetectMult: 0,
			pollActive: false, txTimer: undefined, txDue: 0, detectTimer: undefined, wasUp: false,
		};
		this.nextPort = this.nextPort === 65535 ? BFD_SRC_PORT_MIN : this.nextPort + 1;
		this.byKey.set(key, s);
		this.byDisc.set(disc, s);
		this.transmit(s); // no earlier packet, so no interval to respect yet
		return true;
	}

	removeSession(link: LinkId, peer: Addr): void {
		const s = this.byKey.get(sessionKey(link, peer));
		if (s === undefined) return;
		this.clock.clear(s.txTimer);
		this.clock.clear(s.detectTimer);
		this.byKey.delete(s.key);
		this.byDisc.delete(s.localDisc);
	}

	/** Removes every session on a link (the link went away). */
	removeLink(link: LinkId): void {
		for (const s of [...this.byKey.values()]) if (s.link === link) this.removeSession(s.link, s.peer);
	}

	hasSession(link: LinkId, peer: Addr): boolean {
		return this.byKey.has(sessionKey(link, peer));
	}

	state(link: LinkId, peer: Addr): BfdStateName | undefined {
		const s = this.byKey.get(sessionKey(link, peer));
		return s === undefined ? undefined : BFD_STATE_NAMES[s.state];
	}

	sessions(): BfdSessionView[] {
		return [...this.byKey.values()].map((s) => ({
			link: s.link, peer: s.peer, state: BFD_STATE_NAMES[s.state]!, remoteState: BFD_STATE_NAMES[s.remoteState]!,
			localDisc: s.localDisc, remoteDisc: s.remoteDisc, txIntervalMs: this.txIntervalUs(s) / 1000, detectTimeMs: this.detectTimeUs(s) / 1000,
		}));
	}

	/** After stop(): sessions may be added again (a restarted process starts with none). */
	resume(): void {
		this.stopped = false;
	}

	/** Stops all timers and forgets every session; the agent sends nothing more until resume(). */
	stop(): void {
		this.stopped = true;
		for (const s of this.byKey.values()) {
			this.clock.clear(s.txTimer);
			this.clock.clear(s.detectTimer);
		}
		this.byKey.clear();
		this.byDisc.clear();
	}

	/** A control packet received on UDP 3784 (RFC 5881 §4). */
	receive(link: LinkId, buf: Uint8Array, meta: RxMeta, off = 0, len = buf.length - off): void {
		if (this.stopped) return;
		// RFC 5881 §5: without authentication, only packets with TTL/hop limit 255 can be from a neighbour.
		if (meta.hopLimit !== 255) return this.drop('bad-hop-limit');
		const p = this.rx;
		try {
			decodeBfd(buf, off, len, p);
		} catch (error) {
			if (error instanceof BfdWireError) return this.drop(error.code);
			throw error;
		}
		let s: Session | undefined;
		if (p.yourDisc !== 0) {
			s = this.byDisc.get(p.yourDisc);
			if (s === undefined) return this.drop('unknown-your-discriminator');
			if (s.link !== link || sessionKey(link, meta.src) !== s.key) return this.drop('session-mismatch');
		} else {
			if (p.state !== BfdStateCode.Down && p.state !== BfdStateCode.AdminDown) return this.drop('zero-your-discriminator-not-down');
			s = this.byKey.get(sessionKey(link, meta.src));
			if (s === undefined) return this.drop('no-session');
		}
		// RFC 5880 §6.8.6, in order.
		s.remoteDisc = p.myDisc;
		s.remoteState = p.state;
		const oldTx = this.txIntervalUs(s);
		s.remoteMinRxUs = p.requiredMinRx;
		s.remoteDesiredMinTxUs = p.desiredMinTx;
		s.remoteDetectMult = p.detectMult;
		if (p.final && s.pollActive) s.pollActive = false;
		if (s.state === BfdStateCode.AdminDown) return this.drop('admin-down');
		if (p.state === BfdStateCode.AdminDown) {
			if (s.state !== BfdStateCode.Down) this.setState(s, BfdStateCode.Down, BfdDiag.NeighborSignaledDown);
		} else if (s.state === BfdStateCode.Down) {
			if (p.state === BfdStateCode.Down) this.setState(s, BfdStateCode.Init, BfdDiag.None);
			else if (p.state === BfdStateCode.Init) this.setState(s, BfdStateCode.Up, BfdDiag.None);
		} else if (s.state === BfdStateCode.Init) {
			if (p.state === BfdStateCode.Init || p.state === BfdStateCode.Up) this.setState(s, BfdStateCode.Up, BfdDiag.None);
		} else if (s.state === BfdStateCode.Up && p.state === BfdStateCode.Down) {
			this.setState(s, BfdStateCode.Down, BfdDiag.NeighborSignaledDown);
		}
		if (!this.byKey.has(s.key)) return; // removed by a state-change listener
		this.armDetect(s);
		if (p.poll) {
			// §6.8.7: answer a Poll with a Final at once, regardless of the transmit timer.
			this.transmit(s, true);
		} else if (this.txIntervalUs(s) < oldTx && s.txTimer !== undefined) {
			this.reschedule(s);
		}
	}

	private drop(reason: BfdDropReason): void {
		this.drops[reason]++;
		this.dropped++;
	}

	private slowTxUs(): number {
		return Math.max(this.config.slowTxMs, this.config.desiredMinTxMs) * 1000;
	}

	private txIntervalUs(s: Session): number {
		if (s.remoteMinRxUs === 0) return 0; // §6.8.7: the peer asked for no packets
		return Math.max(s.desiredMinTxUs, s.remoteMinRxUs);
	}

	private detectTimeUs(s: Session): number {
		// §6.8.4, asynchronous mode: the remote multiplier times the agreed remote transmit interval.
		return s.remoteDetectMult * Math.max(this.config.requiredMinRxMs * 1000, s.remoteDesiredMinTxUs);
	}

	private setState(s: Session, next: BfdStateCode, diag: number): void {
		if (s.state === next) return;
		const prev = s.state;
		s.state = next;
		s.diag = diag;
		this.stateChanges++;
		if (prev === BfdStateCode.Up && next === BfdStateCode.Down) this.downs++;
		const oldTx = this.txIntervalUs(s);
		if (next === BfdStateCode.Up) {
			s.wasUp = true;
			// §6.8.3: the fast rate is allowed only once Up. A change of DesiredMinTx while
			// Up starts a Poll Sequence; a decrease may take effect at once.
			s.desiredMinTxUs = this.config.desiredMinTxMs * 1000;
			s.pollActive = true;
		} else {
			s.desiredMinTxUs = this.slowTxUs();
			s.pollActive = false;
		}
		if (next === BfdStateCode.Down) {
			s.remoteDisc = 0; // §6.8.1
			this.clock.clear(s.detectTimer);
			s.detectTimer = undefined;
		}
		if (this.txIntervalUs(s) < oldTx) this.reschedule(s);
		this.onStateChange({link: s.link, peer: s.peer, state: BFD_STATE_NAMES[next]!, previous: BFD_STATE_NAMES[prev]!, diag});
	}

	private armDetect(s: Session): void {
		this.clock.clear(s.detectTimer);
		s.detectTimer = undefined;
		if (s.state !== BfdStateCode.Init && s.state !== BfdStateCode.Up) return;
		const ms = this.detectTimeUs(s) / 1000;
		s.detectTimer = this.clock.setTimeout(() => {
			s.detectTimer = undefined;
			this.beforeDetect(s.link);
			if (s.detectTimer !== undefined || !this.byKey.has(s.key)) return; // a packet was waiting: re-armed
			if (s.state === BfdStateCode.Init || s.state === BfdStateCode.Up) this.setState(s, BfdStateCode.Down, BfdDiag.DetectionTimeExpired);
		}, ms);
	}

	/** Next periodic transmission, with the jitter of §6.8.7. */
	private schedule(s: Session): void {
		this.clock.clear(s.txTimer);
		s.txTimer = undefined;
		const interval = this.txIntervalUs(s) / 1000;
		if (interval === 0) return;
		const r = this.random();
		// Reduce by 0..25%; with DetectMult 1, stay within 75..90% of the interval.
		const factor = this.config.detectMult === 1 ? 0.75 + 0.15 * r : 1 - 0.25 * r;
		const delay = interval * factor;
		s.txDue = this.clock.now() + delay;
		s.txTimer = this.clock.setTimeout(() => {
			s.txTimer = undefined;
			this.transmit(s);
		}, delay);
	}

	/** The interval got shorter: bring the next packet forward if it is due later than the new interval allows. */
	private reschedule(s: Session): void {
		const interval = this.txIntervalUs(s) / 1000;
		if (interval > 0 && s.txDue - this.clock.now() > interval) this.schedule(s);
	}

	private transmit(s: Session, final = false): void {
		const p = this.tx;
		p.diag = s.diag;
		p.state = s.state;
		p.poll = s.pollActive && !final; // §6.8.7: never P and F together
		p.final = final;
		p.cpi = false;
		p.auth = false;
		p.demand = false;
		p.multipoint = false;
		p.detectMult = this.config.detectMult;
		p.myDisc = s.localDisc;
		p.yourDisc = s.remoteDisc;
		p.desiredMinTx = s.desiredMinTxUs;
		p.requiredMinRx = this.config.requiredMinRxMs * 1000;
		p.requiredMinEchoRx = 0;
		const out = new Uint8Array(BFD_LEN);
		encodeBfd(p, out, 0);
		this.send(s.link, out, s.peer, BFD_PORT, s.srcPort);
		if (!final || s.txTimer === undefined) this.schedule(s);
	}
}

function sessionKey(link: LinkId, peer: Addr): string {
	return `${link}|${prefixKey(peer, 128)}`;
}
