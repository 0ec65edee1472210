// The closed set of reasons a node drops a packet. Every reason has a counter
// (NodeCounters.drops) and a line in docs/protocol.md or docs/pipeline.md.
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
	// fragments (RFC 8200 §4.5; src/node/reassembly.ts)
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
	// patent units (docs/protocol.md)
	'id-missing', // S104: a response from another address carries no identifier
	'id-malformed', // identifier option of the wrong length or with reserved bits set
	'id-unknown-alg',
	'id-duplicate', // more than one identifier option
	'id-misplaced', // identifier outside the Destination Options header before the upper layer
	'id-unknown-group', // names an anycast address this node holds no keys for
	'id-wrong-group', // valid for another anycast address than the one the flow went to
	'id-not-provisioned', // S205: (S, source) is not in the provisioned server list
	'id-bad-key', // algorithm or key id is not the group's
	'id-stale', // timestamp outside the replay window
	'id-replayed', // this stamp was already accepted
	'id-bad-tag', // authenticator does not verify
	'id-no-flow', // a stamped response, or an error quoting a packet to S, matching no open flow
	'id-unsolicited', // a response or error for a request the host did not send, or that was answered already (reflection)
	'icmp-implausible', // an unstamped Packet Too Big or Time Exceeded about an anycast flow that its flow makes impossible
	'src-is-anycast', // S as a source: only the server role may hold it, and it rewrites it
	'ingress-spoofed', // from outside with a source inside the server network (BCP 38)
	'stamp-too-big', // S302: no room for the identifier (the stamped datagram would pass 65535 bytes)
	'stamp-failed', // S302: no key to sign with
	'control-invalid', // route-exchange or BFD packet failed validation (details in their counters)
	// control-plane policing (docs/pipeline.md, "The control plane under load")
	'control-policed', // route exchange or BFD from a link beyond the link's control rate
	'control-misuse', // a packet on a link's control channel that is not route exchange or BFD for this node
	'local-policed', // a packet for the node's own stack beyond the node's local rate
	'echo-rate-limited', // an echo request from a prefix that used up its share of replies
	'policed', // over the link's ingress policing rate (a provisioned access rate, links[].police)
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export function malformed(code: WireErrorCode): DropReason {
	return `malformed-${code}`;
}

export function isDropReason(value: string): value is DropReason {
	return (DROP_REASONS as readonly string[]).includes(value);
}
