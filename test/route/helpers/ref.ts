// Brute-force longest-prefix match: the reference the FIB is checked against.
import {prefixContains} from '../../../src/route/prefix.js';

export interface RefRoute {
	addr: Uint8Array;
	len: number;
	value: number;
}

export class RefTable {
	readonly routes: RefRoute[] = [];

	set(addr: Uint8Array, len: number, value: number): void {
		const i = this.index(addr, len);
		if (i >= 0) this.routes[i]!.value = value;
		else this.routes.push({addr: Uint8Array.from(addr), len, value});
	}

	delete(addr: Uint8Array, len: number): boolean {
		const i = this.index(addr, len);
		if (i < 0) return false;
		this.routes.splice(i, 1);
		return true;
	}

	lookup(dst: Uint8Array): number {
		let best = -1;
		let value = 0;
		for (const r of this.routes) {
			if (r.len > best && prefixContains(r.addr, r.len, dst)) {
				best = r.len;
				value = r.value;
			}
		}
		return value;
	}

	private index(addr: Uint8Array, len: number): number {
		return this.routes.findIndex((r) => r.len === len && r.addr.every((b, i) => b === addr[i]));
	}
}
