// The anycast server (patent Fig. 5, S301–S303). The host kernel answers
// requests to S from S; on the way out this role moves the source to the
// server's own unicast address (S cannot be a source on the wire), stamps the
// identifier (S302) and checks the size before transmission (S303).
import {locateIdentifier, stamp} from '../anycast/identifier.js';
import type {Group} from '../anycast/group.js';
import {Groups} from '../anycast/group.js';
import type {Addr} from '../util/addr.js';
import {IPV6} from '../wire/ipv6.js';
import {rewriteSource} from '../wire/rewrite.js';
import type {Node, Packet, Verdict} from '../node/node.js';

export interface ServerOptions {
	/** The groups whose S this server holds, with signing keys. */
	groups: Group[];
	/** The server's own unicast address, the source of its stamped responses. */
	unicast: Addr;
	/** Wall-clock milliseconds, for the identifier's timestamp. */
	wallNow: () => number;
}

const MAX_PACKET = 65535 + 40;

export function serverRole(node: Node, options: ServerOptions): void {
	const groups = new Groups(options.groups);
	const out = new Uint8Array(MAX_PACKET);
	node.addHook('from-host', (pkt: Packet): Verdict => {
		const info = pkt.info;
		const group = groups.find(info.buf, info.off + IPV6.src);
		if (!group) return null; // not an answer from S: the server's own traffic
		// The kernel fragments what exceeds the TUN MTU; a fragment cannot be stamped (the identifier covers the
		// whole response), and the server never sends a stamped response in fragments (docs/protocol.md §8).
		if (info.isFragment) return 'stamp-too-big';
		const present = locateIdentifier(info);
		if (present !== 'absent') return typeof present === 'number' ? 'id-duplicate' : present;
		rewriteSource(info, options.unicast); // checksum updated incrementally (RFC 1624)
		const stamped = stamp(info, group, options.wallNow(), out);
		if (!stamped) return 'stamp-failed';
		// S303: the TUN MTU leaves room for the option, so this only trips on a misconfiguration. Never fragment.
		if (stamped.length > pkt.outPort!.mtu) return 'stamp-too-big';
		pkt.replace(stamped);
		node.counters.stamped++;
		return null;
	});
}
