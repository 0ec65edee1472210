// The RIPng speaker's (ripng.ts) configuration, limits, drop reasons and
// counters: what the router configures it with and what status reads of it.
import type {Addr} from '../util/addr.js';
import type {RipngWireCode} from './ripng-wire.js';
import type {LinkId} from './types.js';

export interface RipngTimers {
	/** Periodic update interval (RFC: 30 s). */
	updateMs: number;
	/** Fraction of updateMs by which each interval is randomly shortened or lengthened (RFC: ±50%, 15 of 30 s). */
	updateJitter: number;
	/** A learned route not refreshed for this long is withdrawn (RFC: 180 s). */
	timeoutMs: number;
	/** A withdrawn route is still advertised with metric 16 for this long (RFC: 120 s). */
	gcMs: number;
	/** After a triggered update, the next one waits a random time in [min, max] (RFC: 1–5 s). */
	triggeredMinMs: number;
	triggeredMaxMs: number;
}

/**
 * Lab defaults: about 30× faster than RFC 2080. The timeout tolerates two lost
 * updates at the longest jittered interval (3 × 1.25 s < 4 s); BFD, not this
 * timeout, is what detects failures quickly.
 */
export const DEFAULT_RIPNG_TIMERS: RipngTimers = {updateMs: 1000, updateJitter: 0.25, timeoutMs: 4000, gcMs: 2000, triggeredMinMs: 50, triggeredMaxMs: 200};

export interface RipngLink {
	id: LinkId;
	/** This node's link-local address on the link (the source of what it sends). */
	linkLocal: Addr;
	/** Added to metrics received on this link (1..15). */
	cost?: number;
	/** Link MTU, for how many RTEs fit in one message. */
	mtu?: number;
	/**
	 * The neighbour's link-local address, on a point-to-point link whose other
	 * end is known (the topology says who it is): RIPng from any other source
	 * is `not-neighbour`, and starts no BFD session. Without it, any link-local
	 * speaker on the link is heard (BFD's session bound then holds the table).
	 */
	neighbour?: Addr;
}

export const RIPNG_DROP_REASONS = [
	// whole message
	'truncated', 'bad-length', 'bad-version', 'bad-command',
	'unknown-link', 'link-down', 'bad-source-port', 'not-link-local-source', 'bad-hop-limit', 'own-message', 'neighbour-down',
	'not-neighbour', // from another source than the link's configured neighbour
	// single route table entry
	'rte-bad-metric', 'rte-bad-prefix-len', 'rte-multicast-prefix', 'rte-link-local-prefix', 'rte-host-bits', 'rte-next-hop-not-link-local',
	'rte-limit', // a new route from a neighbour that already gave us MAX_ROUTES_PER_NEIGHBOUR
] as const;

/** Routes learned from one neighbour at most: a neighbour that sends more is growing our table, not routing. */
export const MAX_ROUTES_PER_NEIGHBOUR = 4096;
export type RipngDropReason = (typeof RIPNG_DROP_REASONS)[number];
const _wireCodesAreReasons: readonly RipngDropReason[] = [] as RipngWireCode[];
void _wireCodesAreReasons;

export class RipngError extends Error {
	override readonly name = 'RipngError';
	constructor(readonly code: 'bad-config' | 'unknown-link', message: string) {
		super(message);
	}
}

export interface RipngStats {
	periodicSent: number;
	triggeredSent: number;
	requestsSent: number;
	responsesAccepted: number;
	routesLearned: number;
	routesTimedOut: number;
}
