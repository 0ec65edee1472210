// Forwarding structure: a Poptrie (Asai & Ohara, SIGCOMM 2015) over 128-bit
// addresses, with direct pointing on the top 18 bits and 6-bit strides below.
//
// Layout
//   direct[slot]   slot = top 18 bits. < 0: ~value (no longer prefix under this
//                  slot, so the answer is final); >= 0: root node of the slot's trie.
//   slotDefault    value of the longest prefix of length <= 18 covering the slot;
//                  the tries hold only prefixes longer than 18 and answer 0 when
//                  none matches, so a change to a short prefix (say ::/0) repaints
//                  this array instead of rebuilding every trie.
//   nodes          16 int32 (one 64-byte cache line) per node: vector lo/hi
//                  (which of the 64 children are nodes), leafvec lo/hi (where a
//                  run of equal leaves starts), per 32-bit half the base index of
//                  children and of leaves (one popcount per level instead of two),
//                  a skip record, and up to 5 leaves inline.
//   leaves         values, one per run (leaf compression, Poptrie §3.3), for
//                  nodes with more than 5 runs.
//
// Two additions to Poptrie, both to save cache misses on long IPv6 paths:
//   - path compression: a node with one child and no prefix ending in it is
//     not stored; its child records the skipped 6-bit chunks (up to 5) and the
//     value to return if the address leaves the path there;
//   - inline leaves: deep nodes mostly hold 1–3 runs, which then sit in the
//     node's own cache line instead of a separate array.
//
// 18 + 6k puts a level boundary at /24, /30, /36, /42 and /48, where most
// global-table prefixes end (/48 is ~45% of them), so a /48 resolves in 5 node
// visits. Depth is bounded by 19 levels for /128.
//
// Updates: a change marks its slot dirty; commit() rebuilds each dirty slot's trie
// into fresh space and then swaps the direct pointer, so a lookup between two
// commits sees either the old or the new trie, never a mix. Space left behind is
// reclaimed by a full compaction once it outweighs the live part.

export const DIRECT_BITS = 18;
const STRIDE = 6;
const SLOTS = 1 << DIRECT_BITS;
const MAX_DEPTH = Math.ceil((128 - DIRECT_BITS) / STRIDE); // 19
const NODE_INTS = 16;
const MAX_SKIP = 5; // 5 × 6 bits fit the 32-bit skip key
const INLINE_LEAVES = 5;
const F_INLINE = 8; // node flag: leaves are inline; low 3 bits: skip count

/** A prefix as the FIB sees it. The caller owns the object; the FIB keeps a reference while it is inserted. */
export interface FibPrefix {
	/** Big-endian address words as int32; bits past `len` must be zero. */
	w0: number;
	w1: number;
	w2: number;
	w3: number;
	len: number;
	/** > 0; 0 is reserved for "no route". */
	value: number;
	/** Position in the FIB's slot list; -1 when not inserted. Managed by Fib. */
	fibPos: number;
}

export class FibError extends Error {
	override readonly name = 'FibError';
	constructor(readonly code: 'bad-value' | 'already-inserted' | 'not-inserted' | 'bad-prefix-length', message: string) {
		super(message);
	}
}

