// Anycast origination: a server node puts S/128 into its table (and so into
// route exchange) only while it is healthy, and withdraws it as soon as a check
// fails. Routing then converges on the next-nearest server.
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import type {Addr} from '../util/addr.js';
import type {Clock, TimerHandle} from '../util/clock.js';
import type {RouteTable} from './table.js';

/** Resolves true when the service is usable. May return synchronously. */
export type HealthCheck = () => boolean | Promise<boolean>;

export interface AnycastOptions {
	prefix: Addr;
	/** Usually 128: the service address itself. */
	len: number;
	/** Omitted: healthy whenever the process runs. */
	check?: HealthCheck;
	intervalMs?: number;
	/** A check that has not answered after this long counts as failed. */
	timeoutMs?: number;
	/** Consecutive successes needed to (re)originate. */
	rise?: number;
	/** Consecutive failures needed to withdraw. */
	fall?: number;
	/** Metric to originate with; a higher value makes this server a backup. */
	metric?: number;
}

export class AnycastError extends Error {
	override readonly name = 'AnycastError';
	constructor(readonly code: 'bad-config', message: string) {
		super(message);
	}
}

export interface AnycastStats {
	checks: number;
	failures: number;
	timeouts: number;
	/** Check threw or rejected. */
	errors: number;
	originations: number;
	withdrawals: number;
}

export class AnycastOriginator {
	readonly stats: AnycastStats = {checks: 0, failures: 0, timeouts: 0, errors: 0, originations: 0, withdrawals: 0};
	private readonly o: Required<Omit<AnycastOptions, 'check'>> & {check: HealthCheck | undefined};
	private readonly clock: Clock;
	private readonly table: RouteTable;
	private timer: TimerHandle | undefined;
	private timeout: TimerHandle | undefined;
	private inFlight = 0; // generation of the running check; 0 when none
	private generation = 0;
	private ups = 0;
	private downs = 0;
	private originated = false;
	private running = false;

	constructor(opts: AnycastOptions, deps: {clock: Clock; table: RouteTable}) {
		this.o = {
			prefix: Uint8Array.from(opts.prefix), len: opts.len, check: opts.check,
			intervalMs: opts.intervalMs ?? 500, timeoutMs: opts.timeoutMs ?? 400,
			rise: opts.rise ?? 1, fall: opts.fall ?? 1, metric: opts.metric ?? 1,
		};
		const o = this.o;
		if (!(o.intervalMs > 0 && o.timeoutMs > 0 && o.rise >= 1 && o.fall >= 1 && o.metric >= 1 && o.metric < 16)) {
			throw new AnycastError('bad-config', `bad anycast options ${JSON.stringify({...o, prefix: undefined, check: undefined})}`);
		}
		this.clock = deps.clock;
		this.table = deps.table;
	}

	/** True while the route is originated. */
	get healthy(): boolean {
		return this.originated;
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		if (this.o.check === undefined) {
			this.setOriginated(true);
			return;
		}
		this.runCheck();
		this.timer = this.clock.setInterval(() => this.runCheck(), this.o.intervalMs);
	}

	/** Stops checking and withdraws the route. */
	stop(): void {
		this.running = false;
		this.clock.clear(this.timer);
		this.clock.clear(this.timeout);
		this.timer = this.timeout = undefined;
		this.inFlight = 0;
		this.setOriginated(false);
	}

	private runCheck(): void {
		if (!this.running || this.inFlight !== 0) return; // never overlap checks
		const gen = ++this.generation;
		this.inFlight = gen;
		this.stats.checks++;
		let result: boolean | Promise<boolean>;
		try {
			result = this.o.check!();
		} catch {
			this.stats.errors++;
			return this.finish(gen, false);
		}
		if (typeof result === 'boolean') return this.finish(gen, result);
		this.timeout = this.clock.setTimeout(() => {
			if (this.inFlight !== gen) return;
			this.stats.timeouts++;
			this.finish(gen, false);
		}, this.o.timeoutMs);
		result.then((ok) => this.finish(gen, ok === true), () => {
			if (this.inFlight === gen) this.stats.errors++;
			this.finish(gen, false);
		});
	}

