// What the anycast application adds to every node's pipeline (docs/protocol.md
// §10): the drop reasons of the patent's devices, their counters, and the
// decisions `anyguard trace` shows. The node assembly registers it on every
// node (src/assembly/stack.ts), so every node counts and exports the same
// set, whatever its role; the role hooks increment them.
import type {Located, VerifyFault} from '../anycast/identifier.js';
import type {Extension, ExtensionSpec} from '../pipeline/drops.js';

/** Failed identifier checks (S104/S105, S204/S205, S302): each is also counted in `rejected`. */
export const ID_DROP_REASONS = [
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
] as const satisfies ReadonlyArray<Exclude<Located, number | 'absent'> | VerifyFault | 'id-missing' | 'id-no-flow'>;

export const ANYCAST_DROP_REASONS = [
	...ID_DROP_REASONS,
	'icmp-implausible', // an unstamped Packet Too Big or Time Exceeded about an anycast flow that its flow makes impossible
	'src-is-anycast', // S as a source: only the server role may hold it, and it rewrites it
	'ingress-spoofed', // from outside with a source inside the server network (BCP 38)
	'stamp-too-big', // S302: no room for the identifier (the stamped datagram would pass 65535 bytes)
	'stamp-failed', // S302: no key to sign with
] as const;

export type AnycastDropReason = (typeof ANYCAST_DROP_REASONS)[number];

// The same reasons for the compiler: a hook's verdict is checked against them (src/pipeline/drops.ts).
declare module '../pipeline/drops.js' {
	// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the members are the keys of the Record
	interface ExtensionDropReasons extends Record<AnycastDropReason, true> {}
}

export type AnycastCounter = 'stamped' | 'verified' | 'rejected';
export type AnycastCounters = Record<AnycastCounter, number>;

export const ANYCAST: ExtensionSpec<AnycastCounter> = {
	name: 'anycast',
	drops: ANYCAST_DROP_REASONS,
	counters: {
		stamped: 'Responses stamped with the anycast identifier (S302).',
		verified: 'Identifiers that verified (S205, S105).',
		rejected: 'Identifier checks that failed.',
	},
	tally: {rejected: ID_DROP_REASONS},
	// The server notes `stamped` on the answer it stamped; the boundary and the client `verified`.
	events: ['stamped', 'verified'],
};

export type AnycastExtension = Extension<AnycastCounter>;
