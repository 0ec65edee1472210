// IPv4 is not ours to route, but a host may send it into a TUN; the drop log
// says what it was. ip-packet decodes the header.
import {createRequire} from 'node:module';

interface Ipv4Packet {
	sourceIp: string;
	destinationIp: string;
	protocol: number;
	ttl: number;
	length: number;
}

const require = createRequire(import.meta.url);
const ipPacket = require('ip-packet') as {decode(state: {start: number; end: number; buffer: Uint8Array}): Ipv4Packet};

/** The fields of an IPv4 header worth a log line, or the reason it could not be read. */
export function describeIpv4(bytes: Uint8Array): Record<string, string | number> {
	if (bytes.length < 20) return {ipv4: 'truncated', length: bytes.length};
	try {
		const p = ipPacket.decode({start: 0, end: bytes.length, buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)});
		return {src: p.sourceIp, dst: p.destinationIp, protocol: p.protocol, ttl: p.ttl, length: p.length};
	} catch (error) {
		return {ipv4: (error as Error).message, length: bytes.length};
	}
}