	private finish(gen: number, ok: boolean): void {
		if (this.inFlight !== gen) return; // late answer after a timeout, or stopped
		this.inFlight = 0;
		this.clock.clear(this.timeout);
		this.timeout = undefined;
		if (ok) {
			this.downs = 0;
			if (++this.ups >= this.o.rise) this.setOriginated(true);
		} else {
			this.stats.failures++;
			this.ups = 0;
			if (++this.downs >= this.o.fall) this.setOriginated(false);
		}
	}

	private setOriginated(on: boolean): void {
		if (on === this.originated) return;
		this.originated = on;
		const route = {prefix: this.o.prefix, len: this.o.len, origin: 'connected', nextHop: {kind: 'local'}} as const;
		if (on) {
			this.stats.originations++;
			this.table.upsert({...route, metric: this.o.metric, anycast: true, advertise: true, source: 'anycast'});
		} else {
			this.stats.withdrawals++;
			this.table.withdraw(route.prefix, route.len, route.origin, route.nextHop, 'anycast');
		}
	}
}

/**
 * The health checker's helper: a shell that runs the command once per line
 * on its stdin and answers each with the exit status. The role process forks
 * it once; every check after is a line each way. (Forking from the role
 * process itself blocks its event loop for a millisecond or more per check —
 * it copies the page tables of a ~70 MiB process — and every packet arriving
 * meanwhile waits: at one check every 300 ms that was the ping's p99.)
 */
const HELPER = 'while read -r _; do "$@" </dev/null >/dev/null 2>&1; echo "$?"; done';

/**
 * A health check that runs a command (e.g. a DNS query against the server the
 * node fronts): healthy if it exits 0 within `timeoutMs`. The command runs
 * under a helper shell (HELPER); a check that times out kills the helper and
 * the command with it, and the next check starts a new one.
 */
export function commandHealthCheck(file: string, args: readonly string[], timeoutMs = 1000): HealthCheck {
	// One helper may serve several originators (a server's groups share its check): the checks queue, and
	// each answer line goes to the oldest. Each check's time runs from when the helper starts it.
	let helper: ChildProcess | undefined;
	const queue: Array<(ok: boolean) => void> = [];
	let timer: NodeJS.Timeout | undefined;
	let buffered = '';
	const arm = (h: ChildProcess) => {
		clearTimeout(timer);
		timer = undefined;
		if (queue.length === 0) return;
		timer = setTimeout(() => {
			// The command at the head hangs: kill the helper with it; the checks queued behind it fail too.
			stopHelper(h);
			failAll();
		}, timeoutMs);
	};
	const failAll = () => {
		clearTimeout(timer);
		timer = undefined;
		for (const w of queue.splice(0)) w(false);
	};
	const stopHelper = (h: ChildProcess) => {
		if (helper === h) helper = undefined;
		try {
			process.kill(-h.pid!, 'SIGKILL'); // its own process group: the shell and the command
		} catch {
			// gone already
		}
	};
	const startHelper = (): ChildProcess => {
		// Detached: a process group of its own, to kill with the command on a timeout. It ends by itself when
		// the role process does: its stdin closes.
		const h = spawn('/bin/sh', ['-c', HELPER, 'anyguard-health', file, ...args], {stdio: ['pipe', 'pipe', 'ignore'], detached: true});
		h.unref();
		h.stdin!.on('error', () => {});
		h.stdout!.setEncoding('utf8');
		h.stdout!.on('data', (chunk: string) => {
			if (helper !== h) return; // a helper killed on a timeout: its last words are not an answer
			buffered += chunk;
			for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
				const line = buffered.slice(0, nl).trim();
				buffered = buffered.slice(nl + 1);
				queue.shift()?.(line === '0');
				arm(h);
			}
		});
		const gone = () => {
			if (helper !== h) return;
			helper = undefined;
			failAll();
		};
		h.on('error', gone);
		h.on('exit', gone);
		for (const stream of [h.stdin, h.stdout] as const) (stream as unknown as {unref?: () => void}).unref?.();
		return h;
	};
	return () =>
		new Promise<boolean>((resolve) => {
			if (!helper) {
				buffered = '';
				helper = startHelper();
			}
			queue.push(resolve);
			if (queue.length === 1) arm(helper);
			helper.stdin!.write('\n');
		});
}
