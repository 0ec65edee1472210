// The default topology as real namespaces for one test file: its own prefix
// and state directory, brought up with netns/setup.sh (the README's first
// command) and removed with netns/teardown.sh even when a test fails.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {copyTopology, loadTopology} from '../../src/config/topology.js';
import type {Topology} from '../../src/config/topology.js';
import {stateDir} from '../../src/netns/names.js';
import {DEFAULT_TOPOLOGY} from './net.js';
import {repoRoot} from '../io/netns.js';

export interface TestNet {
	topology: Topology;
	file: string;
	stateRoot: string;
	state: string;
	prefix: string;
	setupOutput: string;
	ns(node: string): string;
	/** Runs a command in a node's namespace. */
	exec(node: string, ...args: string[]): {status: number | null; stdout: string; stderr: string};
	/** Runs the anyguard CLI (from src, as the tests do). */
	cli(...args: string[]): {status: number | null; stdout: string; stderr: string};
	/** Removes the network (netns/teardown.sh); safe to call again. */
	teardown(): {status: number | null; output: string};
	/** Removes the temporary folder with the topology copy. */
	dispose(): void;
}

/** A copy of topology `source` (default.json) with prefix `prefix`, its key paths made absolute. */
export function testTopologyFile(prefix: string, dir: string, source = DEFAULT_TOPOLOGY): string {
	return copyTopology(source, prefix, join(dir, 'topology.json'));
}

/**
 * `source` (default.json) under this test's prefix, brought up with the
 * README's script. `metric` is the host routes' metric: a lower one than any
 * other network's takes the host's traffic while it is up (another test
 * network with a host link picks another, and pings with -I its host veth).
 */
export function bringUp(tag: string, o: {source?: string; metric?: number} = {}): TestNet {
	const prefix = `${tag}${process.pid % 10000}-`;
	const stateRoot = mkdtempSync(join(tmpdir(), 'anyguard-net-'));
	const file = testTopologyFile(prefix, stateRoot, o.source);
	const topology = loadTopology(file);
	const state = stateDir(topology, stateRoot);
	const run = (cmd: string, args: string[], timeout = 120_000) => {
		const r = spawnSync(cmd, args, {cwd: repoRoot, encoding: 'utf8', timeout});
		return {status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? ''};
	};
	const net: TestNet = {
		topology,
		file,
		stateRoot,
		state,
		prefix,
		setupOutput: '',
		ns: (node) => `${prefix}${node}`,
		exec: (node, ...args) => run('ip', ['netns', 'exec', `${prefix}${node}`, ...args], 60_000),
		cli: (...args) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args, '--topology', file, '--state', stateRoot], 120_000),
		teardown: () => {
			const r = run('bash', ['netns/teardown.sh', file, '--state', stateRoot]);
			return {status: r.status, output: r.stdout + r.stderr};
		},
		dispose: () => rmSync(stateRoot, {recursive: true, force: true}),
	};
	// A lower route metric than a running demo's: while this network is up, the host's traffic comes here.
	const r = run('bash', ['netns/setup.sh', file, '--state', stateRoot, '--host-route-metric', String(o.metric ?? 100), '--restart-delay', '1500']);
	net.setupOutput = r.stdout + r.stderr;
	if (r.status !== 0) {
		net.teardown();
		net.dispose();
		throw new Error(`netns/setup.sh failed (${r.status}):\n${net.setupOutput}`);
	}
	return net;
}
