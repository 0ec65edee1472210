// Prometheus text exposition (format 0.0.4) of a node's counters: the
// pipeline's, and each extension's with the help its spec gives.
import type {ExtensionSpec} from '../pipeline/drops.js';
import {ANYCAST} from '../roles/anycast.js';
import type {NodeStatus} from './status.js';

/** A counter's name as a metric's: `icmpErrorsSent` → `icmp_errors_sent`. */
function snake(name: string): string {
	return name.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

function esc(value: string): string {
	return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `s` as Prometheus text; `extensions` are the specs of the counters beside the pipeline's (every node has the anycast application's). */
export function prometheus(s: NodeStatus, extensions: readonly ExtensionSpec[] = [ANYCAST]): string {
	const lines: string[] = [];
	const node = `node="${esc(s.name)}",role="${esc(s.role)}"`;
	const metric = (name: string, help: string, type: 'counter' | 'gauge', samples: Array<[string, number]>) => {
		lines.push(`# HELP anyguard_${name} ${help}`, `# TYPE anyguard_${name} ${type}`);
		for (const [labels, value] of samples) lines.push(`anyguard_${name}{${node}${labels ? `,${labels}` : ''}} ${value}`);
	};
	const c = s.counters;
	metric('rx_packets_total', 'Packets received on all ports.', 'counter', [['', c.rxPackets]]);
	metric('rx_bytes_total', 'Bytes received on all ports.', 'counter', [['', c.rxBytes]]);
	metric('tx_packets_total', 'Packets sent on all ports.', 'counter', [['', c.txPackets]]);
	metric('tx_bytes_total', 'Bytes sent on all ports.', 'counter', [['', c.txBytes]]);
	metric('forwarded_total', 'Packets routed from one port to another.', 'counter', [['', c.forwarded]]);
	metric('forwarded_bytes_total', 'Bytes routed from one port to another.', 'counter', [['', c.forwardedBytes]]);
	metric('reassembled_total', 'Datagrams reassembled from fragments (RFC 8200 4.5).', 'counter', [['', c.reassembled]]);
	metric('fragments_forwarded_total', 'Fragments forwarded untouched.', 'counter', [['', c.fragmentsForwarded]]);
	metric('fragmented_total', "Packets of the node's own that it fragmented for a path MTU.", 'counter', [['', c.fragmented]]);
	metric('pmtu_updates_total', 'Path MTU changes from Packet Too Big (RFC 8201).', 'counter', [['', c.pmtuUpdates]]);
	metric('icmp_suppressed_total', 'ICMPv6 errors not sent because RFC 4443 2.4(e) forbids them.', 'counter', [['', c.icmpSuppressed]]);
	const counters = c as unknown as Record<string, number>;
	for (const e of extensions) for (const [name, help] of Object.entries<string>(e.counters)) metric(`${snake(name)}_total`, help, 'counter', [['', counters[name] ?? 0]]);
	metric('icmp_errors_sent_total', 'ICMPv6 errors sent.', 'counter', [['', c.icmpErrorsSent]]);
	metric('icmp_rate_limited_total', 'ICMPv6 errors not sent because of the rate limit (RFC 4443 2.4(f)).', 'counter', [['', c.icmpRateLimited]]);
	metric('icmp_prefix_limited_total', "ICMPv6 errors not sent because their destination's /64 used up its share (control-plane policing).", 'counter', [['', c.icmpPrefixLimited]]);
	metric('control_rx_total', "Packets received on links' control channels (route exchange, BFD).", 'counter', [['', c.controlRx]]);
	metric('drops_total', 'Packets dropped, by reason.', 'counter', Object.entries(c.drops).map(([r, n]) => [`reason="${esc(r)}"`, n]));
	metric('port_rx_packets_total', 'Packets received, by port.', 'counter', s.ports.map((p) => [`port="${esc(p.name)}"`, p.counters.rxPackets]));
	metric('port_tx_packets_total', 'Packets sent, by port.', 'counter', s.ports.map((p) => [`port="${esc(p.name)}"`, p.counters.txPackets]));
	metric('port_rx_bytes_total', 'Bytes received, by port.', 'counter', s.ports.map((p) => [`port="${esc(p.name)}"`, p.counters.rxBytes]));
	metric('port_tx_bytes_total', 'Bytes sent, by port.', 'counter', s.ports.map((p) => [`port="${esc(p.name)}"`, p.counters.txBytes]));
	metric('port_tx_failed_total', 'Packets a port refused (EAGAIN), by port.', 'counter', s.ports.map((p) => [`port="${esc(p.name)}"`, p.counters.txFailed]));
	metric('port_control_rx_packets_total', "Packets received on the link's control channel, by port.", 'counter', s.ports.filter((p) => p.kind === 'link').map((p) => [`port="${esc(p.name)}"`, p.counters.rxControl]));
	metric('port_control_tx_packets_total', "Packets sent on the link's control channel, by port.", 'counter', s.ports.filter((p) => p.kind === 'link').map((p) => [`port="${esc(p.name)}"`, p.counters.txControl]));
	metric('port_policed_total', "Data packets over the link's ingress policing rate, by port.", 'counter', s.ports.filter((p) => p.kind === 'link').map((p) => [`port="${esc(p.name)}"`, p.counters.policed]));
	const kernelDrops: Array<[string, number]> = [];
	for (const p of s.ports) {
		if (p.io?.rxKernelDrops !== undefined) kernelDrops.push([`port="${esc(p.name)}",channel="data"`, p.io.rxKernelDrops]);
		if (p.controlIo?.rxKernelDrops !== undefined) kernelDrops.push([`port="${esc(p.name)}",channel="control"`, p.controlIo.rxKernelDrops]);
	}
	if (kernelDrops.length > 0) metric('port_kernel_drops_total', "Datagrams the kernel dropped for a full socket receive queue (SO_RXQ_OVFL), by port and channel.", 'counter', kernelDrops);
	if (s.loopDelay) {
		metric('event_loop_delay_p99_seconds', 'How late timers ran, 99th percentile, over the current window of up to 10 s.', 'gauge', [['', s.loopDelay.p99Ms / 1000]]);
		metric('event_loop_delay_max_seconds', 'How late timers ran at most, over the current window of up to 10 s.', 'gauge', [['', s.loopDelay.maxMs / 1000]]);
	}
	metric('route_changes_total', 'Changes of selected routes.', 'counter', [['', s.routeChanges]]);
	const controlDrops = Object.entries(s.controlDrops).flatMap(([protocol, drops]) => Object.entries(drops ?? {}).filter(([, n]) => n > 0).map(([reason, n]): [string, number] => [`protocol="${protocol}",reason="${esc(reason)}"`, n]));
	metric('control_drops_total', 'Route exchange and BFD packets refused by the router, RIPng or BFD, by reason (the node counts them as control-invalid).', 'counter', controlDrops);
	metric('bfd_state_changes_total', 'BFD session state changes.', 'counter', [['', s.bfdStateChanges]]);
	metric('bfd_downs_total', 'BFD sessions that went from Up to Down.', 'counter', [['', s.bfdDowns]]);
	metric('bfd_up', 'BFD sessions in state Up, by link.', 'gauge', s.bfd.map((b) => [`link="${esc(b.link)}"`, b.state === 'Up' ? 1 : 0]));
	metric('routes', 'Routes in the table (candidates).', 'gauge', [['', s.routes.length]]);
	if (s.dampening) {
		metric('bfd_flaps_total', 'BFD sessions going down from Up, counted by flap dampening.', 'counter', [['', s.dampening.flaps]]);
		metric('bfd_suppressions_total', 'Hold-downs begun by flap dampening.', 'counter', [['', s.dampening.suppressions]]);
		metric('bfd_held', 'BFD sessions held down for routing by flap dampening, by link.', 'gauge', s.bfd.map((b) => [`link="${esc(b.link)}"`, b.held ? 1 : 0]));
	}
	const table = (b: {table: string}) => `table="${esc(b.table)}"`;
	metric('table_entries', 'Entries held in a bounded table an outsider can make grow.', 'gauge', s.bounds.map((b) => [table(b), b.size]));
	metric('table_capacity', "A bounded table's capacity.", 'gauge', s.bounds.map((b) => [table(b), b.capacity]));
	metric('table_evictions_total', 'Entries removed from a full bounded table to make room.', 'counter', s.bounds.map((b) => [table(b), b.evicted]));
	metric('table_refused_total', 'Newcomers a full bounded table turned away.', 'counter', s.bounds.map((b) => [table(b), b.refused]));
	if (s.tables) {
		metric('flows', 'Open anycast flows at the client (S101).', 'gauge', [['', s.tables.flows]]);
		metric('flow_evictions_total', 'Flows evicted because the table was full.', 'counter', [['', s.tables.flowEvictions]]);
		metric('replay_cache', 'Stamps remembered against replay.', 'gauge', [['', s.tables.replay]]);
		metric('replay_evictions_total', 'Remembered stamps evicted because the cache was full.', 'counter', [['', s.tables.replayEvictions]]);
	}
	return lines.join('\n') + '\n';
}
