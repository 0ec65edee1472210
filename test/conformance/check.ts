// What a conformance row saw, and the one comparison both runners use
// (memory and namespaces): the ICMPv6 errors and echo replies alpha's host
// got, and the counters before and after.
import type {ExecutionContext} from 'ava';
import type {NodeCounters} from '../../src/ops/status.js';
import {formatAddr} from '../../src/util/addr.js';
import {decodePacket} from '../../src/wire/index.js';
import type {Case, NodeName} from './cases.js';

export interface IcmpSeen {
	type: number;
	code: number;
	param: number;
	from: string;
	length: number;
}

export interface Observed {
	errors: IcmpSeen[];
	/** Sources of echo replies with the row's identifier. */
	replies: string[];
	before: Record<NodeName, NodeCounters>;
	after: Record<NodeName, NodeCounters>;
}

/** Sorts what alpha's host received into errors and the row's echo replies. */
export function sortReceived(packets: Uint8Array[], echoId: number): Pick<Observed, 'errors' | 'replies'> {
	const errors: IcmpSeen[] = [];
	const replies: string[] = [];
	for (const bytes of packets) {
		let p;
		try {
			p = decodePacket(bytes);
		} catch {
			continue; // not ours to judge here: the fuzzers are
		}
		if (!('icmp' in p.upper)) continue;
		const icmp = p.upper.icmp;
		if (icmp.kind === 'error') errors.push({type: icmp.type, code: icmp.code, param: icmp.param, from: formatAddr(p.ip.src), length: bytes.length});
		else if (icmp.kind === 'echo' && icmp.type === 129 && icmp.identifier === echoId) replies.push(formatAddr(p.ip.src));
	}
	return {errors, replies};
}

export function check(t: ExecutionContext, c: Case, o: Observed): void {
	for (const e of o.errors) t.true(e.length <= 1280, `${c.id}: an ICMPv6 error of ${e.length} bytes exceeds the minimum MTU (RFC 4443 §2.4(c))`);
	if (c.icmp !== 'any') {
		t.is(o.errors.length, c.icmp.length, `${c.id}: ICMPv6 errors seen ${JSON.stringify(o.errors)}, expected ${JSON.stringify(c.icmp)}`);
		c.icmp.forEach((want, i) => {
			const got = o.errors[i];
			if (!got) return;
			t.like(got, {type: want.type, code: want.code, from: want.from, ...(want.param !== undefined ? {param: want.param} : {}), ...(want.length !== undefined ? {length: want.length} : {})}, `${c.id}: error ${i}`);
		});
	}
	for (const [node, reason, delta] of c.drops ?? []) t.is(o.after[node].drops[reason] - o.before[node].drops[reason], delta, `${c.id}: drops ${reason} at ${node}`);
	for (const [node, counter, min] of c.counters ?? []) {
		const d = (o.after[node][counter] as number) - (o.before[node][counter] as number);
		t.true(d >= min, `${c.id}: ${counter} at ${node} moved by ${d}, expected at least ${min}`);
	}
	if (c.reply === null) t.deepEqual(o.replies, [], `${c.id}: no echo reply expected`);
	else if (c.reply !== 'any') t.true(o.replies.length >= 1 && o.replies.every((r) => r === c.reply), `${c.id}: echo replies from ${JSON.stringify(o.replies)}, expected ${c.reply}`);
}
