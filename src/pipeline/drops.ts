// The reasons the pipeline itself drops a packet. Every reason has a counter
// (PipelineCounters.drops) and a line in docs/pipeline.md. A role adds the
// reasons its hooks return with Pipeline.extend (src/roles/anycast.ts holds
// the anycast application's: the id-* reasons and the rest of docs/protocol.md §10).
import {WIRE_ERROR_CODES} from '../wire/error.js';
import type {WireErrorCode} from '../wire/error.js';

export const DROP_REASONS = [
	// validate: the codec refused the bytes (one reason per WireError code)
	...WIRE_ERROR_CODES.map((code) => `malformed-${code}` as const),
	'bad-source', // multicast or unspecified source where it cannot be (RFC 4291 §2.5.2, §2.7)
	'scope', // link-local source or destination would leave its link (RFC 4291 §2.5.6)
	'not-for-us', // multicast group or own-address protocol the node does not serve
	// extension headers (RFC 8200 §4; docs/pipeline.md)
	'option-unknown', // an unknown option whose action bits say discard (01, 10, 11; RFC 8200 §4.2)
	'next-header-unknown', // an unrecognized Next Header at the destination (RFC 8200 §4); Parameter Problem code 1 (Hop-by-Hop not first: malformed-bad-order, also code 1)
	'routing-header', // Routing header of type 0 or a type we do not know, Segments Left > 0 (RFC 8200 §4.4, RFC 5095); Parameter Problem code 0
	// fragments (RFC 8200 §4.5; src/pipeline/reassembly.ts)
	'frag-incomplete-chain', // first fragment without the whole header chain (RFC 7112 §5); Parameter Problem code 3
	'frag-bad-length', // fragment not a multiple of 8 with M set, or ending past 65535 (RFC 8200 §4.5); Parameter Problem code 0
	'frag-overlap', // overlapping fragments: the whole datagram goes, no ICMP (RFC 5722 §4)
	'frag-duplicate', // an exact duplicate of a fragment already held (RFC 8200 §4.5 allows dropping it alone)
	'frag-inconsistent', // a second last fragment, or data past the datagram's end, or too many fragments
	'frag-timeout', // reassembly did not finish in time (RFC 8200 §4.5); Time Exceeded code 1 if the first fragment came
	'frag-evicted', // the reassembly buffer was full: the oldest datagram gave way
	// route / forward
	'no-route',
	'hop-limit', // hop limit ran out (RFC 8200 §3); Time Exceeded sent
	'too-big', // larger than the next link's MTU (RFC 8200 §5); Packet Too Big sent
	'no-host', // a route delivers to the host, but this node has no host device
	'tx-failed', // the device or link refused it (EAGAIN)
	'nesting-too-deep', // packets handed on synchronously more than MAX_DEPTH deep (a hook or link that delivers at once, in a loop)
	'control-invalid', // route-exchange or BFD packet failed validation (details in their counters)
	// control-plane policing (docs/pipeline.md, "The control plane under load")
	'control-policed', // route exchange or BFD from a link beyond the link's control rate
	'control-misuse', // a packet on a link's control channel that is not route exchange or BFD for this node
	'local-policed', // a packet for the node's own stack beyond the node's local rate
	'echo-rate-limited', // an echo request from a prefix that used up its share of replies
	'policed', // over the link's ingress policing rate (a provisioned access rate, links[].police)
] as const;

/** A reason of the pipeline's own. */
export type PipelineDropReason = (typeof DROP_REASONS)[number];

/**
 * The reasons extensions add, by declaration merging, so that a drop reason
 * stays a closed set the compiler checks without this module knowing any
 * role:
 *
 *     declare module '../pipeline/drops.js' {
 *         interface ExtensionDropReasons extends Record<'id-missing' | …, true> {}
 *     }
 *
 * At run time the extension registers the same reasons (Pipeline.extend),
 * which gives each its counter.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface ExtensionDropReasons {}

/** A reason a packet was dropped: the pipeline's own, or one an extension registered. */
export type DropReason = PipelineDropReason | keyof ExtensionDropReasons;

export function malformed(code: WireErrorCode): PipelineDropReason {
	return `malformed-${code}`;
}

/**
 * What a role adds to the pipeline it hooks into: the drop reasons its hooks
 * return, its counters and the decisions it notes for `anyguard trace`.
 * Status and /metrics show them beside the pipeline's own.
 */
export interface ExtensionSpec<C extends string = string> {
	readonly name: string;
	/** Drop reasons its hooks return; each is counted in the node's `drops` like the pipeline's own. */
	readonly drops: readonly DropReason[];
	/** Its counters, each with a line of help (the HELP of its /metrics series); it increments them itself. */
	readonly counters: Readonly<Record<C, string>>;
	/** Drops that are also counted in one of its counters, e.g. every failed identifier check in `rejected`. */
	readonly tally?: Readonly<Partial<Record<C, readonly DropReason[]>>>;
	/** Decisions its hooks note on a packet (Packet.event) for the trace, e.g. 'stamped'. */
	readonly events: readonly string[];
}

/** An extension as a pipeline holds it: the spec and its live counters. */
export interface Extension<C extends string = string> {
	readonly spec: ExtensionSpec<C>;
	readonly counters: Record<C, number>;
}
