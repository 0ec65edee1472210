// The topology file: the single source of truth for the setup scripts and
// the role processes. JSON or YAML (`.yaml`, `.yml`), validated here with
// errors that name the file, the field and, where the file tells, the line.
// The JSON Schema editors check it against (netns/topologies/schema.json) is
// generated from the zod schema below (npm run schema).
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname, isAbsolute, resolve} from 'node:path';
import {LineCounter, parseDocument} from 'yaml';
import {z} from 'zod';
import {AddrError, parseAddr, parsePrefix} from '../util/addr.js';
import {ConditionSyntaxError, conditionsOf, parseDuration, parseLoss, parseRate} from './conditions.js';

/** One thing wrong with a topology: the field's path (`links[3].b`), why, and its line when known. */
export interface TopologyProblem {
	field: string;
	reason: string;
	line?: number;
}

function describe(p: TopologyProblem): string {
	return `${p.field ? `${p.field}: ` : ''}${p.reason}${p.line ? ` (line ${p.line})` : ''}`;
}

export class TopologyError extends Error {
	override readonly name = 'TopologyError';
	readonly code = 'bad-topology';
	/** Every problem found, the first one also in `field`. */
	readonly problems: TopologyProblem[];
	readonly field: string;
	constructor(
		readonly file: string,
		field: string | TopologyProblem[],
		reason = '',
	) {
		const problems = typeof field === 'string' ? [{field, reason}] : field;
		super(
			problems.length === 1
				? `topology ${file}: ${describe(problems[0]!)}`
				: `topology ${file}: ${problems.length} problems:\n${problems.map((p) => `  ${describe(p)}`).join('\n')}`,
		);
		this.problems = problems;
		this.field = problems[0]?.field ?? '';
	}
}

const ipv6 = z.string().refine((s) => isValid(() => parseAddr(s)), {message: 'not an IPv6 address'});
const prefix = z.string().refine((s) => isValid(() => parsePrefix(s)), {message: 'not an IPv6 prefix (addr/len)'});
const name = z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, 'lower-case letters, digits and dashes, starting with a letter, at most 12 characters');

function isValid(f: () => unknown): boolean {
	try {
		f();
		return true;
	} catch (error) {
		if (error instanceof AddrError) return false;
		throw error;
	}
}

