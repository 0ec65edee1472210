// UDP over IPv6 (RFC 768, RFC 8200 §8.1).
import {u16, setU16} from './bytes.js';
import {WireError} from './error.js';
import {finish, pseudoHeaderSum, sum16} from './checksum.js';
import {IPV6} from './ipv6.js';
import {Proto} from './ipv6.js';
import {finalDestinationOffset} from './packet.js';
import type {PacketInfo} from './packet.js';

export const UDP_HEADER_LEN = 8;
export const UDP = {srcPort: 0, dstPort: 2, length: 4, checksum: 6} as const;

export interface UdpRepr {
	srcPort: number;
	dstPort: number;
	payload: Uint8Array;
}

/**
 * Checks the UDP header at info.upperOff: the length field equals the
 * upper-layer length, and the checksum verifies. RFC 8200 §8.1: a zero
 * checksum is invalid over IPv6 and the datagram is discarded.
 */
export function checkUdp(info: PacketInfo): void {
	const buf = info.buf;
	const off = info.upperOff;
	const len = info.upperLen;
	const at = off - info.off;
	if (len < UDP_HEADER_LEN) throw new WireError('truncated', `UDP header needs 8 bytes, have ${len}`, at);
	const length = u16(buf, off + UDP.length);
	if (length !== len) throw new WireError('bad-length', `UDP length ${length} but ${len} bytes follow`, at + UDP.length);
	const checksum = u16(buf, off + UDP.checksum);
	if (checksum === 0) throw new WireError('bad-checksum', 'UDP checksum 0 is invalid over IPv6', at + UDP.checksum);
	const sum = sum16(buf, off, len, pseudoHeaderSum(buf, info.off + IPV6.src, finalDestinationOffset(info), len, Proto.Udp));
	if (finish(sum) !== 0) throw new WireError('bad-checksum', `UDP checksum 0x${checksum.toString(16)} does not verify`, at + UDP.checksum);
}

export function parseUdp(info: PacketInfo): UdpRepr {
	checkUdp(info);
	const buf = info.buf;
	const off = info.upperOff;
	return {srcPort: u16(buf, off), dstPort: u16(buf, off + 2), payload: buf.subarray(off + UDP_HEADER_LEN, info.end)};
}

export function udpLength(repr: UdpRepr): number {
	return UDP_HEADER_LEN + repr.payload.length;
}

/**
 * Writes the datagram at `off` and its checksum over the pseudo-header whose
 * addresses are at `srcOff`/`dstOff` in the same buffer.
 */
export function emitUdp(repr: UdpRepr, buf: Uint8Array, off: number, srcOff: number, dstOff: number): number {
	const len = udpLength(repr);
	if (len > 0xffff) throw new WireError('bad-value', `UDP datagram of ${len} bytes exceeds 65535`);
	setU16(buf, off + UDP.srcPort, repr.srcPort);
	setU16(buf, off + UDP.dstPort, repr.dstPort);
	setU16(buf, off + UDP.length, len);
	setU16(buf, off + UDP.checksum, 0);
	buf.set(repr.payload, off + UDP_HEADER_LEN);
	const checksum = finish(sum16(buf, off, len, pseudoHeaderSum(buf, srcOff, dstOff, len, Proto.Udp)));
	// RFC 768 / RFC 8200 §8.1: a computed zero is sent as all ones.
	setU16(buf, off + UDP.checksum, checksum === 0 ? 0xffff : checksum);
	return len;
}
