// Failover drills on a running network: stop a role process and keep it
// stopped (its supervisor waits while the stop file is there), or let the
// supervisor start it again. `anyguard stop-node`/`start-node` and the live
// view's buttons.
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import type {Topology} from '../config/topology.js';
import {files, stateDir} from './names.js';

export class DrillError extends Error {
	override readonly name = 'DrillError';
	readonly code = 'drill';
}

function checked(t: Topology, name: string, stateRoot?: string): string {
	if (!t.nodes.some((n) => n.name === name)) throw new DrillError(`no node named ${name} in ${t.file}`);
	const dir = stateDir(t, stateRoot);
	if (!existsSync(dir)) throw new DrillError(`no running network in ${dir}: run anyguard up first`);
	return dir;
}

/** Stops `name`'s role process (SIGTERM: it says goodbye first) and keeps it stopped. Returns the pid signalled. */
export function stopNode(t: Topology, name: string, stateRoot?: string): number {
	const dir = checked(t, name, stateRoot);
	writeFileSync(files.stop(dir, name), `${new Date().toISOString()}\n`);
	let pid = 0;
	try {
		pid = Number(readFileSync(files.pid(dir, name), 'utf8').trim());
	} catch {
		return 0; // not running: the stop file keeps it so
	}
	if (pid > 0) {
		try {
			process.kill(pid, 'SIGTERM');
		} catch {
			// gone already
		}
	}
	return pid;
}

/** Lets `name`'s supervisor start its role process again. */
export function startNode(t: Topology, name: string, stateRoot?: string): void {
	rmSync(files.stop(checked(t, name, stateRoot), name), {force: true});
}

/** Whether `name` is held stopped. */
export function isStopped(t: Topology, name: string, stateRoot?: string): boolean {
	return existsSync(files.stop(stateDir(t, stateRoot), name));
}