export const ROLES = ['client', 'router', 'boundary', 'server', 'terminal', 'attacker', 'bird', 'kernel'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles whose node is the Linux kernel's own forwarding, with no anyguard
 * process: `bird` runs BIRD 2 (RIPng and BFD, configured from the topology),
 * `kernel` has static routes only (src/netns/kernel.ts's shortest paths).
 */
export const KERNEL_ROLES = ['bird', 'kernel'] as const;
export type KernelRole = (typeof KERNEL_ROLES)[number];

export function isKernelRole(role: Role): role is KernelRole {
	return (KERNEL_ROLES as readonly string[]).includes(role);
}

/** A condition field: its parser must accept the value (the message is the parser's). */
function condition(parse: (v: string | number) => unknown) {
	return z.union([z.string(), z.number()]).superRefine((v, ctx) => {
		try {
			parse(v);
		} catch (error) {
			if (!(error instanceof ConditionSyntaxError)) throw error;
			ctx.addIssue({code: 'custom', message: error.message});
		}
	});
}

const groupSchema = z.strictObject({
	name,
	anycast: ipv6.describe('The anycast address S.'),
	alg: z.enum(['none', 'hmac-sha256', 'ed25519']),
	keyId: z.number().int().min(0).max(255).default(1),
	key: z.string().optional().describe('HMAC key (hex) or Ed25519 private key (PEM); relative to the topology file.'),
	publicKey: z.string().optional().describe('Ed25519 public key (PEM), for verifiers.'),
	servers: z.array(name).min(1).describe('Names of the server nodes that hold S: the provisioned list.'),
	unauthenticated: z.literal(true).optional().describe('alg "none" only: the operator knows anyone can forge this group\'s bare identifier (the patent\'s own scheme, for comparison).'),
});

const rate = z.strictObject({
	perSecond: z.number().min(0).max(1_000_000),
	burst: z.number().int().min(1).max(1_000_000),
});

const nodeSchema = z.strictObject({
	name,
	role: z.enum(ROLES).describe('What the node does: client and terminal (verify), server (stamp), boundary (check), router, attacker.'),
	description: z.string().optional().describe('What the role is in the patent\'s figures, for people.'),
	address: ipv6.optional().describe('The node\'s own address (routers): the source of the ICMPv6 errors it sends, answered by its own stack.'),
	/** The host (kernel) behind the node's TUN: its address, and prefixes routed to it (default the address/128). */
	host: z
		.strictObject({
			address: ipv6,
			prefixes: z.array(prefix).optional(),
		})
		.optional(),
	groups: z.array(name).optional().describe('Servers: groups whose S they hold. Clients and terminals: groups whose responses they verify. Attacker: groups whose keys it stole (for the wrong-group attack).'),
	/**
	 * Clients and terminals: for each HMAC group they verify, the file of the key
	 * derived for their /64 (anyguard keygen client). They never hold the group key.
	 */
	keys: z.record(z.string(), z.string()).optional(),
	outside: z.array(name).optional().describe('Boundary router: neighbours on the outside; every other link is inside.'),
	inside: z.array(prefix).optional().describe('Boundary router: the server network\'s prefixes, for ingress filtering.'),
	/** RFC 4443 §2.4(f): this node's ICMPv6 error rate limit, a token bucket (default 100/s, burst 10). */
	icmpRate: z
		.strictObject({
			perSecond: z.number().min(0).max(1_000_000),
			burst: z.number().int().min(1).max(1_000_000),
		})
		.optional(),
	/**
	 * Control-plane policing (docs/pipeline.md): route exchange and BFD per link
	 * (default 1000/s, burst 200), every other packet to the node's own stack
	 * (default 2000/s, burst 200), and the echo replies and ICMPv6 errors it
	 * sends per destination prefix (default 100/s, burst 50, per /64).
	 */
	controlPlane: z
		.strictObject({
			control: rate.optional(),
			local: rate.optional(),
			replies: rate.extend({prefixLen: z.number().int().min(0).max(128).optional()}).optional(),
		})
		.optional(),
	/** Fragment reassembly at this node (RFC 8200 §4.5): timeout and memory bounds (default 60 s, 4 MiB, 1024 datagrams, 256 fragments each). */
	reassembly: z
		.strictObject({
			timeoutMs: z.number().int().min(100).max(600_000).optional(),
			maxBytes: z.number().int().min(65_536).max(1 << 30).optional(),
			maxDatagrams: z.number().int().min(1).max(1_000_000).optional(),
			maxFragments: z.number().int().min(2).max(8192).optional(),
		})
		.optional(),
	/** Servers: a command whose success keeps S originated. */
	health: z
		.strictObject({
			command: z.array(z.string()).min(1),
			intervalMs: z.number().int().min(50).default(500),
			timeoutMs: z.number().int().min(10).default(400),
		})
		.optional(),
});

const linkSchema = z.strictObject({
	a: name.describe('One end: a node name.'),
	b: name.describe('The other end: a node name.'),
	cost: z.number().int().min(1).max(15).default(1).describe('RIPng metric added across the link (1..15): lower costs make the nearer server.'),
	mtu: z.number().int().min(1280).max(9000).default(1500).describe('Largest inner IPv6 packet the link carries.'),
	/**
	 * Ingress policing, the provisioned rate of an access link: the node `at`
	 * (both ends when absent) admits at most `perSecond` data packets a second
	 * from the link, in a token bucket of `burst`. A provider polices what a
	 * customer sends in, so `at` is the provider's side. Route exchange and BFD
	 * on the link's control channel are not counted against it.
	 */
	police: rate.extend({at: name.optional()}).optional().describe('Ingress policing at node `at` (both ends without it): at most perSecond data packets a second from the link, a burst of burst.'),
	/** One-way delay each direction ("20ms"): a 20 ms link adds 40 ms to a round trip (docs/routing.md, link conditions). */
	delay: condition((v) => parseDuration(v)).optional().describe('One-way delay each direction, e.g. "20ms" (applied in userspace: this kind of kernel has no netem).'),
	/** Each packet's delay varies within ±jitter ("2ms"), never reordering a channel. At most the delay. */
	jitter: condition((v) => parseDuration(v, 'jitter')).optional().describe('Each packet\'s delay varies within ±jitter, e.g. "2ms", never reordering; at most the delay.'),
	/** Random loss each direction ("1%"), on the whole wire, route exchange and BFD included. */
	loss: condition(parseLoss).optional().describe('Random loss each direction, e.g. "1%", route exchange and BFD included.'),
	/** Rate each direction ("10mbit"); route exchange and BFD are sent first. */
	rate: condition(parseRate).optional().describe('Rate each direction, e.g. "10mbit"; route exchange and BFD are sent first.'),
	/** BFD on the link (RFC 5880): routes through a neighbour are used while its session is Up. Default true; false leaves route exchange alone to notice a silent failure. */
	bfd: z.boolean().default(true),
});

const topologySchema = z.strictObject({
	$schema: z.string().optional().describe('The JSON Schema the file follows, for editors (netns/topologies/schema.json).'),
	name: z.string().min(1),
	description: z.string().optional(),
	prefix: z.string().regex(/^[a-z][a-z0-9]{0,5}-$/, 'a short lower-case word ending in "-"').default('ag-').describe('Namespace prefix; tests change it so they never collide with a running demo.'),
	replayWindowMs: z.number().int().min(100).max(600_000).default(2000),
	timers: z
		.strictObject({
			ripng: z
				.strictObject({
					updateMs: z.number().int().min(100).optional(),
					timeoutMs: z.number().int().min(300).optional(),
					gcMs: z.number().int().min(100).optional(),
					triggeredMinMs: z.number().int().min(0).optional(),
					triggeredMaxMs: z.number().int().min(0).optional(),
				})
				.default({}),
			bfd: z
				.strictObject({
					intervalMs: z.number().int().min(10).default(100),
					multiplier: z.number().int().min(1).max(255).default(3),
					/**
					 * Flap dampening (RFC 2439 §4.2 applied to BFD, docs/routing.md): a
					 * session that goes down from Up repeatedly is held down for routing
					 * until its penalty decays. Off when absent; `{}` takes the defaults
					 * (penalty 1000, suppress 3000, reuse 1500, half-life 120 s, at most 300 s).
					 */
					dampening: z
						.strictObject({
							penalty: z.number().min(1).optional(),
							suppress: z.number().min(1).optional(),
							reuse: z.number().min(1).optional(),
							halfLifeMs: z.number().int().min(100).optional(),
							maxHoldMs: z.number().int().min(100).optional(),
						})
						.optional(),
				})
				.default({intervalMs: 100, multiplier: 3}),
		})
		.default({ripng: {}, bfd: {intervalMs: 100, multiplier: 3}}),
	groups: z.array(groupSchema),
	nodes: z.array(nodeSchema).min(1),
	links: z.array(linkSchema),
});

export type Topology = z.infer<typeof topologySchema> & {file: string; dir: string};
export type TopologyNode = z.infer<typeof nodeSchema>;
export type TopologyGroup = z.infer<typeof groupSchema>;
export type TopologyLink = z.infer<typeof linkSchema>;

function fieldPath(path: readonly PropertyKey[]): string {
	return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

export interface TopologyChecks {
	/**
	 * Check the key roles (docs/protocol.md §3). Default true; `down` turns it
	 * off, so that a network brought up under older rules can still be removed.
	 */
	keyRoles?: boolean;
}

/** Validates a parsed topology; `file` names it in errors. */
/**
 * Validates a parsed topology; `file` names it in errors. Throws one
 * TopologyError listing every problem: every field the schema refuses, or
 * else the cross-checks (each node, group and link checked on its own, its
 * first problem reported).
 */
export function parseTopology(json: unknown, file: string, checks: TopologyChecks = {}, lineOf: (path: string) => number | undefined = () => undefined): Topology {
	const located = (field: string, reason: string): TopologyProblem => {
		const line = lineOf(field);
		return line === undefined ? {field, reason} : {field, reason, line};
	};
	const result = topologySchema.safeParse(json);
	if (!result.success) throw new TopologyError(file, result.error.issues.map((i) => located(fieldPath(i.path), i.message)));
	const t: Topology = {...result.data, file, dir: dirname(resolve(file))};
	const problems = crossCheck(t, checks.keyRoles ?? true).map((p) => located(p.field, p.reason));
	if (problems.length > 0) throw new TopologyError(file, problems);
	return t;
}

/** Whether `file` is YAML by its name. */
export function isYaml(file: string): boolean {
	return /\.ya?ml$/i.test(file);
}

/** The file's text, parsed (JSON or YAML by its name), and a function from a field's path to its line. */
export function readTopologyFile(file: string): {json: unknown; lineOf: (path: string) => number | undefined} {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		throw new TopologyError(file, '', `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
	}
	// The YAML library reads JSON too (YAML 1.2 is a superset); it is used for YAML, and for JSON only to find lines.
	const lines = new LineCounter();
	const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true});
	const lineOf = (path: string): number | undefined => {
		const keys = [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
		for (let n = keys.length; n >= 0; n--) {
			const node = doc.getIn(keys.slice(0, n), true) as {range?: [number, number, number]} | undefined;
			if (node?.range) return lines.linePos(node.range[0]).line;
		}
		return undefined;
	};
	if (isYaml(file)) {
		if (doc.errors.length > 0) {
			throw new TopologyError(file, doc.errors.map((e) => ({field: '', reason: `not valid YAML: ${e.message.split('\n')[0]}`, ...(e.linePos?.[0] ? {line: e.linePos[0].line} : {})})));
		}
		return {json: doc.toJS({maxAliasCount: 100}), lineOf};
	}
	try {
		return {json: JSON.parse(text), lineOf: doc.errors.length === 0 ? lineOf : () => undefined};
	} catch (error) {
		throw new TopologyError(file, '', `not valid JSON: ${(error as Error).message}`);
	}
}

export function loadTopology(file: string, checks: TopologyChecks = {}): Topology {
	const {json, lineOf} = readTopologyFile(file);
	return parseTopology(json, file, checks, lineOf);
}

/** The zod schema as a JSON Schema (draft-07), for editors: netns/topologies/schema.json is this. */
export function topologyJsonSchema(): Record<string, unknown> {
	return {
		// Draft-07: what editors' JSON and YAML language servers check best.
		...z.toJSONSchema(topologySchema, {io: 'input', unrepresentable: 'any', target: 'draft-7'}),
		$id: 'https://anyguard.invalid/topology.schema.json',
		title: 'anyguard topology',
		description: 'A network of anyguard nodes in Linux network namespaces (README.md, docs/architecture.md).',
	};
}

/**
 * Writes a copy of topology file `source` to `file` with `prefix` and every
 * key path (groups' and nodes') made absolute, so the copy loads from
 * anywhere: tests and benchmarks run the default network under their own prefix.
 */
export function copyTopology(source: string, prefix: string, file: string): string {
	const json = readTopologyFile(source).json as {prefix: string; groups: Array<{key?: string; publicKey?: string}>; nodes: Array<{keys?: Record<string, string>}>};
	json.prefix = prefix;
	const absolute = (p: string) => (isAbsolute(p) ? p : resolve(dirname(source), p));
	for (const g of json.groups) {
		if (g.key) g.key = absolute(g.key);
		if (g.publicKey) g.publicKey = absolute(g.publicKey);
	}
	for (const n of json.nodes) for (const k of Object.keys(n.keys ?? {})) n.keys![k] = absolute(n.keys![k]!);
	writeFileSync(file, JSON.stringify(json, null, 2));
	return file;
}

/** A key path named in the topology, resolved against the topology file's folder. */
export function keyPath(t: Topology, path: string): string {
	return isAbsolute(path) ? path : resolve(t.dir, path);
}

/** Addresses the lab uses for itself (src/netns/names.ts UNDERLAY_PREFIX, src/netns/kernel.ts). */
const RESERVED = '2001:db8:ff00::/40';

function prefixesOverlap(a: Uint8Array, aLen: number, b: Uint8Array, bLen: number): boolean {
	const bits = Math.min(aLen, bLen);
	for (let i = 0; i < bits; i++) if (((a[i >> 3]! >> (7 - (i & 7))) & 1) !== ((b[i >> 3]! >> (7 - (i & 7))) & 1)) return false;
	return true;
}

/** Checks what the schema cannot: names that refer, addresses that clash, what each role needs. Every item on its own: its first problem. */
function crossCheck(t: Topology, keyRoles: boolean): TopologyProblem[] {
	const problems: TopologyProblem[] = [];
	const fail = (field: string, reason: string): never => {
		throw new TopologyError(t.file, field, reason);
	};
	/** Runs the checks of one item; a problem ends that item's checks, not the others'. */
	const item = (check: () => void) => {
		try {
			check();
		} catch (error) {
			if (!(error instanceof TopologyError)) throw error;
			problems.push(...error.problems);
		}
	};
	const nodes = new Map<string, TopologyNode>();
	t.nodes.forEach((n, i) =>
		item(() => {
			if (nodes.has(n.name)) fail(`nodes[${i}].name`, `duplicate node ${n.name}`);
			nodes.set(n.name, n);
		}),
	);
	const groups = new Map<string, TopologyGroup>();
	t.groups.forEach((g, i) =>
		item(() => {
			if (groups.has(g.name)) fail(`groups[${i}].name`, `duplicate group ${g.name}`);
			groups.set(g.name, g);
			if (g.alg !== 'none' && !g.key) fail(`groups[${i}].key`, `algorithm ${g.alg} needs a key file`);
			g.servers.forEach((s, j) => {
				const n = nodes.get(s);
				if (!n) fail(`groups[${i}].servers[${j}]`, `unknown node "${s}"`);
				else if (n.role !== 'server') fail(`groups[${i}].servers[${j}]`, `${s} is a ${n.role}, not a server`);
				else if (!n.host) fail(`groups[${i}].servers[${j}]`, `server ${s} has no host address`);
			});
		}),
	);
	const seen = new Set<string>();
	t.links.forEach((l, i) =>
		item(() => {
			for (const end of ['a', 'b'] as const) if (!nodes.has(l[end])) fail(`links[${i}].${end}`, `unknown node "${l[end]}"`);
			if (l.a === l.b) fail(`links[${i}]`, `a link from ${l.a} to itself`);
			if (l.police?.at !== undefined && l.police.at !== l.a && l.police.at !== l.b) fail(`links[${i}].police.at`, `${l.police.at} is not an end of the link ${l.a}–${l.b}`);
			const key = [l.a, l.b].sort().join('|');
			if (seen.has(key)) fail(`links[${i}]`, `a second link between ${l.a} and ${l.b}`);
			seen.add(key);
			try {
				conditionsOf(l);
			} catch (error) {
				if (!(error instanceof ConditionSyntaxError)) throw error;
				fail(`links[${i}]`, error.message);
			}
		}),
	);
	// The lab's own addresses: the underlay of every link (2001:db8:ffff::/48) and the kernel baseline's links.
	const reserved = parsePrefix(RESERVED);
	const clash = (text: string) => {
		const {addr, len} = text.includes('/') ? parsePrefix(text) : {addr: parseAddr(text), len: 128};
		return prefixesOverlap(addr, len, reserved.addr, reserved.len);
	};
	const noClash = (field: string, text: string | undefined) => {
		if (text !== undefined && clash(text)) fail(field, `${text} overlaps ${RESERVED}, which the lab keeps for its link underlay`);
	};
	t.groups.forEach((g, i) => item(() => noClash(`groups[${i}].anycast`, g.anycast)));
	t.nodes.forEach((n, i) =>
		item(() => {
			noClash(`nodes[${i}].address`, n.address);
			noClash(`nodes[${i}].host.address`, n.host?.address);
			(n.host?.prefixes ?? []).forEach((p, j) => noClash(`nodes[${i}].host.prefixes[${j}]`, p));
			(n.inside ?? []).forEach((p, j) => noClash(`nodes[${i}].inside[${j}]`, p));
		}),
	);
	const neighbours = (n: string) => t.links.filter((l) => l.a === n || l.b === n).map((l) => (l.a === n ? l.b : l.a));
	const addresses = new Map<string, string>();
	t.nodes.forEach((n, i) => item(() => {
		const at = `nodes[${i}]`;
		if (neighbours(n.name).length === 0) fail(at, `${n.name} has no links`);
		for (const [field, a] of [
			['address', n.address],
			['host.address', n.host?.address],
		] as const) {
			if (!a) continue;
			const canon = parseAddr(a).join('.');
			if (addresses.has(canon)) fail(`${at}.${field}`, `address ${a} is also ${addresses.get(canon)}`);
			addresses.set(canon, `${n.name}.${field}`);
		}
		for (const [j, g] of (n.groups ?? []).entries()) if (!groups.has(g)) fail(`${at}.groups[${j}]`, `no group named ${g}`);
		if (n.role === 'server' && !n.host) fail(`${at}.host`, 'a server needs a host address');
		if (n.role === 'server') for (const g of n.groups ?? []) if (!groups.get(g)!.servers.includes(n.name)) fail(`${at}.groups`, `${n.name} serves ${g} but is not in its servers list`);
		if ((n.role === 'client' || n.role === 'terminal' || n.role === 'attacker') && !n.host) fail(`${at}.host`, `a ${n.role} needs a host address`);
		if (n.role === 'router' && !n.address) fail(`${at}.address`, 'a router needs an address (the source of its ICMPv6 errors)');
		if (n.role === 'boundary') {
			if (!n.outside?.length) fail(`${at}.outside`, 'a boundary router needs at least one outside neighbour');
			if (!n.inside?.length) fail(`${at}.inside`, 'a boundary router needs the server network prefixes');
			if (!n.address) fail(`${at}.address`, 'a boundary router needs an address');
			for (const [j, o] of (n.outside ?? []).entries()) if (!neighbours(n.name).includes(o)) fail(`${at}.outside[${j}]`, `${o} is not a neighbour of ${n.name}`);
		} else if (n.outside || n.inside) fail(`${at}`, 'only a boundary router has inside/outside');
		if (n.health && n.role !== 'server') fail(`${at}.health`, 'only servers have a health check');
		if (isKernelRole(n.role)) {
			if (!n.address) fail(`${at}.address`, `a ${n.role} node needs an address (on its loopback: the source of its ICMPv6 errors, and its router id)`);
			for (const field of ['host', 'groups', 'keys', 'icmpRate', 'controlPlane', 'reassembly'] as const)
				if (n[field] !== undefined) fail(`${at}.${field}`, `a ${n.role} node is the Linux kernel's forwarding, not an anyguard role: it has no ${field}`);
		}
		if (keyRoles) checkKeyRoles(t, n, at, groups, fail);
	}));
	return problems;
}

