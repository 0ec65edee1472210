// Token buckets: the rate limits of a node's control plane. Pure functions of
// the time they are given (monotonic milliseconds), so tests drive them with
// a simulated clock.
import {randomBytes} from 'node:crypto';

export interface Rate {
	/** Tokens added per second. */
	perSecond: number;
	/** Bucket depth: the most taken at once after a quiet spell. */
	burst: number;
}

/** One token bucket (RFC 4443 §2.4(f) names this shape for ICMPv6 errors). */
export class TokenBucket {
	private tokens: number;
	private at: number;
	/** Takes refused since creation. */
	refused = 0;

	constructor(
		readonly rate: Rate,
		now: number,
	) {
		this.tokens = rate.burst;
		this.at = now;
	}

	/** Takes one token if there is one. */
	take(now: number): boolean {
		const r = this.rate;
		if (now > this.at) {
			this.tokens = Math.min(r.burst, this.tokens + ((now - this.at) * r.perSecond) / 1000);
			this.at = now;
		}
		if (this.tokens >= 1) {
			this.tokens--;
			return true;
		}
		this.refused++;
		return false;
	}
}

export interface PrefixRate extends Rate {
	/** Sources are grouped by this many leading bits (default 64: one bucket per /64). */
	prefixLen?: number;
	/** Number of buckets, a power of two (default 1024). */
	buckets?: number;
}

/**
 * A token bucket per source prefix in a fixed array of buckets, so an outsider
 * who sends from many prefixes cannot grow it: prefixes hash (with a key
 * drawn at start, which an outsider cannot aim at) into `buckets` slots, and
 * prefixes sharing a slot share its rate. Memory: 16 bytes a bucket.
 */
export class PrefixLimiter {
	private readonly tokens: Float64Array;
	private readonly at: Float64Array;
	private readonly mask: number;
	private readonly bytes: number;
	private readonly lastBits: number;
	private readonly key: number;
	readonly rate: Required<PrefixRate>;
	/** Takes refused since creation. */
	refused = 0;

	constructor(rate: PrefixRate, key = randomBytes(4).readUInt32LE(0)) {
		const buckets = rate.buckets ?? 1024;
		if (!Number.isInteger(Math.log2(buckets))) throw new RangeError(`buckets must be a power of two, got ${buckets}`);
		const prefixLen = rate.prefixLen ?? 64;
		if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 128) throw new RangeError(`prefixLen must be 0..128, got ${prefixLen}`);
		this.rate = {perSecond: rate.perSecond, burst: rate.burst, prefixLen, buckets};
		this.tokens = new Float64Array(buckets).fill(rate.burst);
		this.at = new Float64Array(buckets).fill(-Infinity);
		this.mask = buckets - 1;
		this.bytes = prefixLen >>> 3;
		this.lastBits = prefixLen & 7;
		this.key = key >>> 0;
	}

	/** The bucket of the prefix of the address at `buf[off]`. */
	slot(buf: Uint8Array, off: number): number {
		// FNV-1a over the prefix's bytes, seeded with the key.
		let h = (0x811c9dc5 ^ this.key) >>> 0;
		for (let i = 0; i < this.bytes; i++) h = Math.imul(h ^ buf[off + i]!, 0x01000193);
		if (this.lastBits) h = Math.imul(h ^ (buf[off + this.bytes]! & (0xff << (8 - this.lastBits)) & 0xff), 0x01000193);
		// murmur3's finalizer: every input bit reaches the low bits the mask keeps.
		h ^= h >>> 16;
		h = Math.imul(h, 0x85ebca6b);
		h ^= h >>> 13;
		h = Math.imul(h, 0xc2b2ae35);
		h ^= h >>> 16;
		return (h >>> 0) & this.mask;
	}

	/** Takes one token from the bucket of the address at `buf[off]`. */
	take(buf: Uint8Array, off: number, now: number): boolean {
		const i = this.slot(buf, off);
		const r = this.rate;
		const at = this.at[i]!;
		let t = this.tokens[i]!;
		if (now > at) {
			t = at === -Infinity ? r.burst : Math.min(r.burst, t + ((now - at) * r.perSecond) / 1000);
			this.at[i] = now;
		}
		if (t >= 1) {
			this.tokens[i] = t - 1;
			return true;
		}
		this.tokens[i] = t;
		this.refused++;
		return false;
	}
}
