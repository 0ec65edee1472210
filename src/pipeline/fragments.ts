// Fragments at the points that read whole datagrams (docs/pipeline.md,
// Fragments): the node's own stack, and the hook points a role asked to
// reassemble at (Pipeline.reassembleAt), each with a Reassembler of its own
// (reassembly.ts). Routers forward fragments untouched and never come here.
import {Icmp6, ParamProblemCode, TimeExceededCode} from '../wire/icmpv6.js';
import {WireError} from '../wire/error.js';
import {parsePacket} from '../wire/packet.js';
import {malformed} from './drops.js';
import {deliver, tail} from './forward.js';
import {sendError} from './icmp-errors.js';
import type {AddResult, Expired, Reassembler} from './reassembly.js';
import {acquire, drop, release, runHooks, verdict} from './state.js';
import type {PipelineState, ReassemblyPoint} from './state.js';
import type {AttachedPort, HookPoint, Packet} from './types.js';

/** The reassembly point that takes this fragment at `point`, or null. */
export function reassemblyPoint(s: PipelineState, point: HookPoint, pkt: Packet): ReassemblyPoint | null {
	for (const r of s.reassemblyAt) if (r.point === point && r.when(pkt)) return r;
	return null;
}

/** A fragment for a point that reads whole datagrams: held until its datagram is whole, then on. */
export function reassembleThen(s: PipelineState, pkt: Packet, point: HookPoint, at: ReassemblyPoint, forwarding: boolean): void {
	const whole = reassemble(s, pkt, at.reassembler);
	if (!whole) return;
	const inPort = pkt.inPort!;
	const out = pkt.outPort!;
	if (!replaceWith(s, pkt, whole.datagram)) return;
	if (at.mode === 'whole') return deliver(s, pkt, point, forwarding);
	const v = runHooks(s, point, pkt);
	if (v !== null) return verdict(s, v, pkt);
	// The datagram passed: its fragments go on as they came.
	for (const f of whole.fragments) sendHeld(s, f.bytes, inPort, out, forwarding);
}

function sendHeld(s: PipelineState, bytes: Uint8Array, inPort: AttachedPort, out: AttachedPort, forwarding: boolean): void {
	const p = acquire(s, inPort, out, false);
	if (!p) return drop(s, 'nesting-too-deep', null);
	try {
		parsePacket(bytes, p.info);
		s.counters.fragmentsForwarded++;
		tail(s, p, forwarding);
	} finally {
		release(s);
	}
}

/** Hands a fragment to `reassembler`: the whole datagram when this was its last piece, else null (held, or dropped). */
export function reassemble(s: PipelineState, pkt: Packet, reassembler: Reassembler<AttachedPort>): Extract<AddResult<AttachedPort>, {kind: 'whole'}> | null {
	const r = reassembler.add(pkt.info, s.now(), pkt.inPort!, s.onGone);
	if (r.kind === 'held') return null;
	if (r.kind === 'drop') {
		if (r.pointer !== undefined) sendError(s, pkt, Icmp6.ParamProblem, ParamProblemCode.Header, r.pointer);
		s.counters.drops[r.reason] += r.discarded - 1; // the fragments held before this one
		drop(s, r.reason, pkt);
		return null;
	}
	s.counters.reassembled++;
	return r;
}

/** Replaces the packet's bytes with the reassembled datagram; false (and a drop) when it does not parse. */
export function replaceWith(s: PipelineState, pkt: Packet, bytes: Uint8Array): boolean {
	try {
		pkt.replace(bytes);
		return true;
	} catch (error) {
		if (!(error instanceof WireError)) throw error;
		drop(s, malformed(error.code), pkt);
		return false;
	}
}

/** A datagram timed out or was evicted. RFC 8200 §4.5: Time Exceeded code 1, only if the first fragment came. */
export function reassemblyGone(s: PipelineState, e: Expired<AttachedPort>): void {
	s.counters.drops[e.reason] += e.fragments;
	if (e.reason !== 'frag-timeout' || !e.first) return;
	const p = acquire(s, e.first.port, null, false);
	if (!p) return;
	try {
		parsePacket(e.first.bytes, p.info);
		sendError(s, p, Icmp6.TimeExceeded, TimeExceededCode.Reassembly, 0);
	} finally {
		release(s);
	}
}

/** Timer work: abandons reassemblies past their timeout (RFC 8200 §4.5). */
export function expireReassemblies(s: PipelineState): void {
	const now = s.now();
	s.reassembly.expire(now, s.onGone);
	for (const r of s.reassemblyAt) r.reassembler.expire(now, s.onGone);
}
