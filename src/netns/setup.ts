// `anyguard up` and `anyguard down`: the namespaces, veths, TUNs, addresses
// and routes of a topology, the role processes under their supervisors, the
// DNS service on the servers, and the link from the host's root namespace to
// the client. Every step is an external command, shown as it runs.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {privateDir, trustedDir} from '../util/statedir.js';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {KeyError, deriveClientKey, loadHmacKey} from '../anycast/keys.js';
import {nodeGroups} from '../assembly/keys.js';
import {hostMtu} from '../assembly/links.js';
import {TopologyError, isKernelRole, keyPath, loadTopology} from '../config/topology.js';
import type {Topology, TopologyLink, TopologyNode} from '../config/topology.js';
import {formatAddr, parseAddr, parsePrefix} from '../util/addr.js';
import {applyKernelConditions, applyKernelPolice, checkNetem, describeConditions, kernelLinkLocal, linkKey, linkKind, topologyConditions, tunEnds, writeLinkStates} from './links.js';
import {BIRD, applyBirdNeighbourRules, birdConfig, BirdError} from './bird.js';
import {staticRoutes} from '../config/paths.js';
import {ConvergeError, waitConverged} from './converge.js';
import {HOST_LINK_IFNAME, TUN_NAME, UNDERLAY_OVERHEAD, files, hostVeth, linkIfname, namespace, networkPrefixes, stateDir, underlayAddress} from './names.js';

export class SetupError extends Error {
	override readonly name = 'SetupError';
	constructor(
		readonly code: 'missing-tool' | 'command-failed' | 'not-root' | 'busy' | 'not-converged',
		message: string,
	) {
		super(message);
	}
}

export interface Progress {
	step(text: string): void;
	detail(text: string): void;
}

/** Steps always; each command only when `verbose`. */
export const consoleProgress = (verbose = false): Progress => ({
	step: (text) => process.stderr.write(`• ${text}\n`),
	detail: (text) => {
		if (verbose) process.stderr.write(`    ${text}\n`);
	},
});

/** Debian packages that provide the tools `up` runs. */
export const TOOLS: Record<string, string> = {ip: 'iproute2', dnsmasq: 'dnsmasq-base', dig: 'dnsutils', ping: 'iputils-ping', tcpdump: 'tcpdump'};

/** The tools `up` runs for topology `t` (bird nodes need BIRD), those missing. */
export function missingTools(t?: Topology): string[] {
	const need = {...TOOLS, ...(t && t.nodes.some((n) => n.role === 'bird') ? BIRD_TOOLS : {})};
	const found = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool} || test -x /sbin/${tool}`]).status === 0;
	return Object.keys(need).filter((tool) => !found(tool));
}

/** Debian packages of what a topology with bird nodes needs besides. */
export const BIRD_TOOLS: Record<string, string> = {bird: 'bird2', birdc: 'bird2'};

function run(progress: Progress, args: string[], okIf?: RegExp): void {
	progress.detail(args.join(' '));
	const r = spawnSync(args[0]!, args.slice(1), {encoding: 'utf8'});
	if (r.status !== 0 && !(okIf && okIf.test(r.stderr))) {
		throw new SetupError('command-failed', `${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
	}
}

/**
 * How to run the anyguard command from here: the compiled entry next to this
 * module, or the TypeScript source through tsx when this module is running
 * from source (tests, development). Not process.argv: a test runner or a
 * library caller is not the CLI.
 */
