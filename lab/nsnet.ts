// A topology brought up in namespaces for one root test file or benchmark,
// with its own prefix, its own state root and no host link; `down` removes it
// all, and `sweep` any namespace left with the prefix (a crashed earlier run).
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {copyTopology, loadTopology} from '../src/config/topology.js';
import type {Topology} from '../src/config/topology.js';
import {files, namespace, stateDir} from '../src/netns/names.js';
import {down, up} from '../src/netns/setup.js';
import {queryStatus} from '../src/ops/control.js';
import type {NodeStatus} from '../src/ops/status.js';

export const INJECT = fileURLToPath(new URL('inject.py', import.meta.url));

export interface NsNet {
	topology: Topology;
	file: string;
	stateRoot: string;
	state: string;
	ns(node: string): string;
	status(node: string): Promise<NodeStatus>;
	exec(node: string, args: string[], input?: string, timeoutMs?: number): {status: number | null; stdout: string; stderr: string};
	/** Sends `packets` into `node`'s TUN as its host; returns what the node wrote back to the TUN in `listenMs`. */
	inject(node: string, packets: Uint8Array[], listenMs: number): Uint8Array[];
	pid(node: string): number;
	supervisorPid(node: string): number;
	down(): Promise<void>;
}

const quiet = {step: () => {}, detail: () => {}};

/** A copy of topology `source` with prefix `prefix` and its key paths made absolute, in `dir`. */
export function retarget(source: string, prefix: string, dir: string): string {
	return copyTopology(source, prefix, join(dir, 'topology.json'));
}

/** Deletes every namespace whose name starts with `prefix`. */
export function sweep(prefix: string): void {
	const list = spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout ?? '';
	for (const line of list.split('\n')) {
		const ns = line.split(' ')[0] ?? '';
		if (ns.startsWith(prefix)) spawnSync('ip', ['netns', 'del', ns]);
	}
}

export async function bringUpNs(source: string, tag: string): Promise<NsNet> {
	const prefix = `${tag}${process.pid % 10000}-`;
	sweep(prefix);
	const stateRoot = mkdtempSync(join(tmpdir(), 'anyguard-conf-'));
	const file = retarget(source, prefix, stateRoot);
	const topology = loadTopology(file);
	const state = stateDir(topology, stateRoot);
	const net: NsNet = {
		topology,
		file,
		stateRoot,
		state,
		ns: (node) => namespace(topology, node),
		status: (node) => queryStatus(files.socket(state, node), 2000),
		exec: (node, args, input, timeoutMs = 30_000) => {
			const r = spawnSync('ip', ['netns', 'exec', namespace(topology, node), ...args], {encoding: 'utf8', input, timeout: timeoutMs});
			return {status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? ''};
		},
		inject: (node, packets, listenMs) => {
			const input = packets.map((p) => Buffer.from(p).toString('hex')).join('\n') + '\n';
			const r = net.exec(node, ['python3', INJECT, 'tun0', '--listen-ms', String(listenMs)], input, listenMs + 30_000);
			if (r.status !== 0) throw new Error(`inject.py failed (${r.status}): ${r.stderr}`);
			return r.stdout
				.split('\n')
				.filter((l) => l.trim())
				.map((l) => Uint8Array.from(Buffer.from(l.trim(), 'hex')));
		},
		pid: (node) => Number(readFileSync(files.pid(state, node), 'utf8')),
		supervisorPid: (node) => Number(readFileSync(files.supervisorPid(state, node), 'utf8')),
		down: async () => {
			try {
				await down(file, {stateRoot, progress: quiet});
			} finally {
				sweep(prefix);
				rmSync(stateRoot, {recursive: true, force: true});
			}
		},
	};
	try {
		await up(file, {stateRoot, hostLink: false, progress: quiet, restartDelayMs: 500});
	} catch (error) {
		await net.down();
		throw error;
	}
	return net;
}
