// Options of the Hop-by-Hop header (every node) and the Destination Options
// header (the destination): RFC 8200 §4.2 action bits.
import {isMulticast} from '../util/addr.js';
import {Icmp6, ParamProblemCode} from '../wire/icmpv6.js';
import {IPV6} from '../wire/ipv6.js';
import {OptAction, nextOption, optionAction} from '../wire/options.js';
import {sendError} from './icmp-errors.js';
import {drop} from './state.js';
import type {PipelineState} from './state.js';
import type {Packet} from './types.js';

/**
 * Acts on the options of extension header `i`. An option whose action bits
 * are 00 is skipped, known or not; this stack implements no option with
 * other action bits (not the Jumbo Payload, RFC 2675, nor the Home Address,
 * RFC 6275), so those are unknown and their bits decide. Returns false when
 * the packet was dropped.
 */
export function actOnOptions(s: PipelineState, pkt: Packet, i: number): boolean {
	const info = pkt.info;
	const buf = info.buf;
	const start = info.extOff[i]! + 2;
	const end = info.extOff[i]! + info.extLen[i]!;
	for (let pos = start; pos < end; pos = nextOption(buf, pos)) {
		const action = optionAction(buf[pos]!); // Pad1 and PadN are 00 too
		if (action === OptAction.Skip) continue;
		// 10: Parameter Problem code 2 at the option's type byte, even to a multicast destination; 11: not to one.
		if (action === OptAction.DiscardIcmp || (action === OptAction.DiscardIcmpUnlessMulticast && !isMulticast(buf, info.off + IPV6.dst)))
			sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.Option, pos - info.off);
		drop(s, 'option-unknown', pkt);
		return false;
	}
	return true;
}
