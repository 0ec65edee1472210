// The topology file: the default one loads; bad ones give an error naming the file and the field.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {KeyError} from '../../src/anycast/keys.js';
import {TopologyError, loadTopology, parseTopology} from '../../src/config/topology.js';
import {buildStack} from '../../src/assembly/stack.js';
import {SimClock} from '../../src/util/clock.js';
import {DEFAULT_TOPOLOGY, defaultTopology} from '../helpers/net.js';

const base = () => JSON.parse(JSON.stringify(defaultTopology(), (k, v) => (k === 'file' || k === 'dir' ? undefined : v))) as Record<string, unknown> & {
	nodes: Array<Record<string, unknown>>;
	links: Array<Record<string, unknown>>;
	groups: Array<Record<string, unknown>>;
};

test('the default topology is the patent Fig. 1 with the issue’s names and addresses', (t) => {
	const topo = loadTopology(DEFAULT_TOPOLOGY);
	t.deepEqual(
		topo.nodes.map((n) => n.name),
		['client', 'internet', 'attacker', 'boundary', 'router-a', 'router-b', 'server-a', 'server-b', 'terminal-a', 'terminal-b'],
	);
	t.is(topo.prefix, 'ag-');
	t.is(topo.groups[0]!.anycast, '2001:db8:1:ac::53');
	const cost = (a: string, b: string) => topo.links.find((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a))!.cost;
	t.true(cost('boundary', 'router-a') < cost('boundary', 'router-b'));
});