export function popcnt(v: number): number {
	v = v - ((v >>> 1) & 0x55555555);
	v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
	return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function wordOf(p: FibPrefix, i: number): number {
	switch (i) {
		case 0: return p.w0;
		case 1: return p.w1;
		case 2: return p.w2;
		case 3: return p.w3;
		default: return 0;
	}
}

/** The 6 bits at bit offset `bit` of the address at a[off] (bits past 127 read as 0). */
function chunkAt(a: Uint8Array, off: number, bit: number): number {
	const s = bit & 7;
	const i = off + (bit >>> 3);
	if (s <= 2) return (a[i]! >>> (2 - s)) & 63;
	if (bit < 122) return (((a[i]! << 8) | a[i + 1]!) >>> (10 - s)) & 63;
	return ((a[i]! << 8) >>> (10 - s)) & 63; // the trie was built with the missing bits as 0
}

/** The 6 bits at bit offset `o` of the prefix (bits past 127 read as 0). */
function chunkOf(p: FibPrefix, o: number): number {
	const i = o >>> 5;
	const sh = o & 31;
	const w = wordOf(p, i);
	if (sh <= 26) return (w >>> (26 - sh)) & 63;
	return ((w << (sh - 26)) | (wordOf(p, i + 1) >>> (58 - sh))) & 63;
}

function comparePrefix(a: FibPrefix, b: FibPrefix): number {
	return (a.w0 >>> 0) - (b.w0 >>> 0) || (a.w1 >>> 0) - (b.w1 >>> 0) || (a.w2 >>> 0) - (b.w2 >>> 0) ||
		(a.w3 >>> 0) - (b.w3 >>> 0) || a.len - b.len;
}

export interface FibStats {
	prefixes: number;
	nodes: number;
	leaves: number;
	/** Typed-array bytes allocated (capacity, not just the live part). */
	bytes: number;
}

export class Fib {
	private direct = new Int32Array(SLOTS).fill(~0);
	private readonly slotDefault = new Int32Array(SLOTS);
	private nodes = new Int32Array(NODE_INTS * 1024);
	private leaves = new Int32Array(4096);
	private nodeTop = 0;
	private leafTop = 0;
	private liveNodes = 0;
	private liveLeaves = 0;
	private readonly slotNodes = new Int32Array(SLOTS);
	private readonly slotLeaves = new Int32Array(SLOTS);
	private readonly slots = new Map<number, FibPrefix[]>();
	private readonly short: FibPrefix[] = [];
	private readonly dirty = new Set<number>();
	private shortDirty = false;
	private count = 0;
	/** Per-depth scratch: the 64 leaf values of the node being built. */
	private readonly pv = new Int32Array(64 * (MAX_DEPTH + 1));

	get size(): number {
		return this.count;
	}

	insert(p: FibPrefix): void {
		if (p.fibPos !== -1) throw new FibError('already-inserted', 'prefix is already in the FIB');
		if (!Number.isInteger(p.value) || p.value <= 0 || p.value > 0x7fffffff) throw new FibError('bad-value', `FIB value must be 1..2^31-1, got ${p.value}`);
		if (!Number.isInteger(p.len) || p.len < 0 || p.len > 128) throw new FibError('bad-prefix-length', `bad prefix length ${p.len}`);
		const list = this.listFor(p, true)!;
		p.fibPos = list.length;
		list.push(p);
		this.count++;
		this.markDirty(p);
	}

	remove(p: FibPrefix): void {
		const list = this.listFor(p, false);
		if (p.fibPos < 0 || list === undefined || list[p.fibPos] !== p) throw new FibError('not-inserted', 'prefix is not in the FIB');
		const last = list.pop()!;
		if (last !== p) {
			list[p.fibPos] = last;
			last.fibPos = p.fibPos;
		}
		p.fibPos = -1;
		this.count--;
		this.markDirty(p);
	}

	/** Call after changing p.value in place. */
	touch(p: FibPrefix): void {
		if (!Number.isInteger(p.value) || p.value <= 0 || p.value > 0x7fffffff) throw new FibError('bad-value', `FIB value must be 1..2^31-1, got ${p.value}`);
		this.markDirty(p);
	}

	/** True if changes wait for commit(). */
	get dirtyCount(): number {
		return this.dirty.size + (this.shortDirty ? 1 : 0);
	}

	/** Makes all changes since the last commit visible to lookup(). */
	commit(): void {
		if (this.shortDirty) this.repaintShort();
		for (const slot of this.dirty) this.rebuildSlot(slot);
		this.dirty.clear();
		this.shortDirty = false;
		const garbage = this.nodeTop - this.liveNodes + (this.leafTop - this.liveLeaves) / NODE_INTS;
		if (garbage > 4096 && garbage > this.liveNodes + this.liveLeaves / NODE_INTS) this.compact();
	}

	/** Longest-prefix match of the 16 bytes at a[off]; the prefix's value, or 0. Allocates nothing. */
	lookup(a: Uint8Array, off: number): number {
		const slot = (a[off]! << 10) | (a[off + 1]! << 2) | (a[off + 2]! >>> 6);
		let n = this.direct[slot]!;
		if (n < 0) return ~n;
		const nodes = this.nodes;
		let bit = DIRECT_BITS;
		for (;;) {
			const base = n << 4;
			const f = nodes[base + 8]!;
			if ((f & 7) !== 0) {
				const key = nodes[base + 9]!;
				for (let j = (f & 7) - 1; j >= 0; j--) {
					if (chunkAt(a, off, bit) !== ((key >>> (6 * j)) & 63)) {
						const d = nodes[base + 10]!;
						return d !== 0 ? d : this.slotDefault[slot]!;
					}
					bit += STRIDE;
				}
			}
			const x = chunkAt(a, off, bit);
			const h = x >>> 5;
			const m = 1 << (x & 31);
			const vec = nodes[base + h]!;
			if ((vec & m) !== 0) {
				n = nodes[base + 4 + h]! + popcnt(vec & (m - 1));
				bit += STRIDE;
				continue;
			}
			const li = nodes[base + 6 + h]! + popcnt(nodes[base + 2 + h]! & ((m << 1) - 1)) - 1;
			const v = (f & F_INLINE) !== 0 ? nodes[base + 11 + li]! : this.leaves[li]!;
			return v !== 0 ? v : this.slotDefault[slot]!;
		}
	}

	stats(): FibStats {
		return {
			prefixes: this.count,
			nodes: this.liveNodes,
			leaves: this.liveLeaves,
			bytes: this.direct.byteLength + this.slotDefault.byteLength + this.nodes.byteLength + this.leaves.byteLength +
				this.slotNodes.byteLength + this.slotLeaves.byteLength + this.pv.byteLength,
		};
	}

	private listFor(p: FibPrefix, create: boolean): FibPrefix[] | undefined {
		if (p.len <= DIRECT_BITS) return this.short;
		const slot = p.w0 >>> (32 - DIRECT_BITS);
		let list = this.slots.get(slot);
		if (list === undefined && create) {
			list = [];
			this.slots.set(slot, list);
		}
		return list;
	}

	private markDirty(p: FibPrefix): void {
		if (p.len <= DIRECT_BITS) this.shortDirty = true;
		else this.dirty.add(p.w0 >>> (32 - DIRECT_BITS));
	}

	private repaintShort(): void {
		const sd = this.slotDefault;
		sd.fill(0);
		// Shorter first so that longer prefixes overwrite the ranges they cover.
		const sorted = [...this.short].sort((a, b) => a.len - b.len);
		for (const p of sorted) {
			const start = p.w0 >>> (32 - DIRECT_BITS);
			const span = 2 ** (DIRECT_BITS - p.len);
			sd.fill(p.value, start, start + span);
		}
		const d = this.direct;
		for (let s = 0; s < SLOTS; s++) if (d[s]! < 0) d[s] = ~sd[s]!;
	}

	private rebuildSlot(slot: number): void {
		this.liveNodes -= this.slotNodes[slot]!;
		this.liveLeaves -= this.slotLeaves[slot]!;
		this.slotNodes[slot] = 0;
		this.slotLeaves[slot] = 0;
		const list = this.slots.get(slot);
		if (list === undefined || list.length === 0) {
			this.slots.delete(slot);
			this.direct[slot] = ~this.slotDefault[slot]!;
			return;
		}
		list.sort(comparePrefix);
		for (let i = 0; i < list.length; i++) list[i]!.fibPos = i;
		const n0 = this.nodeTop;
		const l0 = this.leafTop;
		const root = this.allocNodes(1);
		this.buildNode(root, list, 0, list.length, DIRECT_BITS, 0);
		this.slotNodes[slot] = this.nodeTop - n0;
		this.slotLeaves[slot] = this.leafTop - l0;
		this.liveNodes += this.nodeTop - n0;
		this.liveLeaves += this.leafTop - l0;
		this.direct[slot] = root;
	}

	private compact(): void {
		this.nodeTop = 0;
		this.leafTop = 0;
		this.liveNodes = 0;
		this.liveLeaves = 0;
		this.nodes = new Int32Array(Math.max(NODE_INTS * 1024, this.nodes.length >>> 1));
		this.leaves = new Int32Array(Math.max(4096, this.leaves.length >>> 1));
		const direct = new Int32Array(SLOTS);
		for (let s = 0; s < SLOTS; s++) direct[s] = ~this.slotDefault[s]!;
		this.slotNodes.fill(0);
		this.slotLeaves.fill(0);
		this.direct = direct;
		for (const slot of this.slots.keys()) this.rebuildSlot(slot);
	}

	private allocNodes(count: number): number {
		const idx = this.nodeTop;
		const need = (idx + count) * NODE_INTS;
		if (need > this.nodes.length) {
			const next = new Int32Array(Math.max(need, this.nodes.length * 2));
			next.set(this.nodes.subarray(0, idx * NODE_INTS));
			this.nodes = next;
		}
		this.nodeTop += count;
		return idx;
	}

	private pushLeaf(v: number): void {
		if (this.leafTop === this.leaves.length) {
			const next = new Int32Array(this.leaves.length * 2);
			next.set(this.leaves);
			this.leaves = next;
		}
		this.leaves[this.leafTop++] = v;
	}

	/**
	 * Builds node `n` for prefixes list[lo, hi) (sorted by address, then length),
	 * all inside the node's region, which starts at bit `o`. `def` is the value
	 * inherited from the longest prefix ending above this node (0 if none).
	 * `skips`/`skipKey`: chunks already passed over by path compression.
	 */
	private buildNode(n: number, list: FibPrefix[], lo: number, hi: number, o: number, def: number, skips = 0, skipKey = 0): void {
		const pv = this.pv;
		const pb = ((o - DIRECT_BITS) / STRIDE) * 64;
		pv.fill(def, pb, pb + 64);
		const end = o + STRIDE;
		let vlo = 0;
		let vhi = 0;
		let ends = false;
		let first = -1;
		// Sorted order puts a covering prefix before everything it covers, so
		// painting in list order leaves the longest match in each position.
		for (let i = lo; i < hi; i++) {
			const p = list[i]!;
			if (p.len <= o) continue;
			if (first < 0) first = i;
			const c = chunkOf(p, o);
			if (p.len <= end) {
				pv.fill(p.value, pb + c, pb + c + (1 << (end - p.len)));
				ends = true;
			} else if (c < 32) {
				vlo |= 1 << c;
			} else {
				vhi |= 1 << (c - 32);
			}
		}
		const children = popcnt(vlo) + popcnt(vhi);
		if (!ends && children === 1 && skips < MAX_SKIP) {
			// Nothing decides here: let the child stand in for this node.
			const c = vlo !== 0 ? 31 - Math.clz32(vlo) : 63 - Math.clz32(vhi);
			this.buildNode(n, list, first, hi, end, def, skips + 1, (skipKey << 6) | c);
			return;
		}
		const base1 = this.allocNodes(children);
		let llo = 0;
		let lhi = 0;
		let runs = 0;
		let last = 0;
		for (let c = 0; c < 64; c++) {
			const isChild = c < 32 ? (vlo >>> c) & 1 : (vhi >>> (c - 32)) & 1;
			if (isChild) continue;
			const v = pv[pb + c]!;
			if (runs === 0 || v !== last) {
				if (c < 32) llo |= 1 << c;
				else lhi |= 1 << (c - 32);
				runs++;
				last = v;
			}
		}
		const inline = runs <= INLINE_LEAVES;
		const base0 = inline ? 0 : this.leafTop;
		const nodes = this.nodes;
		const b = n * NODE_INTS;
		nodes[b] = vlo;
		nodes[b + 1] = vhi;
		nodes[b + 2] = llo;
		nodes[b + 3] = lhi;
		nodes[b + 4] = base1;
		nodes[b + 5] = base1 + popcnt(vlo);
		nodes[b + 6] = base0;
		nodes[b + 7] = base0 + popcnt(llo);
		nodes[b + 8] = skips | (inline ? F_INLINE : 0);
		nodes[b + 9] = skipKey;
		nodes[b + 10] = def;
		let k = 0;
		last = 0;
		for (let c = 0; c < 64; c++) {
			const isRun = c < 32 ? (llo >>> c) & 1 : (lhi >>> (c - 32)) & 1;
			if (!isRun) continue;
			if (inline) nodes[b + 11 + k++] = pv[pb + c]!;
			else this.pushLeaf(pv[pb + c]!);
		}
		if (children === 0) return;
		k = 0;
		let i = lo;
		while (i < hi) {
			const p = list[i]!;
			if (p.len <= o) {
				i++;
				continue;
			}
			const c = chunkOf(p, o);
			let j = i + 1;
			while (j < hi && chunkOf(list[j]!, o) === c) j++;
			const isChild = c < 32 ? (vlo >>> c) & 1 : (vhi >>> (c - 32)) & 1;
			if (isChild) this.buildNode(base1 + k++, list, i, j, end, pv[pb + c]!);
			i = j;
		}
	}
}

/** Fib plus an index by prefix, for callers that do not keep their own (tests, benchmarks). */
export class FibMap {
	readonly fib = new Fib();
	private readonly byKey = new Map<string, FibPrefix>();

	set(addr: Uint8Array, len: number, value: number): void {
		const key = keyOf(addr, len);
		const have = this.byKey.get(key);
		if (have !== undefined) {
			have.value = value;
			this.fib.touch(have);
			return;
		}
		const p = toFibPrefix(addr, len, value);
		this.fib.insert(p);
		this.byKey.set(key, p);
	}

	delete(addr: Uint8Array, len: number): boolean {
		const key = keyOf(addr, len);
		const have = this.byKey.get(key);
		if (have === undefined) return false;
		this.fib.remove(have);
		this.byKey.delete(key);
		return true;
	}

	commit(): void {
		this.fib.commit();
	}

	lookup(a: Uint8Array, off = 0): number {
		return this.fib.lookup(a, off);
	}
}

function keyOf(addr: Uint8Array, len: number): string {
	const p = toFibPrefix(addr, len, 1);
	return `${p.w0},${p.w1},${p.w2},${p.w3}/${len}`;
}

/** Builds a FibPrefix from bytes, clearing bits past `len`. */
export function toFibPrefix(addr: Uint8Array, len: number, value: number, off = 0): FibPrefix {
	const w = [0, 0, 0, 0];
	for (let i = 0; i < 4; i++) {
		const o = off + 4 * i;
		const word = (addr[o]! << 24) | (addr[o + 1]! << 16) | (addr[o + 2]! << 8) | addr[o + 3]!;
		const bits = len - 32 * i;
		const mask = bits <= 0 ? 0 : bits >= 32 ? -1 : ~(-1 >>> bits);
		w[i] = word & mask;
	}
	return {w0: w[0]!, w1: w[1]!, w2: w[2]!, w3: w[3]!, len, value, fibPos: -1};
}
