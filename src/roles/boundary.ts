// The boundary router (patent Fig. 4, S201–S208) between the server network
// ("inside" ports) and the outside. Outbound: a response that carries an
// identifier is verified against the provisioned servers of its S and its
// authenticator before it may leave (S204–S208). Packets from inside with S
// as their source are dropped. Inbound: ingress filtering (BCP 38, RFC 2827;
// BCP 84, RFC 3704) drops packets from outside that claim an inside source.
import {locateIdentifier, verify} from '../anycast/identifier.js';
import type {VerifyPolicy} from '../anycast/identifier.js';
import {Groups} from '../anycast/group.js';
import type {Group} from '../anycast/group.js';
import type {Addr} from '../util/addr.js';
import {prefixContains} from '../route/prefix.js';
import {IPV6} from '../wire/ipv6.js';
import type {Pipeline} from '../pipeline/pipeline.js';
import type {Packet, Verdict} from '../pipeline/types.js';
import type {AnycastCounters} from './anycast.js';

export interface BoundaryOptions {
	groups: Group[];
	/** The server network's prefixes (the patent's first network 7). */
	inside: Array<{prefix: Addr; len: number}>;
	windowMs: number;
	wallNow: () => number;
	/** The anycast application's counters on this node (roles/anycast.ts). */
	counters: AnycastCounters;
}

export function boundaryRole(node: Pipeline, options: BoundaryOptions): void {
	const groups = new Groups(options.groups);
	const policy: VerifyPolicy = {groups, provisioned: true, windowMs: options.windowMs};
	const insideSource = (buf: Uint8Array, off: number) => options.inside.some((p) => prefixContains(p.prefix, p.len, buf, off));
	// A response leaving the server network is verified whole: its fragments are held until the datagram
	// is complete, checked as one, then forwarded as they came (docs/pipeline.md, Fragments).
	node.reassembleAt('forward', (pkt) => pkt.inPort!.zone === 'inside' && pkt.outPort!.zone === 'outside', 'fragments');
	node.addHook('forward', (pkt: Packet): Verdict => {
		const info = pkt.info;
		const buf = info.buf;
		const src = info.off + IPV6.src;
		const from = pkt.inPort!.zone;
		if (from === 'outside') return insideSource(buf, src) ? 'ingress-spoofed' : null; // S201 reception, filtered
		if (from !== 'inside' || pkt.outPort!.zone !== 'outside') return null; // inside to inside: not our business
		if (groups.find(buf, src)) return 'src-is-anycast';
		const at = locateIdentifier(info); // S204 detection
		if (at === 'absent') return null; // not an anycast response
		if (typeof at !== 'number') return at;
		const fault = verify(info, at, policy, options.wallNow()); // S205 verification
		if (fault) return fault; // S207 transfer control: S411 discard
		options.counters.verified++;
		pkt.event = 'verified';
		return null; // S208 second transfer
	});
}