/**
 * Key roles (docs/protocol.md §3): holding what verifies must never be
 * enough to forge. The group's signing key (the HMAC group key, the Ed25519
 * private key) is for its servers, and for HMAC also the boundary router;
 * clients and terminals verify with their own derived HMAC key or the
 * Ed25519 public key. A configuration that would hand a verifier more is
 * refused here, before any key is read.
 */
function checkKeyRoles(t: Topology, n: TopologyNode, at: string, groups: Map<string, TopologyGroup>, fail: (field: string, reason: string) => never): void {
	const verifier = n.role === 'client' || n.role === 'terminal';
	for (const [j, gname] of (n.groups ?? []).entries()) {
		const g = groups.get(gname)!;
		if (g.alg === 'none' && verifier && !g.unauthenticated)
			fail(`${at}.groups[${j}]`, `group ${gname} uses alg "none": anyone can forge its bare identifier; set "unauthenticated": true on the group to accept that`);
		if (g.alg === 'ed25519' && (verifier || n.role === 'boundary') && !g.publicKey)
			fail(`${at}.groups[${j}]`, `${n.name} verifies ed25519 group ${gname}, which has no publicKey: a verifier holds the public key only, never the private one`);
		if (g.alg === 'hmac-sha256' && verifier) {
			const file = n.keys?.[gname];
			if (!file)
				fail(`${at}.keys`, `${n.name} verifies HMAC group ${gname} and needs its own client key ("keys": {"${gname}": FILE}, made with anyguard keygen client ${g.key ?? 'GROUPKEY'} ${n.host?.address ?? 'ADDRESS'} FILE): the group key would let it forge answers to everybody`);
			if (g.key && keyPath(t, file) === keyPath(t, g.key)) fail(`${at}.keys.${gname}`, `${file} is group ${gname}'s own key; a ${n.role} gets the key derived for its /64 (anyguard keygen client)`);
		}
	}
	for (const gname of Object.keys(n.keys ?? {})) {
		const g = groups.get(gname);
		if (!verifier) fail(`${at}.keys`, `only clients and terminals hold client keys; a ${n.role} does not`);
		if (!g) fail(`${at}.keys.${gname}`, `no group named ${gname}`);
		if (g.alg !== 'hmac-sha256') fail(`${at}.keys.${gname}`, `group ${gname} is ${g.alg}: client keys are for HMAC groups`);
		if (!(n.groups ?? []).includes(gname)) fail(`${at}.keys.${gname}`, `${n.name} does not verify group ${gname} (not in its groups)`);
	}
}
