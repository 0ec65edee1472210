// Counters for a pipeline and each of its ports. Plain numbers on plain
// objects: incrementing one costs nothing on the hot path. A role's counters
// are its own (ExtensionSpec); only the drop counters of the reasons it
// registers live here, beside the pipeline's.
import {DROP_REASONS} from './drops.js';
import type {DropReason} from './drops.js';

export interface PortCounters {
	rxPackets: number;
	rxBytes: number;
	txPackets: number;
	txBytes: number;
	txFailed: number;
	/** Route exchange and BFD received and sent on the link's control channel (also in rxPackets of the node). */
	rxControl: number;
	txControl: number;
	/** Data packets over the link's ingress policing rate, dropped (`policed`). */
	policed: number;
}

export function portCounters(): PortCounters {
	return {rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txFailed: 0, rxControl: 0, txControl: 0, policed: 0};
}

export interface PipelineCounters {
	rxPackets: number;
	rxBytes: number;
	txPackets: number;
	txBytes: number;
	/** Routed from one port to another (host ↔ link or link ↔ link). */
	forwarded: number;
	forwardedBytes: number;
	/** Delivered to this node's own stack (control plane, echo). */
	local: number;
	icmpErrorsSent: number;
	/** ICMPv6 errors not sent because of the RFC 4443 §2.4(f) rate limit. */
	icmpRateLimited: number;
	/** ICMPv6 errors not sent because their destination's prefix used up its share (control-plane policing). */
	icmpPrefixLimited: number;
	/** Packets received on links' control channels. */
	controlRx: number;
	/** ICMPv6 errors not sent because RFC 4443 §2.4(e) forbids them. */
	icmpSuppressed: number;
	/** Datagrams reassembled from fragments (RFC 8200 §4.5). */
	reassembled: number;
	/** Fragments held back at the boundary while their datagram was verified, then forwarded as they came. */
	fragmentsForwarded: number;
	/** Packets this node originated in fragments because they exceeded the path MTU (RFC 8200 §4.5, RFC 8201). */
	fragmented: number;
	/** Path MTU estimates lowered by a Packet Too Big (RFC 8201 §4). */
	pmtuUpdates: number;
	/** By reason: the pipeline's own (DROP_REASONS) and those its extensions registered. */
	drops: Record<DropReason, number>;
}

export function pipelineCounters(): PipelineCounters {
	const drops = {} as Record<DropReason, number>;
	for (const reason of DROP_REASONS) drops[reason] = 0;
	return {
		rxPackets: 0,
		rxBytes: 0,
		txPackets: 0,
		txBytes: 0,
		forwarded: 0,
		forwardedBytes: 0,
		local: 0,
		icmpErrorsSent: 0,
		icmpRateLimited: 0,
		icmpPrefixLimited: 0,
		controlRx: 0,
		icmpSuppressed: 0,
		reassembled: 0,
		fragmentsForwarded: 0,
		fragmented: 0,
		pmtuUpdates: 0,
		drops,
	};
}
