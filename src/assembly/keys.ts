// The keys a node holds, loaded as its role process loads them
// (docs/protocol.md §3, key roles). `anyguard up` loads every node's before
// anything is made (src/netns/setup.ts checkKeys); nothing else is built.
import type {Group} from '../anycast/group.js';
import {loadKeyMaterial} from '../anycast/keys.js';
import {ALG_BY_NAME} from '../anycast/option.js';
import {keyPath} from '../config/topology.js';
import type {Topology, TopologyGroup, TopologyNode} from '../config/topology.js';
import {parseAddr} from '../util/addr.js';

/**
 * Loads the keys a node of `spec.role` needs for `g`: servers (and the
 * attacker, who stole them) sign with the group's key; the boundary router
 * verifies with the HMAC group key or the Ed25519 public key; clients and
 * terminals verify with their own derived HMAC key or the Ed25519 public
 * key. Topology validation has made sure the files a verifier is sent to are
 * not the group's signing key.
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

/** The groups of node `spec` as it holds them, keys loaded. Throws KeyError on a bad key file. */
export function nodeGroups(t: Topology, spec: TopologyNode): Group[] {
	return (spec.groups ?? []).map((g) => groupFor(t, t.groups.find((x) => x.name === g)!, spec));
}
