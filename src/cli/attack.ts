// `anyguard attack <kind>`: one row of the attack table against the running
// network. The client pings S with a known echo identifier; the attacker (or
// terminal-a) forges responses to that flow and puts them on its wire; the
// drop counters say where each was stopped. Replays need genuine stamped
// responses: an eavesdropper's copy is taken with tcpdump on the client's
// link (the lab grants the attacker that view), and the attacker's own
// answers are taken on its TUN.
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {loadKeyMaterial} from '../anycast/keys.js';
import {ALG_BY_NAME} from '../anycast/option.js';
import type {Group} from '../anycast/group.js';
import {keyPath} from '../config/topology.js';
import type {Topology} from '../config/topology.js';
import {injectPackets, queryStatus} from '../ops/control.js';
import {ATTACKS, craft, stopped} from '../roles/attacker.js';
import type {AttackKind, AttackSpec} from '../roles/attacker.js';
import {TUN_NAME, files, linkIfname, namespace, stateDir, underlayAddress} from '../netns/names.js';
import {isKernelRole} from '../config/topology.js';
import {birdNeighbourDropped} from '../netns/bird.js';
import {linkKind} from '../netns/links.js';
import {parseAddr} from '../util/addr.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import {readPcap} from '../wire/pcap.js';
import {UDP_HEADER_LEN} from '../wire/udp.js';

export interface AttackResult {
	kind: AttackKind;
	spec: AttackSpec;
	sent: number;
	/** Drops for the expected reason at the expected node during the attack. */
	dropped: number;
	/** Why they were dropped there, as a person reads it: the spec's drop reason, or what stops it before a BIRD router. */
	stoppedBy: string;
	/** The victim's ping: replies it printed, and duplicates (a forged reply getting through shows as DUP!). */
	victim: {transmitted: number; received: number; duplicates: number; output: string};
}

export interface AttackOptions {
	count?: number;
	echoId?: number;
	stateRoot?: string;
	log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts tcpdump in `ns` on `dev`, writing `<dir>/<name>.pcap`, and resolves
 * once it listens; `stop()` ends it and reads the packets (link-layer headers
 * removed).
 */
export async function capture(ns: string, dev: string, filter: string, dir: string, name: string): Promise<{stop: () => Promise<Uint8Array[]>}> {
	const file = join(dir, `${name}.pcap`);
	const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '--immediate-mode', '-U', '-n', '-w', file, filter], {stdio: 'ignore'});
	// tcpdump writes the file header once it is listening.
	for (let i = 0; i < 60 && !(existsSync(file) && statSync(file).size >= 24); i++) await sleep(50);
	await sleep(100);
	return {
		stop: async () => {
			child.kill('SIGINT');
			await new Promise((r) => child.once('exit', r));
			return readPcap(readFileSync(file), {partial: true}).packets.map((p) => p.data);
		},
	};
}

/** The genuine stamped responses inside the UDP underlay datagrams captured on the client's link. */
function innerPackets(frames: Uint8Array[]): Uint8Array[] {
	// Ethernet was stripped by readPcap: an outer IPv6 header and UDP wrap the inner packet.
	const outer = IPV6_HEADER_LEN + UDP_HEADER_LEN;
	return frames.filter((f) => f.length > outer + IPV6_HEADER_LEN && f[IPV6.nextHeader] === Proto.Udp).map((f) => f.slice(outer));
}

/** A signing key the attacker holds (a compromised server of another service), of a group other than `S`'s when S is given. */
function stolenKey(t: Topology, S?: string): Group | undefined {
	const attacker = t.nodes.find((n) => n.role === 'attacker');
	const g = t.groups.find((x) => attacker?.groups?.includes(x.name) && x.key && x.anycast !== S);
	if (!g?.key) return undefined;
	return {anycast: parseAddr(g.anycast), alg: ALG_BY_NAME[g.alg], keyId: g.keyId, keys: loadKeyMaterial(g.alg, keyPath(t, g.key), 'sign'), servers: []};
}

