// Routing benchmark (issue 3): FIB lookups/s at 1k and 237k prefixes, build
// time and memory at 237k, each lookup figure against a plain binary trie
// measured in the same run. Run alone: npx tsx bench/route.ts
import {pathToFileURL} from 'node:url';
import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';
import {seededRandom} from '../src/util/clock.js';
import {RouteTable} from '../src/route/table.js';
import {parseAddr} from '../src/util/addr.js';
import {rate, withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';

export interface SynthTable {
	/** 16 bytes per prefix. */
	addrs: Uint8Array;
	lens: Uint8Array;
	count: number;
}

// Length mix of today's IPv6 global table (roughly): /48 dominates, then the
// /32 LIR allocations and the nibble boundaries.
const MIX: [number, number][] = [
	[48, 45], [32, 10], [44, 8], [40, 7], [36, 5], [29, 2], [30, 1.5], [31, 1], [28, 0.5],
	[33, 1.5], [34, 1.5], [35, 1], [37, 0.7], [38, 1], [39, 0.6], [41, 0.6], [42, 1.2], [43, 0.5],
	[45, 1.2], [46, 1.8], [47, 2.5], [56, 0.3], [64, 0.3], [24, 0.1], [20, 0.05], [19, 0.05], [23, 0.05],
];
// RIR blocks inside 2000::/3, with weights.
const BLOCKS: [number, number, number][] = [
	[0x2001, 16, 3], [0x2400, 12, 4], [0x2600, 12, 5], [0x2800, 12, 1.5], [0x2a00, 12, 6], [0x2c00, 12, 0.5], [0x2003, 16, 0.3], [0x2402, 16, 0.3],
];

function pick<T extends [number, ...number[]]>(xs: T[], weight: (x: T) => number, r: number): T {
	let total = 0;
	for (const x of xs) total += weight(x);
	let left = r * total;
	for (const x of xs) {
		left -= weight(x);
		if (left < 0) return x;
	}
	return xs[xs.length - 1]!;
}

/**
 * A synthetic global table: allocations (/28–/32) inside RIR blocks, most longer
 * prefixes (85%) inside an existing allocation, as deaggregation produces.
 */
export function synthTable(n: number, seed: number): SynthTable {
	const rnd = seededRandom(seed);
	const addrs = new Uint8Array(16 * n);
	const lens = new Uint8Array(n);
	const seen = new Set<string>();
	const parents: number[] = [];
	const a = new Uint8Array(16);
	const randomBits = (from: number, to: number): void => {
		for (let b = from; b < to; b++) {
			if (rnd() < 0.5) a[b >> 3]! |= 0x80 >> (b & 7);
			else a[b >> 3]! &= ~(0x80 >> (b & 7));
		}
	};
	let count = 0;
	while (count < n) {
		const [len] = pick(MIX, (x) => x[1], rnd());
		a.fill(0);
		if (len > 32 && parents.length > 0 && rnd() < 0.85) {
			const p = parents[Math.floor(rnd() * parents.length)]!;
			if (lens[p]! >= len) continue;
			a.set(addrs.subarray(16 * p, 16 * p + 16));
			randomBits(lens[p]!, len);
		} else {
			const [hi, blockLen] = pick(BLOCKS, (x) => x[2], rnd());
			if (len < blockLen) continue;
			a[0] = hi >> 8;
			a[1] = hi & 0xff;
			randomBits(blockLen, len);
		}
		const key = `${a.join('.')}/${len}`;
		if (seen.has(key)) continue;
		seen.add(key);
		addrs.set(a, 16 * count);
		lens[count] = len;
		if (len >= 28 && len <= 32) parents.push(count);
		count++;
	}
	return {addrs, lens, count};
}

/** Destinations: a random prefix of the table each, with random host bits. */
export function synthQueries(t: SynthTable, n: number, seed: number): Uint8Array {
	const rnd = seededRandom(seed);
	const out = new Uint8Array(16 * n);
	for (let q = 0; q < n; q++) {
		const i = Math.floor(rnd() * t.count);
		out.set(t.addrs.subarray(16 * i, 16 * i + 16), 16 * q);
		for (let b = t.lens[i]!; b < 128; b++) if (rnd() < 0.5) out[16 * q + (b >> 3)]! |= 0x80 >> (b & 7);
	}
	return out;
}

const NEXT_HOPS = Array.from({length: 8}, (_, i) => parseAddr(`fe80::${i + 1}`));

/** A border router's view: the next hop follows the covering /24, so related prefixes share it. */
function nextHopOf(t: SynthTable, i: number): number {
	const o = 16 * i;
	return ((t.addrs[o]! * 31 + t.addrs[o + 1]!) * 31 + t.addrs[o + 2]!) % NEXT_HOPS.length;
}

export function buildTable(t: SynthTable): RouteTable {
	const table = new RouteTable();
	table.batch(() => {
		for (let i = 0; i < t.count; i++) {
			const nh = nextHopOf(t, i);
			table.upsert({
				prefix: t.addrs.subarray(16 * i, 16 * i + 16), len: t.lens[i]!, origin: 'static', metric: 1,
				nextHop: {kind: 'via', link: `up${nh}`, via: NEXT_HOPS[nh]!},
			});
		}
	});
	return table;
}

/** Baseline: a plain binary (one bit per level) trie in typed arrays. */
export class BinaryTrie {
	private kids = new Int32Array(2 * 1024);
	private vals = new Int32Array(1024);
	private top = 1;

	insert(a: Uint8Array, off: number, len: number, value: number): void {
		let n = 0;
		for (let b = 0; b < len; b++) {
			const bit = (a[off + (b >> 3)]! >> (7 - (b & 7))) & 1;
			let next = this.kids[2 * n + bit]!;
			if (next === 0) {
				next = this.top++;
				if (this.top > this.vals.length) this.grow();
				this.kids[2 * n + bit] = next;
			}
			n = next;
		}
		this.vals[n] = value;
	}

	lookup(a: Uint8Array, off: number): number {
		let n = 0;
		let best = this.vals[0]!;
		for (let b = 0; b < 128; b++) {
			n = this.kids[2 * n + ((a[off + (b >> 3)]! >> (7 - (b & 7))) & 1)]!;
			if (n === 0) break;
			const v = this.vals[n]!;
			if (v !== 0) best = v;
		}
		return best;
	}

	get bytes(): number {
		return this.kids.byteLength + this.vals.byteLength;
	}

	private grow(): void {
		const k = new Int32Array(this.kids.length * 2);
		k.set(this.kids);
		this.kids = k;
		const v = new Int32Array(this.vals.length * 2);
		v.set(this.vals);
		this.vals = v;
	}
}

function gcFunction(): () => void {
	setFlagsFromString('--expose-gc');
	return runInNewContext('gc') as () => void;
}

function heapBytes(gc: () => void): number {
	gc();
	gc();
	const m = process.memoryUsage();
	return m.heapUsed + m.arrayBuffers;
}

const QUERIES = 1 << 16;

function lookupRates(name: string, t: SynthTable, table: RouteTable, ms: number): Result[] {
	const q = synthQueries(t, QUERIES, 7);
	const mask = 16 * QUERIES - 1;
	let off = 0;
	let sink = 0;
	const fast = rate(() => {
		sink += table.lookup(q, off, off);
		off = (off + 16) & mask;
	}, ms);
	const trie = new BinaryTrie();
	for (let i = 0; i < t.count; i++) trie.insert(t.addrs, 16 * i, t.lens[i]!, 1 + nextHopOf(t, i));
	off = 0;
	const slow = rate(() => {
		sink += trie.lookup(q, off);
		off = (off + 16) & mask;
	}, ms);
	// Both must agree, or the figures compare different work.
	for (let i = 0; i < 4096; i++) {
		const idx = table.lookup(q, 16 * i, 0);
		const via = idx < 0 ? 0 : 1 + NEXT_HOPS.findIndex((a) => a.every((x, k) => x === table.nextHop(idx).via![k]));
		if (via !== trie.lookup(q, 16 * i)) throw new Error(`${name}: Poptrie and binary trie disagree on query ${i}`);
	}
	if (sink === 0.5) console.log(''); // keep the results alive
	const baseline: Result = {name: `route.lookup.${name}.baseline_binary_trie.per_s`, value: slow, unit: 'lookups/s'};
	return [withRatio({name: `route.lookup.${name}.per_s`, value: fast, unit: 'lookups/s', goal: name === '1k' ? '>= 10e6' : '>= 3e6'}, baseline), baseline];
}

export const run: Bench = async () => {
	const gc = gcFunction();
	const results: Result[] = [];

	const small = synthTable(1000, 1);
	results.push(...lookupRates('1k', small, buildTable(small), 1000));

	const big = synthTable(237_000, 42);
	const before = heapBytes(gc);
	const t0 = performance.now();
	const table = buildTable(big);
	const buildMs = performance.now() - t0;
	const after = heapBytes(gc);
	const fib = table.fibStats();
	results.push({name: 'route.build.237k.ms', value: buildMs, unit: 'ms', goal: '<= 1000', note: 'RIB + FIB from 237k routes in one batch'});
	results.push({name: 'route.memory.237k.mib', value: (after - before) / 2 ** 20, unit: 'MiB', goal: '<= 100', note: 'retained heap + typed arrays of the whole RouteTable (RIB + FIB)'});
	results.push({name: 'route.memory.fib.237k.mib', value: fib.bytes / 2 ** 20, unit: 'MiB', note: `FIB typed arrays: ${fib.nodes} nodes, ${fib.leaves} leaves`});
	results.push(...lookupRates('237k', big, table, 1500));
	void table.size;
	return results;
};

function printTable(results: Result[]): void {
	const rows = results.map((r) => [
		r.name,
		r.value >= 1e5 ? `${(r.value / 1e6).toFixed(2)} M` : r.value.toFixed(1),
		r.unit,
		r.goal ?? '',
		r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.baseline!.name}`,
		r.note ?? '',
	]);
	const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
	for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
	printTable(await run());
}