export function selfCommand(): string[] {
	const here = import.meta.url;
	if (here.endsWith('.ts')) {
		return [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../cli/main.ts', here))];
	}
	return [process.execPath, fileURLToPath(new URL('../cli/main.js', here))];
}

/** The address each server answers DNS on: all the anycast addresses it holds. */
function anycastAddresses(t: Topology, spec: TopologyNode): string[] {
	return spec.role === 'server' ? (spec.groups ?? []).map((g) => t.groups.find((x) => x.name === g)!.anycast) : [];
}

export function clientNode(t: Topology): TopologyNode | undefined {
	return t.nodes.find((n) => n.role === 'client');
}

/** Root namespace ↔ client: the client's first host prefix, ::1 on the client side, ::100 on the host side. */
export function hostLinkAddresses(t: Topology): {client: string; host: string; len: number} | undefined {
	const client = clientNode(t);
	const prefix = client?.host?.prefixes?.[0];
	if (!prefix) return undefined;
	const {addr, len} = parsePrefix(prefix);
	const at = (last: number) => {
		const a = addr.slice();
		a[14] = last >> 8;
		a[15] = last & 0xff;
		return formatAddr(a);
	};
	return {client: at(1), host: at(0x100), len};
}

export interface UpOptions {
	stateRoot?: string;
	/** Link the host's root namespace to the client (default true). */
	hostLink?: boolean;
	/** Seconds to wait for routing to converge. */
	timeoutS?: number;
	/** Restart delay of the supervisors, ms. */
	restartDelayMs?: number;
	/** Show every command as it runs. */
	verbose?: boolean;
	/**
	 * Start the role processes and wait for routing (default true). false
	 * leaves the namespaces, links and TUNs for other forwarders (the C relay
	 * baseline of bench/e2e.ts).
	 */
	roles?: boolean;
	/**
	 * Metric of the host's routes to the network. A second network (a test
	 * beside a running demo) with a lower metric takes the host's traffic
	 * while it is up, instead of failing on routes that exist.
	 */
	hostRouteMetric?: number;
	progress?: Progress;
}

/**
 * `convergedMs`: from the start of `up` to routing converged; `routingMs`:
 * from the role processes' start to routing converged (0 with roles: false).
 */
export async function up(topologyFile: string, options: UpOptions = {}): Promise<{state: string; convergedMs: number; routingMs: number; livenessMs: number}> {
	const progress = options.progress ?? consoleProgress(options.verbose);
	const t = loadTopology(topologyFile);
	checkKeys(t);
	if (process.getuid?.() !== 0) throw new SetupError('not-root', 'anyguard up needs root: it creates network namespaces');
	const missing = missingTools(t);
	if (missing.length > 0)
		throw new SetupError('missing-tool', `missing ${missing.join(', ')}: install with apt-get install -y ${[...new Set(missing.map((m) => TOOLS[m] ?? BIRD_TOOLS[m]))].join(' ')}`);
	checkLinkConditions(t);
	// Each bird node's configuration; what BIRD cannot be told stops up here, before anything is made.
	const birdConfs = new Map<string, string>();
	for (const n of t.nodes.filter((x) => x.role === 'bird')) {
		try {
			birdConfs.set(n.name, birdConfig(t, n.name, stateDir(t, options.stateRoot)));
		} catch (error) {
			if (error instanceof BirdError) throw new SetupError('command-failed', error.message);
			throw error;
		}
	}
	const state = stateDir(t, options.stateRoot);
	const taken = t.nodes.map((n) => namespace(t, n.name)).filter((ns) => existsSync(`/run/netns/${ns}`));
	if (taken.length > 0) throw new SetupError('busy', `namespaces ${taken.join(', ')} exist already: run \`anyguard down\` first`);
	const hostLink = options.hostLink ?? true;
	if (hostLink && existsSync(`/sys/class/net/${hostVeth(t)}`)) throw new SetupError('busy', `${hostVeth(t)} exists already: run \`anyguard down\` first`);
	const started = Date.now();
	let processesAt = started;
	let routingMs = 0;
	let livenessMs = 0;
	privateDir(state); // 0700, ours, or refused before anything is made
	// The role processes read the topology (and its key files, relative to it) from where it is.
	const topologyPath = resolve(topologyFile);
	writeFileSync(files.topology(state), `${topologyPath}\n`, {mode: 0o600});

	try {
		progress.step(`namespaces: ${t.nodes.length} (${t.prefix}*)`);
		for (const n of t.nodes) {
			const ns = namespace(t, n.name);
			run(progress, ['ip', 'netns', 'add', ns]);
			run(progress, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
			// A link set down and up again must come back as it was: by default Linux flushes a device's
			// IPv6 addresses when it goes down, and the underlay address the link's sockets are bound to
			// would never return. Devices moved into the namespace later take the namespace's default.
			run(progress, ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.keep_addr_on_down=1']);
			if (isKernelRole(n.role)) kernelNamespace(t, n, progress);
		}
		const kinds = t.links.map((l) => linkKind(t, l));
		const count = (k: string) => kinds.filter((x) => x === k).length;
		progress.step(`links: ${count('udp')} veth pairs with the UDP underlay (MTU inner + ${UNDERLAY_OVERHEAD})${count('tun') ? `, ${count('tun')} TUNs in kernel nodes` : ''}${count('veth') ? `, ${count('veth')} plain veths between kernel nodes` : ''}`);
		for (const l of t.links) {
			if (linkKind(t, l) !== 'udp') {
				kernelLink(t, l, progress);
				continue;
			}
			const [a, b] = [namespace(t, l.a), namespace(t, l.b)];
			run(progress, ['ip', 'link', 'add', linkIfname(l.b), 'netns', a, 'type', 'veth', 'peer', 'name', linkIfname(l.a), 'netns', b]);
			for (const [ns, node, peer] of [
				[a, l.a, l.b],
				[b, l.b, l.a],
			] as const) {
				const dev = linkIfname(peer);
				// addrgenmode none: no automatic link-local, so no DAD and no router solicitations; the underlay address is ours.
				run(progress, ['ip', '-n', ns, 'link', 'set', 'dev', dev, 'addrgenmode', 'none', 'mtu', String(l.mtu + UNDERLAY_OVERHEAD)]);
				run(progress, ['ip', '-n', ns, 'addr', 'add', `${underlayAddress(t, l, node)}/64`, 'dev', dev, 'nodad']);
				run(progress, ['ip', '-n', ns, 'link', 'set', 'dev', dev, 'up']);
			}
		}
		const conditions = topologyConditions(t);
		writeLinkStates(state, conditions);
		for (const l of t.links) {
			applyKernelConditions(t, l, conditions[linkKey(l)]!, undefined, progress);
			applyKernelPolice(t, l, progress);
		}
		const shaped = t.links.filter((l) => describeConditions(l, conditions[linkKey(l)]!) !== '-');
		if (shaped.length > 0) progress.step(`link conditions: ${shaped.map((l) => `${l.a}–${l.b} ${describeConditions(l, conditions[linkKey(l)]!)}`).join('; ')}`);
		progress.step('TUN devices, host addresses and routes');
		for (const n of t.nodes) {
			if (isKernelRole(n.role)) continue;
			const ns = namespace(t, n.name);
			run(progress, ['ip', '-n', ns, 'tuntap', 'add', 'dev', TUN_NAME, 'mode', 'tun']);
			run(progress, ['ip', '-n', ns, 'link', 'set', 'dev', TUN_NAME, 'addrgenmode', 'none', 'mtu', String(hostMtu(t, n.name)), 'up']);
			if (!n.host) continue;
			for (const addr of [n.host.address, ...anycastAddresses(t, n)]) run(progress, ['ip', '-n', ns, 'addr', 'add', `${addr}/128`, 'dev', TUN_NAME, 'nodad']);
			// Everything the host sends goes to its node; its node decides.
			run(progress, ['ip', '-n', ns, '-6', 'route', 'add', 'default', 'dev', TUN_NAME]);
		}
		const client = clientNode(t);
		const hostAddrs = hostLinkAddresses(t);
		if (hostLink && client && hostAddrs) {
			progress.step(`host link: ${hostVeth(t)} ${hostAddrs.host} ↔ ${namespace(t, client.name)} ${hostAddrs.client}`);
			const ns = namespace(t, client.name);
			run(progress, ['ip', 'link', 'add', hostVeth(t), 'type', 'veth', 'peer', 'name', HOST_LINK_IFNAME, 'netns', ns]);
			run(progress, ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
			run(progress, ['ip', '-n', ns, 'addr', 'add', `${hostAddrs.client}/${hostAddrs.len}`, 'dev', HOST_LINK_IFNAME, 'nodad']);
			run(progress, ['ip', '-n', ns, 'link', 'set', 'dev', HOST_LINK_IFNAME, 'up']);
			run(progress, ['ip', 'addr', 'add', `${hostAddrs.host}/${hostAddrs.len}`, 'dev', hostVeth(t), 'nodad']);
			run(progress, ['ip', 'link', 'set', 'dev', hostVeth(t), 'up']);
			const metric = String(options.hostRouteMetric ?? 1024);
			for (const p of networkPrefixes(t)) run(progress, ['ip', '-6', 'route', 'add', p, 'via', hostAddrs.client, 'dev', hostVeth(t), 'metric', metric]);
		}
		progress.step('DNS service on the anycast servers (dnsmasq)');
		for (const n of t.nodes.filter((x) => x.role === 'server')) startDnsmasq(t, n, state, progress);
		kernelRoutes(t, progress);
		const birds = t.nodes.filter((n) => n.role === 'bird');
		if (birds.length > 0) {
			progress.step(`BIRD configuration for ${birds.map((n) => n.name).join(', ')} (${state}/<node>.bird.conf)`);
			for (const n of birds) {
				writeBirdConfig(n.name, birdConfs.get(n.name)!, state, progress);
				progress.detail(`${n.name}: RIPng and BFD only from the topology's neighbours (nftables)`);
				applyBirdNeighbourRules(t, n.name);
			}
		}
		if (options.roles !== false) {
			progress.step(birds.length > 0 ? 'role processes and BIRD daemons, each under a supervisor' : 'role processes, each under a supervisor');
			processesAt = Date.now();
			for (const n of t.nodes) if (n.role !== 'kernel') startSupervisor(t, topologyPath, n.name, state, options.restartDelayMs ?? 1000, progress);
			progress.step('waiting for routing to converge, and for BFD to be Up on every link');
			let settled: {routingAt: number};
			try {
				settled = await waitConverged(t, state, (options.timeoutS ?? 30) * 1000, progress);
			} catch (error) {
				if (error instanceof ConvergeError) throw new SetupError('not-converged', error.message);
				throw error;
			}
			routingMs = settled.routingAt - processesAt;
			livenessMs = Date.now() - processesAt;
			progress.step(`routing converged ${(routingMs / 1000).toFixed(1)} s after the processes started; BFD Up everywhere at ${(livenessMs / 1000).toFixed(1)} s`);
		}
	} catch (error) {
		progress.step('setup failed; tearing down what was made');
		await down(topologyFile, {...options, progress: {step: () => {}, detail: () => {}}});
		throw error;
	}
	const convergedMs = Date.now() - started;
	progress.step(`up in ${(convergedMs / 1000).toFixed(1)} s; state in ${state}`);
	return {state, convergedMs, routingMs, livenessMs};
}

/**
 * Loads every node's keys as its role process will, before anything is made:
 * a bad key file stops `up` with an error naming the topology, the field
 * that names the key file, the file and what is wrong with it, and leaves the
 * machine as it was. Only the keys are loaded; no node is built.
 */
export function checkKeys(t: Topology): void {
	for (const n of t.nodes) {
		if (isKernelRole(n.role)) continue;
		try {
			nodeGroups(t, n);
		} catch (error) {
			if (!(error instanceof KeyError)) throw error;
			const at = t.groups.findIndex((g) => (g.key && keyPath(t, g.key) === error.file) || (g.publicKey && keyPath(t, g.publicKey) === error.file));
			const g = t.groups[at];
			const own = Object.entries(n.keys ?? {}).find(([, f]) => keyPath(t, f) === error.file)?.[0];
			const field = own
				? `nodes[${t.nodes.indexOf(n)}].keys.${own}`
				: !g
					? 'groups'
					: g.key && keyPath(t, g.key) === error.file
						? `groups[${at}].key`
						: `groups[${at}].publicKey`;
			throw new TopologyError(t.file, field, `${error.message} (node ${n.name} needs it)`);
		}
	}
	checkClientKeys(t);
}

/**
 * Each client key must be the one derived from its group key for the node's
 * /64: a wrong one would fail every answer, and a group key in its place
 * would let the client forge (docs/protocol.md §3). `up` reads every key as
 * root, so it can tell; a role process reads only its own.
 */
export function checkClientKeys(t: Topology): void {
	t.nodes.forEach((n, i) => {
		for (const [gname, file] of Object.entries(n.keys ?? {})) {
			const g = t.groups.find((x) => x.name === gname)!;
			if (!g.key || !n.host) continue;
			const expected = deriveClientKey(loadHmacKey(keyPath(t, g.key)), parseAddr(n.host.address));
			if (!loadHmacKey(keyPath(t, file)).equals(expected))
				throw new TopologyError(t.file, `nodes[${i}].keys.${gname}`, `${file} is not the client key of group ${gname} for ${n.host.address}'s /64 (make it with: anyguard keygen client ${g.key} ${n.host.address} ${file})`);
		}
	});
}

/** Conditions the kernel cannot do here stop `up` before anything is made: delay between kernel nodes needs tc netem. */
function checkLinkConditions(t: Topology): void {
	const conditions = topologyConditions(t);
	t.links.forEach((l, i) => checkNetem(t, l, conditions[linkKey(l)]!, `links[${i}] (${l.a}–${l.b})`));
}

/** A kernel node's namespace: it forwards, never does DAD, keeps its addresses across down/up; its address on lo. */
function kernelNamespace(t: Topology, n: TopologyNode, progress: Progress): void {
	const ns = namespace(t, n.name);
	run(progress, ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
	// RFC 5881 §4: BFD's source port is 49152–65535. BIRD on Linux takes an ephemeral port (32768–60999 by default); the namespace's range makes it one of those.
	if (n.role === 'bird') run(progress, ['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=49152 65535']);
	run(progress, ['ip', '-n', ns, '-6', 'addr', 'add', `${n.address!}/128`, 'dev', 'lo', 'nodad']);
}

/**
 * A link with a kernel end. tun: a TUN device in the kernel node's namespace,
 * named for the anyguard neighbour, whose role process holds it; veth: a
 * veth pair. Each kernel end gets the node's link-local address (fe80::<index
 * + 1>, as anyguard's nodes have), which RIPng and BFD speak from.
 */
function kernelLink(t: Topology, l: TopologyLink, progress: Progress): void {
	const ends: Array<{node: string; dev: string}> = [];
	if (linkKind(t, l) === 'tun') {
		const {kernel, anyguard} = tunEnds(t, l);
		const ns = namespace(t, kernel);
		run(progress, ['ip', '-n', ns, 'tuntap', 'add', 'dev', linkIfname(anyguard), 'mode', 'tun']);
		ends.push({node: kernel, dev: linkIfname(anyguard)});
	} else {
		run(progress, ['ip', 'link', 'add', linkIfname(l.b), 'netns', namespace(t, l.a), 'type', 'veth', 'peer', 'name', linkIfname(l.a), 'netns', namespace(t, l.b)]);
		ends.push({node: l.a, dev: linkIfname(l.b)}, {node: l.b, dev: linkIfname(l.a)});
	}
	for (const e of ends) {
		const ns = namespace(t, e.node);
		run(progress, ['ip', '-n', ns, 'link', 'set', 'dev', e.dev, 'addrgenmode', 'none', 'mtu', String(l.mtu)]);
		run(progress, ['ip', '-n', ns, '-6', 'addr', 'add', `${kernelLinkLocal(t, e.node)}/64`, 'dev', e.dev, 'nodad']);
		run(progress, ['ip', '-n', ns, 'link', 'set', 'dev', e.dev, 'up']);
	}
}

/** A "kernel" node's static routes: every destination by shortest path, to the neighbour's link-local address. */
function kernelRoutes(t: Topology, progress: Progress): void {
	const statics = t.nodes.filter((n) => n.role === 'kernel');
	if (statics.length === 0) return;
	progress.step(`static routes on ${statics.map((n) => n.name).join(', ')} (shortest paths by link cost)`);
	for (const n of statics)
		for (const r of staticRoutes(t, n.name))
			run(progress, ['ip', '-n', namespace(t, n.name), '-6', 'route', 'add', r.prefix, 'via', kernelLinkLocal(t, r.peer), 'dev', linkIfname(r.peer), 'src', n.address!]);
}

/** Writes a bird node's bird.conf into the state directory and has BIRD parse it (bird -p): a mistake stops up here. */
function writeBirdConfig(node: string, text: string, state: string, progress: Progress): void {
	writeFileSync(files.birdConf(state, node), text, {mode: 0o600});
	run(progress, [BIRD ?? 'bird', '-p', '-c', files.birdConf(state, node)]);
}

/** The strings of the TXT record big.anyguard: eight of 200 characters. */
export const BIG_TXT = Array.from({length: 8}, (_, i) => `${String.fromCharCode(97 + i).repeat(196)}${String(i).padStart(4, '0')}`);

export function startDnsmasq(t: Topology, n: TopologyNode, state: string, progress: Progress): void {
	const ns = namespace(t, n.name);
	const listen = anycastAddresses(t, n);
	const args = [
		'ip', 'netns', 'exec', ns, 'dnsmasq',
		'--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces', '--user=root', '--group=root',
		...listen.map((a) => `--listen-address=${a}`),
		`--txt-record=whoami.anyguard,${n.name}`,
		// An answer larger than any link's MTU (about 1,700 bytes): for path MTU discovery and fragments.
		`--txt-record=big.anyguard,${BIG_TXT.join(',')}`,
		`--host-record=${n.name}.anyguard,${n.host!.address}`,
		...listen.map((a) => `--host-record=service.anyguard,${a}`),
		`--pid-file=${join(state, `${n.name}.dnsmasq.pid`)}`,
		`--log-facility=${join(state, `${n.name}.dnsmasq.log`)}`,
	];
	run(progress, args);
}

function startSupervisor(t: Topology, topologyPath: string, node: string, state: string, restartDelayMs: number, progress: Progress): void {
	const ns = namespace(t, node);
	const log = openSync(files.log(state, `${node}.supervisor`), 'a', 0o600);
	const args = ['netns', 'exec', ns, ...selfCommand(), 'supervise', node, '--topology', topologyPath, '--state', state, '--restart-delay', String(restartDelayMs)];
	progress.detail(`ip ${args.join(' ')}`);
	const child = spawn('ip', args, {detached: true, stdio: ['ignore', log, log]});
	child.unref();
}

function readPid(file: string): number | undefined {
	try {
		const pid = Number(readFileSync(file, 'utf8').trim());
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	} catch {
		return undefined;
	}
}

/** Whether process `pid` is one `up` started for state directory `dir`: its command line names the directory. */
export function startedBy(pid: number, dir: string): boolean {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').some((arg) => arg === dir || arg.includes(`${dir}/`) || arg.endsWith(`=${dir}`));
	} catch {
		return false;
	}
}

/** Whether process `pid` is still there (signal 0). */
export function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

/** Removes everything `up` made for the topology. Idempotent: what is not there is skipped. */
export async function down(topologyFile: string, options: UpOptions = {}): Promise<void> {
	const progress = options.progress ?? consoleProgress(options.verbose);
	const topo = loadTopology(topologyFile, {keyRoles: false}); // removing needs names, not keys
	const dir = stateDir(topo, options.stateRoot);
	progress.step('stopping supervisors, role processes and dnsmasq');
	const pids = new Set<number>();
	if (existsSync(dir)) {
		// A pid file is believed only in a state directory that is ours alone, and only for a process
		// whose command line names that directory (every process `up` starts does): a file planted
		// by someone else, or a pid reused by an unrelated process, gets no signal.
		if (!trustedDir(dir)) progress.step(`  ${dir} is not private to this user: its pid files are not read`);
		else
			for (const f of readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
				const pid = readPid(join(dir, f));
				if (!pid) continue;
				if (startedBy(pid, dir)) pids.add(pid);
				else progress.detail(`${f}: pid ${pid} is not a process of this network; left alone`);
			}
	}
	// Whatever still runs inside our namespaces is ours too.
	for (const n of topo.nodes) {
		const ns = namespace(topo, n.name);
		if (!existsSync(`/run/netns/${ns}`)) continue;
		const r = spawnSync('ip', ['netns', 'pids', ns], {encoding: 'utf8'});
		for (const line of r.stdout?.split('\n') ?? []) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
	}
	for (const pid of pids) {
		if (!alive(pid)) continue;
		progress.detail(`kill ${pid}`);
		signal(pid, 'SIGTERM');
	}
	const until = Date.now() + 2000;
	while ([...pids].some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
	for (const pid of pids) if (alive(pid)) signal(pid, 'SIGKILL');
	progress.step('removing namespaces, veths, TUNs and host routes');
	for (const n of topo.nodes) {
		const ns = namespace(topo, n.name);
		if (existsSync(`/run/netns/${ns}`)) run(progress, ['ip', 'netns', 'del', ns]);
	}
	// Deleting the client namespace removes the veth pair and with it the host routes; this covers a half-made one.
	if (existsSync(`/sys/class/net/${hostVeth(topo)}`)) run(progress, ['ip', 'link', 'del', hostVeth(topo)]);
	if (existsSync(dir)) rmSync(dir, {recursive: true, force: true});
	progress.step('down');
}

function signal(pid: number, sig: NodeJS.Signals): void {
	try {
		process.kill(pid, sig);
	} catch {
		// gone already
	}
}
