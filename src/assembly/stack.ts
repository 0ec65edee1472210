// One node of a topology, assembled: the packet pipeline, its routing (RIPng,
// BFD, anycast origination), the anycast application's drop reasons and
// counters, and its role's hooks. The same builder serves the role process on
// a TUN (src/cli/node.ts) and the in-memory network (memnet.ts).
import type {Group} from '../anycast/group.js';
import {staticRoutes} from '../config/paths.js';
import type {Topology, TopologyNode} from '../config/topology.js';
import type {PipelineConfig} from '../pipeline/types.js';
import {Pipeline} from '../pipeline/pipeline.js';
import type {AttachedPort, UdpMeta} from '../pipeline/types.js';
import {commandHealthCheck} from '../route/anycast.js';
import type {HealthCheck} from '../route/anycast.js';
import {BFD_PORT} from '../route/bfd-wire.js';
import {RIPNG_GROUP, RIPNG_PORT} from '../route/ripng-wire.js';
import {Router} from '../route/router.js';
import type {RouterConfig} from '../route/router.js';
import {ANYCAST} from '../roles/anycast.js';
import type {AnycastCounters} from '../roles/anycast.js';
import {boundaryRole} from '../roles/boundary.js';
import {clientRole} from '../roles/client.js';
import type {ClientState} from '../roles/client.js';
import {serverRole} from '../roles/server.js';
import {formatAddr, parseAddr, parsePrefix} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {Clock, TimerHandle} from '../util/clock.js';
import {nodeGroups} from './keys.js';
import {linkEnds, linkLocalOf} from './links.js';
import type {LinkEnd} from './links.js';

export interface StackDeps {
	clock: Clock;
	/** Wall-clock milliseconds since the epoch, for identifier timestamps. */
	wallNow: () => number;
	random?: () => number;
	/** Replaces a server's health check (tests); default: the topology's command, or none. */
	healthCheck?: (node: string) => HealthCheck | undefined;
	onDrop?: PipelineConfig['onDrop'];
}

type Transmit = (buf: Uint8Array, off: number, len: number) => boolean;

export interface Stack {
	name: string;
	spec: TopologyNode;
	pipeline: Pipeline;
	router: Router;
	links: LinkEnd[];
	/** Groups as this node holds them (signing or verification keys). */
	groups: Group[];
	/** The anycast application's counters on this node: stamped, verified, rejected (roles/anycast.ts). */
	anycast: AnycastCounters;
	/** The client role's flow table and replay cache, for clients and terminals. */
	client?: ClientState;
	/** Every anycast address of the topology: routes to them are nearest-server choices. */
	anycastAddresses: Addr[];
	/** Changes of selected routes since start. */
	routeChanges(): number;
	/**
	 * Wires a link port; `transmit` sends one packet to the neighbour,
	 * `transmitControl` (when the link has one) on its control channel, and
	 * `drainControl` reads what waits on that channel now.
	 */
	attachLink(id: string, transmit: Transmit, transmitControl?: Transmit, drainControl?: () => void): AttachedPort;
	/** Changes a link's MTU on a running node (`anyguard link <a> <b> set mtu=N`): what the MTU stage checks next. */
	setLinkMtu(id: string, mtu: number): void;
	/** Wires the host port (the TUN); `mtu` is the TUN's. */
	attachHost(transmit: Transmit, mtu: number): AttachedPort;
	start(): void;
	stop(): void;
}

/** The topology's settings of a pipeline, with only the keys it sets (exactOptionalPropertyTypes). */
function defined<T extends object>(o: T): {[K in keyof T]?: Exclude<T[K], undefined>} {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {[K in keyof T]?: Exclude<T[K], undefined>};
}