const cases: Array<[string, (j: ReturnType<typeof base>) => void, RegExp]> = [
	['bad address', (j) => (j.nodes[0]!.host = {address: '2001:db8::zz'}), /nodes\[0\]\.host\.address: not an IPv6 address/],
	['unknown role', (j) => (j.nodes[1]!.role = 'switch'), /nodes\[1\]\.role/],
	['link to nowhere', (j) => (j.links[0]!.b = 'nowhere'), /links\[0\]\.b: unknown node "nowhere"/],
	['unknown field', (j) => (j.nodes[1]!.colour = 'red'), /nodes\[1\]/],
	['cost out of range', (j) => (j.links[3]!.cost = 16), /links\[3\]\.cost/],
	['group server that is not a server', (j) => ((j.groups[0]!.servers as string[])[0] = 'router-a'), /groups\[0\]\.servers\[0\]: router-a is a router, not a server/],
	['hmac without a key', (j) => delete j.groups[0]!.key, /groups\[0\]\.key: algorithm hmac-sha256 needs a key file/],
	['duplicate address', (j) => (j.nodes[8]!.host = {address: '2001:db8:1:a::30'}), /nodes\[8\]\.host\.address: address 2001:db8:1:a::30 is also server-a\.host\.address/],
	['boundary outside not a neighbour', (j) => (j.nodes[3]!.outside = ['client']), /nodes\[3\]\.outside\[0\]: client is not a neighbour of boundary/],
	['an address in the lab underlay', (j) => (j.nodes[1]!.address = '2001:db8:ffff:1::9'), /nodes\[1\]\.address: 2001:db8:ffff:1::9 overlaps 2001:db8:ff00::\/40/],
	['a host prefix covering the underlay', (j) => (j.nodes[0]!.host = {address: '2001:db8:2:c::10', prefixes: ['2001:db8::/32']}), /nodes\[0\]\.host\.prefixes\[0\]: 2001:db8::\/32 overlaps/],
	['a police rate without a burst', (j) => (j.links[0]!.police = {perSecond: 10}), /links\[0\]\.police\.burst/],
	['policing at a node that is not an end of the link', (j) => (j.links[0]!.police = {at: 'boundary', perSecond: 10, burst: 5}), /links\[0\]\.police\.at: boundary is not an end of the link client–internet/],
	// Key roles: holding what verifies must never be enough to forge.
	['a client of an HMAC group without its own key', (j) => delete j.nodes[0]!.keys, /nodes\[0\]\.keys: client verifies HMAC group dns and needs its own client key .*keygen client/],
	['a client handed the HMAC group key', (j) => (j.nodes[0]!.keys = {dns: j.groups[0]!.key}), /nodes\[0\]\.keys\.dns: .* is group dns's own key/],
	['a terminal without its client key', (j) => delete j.nodes[8]!.keys, /nodes\[8\]\.keys: terminal-a verifies HMAC group dns/],
	['an ed25519 group without a public key', (j) => delete j.groups[1]!.publicKey, /nodes\[0\]\.groups\[1\]: client verifies ed25519 group dns2, which has no publicKey/],
	['a client key on a server', (j) => (j.nodes[6]!.keys = {dns: 'x'}), /nodes\[6\]\.keys: only clients and terminals hold client keys/],
	['a client key for a group the client does not verify', (j) => ((j.nodes[0]!.groups = ['dns2']), (j.nodes[0]!.keys = {dns: 'x'})), /nodes\[0\]\.keys\.dns: client does not verify group dns/],
	['a client key for an ed25519 group', (j) => (j.nodes[0]!.keys = {dns: (j.nodes[0]!.keys as Record<string, string>).dns!, dns2: 'x'}), /nodes\[0\]\.keys\.dns2: group dns2 is ed25519/],
	['alg none for a client, unacknowledged', (j) => Object.assign(j.groups[0]!, {alg: 'none', key: undefined}), /nodes\[0\]\.groups\[0\]: group dns uses alg "none": anyone can forge/],
];

for (const [name, mutate, message] of cases) {
	test(`bad topology: ${name}`, (t) => {
		const json = base();
		mutate(json);
		const error = t.throws(() => parseTopology(json, 'x.json'), {instanceOf: TopologyError});
		t.regex(error!.message, /^topology x\.json: /);
		t.regex(error!.message, message);
	});
}

test('unreadable or non-JSON files name the file', (t) => {
	t.regex(t.throws(() => loadTopology('/nonexistent/t.json'), {instanceOf: TopologyError})!.message, /topology \/nonexistent\/t\.json: cannot be read \(ENOENT\)/);
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-topo-'));
	try {
		writeFileSync(join(dir, 't.json'), '{"name": ');
		t.regex(t.throws(() => loadTopology(join(dir, 't.json')), {instanceOf: TopologyError})!.message, /not valid JSON/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('a missing or malformed key file stops the node before it starts, naming the file', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-keys-'));
	try {
		const json = base();
		json.groups[0]!.key = join(dir, 'missing.hmac');
		const topo = parseTopology(json, join(dir, 't.json'));
		const deps = {clock: new SimClock(), wallNow: () => 0};
		const missing = t.throws(() => buildStack(topo, 'server-a', deps), {instanceOf: KeyError});
		t.is(missing!.code, 'key-missing');
		t.regex(missing!.message, /missing\.hmac/);
		writeFileSync(join(dir, 'short.hmac'), 'abcd\n');
		json.groups[0]!.key = join(dir, 'short.hmac');
		const short = t.throws(() => buildStack(parseTopology(json, join(dir, 't.json')), 'boundary', deps), {instanceOf: KeyError});
		t.is(short!.code, 'key-malformed');
		t.regex(short!.message, /short\.hmac: HMAC-SHA256 key must be 32–64 bytes, found 2/);
		writeFileSync(join(dir, 'bad.key'), '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n');
		json.groups[1]!.key = join(dir, 'bad.key');
		json.groups[0]!.key = DEFAULT_TOPOLOGY.replace('default.json', 'keys/dns.hmac');
		const pem = t.throws(() => buildStack(parseTopology(json, join(dir, 't.json')), 'server-a', deps), {instanceOf: KeyError});
		t.is(pem!.code, 'key-malformed');
		t.regex(pem!.message, /bad\.key: not a PEM private key/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('key roles: a verifier is never handed a private key, and a client key must be the one derived for its /64', async (t) => {
	const {checkClientKeys} = await import('../../src/netns/setup.js');
	const {deriveClientKey, loadHmacKey, loadKeyMaterial} = await import('../../src/anycast/keys.js');
	const {parseAddr} = await import('../../src/util/addr.js');
	const keys = DEFAULT_TOPOLOGY.replace('default.json', 'keys/');
	const role = t.throws(() => loadKeyMaterial('ed25519', `${keys}dns2.key`, 'verify'), {instanceOf: KeyError});
	t.is(role!.code, 'key-role');
	t.regex(role!.message, /dns2\.key: holds a private key, but this node only verifies/);
	t.notThrows(() => checkClientKeys(defaultTopology()), 'the lab client keys are the derived ones');
	const client = loadHmacKey(`${keys}dns.client.hmac`);
	t.true(client.equals(deriveClientKey(loadHmacKey(`${keys}dns.hmac`), parseAddr('2001:db8:2:c::ffff'))), 'one key for the /64');
	t.false(client.equals(deriveClientKey(loadHmacKey(`${keys}dns.hmac`), parseAddr('2001:db8:2:d::10'))), 'another /64, another key');
	const json = base();
	(json.nodes[0]!.keys as Record<string, string>).dns = `${keys}dns.terminal-a.hmac`;
	const wrong = t.throws(() => checkClientKeys(parseTopology(json, DEFAULT_TOPOLOGY)), {instanceOf: TopologyError});
	t.regex(wrong!.message, /nodes\[0\]\.keys\.dns: .*dns\.terminal-a\.hmac is not the client key of group dns for 2001:db8:2:c::10's \/64 \(make it with: anyguard keygen client/);
});

test('key roles: each role loads only what it may hold', (t) => {
	const deps = {clock: new SimClock(), wallNow: () => 0};
	const topo = defaultTopology();
	const held = (node: string) => buildStack(topo, node, deps).groups.map((g) => Object.keys(g.keys).filter((k) => (g.keys as Record<string, unknown>)[k] !== undefined).sort().join('+'));
	t.deepEqual(held('server-a'), ['hmacKey', 'privateKey+publicKey']);
	t.deepEqual(held('boundary'), ['hmacKey', 'publicKey']);
	t.deepEqual(held('client'), ['hmacClientKey', 'publicKey']);
	t.deepEqual(held('terminal-a'), ['hmacClientKey', 'publicKey']);
});

test('key roles are not checked when only the names matter (down removes a network brought up under older rules)', (t) => {
	const json = base();
	delete json.nodes[0]!.keys;
	t.throws(() => parseTopology(json, 'x.json'), {instanceOf: TopologyError});
	t.is(parseTopology(json, 'x.json', {keyRoles: false}).nodes[0]!.name, 'client');
});
