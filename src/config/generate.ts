// `anyguard generate`: a topology from a few parameters, for networks larger
// than one writes by hand. Pure: the same parameters (seed included) give the
// same topology; the key files it names are written by the caller.
//
// Every site is a boundary router in front of one server of S on its own /64
// (the patent's Fig. 1 in miniature, once per site); transit routers join the
// sites and the clients in one of two shapes:
//   tiered     a core of transit routers in a full mesh, the rest of them
//              each homed on two core routers; sites and clients hang off the
//              non-core ones (a transit/stub graph);
//   geometric  routers at random points of the unit square, joined when
//              closer than a radius, the cost growing with the distance; each
//              site and client joins its nearest router.
// RIPng's metric stops at 15 hops of cost, so every client must reach a site
// within that: a shape that does not is refused, with what to change.
import {shortestPaths} from './paths.js';
import type {Topology} from './topology.js';

export const SHAPES = ['tiered', 'geometric'] as const;
export type Shape = (typeof SHAPES)[number];

export interface GenerateOptions {
	sites: number;
	clients: number;
	routers: number;
	shape: Shape;
	seed: number;
	/** Namespace prefix (default `g-`). */
	prefix?: string;
	/** Folder of the key files, relative to the topology file (default `keys`). */
	keyDir?: string;
}

export class GenerateError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'GenerateError';
	}
}

/** The anycast address the generated servers share. */
export const GENERATED_ANYCAST = '2001:db8:1:ac::53';
/** The largest cost a path may add up to: RIPng's infinity is 16 and a route costs one more than its path. */
const MAX_PATH_COST = 14;
const LIMITS = {sites: [1, 4000], clients: [1, 4000], routers: [1, 4000]} as const;

