// Rewriting an address in place with the upper-layer checksum updated
// incrementally (RFC 1624), so the payload is never summed again. The anycast
// server moves a response's source from S to its unicast address; the client
// moves it back.
import {u16, setU16} from './bytes.js';
import {updateChecksum} from './checksum.js';
import {IPV6, Proto} from './ipv6.js';
import {finalDestinationOffset} from './packet.js';
import type {PacketInfo} from './packet.js';

/** Offset of the upper-layer checksum field, relative to the upper-layer header, for protocols whose checksum covers the pseudo-header. */
function checksumField(proto: number): number {
	switch (proto) {
		case Proto.Udp:
			return 6;
		case Proto.Tcp:
			return 16;
		case Proto.Icmpv6:
			return 2;
		default:
			return -1;
	}
}

/**
 * Replaces the source address with `addr` (16 bytes at `addrOff`) and fixes the
 * upper-layer checksum. A non-first fragment carries no upper-layer header, so
 * only its address changes; a first fragment's checksum covers the whole
 * datagram, and the incremental update is still exact for it.
 */
export function rewriteSource(info: PacketInfo, addr: Uint8Array, addrOff = 0): void {
	rewrite(info, info.off + IPV6.src, addr, addrOff);
}

/**
 * Replaces the Destination Address. When a Routing header still has segments
 * left, the pseudo-header uses the final destination instead, so the
 * checksum does not change.
 */
export function rewriteDestination(info: PacketInfo, addr: Uint8Array, addrOff = 0): void {
	rewrite(info, info.off + IPV6.dst, addr, addrOff, finalDestinationOffset(info) !== info.off + IPV6.dst);
}

function rewrite(info: PacketInfo, at: number, addr: Uint8Array, addrOff: number, outsidePseudoHeader = false): void {
	const buf = info.buf;
	const field = checksumField(info.upperProto);
	const carriesHeader = !info.isFragment || info.fragmentOffset === 0;
	if (!outsidePseudoHeader && field >= 0 && carriesHeader && info.upperOff + field + 2 <= info.end) {
		const pos = info.upperOff + field;
		const old = u16(buf, pos);
		// RFC 8200 §8.1: a zero UDP checksum is invalid; leave it for the receiver to drop rather than make it look valid.
		if (!(info.upperProto === Proto.Udp && old === 0)) {
			let next = updateChecksum(old, buf, at, addr, addrOff, 16);
			if (info.upperProto === Proto.Udp && next === 0) next = 0xffff;
			setU16(buf, pos, next);
		}
	}
	buf.set(addr.subarray(addrOff, addrOff + 16), at);
}
