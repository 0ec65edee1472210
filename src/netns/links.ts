// The links of a running network and their conditions (delay, jitter, loss,
// rate, MTU, down): what kind of wire each link is, where each condition is
// applied, and `anyguard link <a> <b> set … | down | up`.
//
// Three kinds of link, by their ends:
//   udp   anyguard – anyguard: a veth pair carrying the UDP underlay (data
//         6464, control 6465), one role process at each end;
//   tun   anyguard – kernel node: a TUN device in the kernel node's
//         namespace, whose descriptor the anyguard end's process holds (what
//         it writes is received on that interface; what the kernel sends
//         there, it reads);
//   veth  kernel – kernel: a plain veth pair.
//
// Where each condition goes (docs/routing.md, "Link conditions"):
//   loss    udp, veth: the kernel, an nftables drop on each end's ingress
//           (src/netns/conditions.ts). tun: the anyguard end, both ways.
//   rate    udp, veth: the kernel, tc htb on each end's egress, route
//           exchange and BFD in a class of their own served first.
//           tun: the anyguard end, both ways.
//   delay,  udp: each anyguard end delays what it sends (src/io/emulator.ts).
//   jitter  tun: the anyguard end, both ways. veth: tc netem where the kernel
//           has it; this machine's kernel has no netem
//           (CONFIG_NET_SCH_NETEM is not set), so there it is refused.
//   mtu     every device of the link, and the anyguard ends' ports.
//   down    the link's devices (ip link set down), so the kernel and BIRD
//           see their carrier go.
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {applyAssignments, conditionsOf, formatConditions} from '../config/conditions.js';
import type {LinkConditions} from '../config/conditions.js';
import type {LineSettings} from '../io/emulator.js';
import {BFD_PORT} from '../route/bfd-wire.js';
import {RIPNG_PORT} from '../route/ripng-wire.js';
import {isKernelRole} from '../config/topology.js';
import type {Topology, TopologyLink} from '../config/topology.js';
import {linkLocalOf} from '../assembly/links.js';
import {formatAddr} from '../util/addr.js';
import {ConditionError, NFT, nftCounted, setLoss} from './conditions.js';
import {CONTROL_PORT, UNDERLAY_OVERHEAD, files, linkIfname, namespace} from './names.js';

export type LinkKind = 'udp' | 'tun' | 'veth';

export class LinkError extends Error {
	override readonly name = 'LinkError';
	readonly code = 'bad-link';
}

function role(t: Topology, node: string) {
	return t.nodes.find((n) => n.name === node)!.role;
}

export function isKernelNode(t: Topology, node: string): boolean {
	return isKernelRole(role(t, node));
}

/** A static "kernel" node: it speaks no routing protocol, so no RIPng or BFD runs on its links. */
export function isStaticNode(t: Topology, node: string): boolean {
	return t.nodes.find((n) => n.name === node)?.role === 'kernel';
}

export function linkKind(t: Topology, l: TopologyLink): LinkKind {
	const a = isKernelNode(t, l.a);
	const b = isKernelNode(t, l.b);
	return a && b ? 'veth' : a || b ? 'tun' : 'udp';
}

/** A tun link's kernel end and anyguard end. */
export function tunEnds(t: Topology, l: TopologyLink): {kernel: string; anyguard: string} {
	return isKernelNode(t, l.a) ? {kernel: l.a, anyguard: l.b} : {kernel: l.b, anyguard: l.a};
}

export function linkKey(l: TopologyLink): string {
	return `${l.a}|${l.b}`;
}

/** The link between `a` and `b` (either order); LinkError naming what is missing. */
export function findLinkByNames(t: Topology, a: string, b: string): TopologyLink {
	for (const n of [a, b]) if (!t.nodes.some((x) => x.name === n)) throw new LinkError(`no node named ${n} in ${t.file}`);
	const l = t.links.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
	if (!l) throw new LinkError(`${a} and ${b} have no link between them in ${t.file}`);
	return l;
}

export type LinkStates = Record<string, LinkConditions>;

/** Every link's conditions as the topology states them (the MTU always). */
export function topologyConditions(t: Topology): LinkStates {
	return Object.fromEntries(t.links.map((l) => [linkKey(l), {...conditionsOf(l), mtu: l.mtu}]));
}

/** The conditions in force: the state directory's links.json, or the topology's when there is none. */
export function readLinkStates(t: Topology, dir: string): LinkStates {
	const base = topologyConditions(t);
	try {
		const saved = JSON.parse(readFileSync(files.links(dir), 'utf8')) as LinkStates;
		for (const k of Object.keys(base)) if (saved[k]) base[k] = saved[k];
	} catch {
		// none yet, or unreadable: the topology's
	}
	return base;
}

