// Link conditions: the delay, jitter, loss, rate and MTU a topology link (or
// `anyguard link <a> <b> set …`) asks for, parsed from the units people
// write ("20ms", "1%", "10mbit") into numbers, and back for display. Where
// they are applied, and with which mechanism on which kind of link, is
// src/netns/links.ts.

export class ConditionSyntaxError extends Error {
	override readonly name = 'ConditionSyntaxError';
	readonly code = 'bad-condition';
}

/** A link's conditions as numbers; every field absent means "none". */
export interface LinkConditions {
	/** One-way delay added in each direction, ms. */
	delayMs?: number;
	/** Each packet's delay varies uniformly within ±jitter, ms (never reordering: docs/routing.md). */
	jitterMs?: number;
	/** Share of packets lost in each direction, at random, % (0..100). */
	lossPct?: number;
	/** Rate of each direction, bits per second. */
	rateBps?: number;
	/** Largest inner IPv6 packet the link carries. */
	mtu?: number;
	/** The link is down (`anyguard link <a> <b> down`). */
	down?: boolean;
}

export const CONDITION_KEYS = ['delay', 'jitter', 'loss', 'rate', 'mtu'] as const;
export type ConditionKey = (typeof CONDITION_KEYS)[number];

const MAX_DELAY_MS = 10_000;

/**
 * "20ms", "1.5s", "250us", "0", or a number of milliseconds. Up to 10 s, to
 * the microsecond. Throws ConditionSyntaxError.
 */
export function parseDuration(value: string | number, what = 'delay'): number {
	let ms: number;
	if (typeof value === 'number') ms = value;
	else {
		const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)?\s*$/.exec(value);
		if (!m) throw new ConditionSyntaxError(`${what} ${JSON.stringify(value)} is not a duration (e.g. 20ms, 1.5s, 250us)`);
		const n = Number(m[1]);
		const unit = m[2] ?? (n === 0 ? 'ms' : '');
		if (unit === '') throw new ConditionSyntaxError(`${what} ${JSON.stringify(value)} needs a unit: us, ms or s (e.g. 20ms)`);
		ms = unit === 's' ? n * 1000 : unit === 'ms' ? n : n / 1000;
	}
	if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DELAY_MS) throw new ConditionSyntaxError(`${what} must be 0 to ${MAX_DELAY_MS / 1000} s, got ${JSON.stringify(value)}`);
	return Math.round(ms * 1000) / 1000;
}

/** "1%", "0.5%", or a number of percent; 0..100. Throws ConditionSyntaxError. */
export function parseLoss(value: string | number): number {
	let pct: number;
	if (typeof value === 'number') pct = value;
	else {
		const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
		if (!m) throw new ConditionSyntaxError(`loss ${JSON.stringify(value)} is not a percentage (e.g. 1%, 0.5%)`);
		pct = Number(m[1]);
	}
	if (!Number.isFinite(pct) || pct < 0 || pct > 100) throw new ConditionSyntaxError(`loss must be 0 to 100 %, got ${JSON.stringify(value)}`);
	return Math.round(pct * 100) / 100;
}

const RATE_UNITS: Record<string, number> = {bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9};

/**
 * "10mbit", "500kbit", "1gbit" (bits per second, as tc writes them), or
 * "kbps"/"mbps" for bytes per second; 8 kbit/s to 100 gbit/s. A bare number
 * is bits per second. Throws ConditionSyntaxError.
 */
export function parseRate(value: string | number): number {
	let bps: number;
	if (typeof value === 'number') bps = value;
	else {
		const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(value);
		const unit = m?.[2]?.toLowerCase() ?? 'bit';
		if (!m || !(unit in RATE_UNITS)) throw new ConditionSyntaxError(`rate ${JSON.stringify(value)} is not a rate (e.g. 10mbit, 500kbit, 1gbit)`);
		bps = Number(m[1]) * RATE_UNITS[unit]!;
	}
	if (!Number.isFinite(bps) || bps < 8000 || bps > 100e9) throw new ConditionSyntaxError(`rate must be 8kbit to 100gbit, got ${JSON.stringify(value)}`);
	return Math.round(bps);
}

export function parseMtu(value: string | number): number {
	const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
	if (!Number.isInteger(n) || n < 1280 || n > 9000) throw new ConditionSyntaxError(`mtu must be a whole number of bytes, 1280 to 9000, got ${JSON.stringify(value)}`);
	return n;
}

