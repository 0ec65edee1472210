// The next-hop groups of the FIB (table.ts): each selected set of routes is
// one group, shared by every prefix that selects the same next hops. A flow
// picks a member by its hash (wire/ipv6.ts flowHash) through 64 buckets filled
// by rendezvous hashing, so removing a member moves only the flows that were
// on it (RFC 2992 §4 discusses the disruption that plain hash-mod-N causes).
// Groups are reference-counted and their numbers reused; group 0 means "no
// route". member() allocates nothing.

const BUCKETS = 64;
/** Group keys of one-member groups by next hop, so the common case builds no string. */
const SINGLE_A: string[] = [];
const SINGLE_U: string[] = [];

/** Mixes a bucket number and a next-hop index (rendezvous hashing weight). */
function hrw(bucket: number, member: number): number {
	let h = Math.imul(bucket + 1, 0x9e3779b1) ^ Math.imul(member + 1, 0x85ebca77);
	h ^= h >>> 15;
	h = Math.imul(h, 0xc2b2ae3d);
	h ^= h >>> 13;
	return h >>> 0;
}

/** What a group is made of: next-hop indexes (in selection order), any of them an anycast route. */
export interface GroupMember {
	readonly nh: number;
	readonly anycast: boolean;
}

export class NextHopGroups {
	private readonly byKey = new Map<string, number>();
	private keys: (string | undefined)[] = [''];
	private refs = new Int32Array(64);
	private mask = new Int32Array(64);
	private anycast = new Uint8Array(64);
	private buckets = new Int32Array(64 * BUCKETS);
	private readonly free: number[] = [];
	private top = 1; // group 0 means "no route"

	/** The next-hop index group `g` (not 0) gives a flow of hash `hash`. */
	member(g: number, hash: number): number {
		return this.buckets[(g << 6) | (hash & this.mask[g]!)]!;
	}

	/** Whether group `g` leads to an anycast route. */
	isAnycast(g: number): boolean {
		return this.anycast[g] === 1;
	}

	/** Takes a reference to the group of `members`, making it when it is new. Returns its number. */
	intern(members: readonly GroupMember[]): number {
		const anycast = members.some((c) => c.anycast);
		const key = members.length === 1 ? (anycast ? SINGLE_A : SINGLE_U)[members[0]!.nh] ??= `${anycast ? 'a' : 'u'}${members[0]!.nh}` : `${anycast ? 'a' : 'u'}${members.map((c) => c.nh).join(',')}`;
		let g = this.byKey.get(key);
		if (g === undefined) {
			g = this.free.pop() ?? this.top++;
			this.ensure(g + 1);
			this.byKey.set(key, g);
			this.keys[g] = key;
			this.anycast[g] = anycast ? 1 : 0;
			const base = g << 6;
			if (members.length === 1) {
				this.mask[g] = 0;
				this.buckets[base] = members[0]!.nh;
			} else {
				this.mask[g] = BUCKETS - 1;
				const uniq = [...new Set(members.map((c) => c.nh))];
				for (let b = 0; b < BUCKETS; b++) {
					let win = uniq[0]!;
					let top = -1;
					for (const m of uniq) {
						const w = hrw(b, m);
						if (w > top) {
							top = w;
							win = m;
						}
					}
					this.buckets[base + b] = win;
				}
			}
		}
		this.refs[g]!++;
		return g;
	}

	/** Drops a reference to group `g`; the last one frees the group's number. */
	release(g: number): void {
		if (--this.refs[g]! !== 0) return;
		this.byKey.delete(this.keys[g]!);
		this.keys[g] = undefined;
		this.free.push(g);
	}

	private ensure(n: number): void {
		if (n <= this.refs.length) return;
		const cap = Math.max(n, this.refs.length * 2);
		const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T, scale = 1): T => {
			const b = make(cap * scale);
			b.set(a);
			return b;
		};
		this.refs = grow(this.refs, (k) => new Int32Array(k));
		this.mask = grow(this.mask, (k) => new Int32Array(k));
		this.anycast = grow(this.anycast, (k) => new Uint8Array(k));
		this.buckets = grow(this.buckets, (k) => new Int32Array(k), BUCKETS);
	}
}
