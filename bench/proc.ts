// Processes in namespaces for the network benchmarks (bench/forward.ts,
// bench/e2e.ts): each prints JSON lines on stdout; `ready` then `go` on stdin
// starts its clock (agio_bench's readers and the JS children alike).
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import {cpus} from 'node:os';
import {createInterface} from 'node:readline';
import {ROOT} from './code.js';
import {tool} from './native/build.js';

export type Json = Record<string, number | string>;

/** The plain-C senders and sinks (bench/native/agio_bench.c), built on first use. */
export const TOOL = tool('agio_bench');
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const twoCores = cpus().length >= 2 && existsSync('/usr/bin/taskset');

export class Proc {
	readonly lines: Json[] = [];
	readonly proc: ChildProcess;
	private readonly done: Promise<void>;
	private stderr = '';

	/** Runs `cmd` in namespace `ns`, pinned to `cpu` (or placed by the scheduler when cpu < 0). */
	constructor(ns: string, cmd: string[], cpu: number, env?: NodeJS.ProcessEnv) {
		const pinned = twoCores && cpu >= 0 ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
		this.proc = spawn('ip', ['netns', 'exec', ns, ...pinned], {cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...(env ? {env} : {})});
		createInterface({input: this.proc.stdout!}).on('line', (line) => {
			try {
				this.lines.push(JSON.parse(line) as Json);
			} catch {
				this.stderr += `${line}\n`;
			}
		});
		this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
		this.done = new Promise((resolve) => this.proc.on('exit', () => resolve()));
	}

	async line(mode: string, ms = 20_000): Promise<Json> {
		for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
			const hit = this.lines.find((l) => l.mode === mode);
			if (hit) return hit;
			if (this.proc.exitCode !== null || this.proc.signalCode !== null) break;
		}
		throw new Error(`no '${mode}' from ${this.proc.spawnargs.join(' ')}: ${this.stderr}`);
	}

	go(): void {
		this.proc.stdin!.write('go\n');
	}

	async result(ms = 30_000): Promise<Json> {
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([this.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
		clearTimeout(timer);
		const last = this.lines.at(-1);
		if (!last || last.mode === 'ready') throw new Error(`${this.proc.spawnargs.join(' ')} gave no result: ${this.stderr}`);
		return last;
	}

	/** Resolves when the process has exited. */
	exited(): Promise<void> {
		return this.done;
	}

	kill(): void {
		if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
	}
}

/** Every Proc started through `start`, to kill in a `finally`. */
export class Procs {
	private readonly all: Proc[] = [];

	start(ns: string, cmd: string[], cpu: number, env?: NodeJS.ProcessEnv): Proc {
		const p = new Proc(ns, cmd, cpu, env);
		this.all.push(p);
		return p;
	}

	killAll(): void {
		for (const p of this.all) p.kill();
	}
}

export function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export const k = (n: unknown) => `${(Number(n) / 1e3).toFixed(0)}k`;
