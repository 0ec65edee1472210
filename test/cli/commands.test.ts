// Every command the help text lists is one the CLI dispatches, and a bad
// option to any of them is a clear usage error, not a stack trace.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const anyguard = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {encoding: 'utf8', timeout: 30_000});

test('each command in the help text is dispatched; a bad option is a usage error', (t) => {
	const help = anyguard('help');
	t.is(help.status, 0);
	const commands = [...new Set([...help.stdout.matchAll(/^ {2}([a-z][a-z-]+)\b/gm)].map((m) => m[1]!))];
	t.true(commands.length >= 15, commands.join(' '));
	for (const command of commands.filter((c) => c !== 'help')) {
		const r = anyguard(command, '--no-such-option');
		t.is(r.status, 2, `${command}: ${r.stderr}`);
		t.notRegex(r.stderr, /unknown command/, command);
		t.regex(r.stderr, /^anyguard: .*no-such-option/m, command);
		t.notRegex(r.stderr, /\n\s+at /, `${command}: no stack trace`);
	}
});

test('attack --list names every kind with where it is dropped', (t) => {
	const r = anyguard('attack', '--list');
	t.is(r.status, 0, r.stderr);
	t.regex(r.stdout, /^replay\s+from attacker\s+dropped by client\s+\(id-replayed\)/m);
	t.regex(r.stdout, /^spoof-server\s+from attacker\s+dropped by boundary\s+\(ingress-spoofed\)/m);
});

test('wireshark install copies the dissector into the folder given, and a wrong subcommand is a usage error', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-plugins-'));
	try {
		const r = anyguard('wireshark', 'install', '--dir', join(dir, 'plugins'));
		t.is(r.status, 0, r.stderr);
		t.regex(r.stdout, /installed .*plugins\/anyguard\.lua/);
		t.is(readFileSync(join(dir, 'plugins', 'anyguard.lua'), 'utf8'), readFileSync(new URL('../../contrib/wireshark/anyguard.lua', import.meta.url), 'utf8'));
		const bad = anyguard('wireshark', 'uninstall');
		t.is(bad.status, 2);
		t.regex(bad.stderr, /the only subcommand is install/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('validate: a good topology is valid (exit 0); a bad one gets every problem with its path and line (exit 1), no stack trace', (t) => {
	const good = anyguard('validate', new URL('../../netns/topologies/default.yaml', import.meta.url).pathname);
	t.is(good.status, 0, good.stderr);
	t.regex(good.stdout, /valid: 10 nodes, 9 links, 2 anycast groups/);
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-validate-'));
	try {
		const src = readFileSync(new URL('../../netns/topologies/default.yaml', import.meta.url), 'utf8');
		const file = join(dir, 'bad.yaml');
		writeFileSync(file, src.replace('  - {a: router-a, b: server-a}', '  - {a: router-a, b: rtr-c}').replace('servers: [server-a, server-b] # the provisioned list (S205)', 'servers: [server-a, nobody]'));
		const bad = anyguard('validate', file);
		t.is(bad.status, 1);
		t.regex(bad.stderr, /bad\.yaml:\d+: links\[5\]\.b: unknown node "rtr-c"/);
		t.regex(bad.stderr, /bad\.yaml:\d+: groups\[0\]\.servers\[1\]: unknown node "nobody"/);
		t.regex(bad.stderr, /bad\.yaml: \d+ problems/);
		t.notRegex(bad.stderr, /\n\s+at /);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
