// Shared shape of every benchmark figure (bench/results.json).
export interface Result {
	name: string;
	value: number;
	unit: string;
	/** The figure this one is compared with, measured in the same run. */
	baseline?: {name: string; value: number};
	/** value / baseline.value */
	ratio?: number;
	/**
	 * A goal from an issue, for the table: clauses joined by ` and `, each
	 * `<op> <number>` on the value (`>= 5e6`, `<= 3`) or `ratio <op> <number>`
	 * on value / baseline (`ratio <= 2`: at most twice the baseline of the same run).
	 */
	goal?: string;
	note?: string;
}

export type Bench = () => Promise<Result[]>;

/** Runs `fn` for at least `ms` milliseconds, in rounds of `batch` calls; returns calls per second. */
export function rate(fn: () => void, ms = 1000, batch = 10_000): number {
	for (let i = 0; i < batch; i++) fn(); // warm up: let the JIT settle
	let calls = 0;
	const start = process.hrtime.bigint();
	const limit = BigInt(ms) * 1_000_000n;
	let elapsed = 0n;
	while (elapsed < limit) {
		for (let i = 0; i < batch; i++) fn();
		calls += batch;
		elapsed = process.hrtime.bigint() - start;
	}
	return calls / (Number(elapsed) / 1e9);
}

export function withRatio(result: Result, baseline: Result): Result {
	return {...result, baseline: {name: baseline.name, value: baseline.value}, ratio: result.value / baseline.value};
}

/** Whether `result` meets its goal (undefined without one). A ratio clause without a baseline is not met. */
export function meetsGoal(result: Result): boolean | undefined {
	if (!result.goal) return undefined;
	return result.goal.split(' and ').every((clause) => {
		const words = clause.trim().split(/\s+/);
		const onRatio = words[0] === 'ratio';
		const [op, raw] = (onRatio ? words.slice(1) : words) as [string, string];
		const value = onRatio ? result.ratio : result.value;
		if (value === undefined || !Number.isFinite(value)) return false;
		const goal = Number(raw);
		if (op === '>=') return value >= goal;
		if (op === '<=') return value <= goal;
		throw new Error(`${result.name}: goal ${JSON.stringify(result.goal)} is not '<op> <number>' clauses`);
	});
}
