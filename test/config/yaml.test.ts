// Topologies in YAML as well as JSON, the published JSON Schema, and every
// problem reported with its path and line.
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {Ajv} from 'ajv';
import {parse as parseYaml} from 'yaml';
import {TopologyError, loadTopology, readTopologyFile, topologyJsonSchema} from '../../src/config/topology.js';
import type {Topology} from '../../src/config/topology.js';

const DIR = fileURLToPath(new URL('../../netns/topologies/', import.meta.url));
const strip = (t: Topology) => {
	const {file: _f, dir: _d, $schema: _s, ...rest} = t;
	return rest;
};

test('default.yaml and default.json are the same topology', (t) => {
	const json = loadTopology(join(DIR, 'default.json'));
	const yaml = loadTopology(join(DIR, 'default.yaml'));
	t.deepEqual(strip(yaml), strip(json));
	t.is(yaml.nodes.length, 10);
});

test('netns/topologies/schema.json is the schema the code validates with (npm run schema writes it)', (t) => {
	t.deepEqual(JSON.parse(readFileSync(join(DIR, 'schema.json'), 'utf8')), topologyJsonSchema());
});

test('every example topology names the schema, and the schema accepts it', (t) => {
	const ajv = new Ajv({strict: false, allErrors: true});
	const validate = ajv.compile(JSON.parse(readFileSync(join(DIR, 'schema.json'), 'utf8')));
	const files = readdirSync(DIR).filter((f) => /\.(json|ya?ml)$/.test(f) && f !== 'schema.json');
	t.true(files.length >= 2, files.join(' '));
	for (const f of files) {
		const text = readFileSync(join(DIR, f), 'utf8');
		if (f.endsWith('.json')) t.is((JSON.parse(text) as {$schema?: string}).$schema, './schema.json', f);
		else t.regex(text, /^# yaml-language-server: \$schema=\.\/schema\.json$/m, f);
		const value = f.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
		t.true(validate(value), `${f}: ${ajv.errorsText(validate.errors)}`);
	}
	// And it refuses what the code refuses at the schema level.
	const bad = structuredClone(JSON.parse(readFileSync(join(DIR, 'default.json'), 'utf8'))) as {links: Array<Record<string, unknown>>};
	bad.links[3]!.cost = 99;
	t.false(validate(bad));
});

const withFile = (name: string, text: string, f: (file: string) => void) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-topo-'));
	try {
		const file = join(dir, name);
		writeFileSync(file, text);
		f(file);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
};

test('every problem of a YAML file, each with its path and line', (t) => {
	const text = readFileSync(join(DIR, 'default.yaml'), 'utf8')
		.replace('  - {a: router-a, b: server-a}', '  - {a: router-a, b: rtr-c}')
		.replace('    address: "2001:db8:2::1"', '    address: "2001:db8:2::zz"')
		.replace('keys/dns.hmac ', '/nonexistent ');
	withFile('bad.yaml', text, (file) => {
		const error = t.throws(() => loadTopology(file), {instanceOf: TopologyError});
		const lines = text.split('\n');
		const p = error!.problems.find((x) => x.field === 'nodes[1].address');
		t.truthy(p, error!.message);
		t.regex(lines[p!.line! - 1]!, /2001:db8:2::zz/, 'the line of the bad address');
		t.regex(error!.message, /not an IPv6 address/);
	});
	withFile('bad2.yaml', readFileSync(join(DIR, 'default.yaml'), 'utf8').replace('  - {a: router-a, b: server-a}', '  - {a: router-a, b: rtr-c}').replace('servers: [server-a, server-b] # the provisioned list (S205)', 'servers: [server-a, server-z]'), (file) => {
		const error = t.throws(() => loadTopology(file), {instanceOf: TopologyError});
		const fields = error!.problems.map((p) => `${p.field}: ${p.reason}`);
		t.true(fields.includes('links[5].b: unknown node "rtr-c"'), fields.join('; '));
		t.true(fields.includes('groups[0].servers[1]: unknown node "server-z"'), fields.join('; '));
		t.true(error!.problems.every((p) => typeof p.line === 'number'), 'each with its line');
		t.regex(error!.message, /problems:/);
	});
});

test('JSON problems carry their lines too; broken YAML and JSON name the file and the line', (t) => {
	const text = readFileSync(join(DIR, 'default.json'), 'utf8').replace('{"a": "router-a", "b": "server-a"}', '{"a": "router-a", "b": "rtr-c"}');
	withFile('bad.json', text, (file) => {
		const error = t.throws(() => loadTopology(file), {instanceOf: TopologyError});
		const p = error!.problems.find((x) => x.field === 'links[5].b')!;
		t.regex(text.split('\n')[p.line! - 1]!, /rtr-c/);
	});
	withFile('broken.yaml', 'name: x\nnodes: [a\n', (file) => {
		const error = t.throws(() => loadTopology(file), {instanceOf: TopologyError});
		t.regex(error!.message, /broken\.yaml: not valid YAML/);
	});
	withFile('broken.json', '{"name": ', (file) => {
		t.throws(() => readTopologyFile(file), {message: /broken\.json: not valid JSON/});
	});
});
