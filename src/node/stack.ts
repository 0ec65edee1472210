// One node of a topology, whole: the packet pipeline, its routing (RIPng, BFD,
// anycast origination) and its role's hooks. The same builder serves the role
// process on a TUN (src/cli) and the in-memory network of the tests.
import type {Group} from '../anycast/group.js';
import {loadKeyMaterial} from '../anycast/keys.js';
import {ALG_BY_NAME} from '../anycast/option.js';
import {keyPath} from '../config/topology.js';
import {staticRoutes} from '../config/paths.js';
import type {Topology, TopologyGroup, TopologyNode} from '../config/topology.js';
import {commandHealthCheck} from '../route/anycast.js';
import type {HealthCheck} from '../route/anycast.js';
import {BFD_PORT} from '../route/bfd-wire.js';
import {RIPNG_GROUP, RIPNG_PORT} from '../route/ripng-wire.js';
import {Router} from '../route/router.js';
import type {RouterConfig} from '../route/router.js';
import {boundaryRole} from '../roles/boundary.js';
import {clientRole} from '../roles/client.js';
import type {ClientState} from '../roles/client.js';
import {serverRole} from '../roles/server.js';
import {parseAddr, parsePrefix} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {Clock, TimerHandle} from '../util/clock.js';
import type {Rate} from '../util/rate.js';
import {Node} from './node.js';
import type {AttachedPort, NodeConfig, Port} from './node.js';

export interface StackDeps {
	clock: Clock;
	/** Wall-clock milliseconds since the epoch, for identifier timestamps. */
	wallNow: () => number;
	random?: () => number;
	/** Replaces a server's health check (tests); default: the topology's command, or none. */
	healthCheck?: (node: string) => HealthCheck | undefined;
	onDrop?: NodeConfig['onDrop'];
}

type Transmit = (buf: Uint8Array, off: number, len: number) => boolean;

/** A link end as the node sees it. */
export interface LinkEnd {
	/** The link's id on this node: the neighbour's name. */
	id: string;
	peer: string;
	cost: number;
	mtu: number;
	/** This node's link-local address on the link. */
	linkLocal: Addr;
	zone: 'inside' | 'outside' | undefined;
	/** Ingress policing of what arrives from the link. */
	police?: Rate;
}

export interface Stack {
	name: string;
	spec: TopologyNode;
	node: Node;
	router: Router;
	links: LinkEnd[];
	/** Groups as this node holds them (signing or verification keys). */
	groups: Group[];
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
	attachHost(transmit: (buf: Uint8Array, off: number, len: number) => boolean, mtu: number): AttachedPort;
	start(): void;
	stop(): void;
}

/** The link-local address of the i-th node: fe80::i+1, the same on all of its links. */
export function linkLocalOf(t: Topology, name: string): Addr {
	return parseAddr(`fe80::${(t.nodes.findIndex((n) => n.name === name) + 1).toString(16)}`);
}

export function linkEnds(t: Topology, name: string): LinkEnd[] {
	const spec = t.nodes.find((n) => n.name === name)!;
	return t.links
		.filter((l) => l.a === name || l.b === name)
		.map((l) => {
			const peer = l.a === name ? l.b : l.a;
			return {
				id: peer,
				peer,
				cost: l.cost,
				mtu: l.mtu,
				...(l.police && (l.police.at === undefined || l.police.at === name) ? {police: {perSecond: l.police.perSecond, burst: l.police.burst}} : {}),
				linkLocal: linkLocalOf(t, name),
				zone: spec.role === 'boundary' ? (spec.outside?.includes(peer) ? 'outside' : 'inside') : undefined,
			};
		});
}

/**
 * Loads the keys a node of `spec.role` needs for `g` (docs/protocol.md §3,
 * key roles): servers (and the attacker, who stole them) sign with the
 * group's key; the boundary router verifies with the HMAC group key or the
 * Ed25519 public key; clients and terminals verify with their own derived
 * HMAC key or the Ed25519 public key. Topology validation has made sure the
 * files a verifier is sent to are not the group's signing key.
 */
