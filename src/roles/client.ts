// The communication device (patent Fig. 3, S101–S105). Requests the host sends
// to an anycast address open a flow (S101 transmission unit). A response
// arriving for such a flow (S102 reception) whose source is not the address
// the request went to (S103 first detection) must carry an identifier
// (S104 second detection) that verifies for that S (S105). Accepted responses
// get S back as their source and lose the option (S414), so unmodified
// applications such as ping and dig take them; the rest are discarded (S415).
import {FlowTable} from '../anycast/flows.js';
import {Groups} from '../anycast/group.js';
import type {Group} from '../anycast/group.js';
import {locateIdentifier, verify} from '../anycast/identifier.js';
import type {VerifyPolicy} from '../anycast/identifier.js';
import {ID_OPTION_TYPE} from '../anycast/option.js';
import {ReplayCache} from '../anycast/replay.js';
import {Icmp6, Unreach, isIcmpv6Error} from '../wire/icmpv6.js';
import {IPV6, Proto} from '../wire/ipv6.js';
import {removeDestOption} from '../wire/destopts.js';
import {rewriteSource} from '../wire/rewrite.js';
import type {Node, Packet, Verdict} from '../node/node.js';

export interface ClientOptions {
	/** The anycast groups the client knows, with verification keys (trust anchors). */
	groups: Group[];
	windowMs: number;
	/** Wall-clock ms for stamp ages; monotonic ms for flow idleness. */
	wallNow: () => number;
	now: () => number;
	flowIdleMs?: number;
	flowCapacity?: number;
	replayCapacity?: number;
}

/** Destination Unreachable codes only a router on the path sends; the rest (port unreachable) come from the service itself. */
function routerError(type: number, code: number): boolean {
	if (type === Icmp6.TimeExceeded || type === Icmp6.PacketTooBig) return true;
	return type === Icmp6.DestUnreachable && code !== Unreach.Port;
}

export interface ClientState {
	flows: FlowTable;
	replay: ReplayCache;
}

export function clientRole(node: Node, options: ClientOptions): ClientState {
	const groups = new Groups(options.groups);
	const flows = new FlowTable(options.flowIdleMs, options.flowCapacity);
	const replay = new ReplayCache(options.windowMs, options.replayCapacity);
	const policy: VerifyPolicy = {groups, provisioned: false, windowMs: options.windowMs, replay};
	const out = new Uint8Array(65535 + 40);

	// The client verifies whole datagrams only: fragments for the host are reassembled first, and the
	// host gets the datagram that was verified (docs/pipeline.md, Fragments).
	node.reassembleAt('to-host', () => true, 'whole');

	node.addHook('from-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		if (groups.find(info.buf, info.off + IPV6.dst)) flows.track(info, options.now()); // S101
		return null;
	});

	node.addHook('to-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		const buf = info.buf;
		const now = options.now();
		const at = locateIdentifier(info);
		let flow;
		let mustCarry = true;
		if (info.upperProto === Proto.Icmpv6 && !info.isFragment && info.upperLen >= 8 && isIcmpv6Error(buf[info.upperOff]!)) {
			// RFC 5927 §4 style: an error must quote a packet of an open flow to be believed.
			const quoted = buf.subarray(info.upperOff + 8, info.end);
			flow = flows.matchQuoted(quoted, now);
			if (!flow) return quoted.length >= 40 && groups.find(quoted, IPV6.dst) ? 'id-no-flow' : null;
			// Errors from routers on the path carry no identifier; errors only the service sends must.
			mustCarry = !routerError(buf[info.upperOff]!, buf[info.upperOff + 1]!) || at !== 'absent';
		} else {
			flow = flows.matchResponse(info, now); // S102
			if (!flow) {
				if (at === 'absent') return null; // ordinary traffic, no anycast flow involved
				return typeof at === 'number' ? 'id-no-flow' : at;
			}
			// S103: S is never a source on the wire (the server rewrites it), so a packet from S is forged.
			if (groups.find(buf, info.off + IPV6.src)) return 'src-is-anycast';
		}
		if (!mustCarry) return null;
		if (at === 'absent') return 'id-missing'; // S104
		if (typeof at !== 'number') return at;
		const fault = verify(info, at, policy, options.wallNow(), flow.anycast); // S105
		if (fault) return fault; // S415
		node.counters.verified++;
		flow.responses++;
		// S414: hand the host the response as if S had sent it.
		const stripped = removeDestOption(info, ID_OPTION_TYPE, out);
		if (stripped) pkt.replace(stripped);
		rewriteSource(pkt.info, flow.anycast);
		return null;
	});

	return {flows, replay};
}
