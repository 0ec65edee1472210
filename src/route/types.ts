// Types shared by the routing modules and the pipeline that wires them to links.
import type {Addr} from '../util/addr.js';

/** Name of a link (an interface) on one node. */
export type LinkId = string;

/** Where a route came from. Connected beats static beats learned (like an administrative distance). */
export type Origin = 'connected' | 'static' | 'learned';

/**
 * local: the destination is this node (an interface address or an anycast service it fronts).
 * direct: the destination is on the link itself (neighbour discovery resolves it).
 * via: forward to a neighbour's link-local address on the link.
 */
export type NextHopKind = 'local' | 'direct' | 'via';

export type NextHopSpec =
	| {kind: 'local'}
	| {kind: 'direct'; link: LinkId}
	| {kind: 'via'; link: LinkId; via: Addr};

export interface NextHop {
	/** Stable for the life of the table; what lookup() returns. */
	readonly index: number;
	readonly kind: NextHopKind;
	readonly link: LinkId | null;
	readonly via: Addr | null;
}

/** RIPng metric meaning unreachable (RFC 2080 §2.1). */
export const INFINITY = 16;

/** Received-datagram metadata that a speaker needs from the IPv6/UDP layer. */
export interface RxMeta {
	/** IPv6 source address. */
	src: Addr;
	srcPort: number;
	/** IPv6 hop limit as received. */
	hopLimit: number;
	/** IPv6 destination (multicast group or unicast); optional. */
	dst?: Addr;
}

/**
 * Sends one UDP payload on a link. The wrapper puts it in IPv6/UDP with the
 * link's link-local address as source and hop limit 255 (RFC 2080 §2.4.2 and
 * RFC 5881 §5 both require 255 so receivers can reject off-link senders).
 */
export type SendFn = (link: LinkId, payload: Uint8Array, dst: Addr, dstPort: number, srcPort: number) => void;
