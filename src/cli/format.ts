// One readable line per packet, in the spirit of tcpdump -n.
import {formatAddr} from '../util/addr.js';
import {Opt, decodePacket} from '../wire/index.js';
import type {ExtRepr, UpperRepr} from '../wire/index.js';

const ICMP_NAMES: Record<number, string> = {
	1: 'destination unreachable',
	2: 'packet too big',
	3: 'time exceeded',
	4: 'parameter problem',
	128: 'echo request',
	129: 'echo reply',
};

function ext(e: ExtRepr): string {
	switch (e.kind) {
		case 'hop-by-hop':
		case 'dest-opts': {
			const opts = e.options.filter((o) => o.type !== Opt.Pad1 && o.type !== Opt.PadN).map((o) => `0x${o.type.toString(16).padStart(2, '0')}(${o.data.length})`);
			return `${e.kind === 'hop-by-hop' ? 'HBH' : 'DST'}[${opts.join(',')}]`;
		}
		case 'routing':
			return `RH[type ${e.routingType} left ${e.segmentsLeft}]`;
		case 'fragment':
			return `FRAG[off ${e.offset * 8}${e.more ? ' M' : ''} id 0x${e.identification.toString(16)}]`;
	}
}

function upper(u: UpperRepr): string {
	if ('icmp' in u) {
		const i = u.icmp;
		const name = ICMP_NAMES[i.type] ?? `type ${i.type}`;
		if (i.kind === 'echo') return `ICMP6 ${name} id ${i.identifier} seq ${i.sequence} len ${i.data.length}`;
		if (i.kind === 'error') return `ICMP6 ${name} code ${i.code}${i.type === 2 ? ` mtu ${i.param}` : i.type === 4 ? ` pointer ${i.param}` : ''} quoting ${i.invoking.length} bytes`;
		return `ICMP6 ${name} code ${i.code}`;
	}
	if ('udp' in u) return `UDP ${u.udp.srcPort} > ${u.udp.dstPort} len ${u.udp.payload.length}`;
	return `proto ${u.proto} len ${u.raw.length}`;
}

/** Decodes `bytes` and describes it; a malformed packet yields its codec error instead. */
export function describePacket(bytes: Uint8Array): string {
	const p = decodePacket(bytes);
	const chain = p.ext.map(ext).join(' ');
	return `${formatAddr(p.ip.src)} > ${formatAddr(p.ip.dst)} hlim ${p.ip.hopLimit}${chain ? ` ${chain}` : ''} ${upper(p.upper)}`;
}
