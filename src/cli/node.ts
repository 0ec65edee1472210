// `anyguard node <name>`: one role process, attached to its namespace's TUN
// and to one UDP link per topology link. `anyguard up` starts one of these
// in each namespace, under a supervisor.
import {monitorEventLoopDelay} from 'node:perf_hooks';
import {privateDir} from '../util/statedir.js';
import {loadTopology} from '../config/topology.js';
import {openTun} from '../io/tun.js';
import type {PacketPort} from '../io/types.js';
import {serveControl} from '../node/control.js';
import {buildStack} from '../node/stack.js';
import {nodeStatus} from '../node/status.js';
import type {LoopDelay} from '../node/status.js';
import {TUN_NAME, files} from '../netns/names.js';
import {pump, sender, wireLinks} from './links.js';

export {pump, sender};
import {SystemClock} from '../util/clock.js';
import {createLogger} from '../util/log.js';
import type {Logger} from '../util/log.js';
import type {DropReason} from '../node/drop.js';
import {Tap} from '../node/tap.js';
import {Tracer} from '../node/trace.js';
import {describeIpv4} from '../util/ipv4.js';

export interface NodeProcessOptions {
	topology: string;
	node: string;
	state: string;
	level?: string;
}

/** IPv4 reaching a TUN (the host sending it by mistake) is decoded with ip-packet for the log, at most once a second. */
function ipv4Logger(log: Logger): (buf: Uint8Array, off: number, len: number) => void {
	let last = 0;
	return (buf, off, len) => {
		const now = Date.now();
		if (now - last < 1000) return;
		last = now;
		log.info('IPv4 packet on the TUN, dropped (the network is IPv6 only)', describeIpv4(buf.subarray(off, off + len)));
	};
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

/** How late the event loop runs timers, over windows of 10 s: packet work must never keep BFD's timers waiting. */
function loopDelayMonitor(): () => LoopDelay {
	const h = monitorEventLoopDelay({resolution: 5});
	h.enable();
	let since = Date.now();
	let everMax = 0;
	const ms = (ns: number) => Math.round(ns / 1e4) / 100;
	setInterval(() => {
		everMax = Math.max(everMax, h.max);
		h.reset();
		since = Date.now();
	}, 10_000).unref();
	return () => {
		everMax = Math.max(everMax, h.count > 0 ? h.max : 0);
		return {p99Ms: h.count > 0 ? ms(h.percentile(99)) : 0, maxMs: h.count > 0 ? ms(h.max) : 0, windowMs: Date.now() - since, everMaxMs: ms(everMax)};
	};
}

/** Sends raw bytes out of the link the route to their destination takes (or the first link), unparsed. */
function onWire(stack: ReturnType<typeof buildStack>, bytes: Uint8Array): boolean {
	const links = [...stack.node.ports.values()].filter((p) => p.kind === 'link');
	let port = links[0];
	if (bytes.length >= 40) {
		const index = stack.node.routes.lookup(bytes, 24, 0);
		const nh = index >= 0 ? stack.node.routes.nextHop(index) : undefined;
		if (nh?.kind !== 'local' && nh?.link) port = stack.node.ports.get(nh.link) ?? port;
	}
	return port ? port.transmit(bytes, 0, bytes.length) : false;
}

export async function runNode(options: NodeProcessOptions): Promise<void> {
	privateDir(options.state);
	const t = loadTopology(options.topology);
	const log = createLogger(options.node, {file: files.log(options.state, options.node), level: options.level ?? 'info'});
	const started = Date.now();
	const onDrop = dropLogger(log);
	const tracer: {current?: Tracer} = {};
	const clock = new SystemClock();
	const stack = buildStack(t, options.node, {
		clock,
		wallNow: () => Date.now(),
		onDrop: (reason, pkt) => {
			onDrop(reason);
			tracer.current?.dropped(reason, pkt);
		},
	});
	tracer.current = new Tracer(stack.node);
	const tap = new Tap();
	const ipv4 = ipv4Logger(log);
	const ports: Array<[string, PacketPort]> = [];
	const fail = (what: string) => (error: Error) => {
		log.error(`${what} stopped: ${error.message}`);
		process.exit(1);
	};

	const tun = openTun(TUN_NAME);
	ports.push(['host', tun]);
	tun.onError(fail(`TUN ${TUN_NAME}`));
	const host = stack.attachHost(sender(tun, 'host', tap), tun.mtu);
	pump(tun, host, tap, (p, b, o, l) => {
		if (b[o]! >>> 4 === 4) ipv4(b, o, l);
		stack.node.receive(p, b, o, l);
	});

	// Every topology link: UDP on a veth to an anyguard neighbour, or a kernel neighbour's TUN (src/cli/links.ts).
	const links = wireLinks({t, node: options.node, state: options.state, stack, tap, clock, log, fail});
	ports.push(...links.ports);
	links.reload();

	stack.start();
	const ioStats = (name: string) => {
		const port = ports.find(([n]) => n === name)?.[1];
		return port ? ({...port.stats()} as unknown as Record<string, number>) : undefined;
	};
	const loop = loopDelayMonitor();
	const server = await serveControl(files.socket(options.state, options.node), {
		status: () => ({...nodeStatus(stack, started, ioStats, loop), links: links.emulation()}),
		// anyguard link set/down/up wrote the state directory's links.json: take this node's share.
		links: () => {
			links.reload();
			return links.emulation();
		},
		tap,
		tracer: tracer.current,
		// Forged traffic for the attack drills: the attacker and the insider terminals own their devices, so
		// what they forge goes straight onto their wire, past their own node (the first node of ours to parse
		// it is the neighbour), out of the link the route to its destination takes, or their first link.
		...(stack.spec.role === 'attacker' || stack.spec.role === 'terminal'
			? {
					inject: (packets: Uint8Array[]) => {
						let sent = 0;
						for (const p of packets) if (onWire(stack, p)) sent++;
						log.debug('injected', {packets: packets.length, sent});
						return sent;
					},
				}
			: {}),
	});
	log.info('started', {role: stack.spec.role, pid: process.pid, links: stack.links.length});

	const stop = (signal: string) => {
		log.info('stopping', {signal});
		// A planned stop says goodbye: withdraw S first and let the triggered update leave,
		// so neighbours move on at once instead of waiting for BFD to notice.
		for (const a of stack.router.anycast) a.stop();
		setTimeout(() => {
			stack.stop();
			for (const [, port] of ports) port.close();
			server.close();
			process.exit(0);
		}, 150);
	};
	process.once('SIGTERM', () => stop('SIGTERM'));
	process.once('SIGINT', () => stop('SIGINT'));
	// Keep the process alive: the ports' polls are what it waits on, and they may be unref'd.
	setInterval(() => {}, 1 << 30);
}