/** Checks what no single field can: a jitter larger than the delay would need negative delays. */
export function checkConditions(c: LinkConditions): void {
	if ((c.jitterMs ?? 0) > (c.delayMs ?? 0)) throw new ConditionSyntaxError(`jitter ${formatDuration(c.jitterMs!)} is larger than the delay ${formatDuration(c.delayMs ?? 0)}: a packet cannot leave before it was sent`);
}

/** The fields a topology link may carry, as written there. */
export interface ConditionFields {
	delay?: string | number | undefined;
	jitter?: string | number | undefined;
	loss?: string | number | undefined;
	rate?: string | number | undefined;
	mtu?: number | undefined;
}

/** Each condition key, the field it sets and the parser of its value. */
const FIELDS: Record<ConditionKey, {field: 'delayMs' | 'jitterMs' | 'lossPct' | 'rateBps' | 'mtu'; parse: (v: string | number) => number}> = {
	delay: {field: 'delayMs', parse: (v) => parseDuration(v)},
	jitter: {field: 'jitterMs', parse: (v) => parseDuration(v, 'jitter')},
	loss: {field: 'lossPct', parse: parseLoss},
	rate: {field: 'rateBps', parse: parseRate},
	mtu: {field: 'mtu', parse: parseMtu},
};

function isConditionKey(key: string): key is ConditionKey {
	return (CONDITION_KEYS as readonly string[]).includes(key);
}

/** A topology link's conditions, as numbers. Throws ConditionSyntaxError. */
export function conditionsOf(l: ConditionFields): LinkConditions {
	const c: LinkConditions = {};
	for (const key of CONDITION_KEYS) {
		const value = l[key];
		if (value !== undefined) c[FIELDS[key].field] = FIELDS[key].parse(value);
	}
	checkConditions(c);
	return c;
}

/**
 * `key=value` words (`delay=20ms loss=1%`, `delay=0` to clear one) applied
 * over `base`. Throws ConditionSyntaxError naming the word.
 */
export function applyAssignments(base: LinkConditions, words: readonly string[]): LinkConditions {
	if (words.length === 0) throw new ConditionSyntaxError(`set needs at least one of ${CONDITION_KEYS.map((k) => `${k}=…`).join(' ')}`);
	const c: LinkConditions = {...base};
	for (const w of words) {
		const m = /^([a-z]+)=(.*)$/.exec(w);
		if (!m) throw new ConditionSyntaxError(`${JSON.stringify(w)} is not key=value (e.g. delay=20ms loss=1%)`);
		const [, key, value] = m as unknown as [string, string, string];
		if (!isConditionKey(key)) throw new ConditionSyntaxError(`unknown condition ${JSON.stringify(key)}: ${CONDITION_KEYS.join(', ')}`);
		if (key === 'rate' && (value === '0' || value === 'none')) delete c.rateBps;
		else c[FIELDS[key].field] = FIELDS[key].parse(value);
	}
	for (const k of ['delayMs', 'jitterMs', 'lossPct'] as const) if (c[k] === 0) delete c[k];
	checkConditions(c);
	return c;
}

export function formatDuration(ms: number): string {
	if (ms >= 1000) return `${Number((ms / 1000).toFixed(6))}s`;
	if (ms < 1 && ms > 0) return `${Math.round(ms * 1000)}us`;
	return `${Number(ms.toFixed(3))}ms`;
}

export function formatRate(bps: number): string {
	for (const [unit, f] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bps >= f && (bps / f) % 1 === 0) return `${bps / f}${unit}`;
	for (const [unit, f] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bps >= f) return `${Number((bps / f).toFixed(2))}${unit}`;
	return `${bps}bit`;
}

/**
 * The conditions in the words `set` takes: "delay=20ms jitter=2ms loss=1%",
 * "" when there are none. `defaultMtu` is left out (every link has an MTU).
 */
export function formatConditions(c: LinkConditions, defaultMtu = 1500): string {
	const out: string[] = [];
	if (c.down) out.push('down');
	if (c.delayMs) out.push(`delay=${formatDuration(c.delayMs)}`);
	if (c.jitterMs) out.push(`jitter=${formatDuration(c.jitterMs)}`);
	if (c.lossPct) out.push(`loss=${c.lossPct}%`);
	if (c.rateBps) out.push(`rate=${formatRate(c.rateBps)}`);
	if (c.mtu !== undefined && c.mtu !== defaultMtu) out.push(`mtu=${c.mtu}`);
	return out.join(' ');
}
