// A node's state as one JSON value: what the control socket serves and
// `anyguard status` shows. Routes are structured (RouteStatus), read from the
// route table's views, never from its debugging dump.
import type {Stack} from '../assembly/stack.js';
import type {PipelineCounters, PortCounters} from '../pipeline/counters.js';
import {formatPrefix} from '../route/prefix.js';
import {MAX_ROUTES_PER_NEIGHBOUR} from '../route/ripng-types.js';
import type {RouteView} from '../route/table.js';
import type {AnycastCounters} from '../roles/anycast.js';
import {formatAddr} from '../util/addr.js';
import type {LineSettings, LineStats} from '../io/emulator.js';

/** A node's counters: the pipeline's, and beside them those of its extensions (the anycast application's). */
export type NodeCounters = PipelineCounters & AnycastCounters;

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

/** Where a route leads: the node itself (to its host or own stack), a link, or a neighbour on a link. */
export type NextHopStatus = {kind: 'local'} | {kind: 'direct'; link: string} | {kind: 'via'; link: string; via: string};

export interface RouteStatus {
	/** The prefix, `address/length`. */
	prefix: string;
	origin: string;
	nextHop: NextHopStatus;
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
	/** The link conditions this process carries (src/netns/wiring.ts), when it is a role process. */
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
	const {pipeline: node, router} = stack;
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

function nextHopStatus(r: RouteView): NextHopStatus {
	const nh = r.nextHop;
	if (nh.kind === 'local') return {kind: 'local'};
	if (nh.kind === 'direct') return {kind: 'direct', link: nh.link!};
	return {kind: 'via', link: nh.link!, via: formatAddr(nh.via!)};
}

/**
 * Every candidate route of the node's table, selected ones marked. A route to
 * one of the topology's anycast addresses is an anycast route (its selected
 * one is the nearest server), whoever originated it.
 */
export function routeStatus(stack: Stack): RouteStatus[] {
	const anycast = stack.anycastAddresses;
	const isAnycast = (r: RouteView) => r.anycast || (r.len === 128 && anycast.some((a) => a.every((b, i) => b === r.prefix[i])));
	const routes: RouteStatus[] = [];
	for (const p of stack.router.table.prefixes())
		for (const r of p.candidates) routes.push({prefix: formatPrefix(p.prefix, p.len), origin: r.origin, nextHop: nextHopStatus(r), metric: r.metric, anycast: isAnycast(r), selected: r.selected});
	// In a stable order for people: by prefix, then origin, then where it leads.
	const hop = (h: NextHopStatus) => (h.kind === 'local' ? 'local' : h.kind === 'direct' ? `direct ${h.link}` : `via ${h.via}%${h.link}`);
	const key = (r: RouteStatus) => `${r.prefix} ${r.origin} ${hop(r.nextHop)} metric ${r.metric}`;
	return routes.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The link a route leaves by, or null for a local route. */
export function routeLink(r: RouteStatus): string | null {
	return r.nextHop.kind === 'local' ? null : r.nextHop.link;
}

/** Counters of the node's pipeline with its extensions' beside them. */
export function nodeCounters(stack: Stack): NodeCounters {
	const out = {...stack.pipeline.counters} as NodeCounters;
	for (const e of stack.pipeline.extensions) Object.assign(out, e.counters);
	return out;
}

export function nodeStatus(
	stack: Stack,
	startedAt: number,
	io: (port: string) => Record<string, number> | undefined = () => undefined,
	loopDelay?: () => LoopDelay,
): NodeStatus {
	const {pipeline: node, router} = stack;
	const routes = routeStatus(stack);
	return {
		name: stack.name,
		role: stack.spec.role,
		pid: process.pid,
		startedAt: new Date(startedAt).toISOString(),
		uptimeMs: Date.now() - startedAt,
		counters: nodeCounters(stack),
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
