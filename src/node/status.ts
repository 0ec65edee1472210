// A node's state as one JSON value: what the control socket serves and
// `anyguard status` shows.
import {formatAddr} from '../util/addr.js';
import type {LineSettings, LineStats} from '../io/emulator.js';
import type {NodeCounters, PortCounters} from './counters.js';
import type {Stack} from './stack.js';
import {MAX_ROUTES_PER_NEIGHBOUR} from '../route/ripng.js';

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
	/** Control packets dropped after the node handed them on (its `control-invalid`), by protocol and reason. */
	controlDrops: {router: Record<string, number>; ripng: Record<string, number> | null; bfd: Record<string, number>};
	anycast: Array<{prefix: string; originated: boolean} & Record<string, number | string | boolean>>;
	/** Event-loop delay of the role process (timers late behind packet work), ms: this window's p99 and max, and the largest ever. */
	loopDelay?: LoopDelay;
	/** The client role's bounded tables, for clients and terminals. */
	tables?: {flows: number; flowEvictions: number; flowsExpired: number; replay: number; replayEvictions: number};
	/** Every table an outsider can make grow: its size, its bound, what gave way and what was turned away. */
	bounds: BoundStatus[];
	/** The link conditions this process carries (src/cli/links.ts), when it is a role process. */
	links?: Array<{peer: string; kind: string; settings: LineSettings; mtu: number; out: LineStats; in?: LineStats}>;
}

export interface BoundStatus {
	table: string;
	size: number;
	capacity: number;
	/** Entries removed to make room. */
	evicted: number;
	/** Newcomers turned away instead (the table keeps what it has). */
	refused: number;
}

export function bounds(stack: Stack): BoundStatus[] {
	const {node, router} = stack;
	const out: BoundStatus[] = node.reassemblers().map(({name, reassembler: r}) => ({table: `reassembly ${name}`, size: r.size, capacity: r.limits.maxDatagrams, evicted: r.evictions, refused: 0}));
	out.push({table: 'pmtu', size: node.pmtu.size, capacity: node.pmtu.capacity, evicted: node.pmtu.evictions, refused: 0});
	out.push({table: 'bfd sessions', size: router.bfd.sessions().length, capacity: router.bfd.config.maxSessionsPerLink * stack.links.length, evicted: router.bfd.evicted, refused: router.bfd.refused});
	if (router.ripng) out.push({table: 'ripng routes', size: router.ripng.learnedCount, capacity: MAX_ROUTES_PER_NEIGHBOUR * router.bfd.config.maxSessionsPerLink * stack.links.length, evicted: 0, refused: router.ripng.drops['rte-limit']});
	if (stack.client) {
		const {flows, replay} = stack.client;
		out.push({table: 'flows', size: flows.size, capacity: 2 * flows.capacity + flows.echoCapacity, evicted: flows.evictions, refused: 0});
		out.push({table: 'replay cache', size: replay.size, capacity: replay.capacity, evicted: replay.evictions, refused: 0});
	}
	return out;
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
		controlDrops: {router: {...router.drops}, ripng: router.ripng ? {...router.ripng.drops} : null, bfd: {...router.bfd.drops}},
		bounds: bounds(stack),
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