/** A small, seedable generator (mulberry32): the same seed, the same network. */
function random(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** The /64 index of site `i`, skipping the anycast /64 (2001:db8:1:ac::/64). */
function siteNet(i: number): string {
	const n = i + 1 >= 0xac ? i + 2 : i + 1;
	return n.toString(16);
}

export interface Generated {
	/** The topology, as it is written (JSON). */
	json: Record<string, unknown>;
	/** The key files it names: the group key, and each client's key derived for its address. */
	keys: {group: string; clients: Array<{file: string; address: string; label: string}>};
}

export function generateTopology(o: GenerateOptions): Generated {
	for (const k of ['sites', 'clients', 'routers'] as const) {
		const [lo, hi] = LIMITS[k];
		if (!Number.isInteger(o[k]) || o[k] < lo || o[k] > hi) throw new GenerateError(`--${k} takes a whole number ${lo}..${hi}, got ${String(o[k])}`);
	}
	if (!(SHAPES as readonly string[]).includes(o.shape)) throw new GenerateError(`--shape takes ${SHAPES.join(' or ')}, got ${String(o.shape)}`);
	if (!Number.isInteger(o.seed) || o.seed < 0) throw new GenerateError(`--seed takes a whole number ≥ 0, got ${String(o.seed)}`);
	const rnd = random(o.seed);
	const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
	const keyDir = o.keyDir ?? 'keys';
	const groupKey = `${keyDir}/dns.hmac`;

	const routers = Array.from({length: o.routers}, (_, k) => `r${k + 1}`);
	const links: Array<{a: string; b: string; cost?: number}> = [];
	const link = (a: string, b: string, cost: number) => links.push(cost === 1 ? {a, b} : {a, b, cost});
	/** Where a site or client may attach, and at what cost. */
	let attach: () => Array<{router: string; cost: number}>;
	if (o.shape === 'tiered') {
		const core = routers.slice(0, Math.max(1, Math.min(routers.length, Math.ceil(routers.length / 5))));
		const edge = routers.slice(core.length);
		for (let i = 0; i < core.length; i++) for (let j = i + 1; j < core.length; j++) link(core[i]!, core[j]!, 1);
		for (const r of edge) {
			const first = pick(core);
			link(r, first, 1 + Math.floor(rnd() * 2));
			const rest = core.filter((c) => c !== first);
			if (rest.length > 0) link(r, pick(rest), 2 + Math.floor(rnd() * 2));
		}
		const stubs = edge.length > 0 ? edge : core;
		attach = () => [{router: pick(stubs), cost: 1 + Math.floor(rnd() * 2)}];
	} else {
		const at = new Map(routers.map((r) => [r, {x: rnd(), y: rnd()}]));
		const dist = (p: {x: number; y: number}, q: {x: number; y: number}) => Math.hypot(p.x - q.x, p.y - q.y);
		// The radius that keeps a random geometric graph connected, about sqrt(ln n / (π n)), with room.
		const radius = Math.min(1.5, 1.6 * Math.sqrt(Math.log(routers.length + 1) / (Math.PI * routers.length)));
		const cost = (d: number) => 1 + Math.min(2, Math.floor((3 * d) / radius));
		for (let i = 0; i < routers.length; i++) {
			for (let j = i + 1; j < routers.length; j++) {
				const d = dist(at.get(routers[i]!)!, at.get(routers[j]!)!);
				if (d < radius) link(routers[i]!, routers[j]!, cost(d));
			}
		}
		// Join what the radius left apart: each other component to the nearest router of the first.
		const component = (from: string): Set<string> => {
			const seen = new Set([from]);
			for (const queue = [from]; queue.length > 0; ) {
				const r = queue.pop()!;
				for (const l of links) {
					const next = l.a === r ? l.b : l.b === r ? l.a : undefined;
					if (next !== undefined && !seen.has(next)) {
						seen.add(next);
						queue.push(next);
					}
				}
			}
			return seen;
		};
		for (let main = component(routers[0]!); main.size < routers.length; main = component(routers[0]!)) {
			let best: {a: string; b: string; d: number} | undefined;
			for (const a of routers.filter((r) => !main.has(r))) {
				for (const b of main) {
					const d = dist(at.get(a)!, at.get(b)!);
					if (!best || d < best.d) best = {a, b, d};
				}
			}
			link(best!.a, best!.b, cost(best!.d));
		}
		attach = () => {
			const p = {x: rnd(), y: rnd()};
			let best = routers[0]!;
			for (const r of routers) if (dist(p, at.get(r)!) < dist(p, at.get(best)!)) best = r;
			return [{router: best, cost: cost(dist(p, at.get(best)!))}];
		};
	}

	const nodes: Array<Record<string, unknown>> = [];
	const servers: string[] = [];
	const clientKeys: Generated['keys']['clients'] = [];
	for (const [k, r] of routers.entries()) nodes.push({name: r, role: 'router', address: `2001:db8:3::${(k + 1).toString(16)}`});
	for (let i = 0; i < o.sites; i++) {
		const net = siteNet(i);
		const site = `site${i + 1}`;
		const server = `srv${i + 1}`;
		const ups = attach();
		nodes.push({name: site, role: 'boundary', description: `site ${i + 1}: the boundary router of 2001:db8:1:${net}::/64`, address: `2001:db8:1:${net}::1`, outside: ups.map((u) => u.router), inside: [`2001:db8:1:${net}::/64`], groups: ['dns']});
		nodes.push({
			name: server, role: 'server', description: `site ${i + 1}: a server of S`, host: {address: `2001:db8:1:${net}::30`}, groups: ['dns'],
			health: {command: ['dig', `@${GENERATED_ANYCAST}`, '+time=1', '+tries=1', '+short', 'TXT', 'whoami.anyguard'], intervalMs: 1000, timeoutMs: 1000},
		});
		servers.push(server);
		for (const u of ups) link(site, u.router, u.cost);
		link(site, server, 1);
	}
	for (let j = 0; j < o.clients; j++) {
		const name = `c${j + 1}`;
		const net = (j + 1).toString(16);
		const address = `2001:db8:2:${net}::10`;
		const file = `${keyDir}/dns.${name}.hmac`;
		nodes.push({name, role: 'client', host: {address, prefixes: [`2001:db8:2:${net}::/64`]}, groups: ['dns'], keys: {dns: file}});
		clientKeys.push({file, address, label: `${name} (${address})`});
		for (const u of attach()) link(name, u.router, u.cost);
	}

	const json: Record<string, unknown> = {
		$schema: './schema.json',
		name: `generated-${o.shape}-${o.sites}s-${o.clients}c-${o.routers}r-seed${o.seed}`,
		description: `anyguard generate --shape ${o.shape} --sites ${o.sites} --clients ${o.clients} --routers ${o.routers} --seed ${o.seed}`,
		prefix: o.prefix ?? 'g-',
		replayWindowMs: 2000,
		timers: {ripng: {updateMs: 1000, timeoutMs: 4000, gcMs: 2000, triggeredMinMs: 20, triggeredMaxMs: 50}, bfd: {intervalMs: 100, multiplier: 3}},
		groups: [{name: 'dns', anycast: GENERATED_ANYCAST, alg: 'hmac-sha256', keyId: 1, key: groupKey, servers}],
		nodes,
		links,
	};
	checkReach(json);
	return {json, keys: {group: groupKey, clients: clientKeys}};
}

/** Every client within RIPng's reach of a server, or an error that says what to change. */
function checkReach(json: Record<string, unknown>): void {
	const t = json as unknown as Topology;
	// The file leaves a link's cost out when it is 1; loading fills it in.
	const far = [...predictCatchment({...t, links: t.links.map((l) => ({...l, cost: l.cost ?? 1}))})]
		.filter(([, p]) => p.cost > MAX_PATH_COST)
		.map(([client, p]) => `${client} (${p.cost === Infinity ? 'unreachable' : `cost ${p.cost}`})`);
	if (far.length > 0) throw new GenerateError(`${far.length} client${far.length === 1 ? ' is' : 's are'} farther from every site than RIPng reaches (path cost > ${MAX_PATH_COST}): ${far.slice(0, 5).join(', ')}${far.length > 5 ? ', …' : ''}; add sites, or use fewer routers`);
}

/** For each client and terminal, the servers nearest by the link costs: what RIPng should settle on (several on a tie). */
export function predictCatchment(t: Topology, group = t.groups[0]!): Map<string, {servers: string[]; cost: number}> {
	// Links cost the same both ways: one search from each server serves every client.
	const fromServer = group.servers.map((s) => [s, shortestPaths(t, s)] as const);
	const out = new Map<string, {servers: string[]; cost: number}>();
	for (const n of t.nodes.filter((x) => x.role === 'client' || x.role === 'terminal')) {
		let cost = Infinity;
		let servers: string[] = [];
		for (const [s, paths] of fromServer) {
			const d = paths.get(n.name)?.dist ?? Infinity;
			if (d < cost) [cost, servers] = [d, [s]];
			else if (d === cost) servers.push(s);
		}
		out.set(n.name, {servers, cost});
	}
	return out;
}