export function writeLinkStates(dir: string, states: LinkStates): void {
	const file = files.links(dir);
	writeFileSync(`${file}.tmp`, `${JSON.stringify(states, null, 2)}\n`, {mode: 0o600});
	renameSync(`${file}.tmp`, file); // a role process reading it sees the old or the new, never half
}

/** What the anyguard end `node` of link `l` emulates in its process (src/io/emulator.ts), each direction. */
export function processShare(t: Topology, l: TopologyLink, c: LinkConditions): LineSettings {
	const kind = linkKind(t, l);
	if (kind === 'veth') return {};
	const out: LineSettings = {};
	if (c.delayMs) out.delayMs = c.delayMs;
	if (c.jitterMs) out.jitterMs = c.jitterMs;
	if (kind === 'tun') {
		if (c.lossPct) out.lossPct = c.lossPct;
		if (c.rateBps) out.rateBps = c.rateBps;
		if (c.down) out.down = true;
	}
	return out;
}

const TC = ['/usr/sbin/tc', '/sbin/tc', '/usr/bin/tc'].find((p) => existsSync(p)) ?? 'tc';
/** The nftables table of the kernel-side policer on `dev`. */
const policeTable = (dev: string) => `anyguard_police_${dev.replace(/[^A-Za-z0-9_]/g, '_')}`;

export interface LinkProgress {
	detail(text: string): void;
}

const quiet: LinkProgress = {detail: () => {}};

function sh(progress: LinkProgress, ns: string, args: string[], input?: string): {status: number | null; stderr: string} {
	progress.detail(`ip netns exec ${ns} ${args.join(' ')}`);
	const r = spawnSync('ip', ['netns', 'exec', ns, ...args], {encoding: 'utf8', ...(input === undefined ? {} : {input})});
	return {status: r.status, stderr: (r.stderr ?? '').trim() || (r.error?.message ?? '')};
}

function must(progress: LinkProgress, ns: string, args: string[], input?: string): void {
	const r = sh(progress, ns, args, input);
	if (r.status !== 0) throw new ConditionError(`${args.join(' ')} in ${ns}: ${r.stderr || `exit ${r.status}`}`);
}

/** The devices of a link in the kernel: [namespace, device, the node it belongs to]. A tun link has one, in the kernel node. */
export function linkDevices(t: Topology, l: TopologyLink): Array<{ns: string; dev: string; node: string}> {
	if (linkKind(t, l) === 'tun') {
		const {kernel, anyguard} = tunEnds(t, l);
		return [{ns: namespace(t, kernel), dev: linkIfname(anyguard), node: kernel}];
	}
	return [
		{ns: namespace(t, l.a), dev: linkIfname(l.b), node: l.a},
		{ns: namespace(t, l.b), dev: linkIfname(l.a), node: l.b},
	];
}

/**
 * Rate on a device's egress: htb, with network control in a class of its
 * own served first (prio 0), the rest in the default class; both borrow up to
 * the whole rate. Control is the link's control channel (UDP 6465) on a udp
 * link, RIPng (521) and BFD (3784) on a veth between kernel nodes.
 */
