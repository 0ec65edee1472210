// The picture of the default topology: graphviz renders a non-empty SVG that
// names every node, with the path to S highlighted (no root: the path comes
// from the topology converged in memory).
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {copyTopology} from '../../src/config/topology.js';
import {DEFAULT_TOPOLOGY, defaultTopology} from '../helpers/net.js';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

test('anyguard topology --format svg names every node and highlights the path to S', (t) => {
	const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'topology', '--format', 'svg', '--topology', DEFAULT_TOPOLOGY, '--state', '/nonexistent-anyguard-state'], {encoding: 'utf8'});
	t.is(r.status, 0, r.stderr);
	t.true(r.stdout.startsWith('<?xml') && r.stdout.includes('<svg'), 'an SVG document');
	t.true(r.stdout.length > 2000);
	// graphviz writes '-' in SVG text as the character reference &#45;.
	for (const node of defaultTopology().nodes) t.true(r.stdout.includes(`>${node.name.replace(/-/g, '&#45;')}</text>`), `names ${node.name}`);
	t.regex(r.stdout, /path to S = 2001:db8:1:ac::53 \(converged in memory\)/);
});

test('anyguard topology --format dot: the path to S is client, internet, boundary, router-a, server-a', (t) => {
	const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'topology', '--topology', DEFAULT_TOPOLOGY, '--state', '/nonexistent-anyguard-state'], {encoding: 'utf8'});
	t.is(r.status, 0, r.stderr);
	const hot = [...r.stdout.matchAll(/^ {2}"([^"]+)" -- "([^"]+)" \[[^\]]*penwidth=3/gm)].map((m) => `${m[1]}-${m[2]}`);
	t.deepEqual(hot.sort(), ['boundary-router-a', 'client-internet', 'internet-boundary', 'router-a-server-a'].sort());
});

test("anyguard topology: BIRD nodes drawn apart, TUN links named, a link's conditions on its label", (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-topo-'));
	try {
		const file = copyTopology(fileURLToPath(new URL('../../netns/topologies/interop-bird.json', import.meta.url)), 'ag-', join(dir, 'topology.json'));
		const json = JSON.parse(readFileSync(file, 'utf8')) as {links: Array<Record<string, unknown>>};
		Object.assign(json.links.find((l) => l.a === 'boundary' && l.b === 'router-a')!, {delay: '20ms', loss: '1%'});
		writeFileSync(file, JSON.stringify(json));
		const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'topology', '--topology', file, '--state', '/nonexistent-anyguard-state'], {encoding: 'utf8'});
		t.is(r.status, 0, r.stderr);
		t.regex(r.stdout, /"internet" \[label="internet\\nthe Internet 1, run by BIRD 2[^\]]*style="filled,dashed"/);
		t.regex(r.stdout, /"client" -- "internet" \[label="cost 1 \(TUN\)"/);
		t.regex(r.stdout, /"boundary" -- "router-a" \[label="cost 1\\ndelay=20ms\\nloss=1%"/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
