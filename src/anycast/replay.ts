// Replay bounding at the client (docs/protocol.md §4): a stamp is accepted
// only inside the time window, and only once inside it. The cache holds the
// tags of accepted stamps for as long as the window accepts them (the window
// is closed: a stamp exactly `windowMs` old is still in it, and so still in
// the cache). Only verified tags of answers the host asked for are inserted,
// so a sender without the key cannot fill it. Past `capacity` the oldest
// entry goes; it could then be replayed, so `floor` rises to its timestamp
// and the verifier refuses every stamp that old as stale: under overload the
// window shrinks, it never opens.

export class ReplayCache {
	/** tag (latin1 string of its first 16 bytes) → the stamp's timestamp */
	private readonly seen = new Map<string, number>();
	evictions = 0;
	/** Stamps with timestamps at or below this are refused (an entry that old was evicted). */
	floor = -Infinity;

	constructor(
		readonly windowMs: number,
		readonly capacity = 65536,
	) {}

	get size(): number {
		return this.seen.size;
	}

	private key(tag: Uint8Array): string {
		return Buffer.from(tag.buffer, tag.byteOffset, Math.min(16, tag.length)).toString('latin1');
	}

	/** Whether this tag was accepted and its stamp is still inside the window at `now`. */
	has(tag: Uint8Array, now: number): boolean {
		const ts = this.seen.get(this.key(tag));
		return ts !== undefined && now - ts <= this.windowMs;
	}

	/** Records an accepted tag stamped at `timestampMs`. */
	add(tag: Uint8Array, timestampMs: number, now: number): void {
		this.expire(now);
		if (this.seen.size >= this.capacity) {
			const [oldest, ts] = this.seen.entries().next().value as [string, number];
			this.seen.delete(oldest);
			this.evictions++;
			if (ts > this.floor) this.floor = ts;
		}
		this.seen.set(this.key(tag), timestampMs);
	}

	/** Drops entries whose stamps have left the window (insertion order is close to timestamp order). */
	expire(now: number): void {
		for (const [key, ts] of this.seen) {
			if (now - ts <= this.windowMs) break;
			this.seen.delete(key);
		}
	}
}
