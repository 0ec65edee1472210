// The communication device (patent Fig. 3, S101–S105). Requests the host sends
// to an anycast address open a flow (S101 transmission unit). A response
// arriving for such a flow (S102 reception) whose source is not the address
// the request went to (S103 first detection) must carry an identifier
// (S104 second detection) that verifies for that S (S105). Accepted responses
// get S back as their source and lose the option (S414), so unmodified
// applications such as ping and dig take them; the rest are discarded (S415).
//
// What reaches the host is judged by what it can do to an application there
// (docs/protocol.md §6): a packet from S could reach a socket talking to S, so
// S is never believed as a source; an ICMPv6 error is matched to sockets by
// the packet it quotes, whatever its source, so every error quoting a packet
// to S is judged by its type and code; and a response must answer a request
// the host sent and has not had answered.
import {FlowTable, flowAnycast} from '../anycast/flows.js';
import type {Match} from '../anycast/flows.js';
import {Groups} from '../anycast/group.js';
import type {Group} from '../anycast/group.js';
import {locateIdentifier, verify} from '../anycast/identifier.js';
import type {VerifyPolicy} from '../anycast/identifier.js';
import {ID, ID_OPTION_TYPE} from '../anycast/option.js';
import {ReplayCache} from '../anycast/replay.js';
import {u32} from '../wire/bytes.js';
import {Icmp6, TimeExceededCode, isIcmpv6Error} from '../wire/icmpv6.js';
import {IPV6, IPV6_HEADER_LEN, IPV6_MAX_PACKET, IPV6_MIN_MTU, Proto} from '../wire/ipv6.js';
import {removeDestOption} from '../wire/destopts.js';
import type {PacketInfo} from '../wire/packet.js';
import {rewriteSource} from '../wire/rewrite.js';
import type {Pipeline} from '../pipeline/pipeline.js';
import type {Packet, Verdict} from '../pipeline/types.js';
import type {AnycastCounters} from './anycast.js';

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
	/** The anycast application's counters on this node (roles/anycast.ts). */
	counters: AnycastCounters;
}

/**
 * Hop limits from here up are what applications send (64 is the recommended
 * default, RFC 1700, and more than any path's length); a request sent with
 * less is a tool tracing the path, which expects Time Exceeded.
 */
export const TRACE_HOP_LIMIT = 64;

/**
 * How an ICMPv6 error about an anycast flow is judged when it carries no
 * identifier (docs/protocol.md §6, one row per type and code): `ptb` and
 * `trace` may pass if plausible, everything else must carry a verified
 * identifier, because it fails the application's socket.
 */
export function errorRule(type: number, code: number): 'ptb' | 'trace' | 'identifier' {
	if (type === Icmp6.PacketTooBig) return 'ptb';
	if (type === Icmp6.TimeExceeded && code === TimeExceededCode.HopLimit) return 'trace';
	return 'identifier';
}

/** RFC 8201 §4 and RFC 8200 §5: a Packet Too Big is possible only about a packet larger than the MTU it reports, which is never below 1280. */
function plausiblePtb(info: PacketInfo, quoted: Uint8Array): boolean {
	const mtu = u32(info.buf, info.upperOff + 4);
	const original = IPV6_HEADER_LEN + ((quoted[4]! << 8) | quoted[5]!);
	return mtu >= IPV6_MIN_MTU && mtu < original;
}

export interface ClientState {
	flows: FlowTable;
	replay: ReplayCache;
}

export function clientRole(node: Pipeline, options: ClientOptions): ClientState {
	const groups = new Groups(options.groups);
	const flows = new FlowTable(options.flowIdleMs, options.flowCapacity);
	const replay = new ReplayCache(options.windowMs, options.replayCapacity);
	const policy: VerifyPolicy = {groups, provisioned: true, windowMs: options.windowMs, replay};
	const out = new Uint8Array(IPV6_MAX_PACKET);

	// The client verifies whole datagrams only: fragments for the host are reassembled first, and the
	// host gets the datagram that was verified (docs/pipeline.md, Fragments).
	node.reassembleAt('to-host', () => true, 'whole');

	node.addHook('from-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		if (groups.find(info.buf, info.off + IPV6.dst)) flows.track(info, options.now()); // S101
		return null;
	});

	/** S104–S105 for a response or error of flow `m`, then S414. */
	const accept = (pkt: Packet, m: Match, at: ReturnType<typeof locateIdentifier>, mustCarry: boolean, now: number): Verdict => {
		const info = pkt.info;
		if (at === 'absent') {
			if (mustCarry) return 'id-missing'; // S104
			// An unstamped error (§6): the S its quoted request went to.
			if (!flows.solicited(m, now, m.anycast!)) return 'id-unsolicited';
			flows.answered(m, now);
			return null;
		}
		if (typeof at !== 'number') return at;
		// S105, and then whether the host asked for this answer: a genuine answer it never asked for
		// (a reflection) is dropped and never enters the replay cache.
		// The S this answer is for: the one its quoted request went to (an error), else the one of the
		// flow's that the stamp names (verify then checks it), else the flow's latest (id-wrong-group).
		const anycast = m.anycast ?? flowAnycast(m.flow, info.buf, at + ID.anycast) ?? m.flow.anycasts.at(-1)!;
		const fault = verify(info, at, policy, options.wallNow(), anycast, () => (flows.solicited(m, now, anycast) ? null : 'id-unsolicited'));
		if (fault) return fault; // S415
		options.counters.verified++;
		pkt.event = 'verified';
		flows.answered(m, now);
		// S414: hand the host the response as if S had sent it.
		const stripped = removeDestOption(info, ID_OPTION_TYPE, out);
		if (stripped) pkt.replace(stripped);
		rewriteSource(pkt.info, anycast);
		return null;
	};

	node.addHook('to-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		const buf = info.buf;
		const now = options.now();
		// S103: S is never a source on the wire (the server rewrites it), flow or no flow: a packet
		// from S could reach a socket talking to S, so it is forged.
		if (node.isAnycast(buf, info.off + IPV6.src)) return 'src-is-anycast';
		const at = locateIdentifier(info);
		if (info.upperProto === Proto.Icmpv6 && info.upperLen >= 8 && isIcmpv6Error(buf[info.upperOff]!)) {
			// The kernel hands an error to the socket the quoted packet came from, whoever sent the error
			// (RFC 5927 §4 asks the same check of us): the quote must be one of the client's open flows.
			const quoted = buf.subarray(info.upperOff + 8, info.end);
			const m = flows.matchQuoted(quoted, now);
			if (!m) return quoted.length >= IPV6_HEADER_LEN && node.isAnycast(quoted, IPV6.dst) ? 'id-no-flow' : null;
			const type = buf[info.upperOff]!;
			const rule = errorRule(type, buf[info.upperOff + 1]!);
			if (at === 'absent' && rule !== 'identifier') {
				// Routers on the path cannot stamp. What they say is believed only where it is possible.
				const plausible = rule === 'ptb' ? plausiblePtb(info, quoted) : m.flow.minHopLimit < TRACE_HOP_LIMIT;
				if (!plausible) return 'icmp-implausible';
			}
			return accept(pkt, m, at, rule === 'identifier', now);
		}
		const m = flows.matchResponse(info, now); // S102
		if (!m) {
			// Not an answer to an anycast flow, and not from S: no socket talking to S can receive it.
			if (at === 'absent') return null;
			return typeof at === 'number' ? 'id-no-flow' : at;
		}
		return accept(pkt, m, at, true, now);
	});

	return {flows, replay};
}