/** Group `name` as terminal-a holds it: its own client key (HMAC) or the public key (Ed25519), all an insider has. */
function insiderKey(t: Topology, name: string): Group {
	const terminal = t.nodes.find((n) => n.name === 'terminal-a');
	const g = t.groups.find((x) => x.name === name)!;
	const file = g.alg === 'hmac-sha256' ? terminal?.keys?.[name] : g.publicKey;
	if (!terminal || !file) throw new Error(`terminal-a holds no key of group ${name}`);
	return {anycast: parseAddr(g.anycast), alg: ALG_BY_NAME[g.alg], keyId: g.keyId, keys: loadKeyMaterial(g.alg, keyPath(t, file), g.alg === 'hmac-sha256' ? 'client' : 'verify'), servers: []};
}

function pingStats(output: string): {transmitted: number; received: number; duplicates: number} {
	const m = /(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?/.exec(output);
	return {transmitted: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), duplicates: Number(m?.[3] ?? 0)};
}

/** Where an attack is stopped on this topology: the table's node, or past a kernel router there (AttackSpec.pastKernel). */
export function stopPoint(t: Topology, spec: AttackSpec): {droppedAt: string; reason: string; bird: boolean} {
	const at = t.nodes.find((n) => n.name === spec.droppedAt);
	if (at && isKernelRole(at.role)) {
		if (!spec.pastKernel) throw new Error(`${spec.droppedAt} is a ${at.role} node, and the attack table says nothing of this attack past a kernel router`);
		const bird = spec.pastKernel.reason === 'bird-neighbours';
		if (bird && at.role !== 'bird') throw new Error(`${spec.droppedAt} is a static kernel node: nothing there refuses route exchange`);
		return {droppedAt: spec.pastKernel.droppedAt, reason: spec.pastKernel.reason, bird};
	}
	return {droppedAt: spec.droppedAt, reason: spec.reason, bird: false};
}

/**
 * What `client`'s neighbour sends it, captured where it can be seen: on the
 * veth in the client's namespace (UDP underlay datagrams, unwrapped), or on
 * the TUN in a kernel neighbour's namespace (bare IPv6 going out to the client).
 */
function clientLinkTap(t: Topology, client: string): {ns: string; dev: string; filter: string; unwrap: (frames: Uint8Array[]) => Uint8Array[]} {
	const link = t.links.find((l) => l.a === client || l.b === client)!;
	const peer = link.a === client ? link.b : link.a;
	if (linkKind(t, link) === 'tun')
		return {ns: namespace(t, peer), dev: linkIfname(client), filter: `ip6 and dst host ${t.nodes.find((n) => n.name === client)!.host!.address}`, unwrap: (frames) => frames};
	return {ns: namespace(t, client), dev: linkIfname(peer), filter: `udp and src host ${underlayAddress(t, link, peer)}`, unwrap: innerPackets};
}

