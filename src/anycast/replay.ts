// Replay bounding at the client (docs/protocol.md §4): a stamp is accepted
// only inside the time window, and only once inside it. The cache holds the
// tags of accepted stamps until they leave the window, so it never needs to
// hold more than the window's worth; past `capacity` the oldest entry goes,
// and the eviction is counted. Only verified tags are inserted, so a sender
// without the key cannot flush it.

export class ReplayCache {
	/** tag (latin1 string of its first 16 bytes) → time it leaves the window */
	private readonly seen = new Map<string, number>();
	evictions = 0;

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

	has(tag: Uint8Array, now: number): boolean {
		const expiry = this.seen.get(this.key(tag));
		return expiry !== undefined && expiry > now;
	}

	/** Records an accepted tag stamped at `timestampMs`. */
	add(tag: Uint8Array, timestampMs: number, now: number): void {
		this.expire(now);
		if (this.seen.size >= this.capacity) {
			const oldest = this.seen.keys().next().value as string;
			this.seen.delete(oldest);
			this.evictions++;
		}
		this.seen.set(this.key(tag), timestampMs + this.windowMs);
	}

	/** Drops entries whose stamps have left the window (insertion order is close to expiry order). */
	expire(now: number): void {
		for (const [key, expiry] of this.seen) {
			if (expiry > now) break;
			this.seen.delete(key);
		}
	}
}