function setRate(progress: LinkProgress, ns: string, dev: string, bps: number, controlPorts: number[], mtu: number): void {
	sh(progress, ns, [TC, 'qdisc', 'del', 'dev', dev, 'root']);
	if (!bps) return;
	const control = Math.max(8000, Math.round(bps / 20));
	const quantum = String(mtu + UNDERLAY_OVERHEAD + 64);
	must(progress, ns, [TC, 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '20']);
	must(progress, ns, [TC, 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', `${bps}bit`, 'ceil', `${bps}bit`, 'quantum', quantum]);
	must(progress, ns, [TC, 'class', 'add', 'dev', dev, 'parent', '1:1', 'classid', '1:10', 'htb', 'rate', `${control}bit`, 'ceil', `${bps}bit`, 'prio', '0', 'quantum', quantum]);
	must(progress, ns, [TC, 'class', 'add', 'dev', dev, 'parent', '1:1', 'classid', '1:20', 'htb', 'rate', `${Math.max(8000, bps - control)}bit`, 'ceil', `${bps}bit`, 'prio', '1', 'quantum', quantum]);
	for (const port of controlPorts)
		must(progress, ns, [TC, 'filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ipv6', 'prio', '1', 'u32', 'match', 'ip6', 'protocol', '17', '0xff', 'match', 'ip6', 'dport', String(port), '0xffff', 'flowid', '1:10']);
}

/** Delay and jitter (and rate with them) on a veth end with tc netem; ConditionError when the kernel has no netem. */
function setNetem(progress: LinkProgress, ns: string, dev: string, c: LinkConditions, l: TopologyLink): void {
	sh(progress, ns, [TC, 'qdisc', 'del', 'dev', dev, 'root']);
	const args = [TC, 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${c.delayMs ?? 0}ms`];
	if (c.jitterMs) args.push(`${c.jitterMs}ms`);
	if (c.rateBps) args.push('rate', `${c.rateBps}bit`);
	const r = sh(progress, ns, args);
	if (r.status !== 0) {
		if (/unknown qdisc|no such file|not supported|invalid argument/i.test(r.stderr)) throw noNetem(`${l.a}–${l.b}`);
		throw new ConditionError(`tc netem on ${dev} in ${ns}: ${r.stderr}`);
	}
}

function noNetem(link: string): ConditionError {
	return new ConditionError(
		`delay and jitter on ${link}, a link between two kernel nodes, need tc netem, and this kernel has none (CONFIG_NET_SCH_NETEM is not set): ` +
			'with an anyguard node at one end the node delays what crosses the link itself; between kernel nodes only a kernel with netem can',
	);
}

/** Delay or jitter asked of `l` between two kernel nodes when this kernel has no netem: a ConditionError before anything changes; `name` is how the message names the link. */
export function checkNetem(t: Topology, l: TopologyLink, c: LinkConditions, name = `${l.a}–${l.b}`): void {
	if (linkKind(t, l) === 'veth' && (c.delayMs || c.jitterMs) && !netemLikely()) throw noNetem(name);
}

/** The link-local address `up` gave `node` on each of its devices (fe80::<index + 1>, as anyguard's nodes use). */
export function kernelLinkLocal(t: Topology, node: string): string {
	return formatAddr(linkLocalOf(t, node));
}

/**
 * Applies the kernel's share of `c` to link `l` (the devices' MTU, state,
 * loss, rate and — between kernel nodes — delay); `prev` is what is there now
 * (undefined: freshly made, nothing to undo). Throws ConditionError.
 */
export function applyKernelConditions(t: Topology, l: TopologyLink, c: LinkConditions, prev: LinkConditions | undefined, progress: LinkProgress = quiet): void {
	const kind = linkKind(t, l);
	const devices = linkDevices(t, l);
	const mtu = c.mtu ?? l.mtu;
	for (const d of devices) {
		if (prev === undefined || (prev.mtu ?? l.mtu) !== mtu) must(progress, d.ns, ['ip', 'link', 'set', 'dev', d.dev, 'mtu', String(kind === 'udp' ? mtu + UNDERLAY_OVERHEAD : mtu)]);
		if (kind !== 'tun') {
			if (prev === undefined ? Boolean(c.lossPct) : (prev.lossPct ?? 0) !== (c.lossPct ?? 0)) {
				if (c.lossPct && !NFT) throw new ConditionError('loss on a veth needs nftables: apt-get install -y nftables');
				setLoss(d.ns, d.dev, c.lossPct ?? 0);
			}
			const ports = kind === 'udp' ? [CONTROL_PORT] : [RIPNG_PORT, BFD_PORT];
			const netem = kind === 'veth' && Boolean(c.delayMs || c.jitterMs);
			const wasNetem = kind === 'veth' && Boolean(prev?.delayMs || prev?.jitterMs);
			const changed = prev === undefined || prev.rateBps !== c.rateBps || prev.delayMs !== c.delayMs || prev.jitterMs !== c.jitterMs || (prev.mtu ?? l.mtu) !== mtu;
			if (changed) {
				if (netem) setNetem(progress, d.ns, d.dev, c, l);
				else if (c.rateBps || wasNetem || prev?.rateBps) setRate(progress, d.ns, d.dev, c.rateBps ?? 0, ports, mtu);
			}
		}
	}
	const wasDown = Boolean(prev?.down);
	if (Boolean(c.down) !== wasDown || (prev === undefined && c.down)) {
		for (const d of devices) must(progress, d.ns, ['ip', 'link', 'set', 'dev', d.dev, c.down ? 'down' : 'up']);
		if (!c.down && kind !== 'udp') {
			// Linux removes a device's link-local addresses when it goes down (keep_addr_on_down spares only
			// global ones), and addrgenmode none makes none: the address RIPng and BFD use goes back by hand.
			for (const d of devices) {
				const r = sh(progress, d.ns, ['ip', '-6', 'addr', 'add', `${kernelLinkLocal(t, d.node)}/64`, 'dev', d.dev, 'nodad']);
				if (r.status !== 0 && !/exists/i.test(r.stderr)) throw new ConditionError(`re-adding the link-local address of ${d.dev} in ${d.ns}: ${r.stderr}`);
			}
		}
	}
}

/**
 * Ingress policing at a kernel node (`"police": {"at": KERNEL_NODE, …}`): an
 * nftables limit on the link's device there, route exchange and BFD from the
 * link exempt (as anyguard's nodes do not count their control channel).
 */
export function applyKernelPolice(t: Topology, l: TopologyLink, progress: LinkProgress = quiet): void {
	const at = l.police?.at;
	if (!l.police || !at || !isKernelNode(t, at)) return;
	if (!NFT) throw new ConditionError('policing at a kernel node needs nftables: apt-get install -y nftables');
	const peer = at === l.a ? l.b : l.a;
	const dev = linkIfname(peer);
	const script =
		`table netdev ${policeTable(dev)} {\n\tchain ingress {\n\t\ttype filter hook ingress device "${dev}" priority -10;\n` +
		`\t\tmeta protocol ip6 ip6 saddr fe80::/10 udp dport { ${RIPNG_PORT}, ${BFD_PORT} } accept\n` +
		`\t\tlimit rate over ${Math.round(l.police.perSecond)}/second burst ${l.police.burst} packets counter drop\n\t}\n}\n`;
	must(progress, namespace(t, at), [NFT, '-f', '-'], script);
}

/** Packets the kernel-side policer of link `l` has dropped (0 without one). */
export function kernelPoliced(t: Topology, l: TopologyLink): number {
	const at = l.police?.at;
	if (!at || !isKernelNode(t, at) || !NFT) return 0;
	const dev = linkIfname(at === l.a ? l.b : l.a);
	return nftCounted(namespace(t, at), 'netdev', policeTable(dev));
}

export type LinkCommand = {kind: 'set'; words: string[]} | {kind: 'down'} | {kind: 'up'} | {kind: 'show'};

/**
 * `anyguard link <a> <b> …` on the running network whose state directory is
 * `dir`: checks the request, applies the kernel's share, records it in
 * links.json (which the anyguard ends read), and returns the link and its
 * conditions now. The caller tells the anyguard ends to re-read
 * (POST /links). Throws LinkError, ConditionSyntaxError, ConditionError.
 */
export function changeLink(t: Topology, dir: string, a: string, b: string, cmd: LinkCommand, progress: LinkProgress = quiet): {link: TopologyLink; before: LinkConditions; after: LinkConditions} {
	const l = findLinkByNames(t, a, b);
	if (!existsSync(files.topology(dir))) throw new LinkError(`no running network in ${dir}: run anyguard up first`);
	const states = readLinkStates(t, dir);
	const before = states[linkKey(l)]!;
	if (cmd.kind === 'show') return {link: l, before, after: before};
	let after: LinkConditions;
	if (cmd.kind === 'set') {
		after = applyAssignments(before, cmd.words);
		if ((after.mtu ?? l.mtu) > l.mtu)
			throw new LinkError(`mtu ${after.mtu} is more than the ${l.mtu} bytes ${l.a}–${l.b} was brought up with: its ports were opened for that; raise "mtu" in the topology and bring the network up again`);
		checkNetem(t, l, after);
	} else {
		after = {...before};
		if (cmd.kind === 'down') after.down = true;
		else delete after.down;
	}
	applyKernelConditions(t, l, after, before, progress);
	states[linkKey(l)] = after;
	writeLinkStates(dir, states);
	return {link: l, before, after};
}

/** Whether the kernel was built with netem, as far as /proc/config.gz tells (true when it cannot tell: tc will say). */
export function netemLikely(): boolean {
	try {
		const r = spawnSync('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null | grep -E "^(# )?CONFIG_NET_SCH_NETEM[= ]"'], {encoding: 'utf8'});
		const line = (r.stdout ?? '').trim();
		if (!line) return true;
		return !line.startsWith('#');
	} catch {
		return true;
	}
}

/** "delay=20ms loss=1%" for people, or "-" with nothing set; the topology's MTU is left out. */
export function describeConditions(l: TopologyLink, c: LinkConditions): string {
	return formatConditions(c, l.mtu) || '-';
}