function groupFor(t: Topology, g: TopologyGroup, spec: TopologyNode): Group {
	const sign = spec.role === 'server' || spec.role === 'attacker';
	const client = spec.role === 'client' || spec.role === 'terminal';
	let file: string | undefined;
	let use: 'sign' | 'verify' | 'client' = 'verify';
	if (sign) [file, use] = [g.key, 'sign'];
	else if (g.alg === 'hmac-sha256') [file, use] = client ? [spec.keys?.[g.name], 'client'] : [g.key, 'verify'];
	else file = g.publicKey;
	const keys = loadKeyMaterial(g.alg, file === undefined ? undefined : keyPath(t, file), use);
	const servers = g.servers.map((s) => parseAddr(t.nodes.find((n) => n.name === s)!.host!.address));
	return {anycast: parseAddr(g.anycast), alg: ALG_BY_NAME[g.alg], keyId: g.keyId, keys, servers};
}

/** Builds node `name` of topology `t`. Throws KeyError/TopologyError on bad configuration, before anything starts. */
export function buildStack(t: Topology, name: string, deps: StackDeps): Stack {
	const spec = t.nodes.find((n) => n.name === name);
	if (!spec) throw new Error(`topology ${t.file} has no node ${name}`);
	const links = linkEnds(t, name);
	const groups = (spec.groups ?? []).map((g) => groupFor(t, t.groups.find((x) => x.name === g)!, spec));
	const served = spec.role === 'server' ? groups : [];
	const health = deps.healthCheck ? deps.healthCheck(name) : spec.health ? commandHealthCheck(spec.health.command[0]!, spec.health.command.slice(1), spec.health.timeoutMs) : undefined;

	// A "kernel" node speaks no routing protocol: no RIPng or BFD on a link to one, and static routes
	// (advertised into RIPng) for what is reached through it. A "kernel" node in memory is the same.
	const isStatic = (peer: string) => t.nodes.find((n) => n.name === peer)?.role === 'kernel';
	const own = spec.role === 'kernel';
	const statics = staticRoutes(t, name, (peer) => own || isStatic(peer)).map((r) => ({
		prefix: r.prefix, link: r.peer, via: formatLL(linkLocalOf(t, r.peer)), metric: r.dist + 1, advertise: true,
	}));
	const routerConfig: RouterConfig = {
		name,
		// Every link is point to point and the topology names its other end: RIPng and BFD with that node only
		// (a BIRD node's TUN carries linkLocalOf too). None on a link to a static "kernel" node.
		links: links.map((l) => ({id: l.id, linkLocal: formatLL(l.linkLocal), neighbour: formatLL(linkLocalOf(t, l.peer)), cost: l.cost, mtu: l.mtu, ...(own || isStatic(l.peer) ? {ripng: false} : {})})),
		...(statics.length > 0 ? {static: statics} : {}),
		anycast: served.map((g) => ({
			address: t.groups.find((x) => parseAddr(x.anycast).every((b, i) => b === g.anycast[i]))!.anycast,
			...(health ? {check: health} : {}),
			...(spec.health ? {intervalMs: spec.health.intervalMs, timeoutMs: spec.health.timeoutMs} : {}),
		})),
		ripng: Object.fromEntries(Object.entries(t.timers.ripng).filter(([, v]) => v !== undefined)),
		bfd: {desiredMinTxMs: t.timers.bfd.intervalMs, requiredMinRxMs: t.timers.bfd.intervalMs, detectMult: t.timers.bfd.multiplier},
		...(t.timers.bfd.dampening ? {dampening: Object.fromEntries(Object.entries(t.timers.bfd.dampening).filter(([, v]) => v !== undefined))} : {}),
	};

	// The router sends through the node, and the node forwards with the router's table.
	const wired: {node?: Node} = {};
	// Each link's control channel, read on demand before BFD declares a neighbour dead.
	const drains = new Map<string, () => void>();
	const router = new Router(routerConfig, {
		clock: deps.clock,
		...(deps.random ? {random: deps.random} : {}),
		send: (link, payload, dst, dstPort, srcPort) => void wired.node?.sendUdp(link, payload, dst, dstPort, srcPort),
		beforeDetect: (link) => drains.get(link)?.(),
	});
	const node = new Node({
		name,
		routes: router.table,
		addresses: spec.address ? [parseAddr(spec.address)] : [],
		...(spec.host ? {errorSource: parseAddr(spec.host.address)} : {}),
		anycast: t.groups.map((g) => parseAddr(g.anycast)),
		now: () => deps.clock.now(),
		...(spec.icmpRate ? {icmpRate: spec.icmpRate} : {}),
		...(spec.reassembly ? {reassembly: Object.fromEntries(Object.entries(spec.reassembly).filter(([, v]) => v !== undefined))} : {}),
		...(spec.controlPlane ? {controlPlane: Object.fromEntries(Object.entries(spec.controlPlane).filter(([, v]) => v !== undefined))} : {}),
		...(deps.onDrop ? {onDrop: deps.onDrop} : {}),
	});
	wired.node = node;
	node.joinGroup(RIPNG_GROUP);
	const control = (port: number) => (payload: Uint8Array, meta: {port: AttachedPort; src: Addr; srcPort: number; dst: Addr; hopLimit: number}) =>
		router.receive(meta.port.name, port, payload, {src: meta.src, srcPort: meta.srcPort, hopLimit: meta.hopLimit, dst: meta.dst});
	node.bindUdp(RIPNG_PORT, control(RIPNG_PORT), true);
	node.bindUdp(BFD_PORT, control(BFD_PORT), true);

	let routeChanges = 0;
	router.table.onChange((changes) => (routeChanges += changes.length));
	let tick: TimerHandle | undefined;
	const linkPorts = new Map<string, Port>();
	const stack: Stack = {
		name,
		spec,
		node,
		router,
		links,
		groups,
		anycastAddresses: t.groups.map((g) => parseAddr(g.anycast)),
		routeChanges: () => routeChanges,
		attachLink(id, transmit, transmitControl, drainControl) {
			const end = links.find((l) => l.id === id);
			if (!end) throw new Error(`${name} has no link to ${id}`);
			if (drainControl) drains.set(id, drainControl);
			const port: Port = {
				name: id, kind: 'link', mtu: end.mtu, linkLocal: end.linkLocal, transmit,
				...(end.zone ? {zone: end.zone} : {}), ...(end.police ? {police: end.police} : {}), ...(transmitControl ? {transmitControl} : {}),
			};
			linkPorts.set(id, port);
			return node.addPort(port);
		},
		setLinkMtu(id, mtu) {
			const port = linkPorts.get(id);
			if (!port) throw new Error(`${name} has no link to ${id}`);
			// The attached port reads it through its prototype (Node.addPort).
			(port as {mtu: number}).mtu = mtu;
		},
		attachHost(transmit, mtu) {
			return node.addPort({name: 'host', kind: 'host', mtu, transmit});
		},
		start() {
			router.start();
			// Reassembly timeouts (RFC 8200 §4.5) and idle flows are checked once a second.
			deps.clock.clear(tick);
			tick = deps.clock.setInterval(() => {
				node.tick();
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
			serverRole(node, {groups, unicast: parseAddr(spec.host!.address), wallNow, now});
			break;
		case 'boundary':
			boundaryRole(node, {groups, inside: (spec.inside ?? []).map((p) => {
					const {addr, len} = parsePrefix(p);
					return {prefix: addr, len};
				}), windowMs: t.replayWindowMs, wallNow});
			break;
		case 'client':
		case 'terminal':
			stack.client = clientRole(node, {groups, windowMs: t.replayWindowMs, wallNow, now});
			break;
		case 'router':
		case 'attacker':
		case 'bird': // BIRD and the kernel forward on their own in the running network; in memory (MemNet) they are routers
		case 'kernel':
			break;
	}
	return stack;
}

function formatLL(a: Addr): string {
	return `fe80::${((a[14]! << 8) | a[15]!).toString(16)}`;
}
