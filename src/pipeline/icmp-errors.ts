// ICMPv6 errors the node sends about a packet (RFC 4443): never where
// §2.4(e) forbids one, within the per-/64 share and the node-wide §2.4(f)
// token bucket, quoting as much of the packet as fits in 1280 bytes (§2.4(c)).
import {isLinkLocal, isMulticast, isUnspecified} from '../util/addr.js';
import {Icmp6, ParamProblemCode, isIcmpv6Error, quoteInvoking} from '../wire/icmpv6.js';
import {IPV6, Proto} from '../wire/ipv6.js';
import {buildPacket} from '../wire/repr.js';
import {originate} from './egress.js';
import type {PipelineState} from './state.js';
import type {Packet} from './types.js';

const HOP_LIMIT = 64;

/**
 * Sends an ICMPv6 error about `pkt` to its source, unless RFC 4443 §2.4(e)
 * forbids it or the §2.4(f) rate limit is spent.
 */
export function sendError(s: PipelineState, pkt: Packet, type: number, code: number, param: number): void {
	const info = pkt.info;
	const buf = info.buf;
	const o = info.off;
	const c = s.counters;
	// §2.4(e.1, e.2): never about an ICMPv6 error (or a redirect).
	if (info.upperProto === Proto.Icmpv6 && info.fragmentOffset === 0 && info.upperLen > 0) {
		const t = buf[info.upperOff]!;
		if (isIcmpv6Error(t) || t === Icmp6.Redirect) return void c.icmpSuppressed++;
	}
	// §2.4(e.3): not to a multicast destination, except Packet Too Big and Parameter Problem code 2.
	if (isMulticast(buf, o + IPV6.dst) && !(type === Icmp6.PacketTooBig || (type === Icmp6.ParamProblem && code === ParamProblemCode.Option)))
		return void c.icmpSuppressed++;
	// §2.4(e.6): not when the source does not name a single node.
	if (isUnspecified(buf, o + IPV6.src) || isMulticast(buf, o + IPV6.src) || s.isAnycast(buf, o + IPV6.src)) return void c.icmpSuppressed++;
	// Per asking prefix first, so that one prefix's flood cannot spend the node-wide §2.4(f) budget.
	if (!s.replies.take(buf, o + IPV6.src, s.now())) return void c.icmpPrefixLimited++;
	if (!s.errorBucket.take(s.now())) return void c.icmpRateLimited++;
	const linkLocal = isLinkLocal(buf, o + IPV6.src);
	const src = linkLocal ? pkt.inPort?.linkLocal : (s.config.addresses[0] ?? s.config.errorSource);
	if (!src) return void c.icmpSuppressed++;
	const bytes = buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: HOP_LIMIT, src, dst: buf.slice(o + IPV6.src, o + IPV6.src + 16)},
		ext: [],
		upper: {proto: Proto.Icmpv6, icmp: {kind: 'error', type: type as 1 | 2 | 3 | 4, code, param, invoking: quoteInvoking(buf.subarray(o, info.end))}},
	});
	c.icmpErrorsSent++;
	originate(s, bytes, linkLocal || pkt.inPort?.kind === 'host' ? pkt.inPort : null);
}
