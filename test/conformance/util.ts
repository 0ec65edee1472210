import type {NodeCounters} from '../../src/ops/status.js';

/** A snapshot of a node's counters (they are plain numbers, so JSON is enough). */
export function structuredCloneCounters(c: NodeCounters): NodeCounters {
	return JSON.parse(JSON.stringify(c)) as NodeCounters;
}
