// Egress: what leaves a port. Packets the node makes itself (echo replies,
// ICMPv6 errors, route exchange, a server's stamped answers in fragments)
// are sent within the path MTU, in fragments when they must be (RFC 8201,
// RFC 8200 §4.5); every packet out is counted, and a refusal is `tx-failed`.
import type {Addr} from '../util/addr.js';
import {WireError} from '../wire/error.js';
import {fragmentPacket} from '../wire/fragment.js';
import {IPV6, IPV6_MIN_MTU, Proto} from '../wire/ipv6.js';
import {parsePacket} from '../wire/packet.js';
import {buildPacket} from '../wire/repr.js';
import {malformed} from './drops.js';
import {nextHopOf, portOf} from './forward.js';
import type {PipelineState} from './state.js';
import type {AttachedPort} from './types.js';

/**
 * Sends a packet this node made: out of `port` when given (link-local
 * traffic), else by the route table. No hooks run on it.
 */
export function originate(s: PipelineState, bytes: Uint8Array, port: AttachedPort | null = null): boolean {
	let out = port;
	if (!out) {
		const nh = nextHopOf(s, bytes, 0);
		out = nh ? portOf(s, nh) : null;
		if (!out) {
			s.counters.drops['no-route']++;
			return false;
		}
	}
	// RFC 8201: the source fits its packets to the path MTU, fragmenting when it must (RFC 8200 §4.5).
	// A packet of 1280 bytes or less fits every path (RFC 8200 §5).
	if (out.kind === 'link' && bytes.length > IPV6_MIN_MTU) {
		const mtu = s.pmtu.get(bytes, IPV6.dst, out.mtu, s.now());
		if (bytes.length > mtu) return sendFragments(s, out, bytes, mtu);
	}
	return transmit(s, out, bytes, 0, bytes.length);
}

function sendFragments(s: PipelineState, out: AttachedPort, bytes: Uint8Array, mtu: number): boolean {
	let info;
	try {
		info = parsePacket(bytes, s.scratch);
	} catch (error) {
		if (!(error instanceof WireError)) throw error;
		s.counters.drops[malformed(error.code)]++; // the node made bytes its own codec refuses
		return false;
	}
	if (info.isFragment) {
		s.counters.drops['too-big']++; // a fragment is not fragmented again
		return false;
	}
	s.fragId = (s.fragId + 1) >>> 0;
	s.counters.fragmented++;
	let ok = true;
	for (const f of fragmentPacket(info, mtu, s.fragId)) ok = transmit(s, out, f, 0, f.length) && ok;
	return ok;
}

/**
 * Sends a UDP datagram on a link from this node's link-local address there,
 * hop limit 255 (RFC 2080 §2.4.2, RFC 5881 §5), traffic class CS6 (network
 * control, RFC 4594 §3.1), on the link's control channel when it has one.
 */
export function sendUdp(s: PipelineState, link: string, payload: Uint8Array, dst: Addr, dstPort: number, srcPort: number): boolean {
	const port = s.ports.get(link);
	if (!port?.linkLocal) return false;
	const bytes = buildPacket({
		ip: {trafficClass: 0xc0, flowLabel: 0, hopLimit: 255, src: port.linkLocal, dst},
		ext: [],
		upper: {proto: Proto.Udp, udp: {srcPort, dstPort, payload}},
	});
	const device = port.device;
	if (!device.transmitControl) return transmit(s, port, bytes, 0, bytes.length);
	if (!device.transmitControl(bytes, 0, bytes.length)) {
		port.counters.txFailed++;
		s.counters.drops['tx-failed']++;
		return false;
	}
	port.counters.txControl++;
	s.counters.txPackets++;
	s.counters.txBytes += bytes.length;
	return true;
}

/** Sends [off, off+len) of `buf` out of `port`, counted. */
export function transmit(s: PipelineState, port: AttachedPort, buf: Uint8Array, off: number, len: number): boolean {
	if (!port.device.transmit(buf, off, len)) {
		port.counters.txFailed++;
		s.counters.drops['tx-failed']++;
		return false;
	}
	port.counters.txPackets++;
	port.counters.txBytes += len;
	s.counters.txPackets++;
	s.counters.txBytes += len;
	return true;
}
