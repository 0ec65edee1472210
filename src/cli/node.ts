// `anyguard node <name>`: one role process, attached to its namespace's TUN
// and to one UDP link per topology link (two sockets each: data and the
// control channel). `anyguard up` starts one of these in each namespace,
// under a supervisor. The node is assembled in src/assembly; this file opens
// its devices, serves its control socket, and logs.
import {monitorEventLoopDelay} from 'node:perf_hooks';
import {attachTun, dropLogger, ipv4Logger, onWire} from '../assembly/ports.js';
import {buildStack} from '../assembly/stack.js';
import {loadTopology} from '../config/topology.js';
import {openTun} from '../io/tun.js';
import type {PacketPort} from '../io/types.js';
import {TUN_NAME, files} from '../netns/names.js';
import {Tap} from '../ops/capture.js';
import {serveControl} from '../ops/control.js';
import {nodeStatus} from '../ops/status.js';
import type {LoopDelay} from '../ops/status.js';
import {Tracer} from '../ops/trace.js';
import {wireLinks} from '../netns/wiring.js';
import {SystemClock} from '../util/clock.js';
import {createLogger} from '../util/log.js';
import {privateDir} from '../util/statedir.js';

export interface NodeProcessOptions {
	topology: string;
	node: string;
	state: string;
	level?: string;
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
	tracer.current = new Tracer(stack.pipeline);
	const tap = new Tap();
	const ports: Array<[string, PacketPort]> = [];
	const fail = (what: string) => (error: Error) => {
		log.error(`${what} stopped: ${error.message}`);
		process.exit(1);
	};

	const tun = openTun(TUN_NAME);
	ports.push(['host', tun]);
	tun.onError(fail(`TUN ${TUN_NAME}`));
	attachTun(stack, tun, tap, ipv4Logger(log));

	// Every topology link: UDP on a veth to an anyguard neighbour, or a kernel neighbour's TUN (src/netns/wiring.ts).
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
		// Forged traffic for the attack drills goes straight onto the wire (onWire): the attacker and the insider terminals own their devices.
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
