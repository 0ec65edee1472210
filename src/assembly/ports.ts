// The glue between the I/O ports (src/io) and a node's pipeline: each batch a
// port reads is handed to the pipeline one packet at a time, with no copies,
// and what the pipeline sends goes out of the port; a tap sees both while a
// capture runs. The role process (src/cli/node.ts) and the forwarding
// benchmark (bench/forward.ts) wire their ports with these.
import type {PacketPort, PortTap} from '../io/types.js';
import type {AttachedPort} from '../pipeline/types.js';
import type {DropReason} from '../pipeline/drops.js';
import type {Logger} from '../util/log.js';
import {describeIpv4} from '../util/ipv4.js';
import type {Stack} from './stack.js';

type Receive = (port: AttachedPort, buf: Uint8Array, off: number, len: number) => void;

/** Wires a port's batches into the pipeline: one call per packet, no copies; the tap sees them while a capture runs. */
export function pump(port: PacketPort, attached: AttachedPort, tap: PortTap, receive: Receive): void {
	port.onReceive((buf, offsets, lengths, count) => {
		for (let i = 0; i < count; i++) {
			if (tap.active) tap.record(attached.name, 'in', buf, offsets[i]!, lengths[i]!);
			receive(attached, buf, offsets[i]!, lengths[i]!);
		}
	});
}

/** Sends through `port`, letting the tap see it while a capture runs. */
export function sender(port: PacketPort, name: string, tap: PortTap): (buf: Uint8Array, off: number, len: number) => boolean {
	return (buf, off, len) => {
		if (tap.active) tap.record(name, 'out', buf, off, len);
		return port.send(buf, off, len);
	};
}

/**
 * A node's host port on its TUN. IPv4 reaching it (the host sending it by
 * mistake) goes to `onIpv4` before the pipeline drops it as malformed.
 */
export function attachTun(stack: Stack, tun: PacketPort, tap: PortTap, onIpv4: (buf: Uint8Array, off: number, len: number) => void = () => {}): AttachedPort {
	const host = stack.attachHost(sender(tun, 'host', tap), tun.mtu);
	const pipeline = stack.pipeline;
	pump(tun, host, tap, (p, b, o, l) => {
		if (b[o]! >>> 4 === 4) onIpv4(b, o, l);
		pipeline.receive(p, b, o, l);
	});
	return host;
}

/**
 * A node's link `id` on its data socket and, when there is one, its control
 * channel's socket: route exchange and BFD leave and arrive there, apart from
 * the data (docs/pipeline.md, "The control plane under load").
 */
export function attachLink(stack: Stack, id: string, data: PacketPort, control: PacketPort | undefined, tap: PortTap): AttachedPort {
	const pipeline = stack.pipeline;
	const attached = control
		? stack.attachLink(id, sender(data, id, tap), sender(control, id, tap), () => void control.drain?.())
		: stack.attachLink(id, sender(data, id, tap));
	pump(data, attached, tap, (p, b, o, l) => pipeline.receive(p, b, o, l));
	if (control) pump(control, attached, tap, (p, b, o, l) => pipeline.receiveControl(p, b, o, l));
	return attached;
}

/**
 * Sends raw bytes onto the wire, past the node's own pipeline: out of the link
 * the route to their destination takes, or the first link. What the attacker
 * and the insider terminals forge for the attack drills goes this way: they
 * own their devices, so the first node of ours to parse it is the neighbour.
 */
export function onWire(stack: Stack, bytes: Uint8Array): boolean {
	const pipeline = stack.pipeline;
	let port = [...pipeline.ports.values()].find((p) => p.kind === 'link');
	if (bytes.length >= 40) {
		const routed = pipeline.routePort(bytes, 0);
		if (routed?.kind === 'link') port = routed;
	}
	return port ? port.device.transmit(bytes, 0, bytes.length) : false;
}

/** Drops are logged at debug level one by one, and summarized at info level at most once a second. */
export function dropLogger(log: Logger): (reason: DropReason) => void {
	const pending = new Map<DropReason, number>();
	const timer = setInterval(() => {
		if (pending.size === 0) return;
		log.info('drops', Object.fromEntries(pending));
		pending.clear();
	}, 1000);
	timer.unref();
	return (reason) => {
		pending.set(reason, (pending.get(reason) ?? 0) + 1);
		if (log.isDebugEnabled()) log.debug('drop', {reason});
	};
}

/** IPv4 reaching a TUN is decoded with ip-packet for the log, at most once a second. */
export function ipv4Logger(log: Logger): (buf: Uint8Array, off: number, len: number) => void {
	let last = 0;
	return (buf, off, len) => {
		const now = Date.now();
		if (now - last < 1000) return;
		last = now;
		log.info('IPv4 packet on the TUN, dropped (the network is IPv6 only)', describeIpv4(buf.subarray(off, off + len)));
	};
}