/** Builds node `name` of topology `t`. Throws KeyError/TopologyError on bad configuration, before anything starts. */
export function buildStack(t: Topology, name: string, deps: StackDeps): Stack {
	const spec = t.nodes.find((n) => n.name === name);
	if (!spec) throw new Error(`topology ${t.file} has no node ${name}`);
	const links = linkEnds(t, name);
	const groups = nodeGroups(t, spec);
	const served = spec.role === 'server' ? groups : [];
	const health = deps.healthCheck ? deps.healthCheck(name) : spec.health ? commandHealthCheck(spec.health.command[0]!, spec.health.command.slice(1), spec.health.timeoutMs) : undefined;

	// A "kernel" node speaks no routing protocol: no RIPng or BFD on a link to one, and static routes
	// (advertised into RIPng) for what is reached through it. A "kernel" node in memory is the same.
	const isStatic = (peer: string) => t.nodes.find((n) => n.name === peer)?.role === 'kernel';
	const own = spec.role === 'kernel';
	const statics = staticRoutes(t, name, (peer) => own || isStatic(peer)).map((r) => ({
		prefix: r.prefix, link: r.peer, via: formatAddr(linkLocalOf(t, r.peer)), metric: r.dist + 1, advertise: true,
	}));
	const routerConfig: RouterConfig = {
		name,
		// Every link is point to point and the topology names its other end: RIPng and BFD with that node only
		// (a BIRD node's TUN carries linkLocalOf too). None on a link to a static "kernel" node.
		links: links.map((l) => ({id: l.id, linkLocal: formatAddr(l.linkLocal), neighbour: formatAddr(linkLocalOf(t, l.peer)), cost: l.cost, mtu: l.mtu, bfd: l.bfd, ...(own || isStatic(l.peer) ? {ripng: false} : {})})),
		...(statics.length > 0 ? {static: statics} : {}),
		anycast: served.map((g) => ({
			address: formatAddr(g.anycast),
			...(health ? {check: health} : {}),
			...(spec.health ? {intervalMs: spec.health.intervalMs, timeoutMs: spec.health.timeoutMs} : {}),
		})),
		ripng: defined(t.timers.ripng),
		bfd: {desiredMinTxMs: t.timers.bfd.intervalMs, requiredMinRxMs: t.timers.bfd.intervalMs, detectMult: t.timers.bfd.multiplier},
		...(t.timers.bfd.dampening ? {dampening: defined(t.timers.bfd.dampening)} : {}),
	};

	// The router sends through the pipeline, and the pipeline forwards with the router's table.
	const wired: {pipeline?: Pipeline} = {};
	// Each link's control channel, read on demand before BFD declares a neighbour dead.
	const drains = new Map<string, () => void>();
	const router = new Router(routerConfig, {
		clock: deps.clock,
		...(deps.random ? {random: deps.random} : {}),
		send: (link, payload, dst, dstPort, srcPort) => void wired.pipeline?.sendUdp(link, payload, dst, dstPort, srcPort),
		beforeDetect: (link) => drains.get(link)?.(),
	});
	const anycastAddresses = t.groups.map((g) => parseAddr(g.anycast));
	const pipeline = new Pipeline({
		name,
		routes: router.table,
		addresses: spec.address ? [parseAddr(spec.address)] : [],
		...(spec.host ? {errorSource: parseAddr(spec.host.address)} : {}),
		anycast: anycastAddresses,
		now: () => deps.clock.now(),
		...(spec.icmpRate ? {icmpRate: spec.icmpRate} : {}),
		...(spec.reassembly ? {reassembly: defined(spec.reassembly)} : {}),
		// The topology's schema gives the same fields, each optional; the pipeline fills in the rest from its defaults.
		...(spec.controlPlane ? {controlPlane: defined(spec.controlPlane) as NonNullable<PipelineConfig['controlPlane']>} : {}),
		...(deps.onDrop ? {onDrop: deps.onDrop} : {}),
	});
	wired.pipeline = pipeline;
	// Every node counts the anycast application's drops and exports its counters, whatever its role.
	const anycast = pipeline.extend(ANYCAST).counters;
	pipeline.joinGroup(RIPNG_GROUP);
	const control = (port: number) => (payload: Uint8Array, meta: UdpMeta) =>
		router.receive(meta.inPort.name, port, payload, {src: meta.src, srcPort: meta.srcPort, hopLimit: meta.hopLimit, dst: meta.dst});
	pipeline.bindUdp(RIPNG_PORT, control(RIPNG_PORT), true);
	pipeline.bindUdp(BFD_PORT, control(BFD_PORT), true);

	let routeChanges = 0;
	router.table.onChange((changes) => (routeChanges += changes.length));
	let tick: TimerHandle | undefined;
	const linkPorts = new Map<string, AttachedPort>();
	const stack: Stack = {
		name,
		spec,
		pipeline,
		router,
		links,
		groups,
		anycast,
		anycastAddresses,
		routeChanges: () => routeChanges,
		attachLink(id, transmit, transmitControl, drainControl) {
			const end = links.find((l) => l.id === id);
			if (!end) throw new Error(`${name} has no link to ${id}`);
			if (drainControl) drains.set(id, drainControl);
			const attached = pipeline.addPort({
				name: id, kind: 'link', mtu: end.mtu, linkLocal: end.linkLocal, transmit,
				...(end.zone ? {zone: end.zone} : {}), ...(end.police ? {police: end.police} : {}), ...(transmitControl ? {transmitControl} : {}),
			});
			linkPorts.set(id, attached);
			return attached;
		},
		setLinkMtu(id, mtu) {
			const port = linkPorts.get(id);
			if (!port) throw new Error(`${name} has no link to ${id}`);
			// What the MTU stage reads next (readonly to the pipeline's stages, changed only here).
			(port as {mtu: number}).mtu = mtu;
			(port.device as {mtu: number}).mtu = mtu;
		},
		attachHost(transmit, mtu) {
			return pipeline.addPort({name: 'host', kind: 'host', mtu, transmit});
		},
		start() {
			router.start();
			// Reassembly timeouts (RFC 8200 §4.5) and idle flows are checked once a second.
			deps.clock.clear(tick);
			tick = deps.clock.setInterval(() => {
				pipeline.tick();
				stack.client?.flows.sweep(deps.clock.now());
			}, 1000);
			// The host's address and prefixes are this node's to announce: delivered to the host port.
			if (spec.host) {
				const prefixes = spec.host.prefixes ?? [`${spec.host.address}/128`];
				router.table.batch(() => {
					for (const p of prefixes) {
						const {addr, len} = parsePrefix(p);
						router.table.upsert({prefix: addr, len, origin: 'connected', metric: 1, nextHop: {kind: 'local'}});
					}
				});
			}
			if (spec.address) {
				router.table.upsert({prefix: parseAddr(spec.address), len: 128, origin: 'connected', metric: 1, nextHop: {kind: 'local'}});
			}
		},
		stop() {
			router.stop();
			deps.clock.clear(tick);
			tick = undefined;
		},
	};

	const wallNow = deps.wallNow;
	const now = () => deps.clock.now();
	switch (spec.role) {
		case 'server':
			serverRole(pipeline, {groups, unicast: parseAddr(spec.host!.address), wallNow, now, counters: anycast});
			break;
		case 'boundary':
			boundaryRole(pipeline, {
				groups,
				inside: (spec.inside ?? []).map((p) => {
					const {addr, len} = parsePrefix(p);
					return {prefix: addr, len};
				}),
				windowMs: t.replayWindowMs,
				wallNow,
				counters: anycast,
			});
			break;
		case 'client':
		case 'terminal':
			stack.client = clientRole(pipeline, {groups, windowMs: t.replayWindowMs, wallNow, now, counters: anycast});
			break;
		case 'router':
		case 'attacker':
		case 'bird': // BIRD and the kernel forward on their own in the running network; in memory (MemNet) they are routers
		case 'kernel':
			break;
	}
	return stack;
}
