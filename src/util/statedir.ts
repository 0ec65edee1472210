// The state directory holds the control sockets, the pid files `down` acts
// on and the logs. It is private to its owner whatever the umask: 0700, the
// sockets 0600. One that is not ours, is a symbolic link, or that group or
// others could write to (and so plant a pid file in) is refused, never used.
import {chmodSync, lstatSync, mkdirSync} from 'node:fs';
import type {Stats} from 'node:fs';
import {dirname} from 'node:path';

export class StateDirError extends Error {
	override readonly name = 'StateDirError';
	readonly code = 'unsafe-state-dir';
}

/** Why `st` (of `path`) is not a directory this process may trust, or null. */
export function distrust(path: string, st: Stats): string | null {
	if (st.isSymbolicLink()) return `${path} is a symbolic link`;
	if (!st.isDirectory()) return `${path} is not a directory`;
	const uid = process.geteuid?.() ?? 0;
	if (st.uid !== uid) return `${path} belongs to uid ${st.uid}, not to this user (uid ${uid})`;
	if ((st.mode & 0o022) !== 0) return `${path} can be written by its group or others (mode ${(st.mode & 0o777).toString(8)})`;
	return null;
}

/**
 * Makes `path` (and any missing parents) or checks the one there, and leaves
 * it mode 0700. Throws StateDirError for one it cannot trust.
 */
export function privateDir(path: string): void {
	let st: Stats | undefined;
	try {
		st = lstatSync(path);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateDirError(`state directory ${path}: ${(error as Error).message}`);
	}
	if (!st) {
		// Parents made here are private too; a parent that exists is left as it is (it may be /tmp).
		const first = mkdirSync(path, {recursive: true, mode: 0o700});
		for (let p = path; first && p.length >= first.length; p = dirname(p)) chmodSync(p, 0o700);
		st = lstatSync(path);
	}
	const why = distrust(path, st);
	if (why) throw new StateDirError(`state directory ${why}: refusing to use it (remove it, or choose another with --state)`);
	chmodSync(path, 0o700);
}

/** Whether `path` is a directory this process may trust (see privateDir), without changing anything. */
export function trustedDir(path: string): boolean {
	try {
		return distrust(path, lstatSync(path)) === null;
	} catch {
		return false;
	}
}
