// Helpers for the root tests: namespaces, devices and child processes, all
// named with this process's prefix so cleanup never touches anything else.
import {execFileSync, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import type {TestFn} from 'ava';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const peerScript = fileURLToPath(new URL('fixtures/peer.ts', import.meta.url));

/** Every namespace these tests make starts with this. */
export const PREFIX = `agio-${process.pid}-`;

export const isRoot = process.getuid?.() === 0;

/**
 * The registrar for tests that need root. CI runs as root and must run them;
 * so without root they fail under CI, and are skipped (loudly) only when CI is unset.
 */
export function rootTest(file: string): TestFn['serial'] {
	if (isRoot) return test.serial;
	if (process.env.CI) {
		test.serial(`${file}: root tests need root`, (t) => {
			t.fail(`${file} creates network namespaces and TUN devices and must run as root (CI is set, so not skipping)`);
		});
	} else {
		console.error(`\n*** ${file}: NOT RUNNING the namespace tests: they need root (and CI is unset). ***\n`);
	}
	return test.serial.skip as unknown as TestFn['serial'];
}

export function ip(...args: string[]): string {
	return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

/** Makes a namespace with loopback up; returns its name. */
export function addNs(suffix: string): string {
	const ns = PREFIX + suffix;
	ip('netns', 'add', ns);
	ip('-n', ns, 'link', 'set', 'lo', 'up');
	return ns;
}

/** Deletes every namespace with this process's prefix (and with it every device in them). */
export function cleanup(): void {
	for (const line of ip('netns', 'list').split('\n')) {
		const ns = line.split(' ')[0] ?? '';
		if (ns.startsWith(PREFIX)) ip('netns', 'del', ns);
	}
}

/**
 * A persistent TUN in `ns`: no kernel-made link-local address (so no stray
 * router solicitations), `address` added without DAD, link up.
 */
export function addTun(ns: string, name: string, address: string): void {
	ip('-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tun');
	ip('-n', ns, 'link', 'set', 'dev', name, 'addrgenmode', 'none');
	ip('-n', ns, '-6', 'addr', 'add', address, 'dev', name, 'nodad');
	ip('-n', ns, 'link', 'set', 'dev', name, 'up');
}

/** A veth pair between two namespaces, with link-local addresses and the MTU given. */
export function addVeth(a: {ns: string; dev: string; addr: string}, b: {ns: string; dev: string; addr: string}, mtu: number): void {
	ip('link', 'add', a.dev, 'mtu', String(mtu), 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.dev, 'mtu', String(mtu), 'netns', b.ns);
	for (const end of [a, b]) {
		ip('-n', end.ns, 'link', 'set', 'dev', end.dev, 'addrgenmode', 'none');
		ip('-n', end.ns, '-6', 'addr', 'add', `${end.addr}/64`, 'dev', end.dev, 'nodad');
		ip('-n', end.ns, 'link', 'set', 'dev', end.dev, 'up');
	}
}

export interface Line {
	event: string;
	[key: string]: unknown;
}

/** A child process whose stdout is JSON lines. */
export class Child {
	readonly lines: Line[] = [];
	readonly exited: Promise<number | null>;
	stderr = '';
	private waiters: Array<() => void> = [];

	constructor(readonly proc: ChildProcess) {
		createInterface({input: proc.stdout!}).on('line', (text) => {
			try {
				this.lines.push(JSON.parse(text) as Line);
			} catch {
				this.lines.push({event: 'text', text});
			}
			for (const w of this.waiters.splice(0)) w();
		});
		proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
		this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
	}

	/** Resolves with the first line of `event`; rejects after `ms`. */
	async waitFor(event: string, ms = 10_000): Promise<Line> {
		const started = Date.now();
		for (;;) {
			const hit = this.lines.find((l) => l.event === event);
			if (hit) return hit;
			if (Date.now() - started > ms) throw new Error(`no '${event}' line within ${ms} ms; got ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, 100);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	/** Resolves with the exit code; rejects (and kills this child) if it has not exited after `ms`. */
	async exit(ms = 10_000): Promise<number | null> {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				this.kill();
				reject(new Error(`child did not exit within ${ms} ms (a handle left open?); stderr: ${this.stderr}`));
			}, ms);
		});
		try {
			return await Promise.race([this.exited, timeout]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Kills this child only, by its own pid. */
	kill(): void {
		if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
	}
}

/** Runs `node --import tsx <script> args` inside `ns` (with `runas`, as that uid/gid via setpriv). */
export function spawnIn(ns: string, script: string, args: string[], runas?: number): Child {
	const node = [process.execPath, '--import', 'tsx', script, ...args];
	const cmd = runas === undefined ? node : ['setpriv', `--reuid=${runas}`, `--regid=${runas}`, '--clear-groups', ...node];
	return new Child(spawn('ip', ['netns', 'exec', ns, ...cmd], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, TSX_DISABLE_CACHE: '1'}}));
}

/** Runs a command inside `ns` to completion; returns its exit code (output ignored). */
export function runIn(ns: string, cmd: string[], timeoutMs = 10_000): number {
	try {
		execFileSync('ip', ['netns', 'exec', ns, ...cmd], {stdio: 'ignore', timeout: timeoutMs});
		return 0;
	} catch (error) {
		return (error as {status?: number}).status ?? -1;
	}
}
