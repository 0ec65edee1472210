// An anycast group as a node holds it: the address S, the algorithm and key
// of its identifier, and the provisioned list of servers that hold S.
import {addrEquals} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {KeyMaterial} from './keys.js';
import type {AlgId} from './option.js';

export interface Group {
	/** The anycast address S. */
	anycast: Addr;
	alg: AlgId;
	keyId: number;
	keys: KeyMaterial;
	/** Unicast addresses of the servers that hold S (the boundary router's provisioned list, S205). */
	servers: Addr[];
}

/** Groups by S, found without allocating. */
export class Groups {
	constructor(readonly list: readonly Group[]) {}

	find(buf: Uint8Array, off: number): Group | undefined {
		for (const g of this.list) if (addrEquals(g.anycast, 0, buf, off)) return g;
		return undefined;
	}

	/** Is (S, source) a provisioned server of S? */
	isServer(group: Group, buf: Uint8Array, off: number): boolean {
		for (const s of group.servers) if (addrEquals(s, 0, buf, off)) return true;
		return false;
	}
}

