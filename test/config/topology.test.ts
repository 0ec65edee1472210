// The topology file: the default one loads; bad ones give an error naming the file and the field.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {KeyError} from '../../src/anycast/keys.js';
import {TopologyError, loadTopology, parseTopology} from '../../src/config/topology.js';
import {buildStack} from '../../src/node/stack.js';
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
	['link to nowhere', (j) => (j.links[0]!.b = 'nowhere'), /links\[0\]\.b: no node named nowhere/],
	['unknown field', (j) => (j.nodes[1]!.colour = 'red'), /nodes\[1\]/],
	['cost out of range', (j) => (j.links[3]!.cost = 16), /links\[3\]\.cost/],
	['group server that is not a server', (j) => ((j.groups[0]!.servers as string[])[0] = 'router-a'), /groups\[0\]\.servers\[0\]: router-a is a router, not a server/],
	['hmac without a key', (j) => delete j.groups[0]!.key, /groups\[0\]\.key: algorithm hmac-sha256 needs a key file/],
	['duplicate address', (j) => (j.nodes[8]!.host = {address: '2001:db8:1:a::30'}), /nodes\[8\]\.host\.address: address 2001:db8:1:a::30 is also server-a\.host\.address/],
	['boundary outside not a neighbour', (j) => (j.nodes[3]!.outside = ['client']), /nodes\[3\]\.outside\[0\]: client is not a neighbour of boundary/],
	['an address in the lab underlay', (j) => (j.nodes[1]!.address = '2001:db8:ffff:1::9'), /nodes\[1\]\.address: 2001:db8:ffff:1::9 overlaps 2001:db8:ff00::\/40/],
	['a host prefix covering the underlay', (j) => (j.nodes[0]!.host = {address: '2001:db8:2:c::10', prefixes: ['2001:db8::/32']}), /nodes\[0\]\.host\.prefixes\[0\]: 2001:db8::\/32 overlaps/],
	['a police rate without a burst', (j) => (j.links[0]!.police = {perSecond: 10}), /links\[0\]\.police\.burst/],
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
