// A node's state as one JSON value: what the control socket serves and
// `anyguard status` shows.
import {formatAddr} from '../util/addr.js';
import type {NodeCounters, PortCounters} from './counters.js';
import type {Stack} from './stack.js';

export interface PortStatus {
	name: string;
	kind: 'host' | 'link';
	mtu: number;
	zone?: string;
	counters: PortCounters;
	/** Device or socket counters from src/io, when the port is real. */
	io?: Record<string, number>;
	/** The link's control-channel socket counters, when it has one. */
	controlIo?: Record<string, number>;
}

export interface RouteStatus {
	prefix: string;
	origin: string;
	via: string;
	metric: number;
	anycast: boolean;
	selected: boolean;
}

export interface NodeStatus {
	name: string;
	role: string;
	pid: number;
	startedAt: string;
	uptimeMs: number;
	counters: NodeCounters;
	ports: PortStatus[];
	routes: RouteStatus[];
	bfd: Array<{link: string; peer: string; state: string; remoteState: string; detectTimeMs: number; held?: boolean; penalty?: number}>;
	/** Flap dampening of BFD sessions, when configured: flaps counted and hold-downs begun. */
	dampening?: {flaps: number; suppressions: number};
	bfdStateChanges: number;
	/** BFD sessions that went from Up to Down. */
	bfdDowns: number;
	routeChanges: number;
	ripng: Record<string, number> | null;
	anycast: Array<{prefix: string; originated: boolean} & Record<string, number | string | boolean>>;
	/** Event-loop delay of the role process (timers late behind packet work), ms: this window's p99 and max, and the largest ever. */
	loopDelay?: LoopDelay;
	/** The client role's bounded tables, for clients and terminals. */
	tables?: {flows: number; flowEvictions: number; flowsExpired: number; replay: number; replayEvictions: number};
}

export interface LoopDelay {
	p99Ms: number;
	maxMs: number;
	/** Length of the window so far. */
	windowMs: number;
	everMaxMs: number;
}

export function nodeStatus(
	stack: Stack,
	startedAt: number,
	io: (port: string) => Record<string, number> | undefined = () => undefined,
	loopDelay?: () => LoopDelay,
): NodeStatus {
	const {node, router} = stack;
	const anycast = new Set(stack.anycastAddresses.map((a) => `${formatAddr(a)}/128`));
	const routes: RouteStatus[] = router.table.dump().map((line) => {
		// "<prefix> <origin> <local|direct link|via addr%link> metric N [anycast] [*]"
		const m = /^(\S+) (\S+) (local|direct \S+|via \S+) metric (\d+)( anycast)?( \*)?$/.exec(line);
		return m
			? {prefix: m[1]!, origin: m[2]!, via: m[3]!, metric: Number(m[4]), anycast: Boolean(m[5]) || anycast.has(m[1]!), selected: Boolean(m[6])}
			: {prefix: line, origin: '?', via: '?', metric: 0, anycast: false, selected: false};
	});
	return {
		name: stack.name,
		role: stack.spec.role,
		pid: process.pid,
		startedAt: new Date(startedAt).toISOString(),
		uptimeMs: Date.now() - startedAt,
		counters: node.counters,
		ports: [...node.ports.values()].map((p) => {
			const stats = io(p.name);
			const control = io(`${p.name}:control`);
			return {name: p.name, kind: p.kind, mtu: p.mtu, ...(p.zone ? {zone: p.zone} : {}), counters: p.counters, ...(stats ? {io: stats} : {}), ...(control ? {controlIo: control} : {})};
		}),
		routes,
		bfd: router.bfd.sessions().map((s) => ({
			link: s.link, peer: formatAddr(s.peer), state: s.state, remoteState: s.remoteState, detectTimeMs: s.detectTimeMs,
			...(router.dampening ? {held: router.held(s.link, s.peer), penalty: Math.round(router.penalty(s.link, s.peer))} : {}),
		})),
		...(router.dampening ? {dampening: {flaps: router.dampening.flaps, suppressions: router.dampening.suppressions}} : {}),
		bfdStateChanges: router.bfd.stateChanges,
		bfdDowns: router.bfd.downs,
		routeChanges: stack.routeChanges(),
		ripng: router.ripng ? {...router.ripng.stats} : null,
		anycast: router.anycast.map((a, i) => ({prefix: stack.groups[i] ? formatAddr(stack.groups[i].anycast) : '?', originated: a.healthy, ...a.stats})),
		...(loopDelay ? {loopDelay: loopDelay()} : {}),
		...(stack.client
			? {
					tables: {
						flows: stack.client.flows.size,
						flowEvictions: stack.client.flows.evictions,
						flowsExpired: stack.client.flows.expired,
						replay: stack.client.replay.size,
						replayEvictions: stack.client.replay.evictions,
					},
				}
			: {}),
	};
}
