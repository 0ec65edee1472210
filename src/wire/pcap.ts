// Classic pcap files (the format libpcap, tcpdump and tshark read and write).
import {WireError} from './error.js';

export const LinkType = {
	Ethernet: 1,
	Raw: 101,
	LinuxSll: 113,
	Ipv6: 229,
	LinuxSll2: 276,
} as const;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
const SNAPLEN = 65535;

/** The 24-byte global header, little-endian, microsecond timestamps. */
export function pcapHeader(linkType: number = LinkType.Ipv6): Uint8Array {
	const buf = new Uint8Array(PCAP_HEADER_LEN);
	const view = new DataView(buf.buffer);
	view.setUint32(0, MAGIC_US, true);
	view.setUint16(4, 2, true);
	view.setUint16(6, 4, true);
	view.setUint32(16, SNAPLEN, true);
	view.setUint32(20, linkType, true);
	return buf;
}

/** One record: a 16-byte header then the packet. `timeMs` is milliseconds since the epoch. */
export function pcapRecord(packet: Uint8Array, timeMs: number): Uint8Array {
	const len = Math.min(packet.length, SNAPLEN);
	const buf = new Uint8Array(PCAP_RECORD_HEADER_LEN + len);
	const view = new DataView(buf.buffer);
	const sec = Math.floor(timeMs / 1000);
	view.setUint32(0, sec, true);
	view.setUint32(4, Math.round((timeMs - sec * 1000) * 1000), true);
	view.setUint32(8, len, true);
	view.setUint32(12, packet.length, true);
	buf.set(packet.subarray(0, len), PCAP_RECORD_HEADER_LEN);
	return buf;
}

export interface PcapPacket {
	timeMs: number;
	/** The IPv6 packet, with any link-layer header removed. */
	data: Uint8Array;
	originalLength: number;
}

/** Bytes of link-layer header before the network packet, per link type; -1 when unknown. */
function linkHeaderLength(linkType: number): number {
	switch (linkType) {
		case LinkType.Raw:
		case LinkType.Ipv6:
			return 0;
		case LinkType.Ethernet:
			return 14;
		case LinkType.LinuxSll:
			return 16;
		case LinkType.LinuxSll2:
			return 20;
		default:
			return -1;
	}
}

/**
 * Reads every record of a pcap file, stripping link-layer headers. Throws
 * WireError on a malformed file; with `partial`, a record cut short at the
 * end (a capture stopped mid-write) ends the list instead.
 */
export function readPcap(file: Uint8Array, options: {partial?: boolean} = {}): {linkType: number; packets: PcapPacket[]} {
	if (file.length < PCAP_HEADER_LEN) throw new WireError('truncated', 'pcap file shorter than its header');
	const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
	const magic = view.getUint32(0, true);
	let little: boolean;
	let nano = false;
	if (magic === MAGIC_US || magic === MAGIC_NS) little = true;
	else if (view.getUint32(0, false) === MAGIC_US || view.getUint32(0, false) === MAGIC_NS) little = false;
	else throw new WireError('bad-value', 'not a pcap file (pcapng is not read here)');
	nano = view.getUint32(0, little) === MAGIC_NS;
	const linkType = view.getUint32(20, little);
	const packets: PcapPacket[] = [];
	let pos = PCAP_HEADER_LEN;
	while (pos < file.length) {
		if (pos + PCAP_RECORD_HEADER_LEN > file.length) {
			if (options.partial) break;
			throw new WireError('truncated', `pcap record header at ${pos} cut short`, pos);
		}
		const sec = view.getUint32(pos, little);
		const frac = view.getUint32(pos + 4, little);
		const caplen = view.getUint32(pos + 8, little);
		const origlen = view.getUint32(pos + 12, little);
		const start = pos + PCAP_RECORD_HEADER_LEN;
		if (start + caplen > file.length) {
			if (options.partial) break;
			throw new WireError('truncated', `pcap record at ${pos} cut short`, pos);
		}
		const frame = file.subarray(start, start + caplen);
		const skip = linkHeaderLength(linkType);
		if (skip < 0) throw new WireError('bad-value', `pcap link type ${linkType} is not supported`);
		packets.push({timeMs: sec * 1000 + (nano ? frac / 1e6 : frac / 1e3), data: frame.subarray(Math.min(skip, frame.length)), originalLength: origlen - skip});
		pos = start + caplen;
	}
	return {linkType, packets};
}