export async function runAttack(t: Topology, kind: AttackKind, o: AttackOptions = {}): Promise<AttackResult> {
	const table: AttackSpec = ATTACKS[kind];
	const point = stopPoint(t, table);
	const spec: AttackSpec = {...table, droppedAt: point.droppedAt, ...(point.bird ? {} : {reason: point.reason as AttackSpec['reason']})};
	const stoppedBy = point.bird ? "bird-neighbours: RIPng and BFD only from the topology's neighbours, nftables before BIRD" : spec.reason;
	const log = o.log ?? (() => {});
	const state = stateDir(t, o.stateRoot);
	const count = o.count ?? 5;
	const echoId = o.echoId ?? 0x4242;
	const client = t.nodes.find((n) => n.role === 'client')!;
	const stolen = spec.needsStolenKey ? stolenKey(t, spec.victimGroup === 'stolen' ? undefined : (t.groups.find((g) => client.groups?.[0] === g.name) ?? t.groups[0]!).anycast) : undefined;
	if (spec.needsStolenKey && !stolen) throw new Error('the attacker holds no key of another group (topology: attacker.groups)');
	const group = spec.victimGroup === 'stolen' ? t.groups.find((g) => parseAddr(g.anycast).every((b, i) => b === stolen!.anycast[i]))! : (t.groups.find((g) => client.groups?.[0] === g.name) ?? t.groups[0]!);
	const S = group.anycast;
	const from = t.nodes.find((n) => n.name === spec.from);
	if (!from?.host) throw new Error(`the topology has no ${spec.from} with a host address`);
	const server = t.nodes.find((n) => n.name === group.servers[0])!;
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-attack-'));
	try {
		const measure = async () => (point.bird ? birdNeighbourDropped(t, spec.droppedAt) : stopped(spec, await queryStatus(files.socket(state, spec.droppedAt))));
		const before = await measure();
		const clientNs = namespace(t, client.name);
		// What arrives at the client from its neighbour (pcap's "inbound" does not hold on a veth here).
		const tap = clientLinkTap(t, client.name);
		const eavesdrop = spec.needsGenuine ? await capture(tap.ns, tap.dev, tap.filter, dir, 'eavesdrop') : undefined;
		// The victim's flow: a kernel ping with a known identifier, slow enough to interleave the forgeries.
		log(`victim: ping -6 -e ${echoId} -c ${count} ${S} in ${clientNs}`);
		const victim = spawn('ip', ['netns', 'exec', clientNs, 'ping', '-6', '-n', '-e', String(echoId), '-c', String(count), '-i', '0.3', '-W', '1', S], {stdio: ['ignore', 'pipe', 'pipe']});
		let output = '';
		victim.stdout!.on('data', (d: Buffer) => (output += d.toString()));
		const victimDone = new Promise<void>((r) => victim.once('exit', () => r()));
		// Strike once the flow is open and the first genuine reply is in.
		for (let i = 0; i < 40 && !/bytes from/.test(output); i++) await sleep(50);
		await sleep(50);
		let genuine: Uint8Array | undefined;
		if (eavesdrop) {
			const frames = await eavesdrop.stop();
			genuine = tap.unwrap(frames).find((p) => p[IPV6.nextHeader] === Proto.DestOpts);
			if (!genuine) throw new Error('no genuine stamped response was captured on the client link');
			log(`eavesdropped a genuine stamped response (${genuine.length} bytes)`);
			if (kind === 'replay-stale') {
				log(`waiting ${t.replayWindowMs + 200} ms for it to leave the replay window`);
				await sleep(t.replayWindowMs + 200);
			}
		}
		let own: Uint8Array | undefined;
		if (spec.needsOwn) {
			const ns = namespace(t, spec.from);
			// One ping may be lost like any packet; three tries, each captured apart.
			for (let attempt = 1; attempt <= 3 && !own; attempt++) {
				const tap = await capture(ns, TUN_NAME, 'ip6', dir, `own-${attempt}`);
				const r = spawnSync('ip', ['netns', 'exec', ns, 'ping', '-6', '-n', '-e', String(echoId), '-c', '1', '-W', '2', S], {encoding: 'utf8'});
				own = (await tap.stop()).find((p) => p[IPV6.nextHeader] === Proto.DestOpts);
				if (!own) log(`try ${attempt}: no stamped answer on ${spec.from}'s TUN (ping: ${(r.stdout.split('\n').find((l) => /transmitted/.test(l)) ?? r.stderr).trim()})`);
			}
			if (!own) throw new Error(`no genuine stamped answer reached ${spec.from}'s TUN in three tries`);
			log(`${spec.from} asked S itself and kept the genuine stamped answer`);
		}
		const insider = spec.needsInsiderKey ? insiderKey(t, group.name) : undefined;
		const packets = craft(kind, {
			client: parseAddr(client.host!.address),
			anycast: parseAddr(S),
			self: parseAddr(from.host.address),
			server: parseAddr(server.host!.address),
			echoId,
			sequences: Array.from({length: count}, (_, i) => i + 1),
			wallNow: Date.now(),
			...(stolen ? {stolen} : {}),
			...(genuine ? {genuine} : {}),
			...(own ? {own} : {}),
			...(insider ? {insider} : {}),
		});
		const result = await injectPackets(files.socket(state, spec.from), packets);
		log(`${spec.from} sent ${result.injected} forged packets (${spec.summary})`);
		await victimDone;
		await sleep(200);
		const after = await measure();
		const dropped = after - before;
		return {kind, spec, sent: result.injected, dropped, stoppedBy, victim: {...pingStats(output), output}};
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
