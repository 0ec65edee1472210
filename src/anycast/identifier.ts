// Finding, stamping and verifying the identifier in a packet: the server's
// identifier attaching unit (S302), the boundary router's detection and
// verification units (S204–S205) and the client's (S104–S105).
import {addrEquals} from '../util/addr.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import {finalDestOptsIndex, insertDestOption} from '../wire/destopts.js';
import {setU16} from '../wire/bytes.js';
import {nextOption} from '../wire/options.js';
import {PacketInfo, parsePacket} from '../wire/packet.js';
import {INPUT_MAX, checkTag, hmacBackend, stampHmacNative, writeTag} from './auth.js';
import type {Group, Groups} from './group.js';
import {Alg, ID, ID_ALIGN, ID_OPTION_TYPE, checkIdentifier, identifierLength, identifierTimestamp, writeIdentifierFixed} from './option.js';
import type {IdentifierFault} from './option.js';
import type {ReplayCache} from './replay.js';

/** Where an identifier is, or why it cannot be used: 'absent', or a drop reason. */
export type Located = number | 'absent' | IdentifierFault | 'id-duplicate' | 'id-misplaced';

/**
 * S104/S204 detection: the offset of the identifier's option data in the
 * Destination Options header directly before the upper layer. An identifier
 * anywhere else (Hop-by-Hop, a Destination Options header before a Routing
 * header) is misplaced; two are a duplicate. Allocates nothing.
 */
export function locateIdentifier(info: PacketInfo): Located {
	const buf = info.buf;
	let found = -1;
	let foundLen = 0;
	const last = info.extCount - 1;
	for (let i = 0; i <= last; i++) {
		const proto = info.extProto[i];
		if (proto !== Proto.HopByHop && proto !== Proto.DestOpts) continue;
		const start = info.extOff[i]! + 2;
		const end = info.extOff[i]! + info.extLen[i]!;
		// The identifier travels end to end, server to client: a packet with a Routing header is
		// addressed to someone on the way, and its stamp is misplaced whatever header holds it.
		const final = i === last && proto === Proto.DestOpts && !info.isFragment && info.routingIndex < 0;
		for (let pos = start; pos < end; pos = nextOption(buf, pos)) {
			if (buf[pos] !== ID_OPTION_TYPE) continue;
			if (!final) return 'id-misplaced';
			if (found >= 0) return 'id-duplicate';
			found = pos + 2;
			foundLen = buf[pos + 1]!;
		}
	}
	if (found < 0) return 'absent';
	return checkIdentifier(buf, found, foundLen) ?? found;
}

/** Copies `len` bytes; below a few hundred bytes a loop beats `set` on a fresh subarray. */
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): void {
	if (len > 512) return dst.set(src.subarray(from, from + len), to);
	for (let i = 0; i < len; i++) dst[to + i] = src[from + i]!;
}

/** Scratch for signing inputs; one per process is enough, the pipeline is synchronous. */
const scratch = new Uint8Array(INPUT_MAX);
const stampInfo = new PacketInfo();

/**
 * S302: stamps the packet in `info` (its source already the server's unicast
 * address) for `group`, at wall-clock time `nowMs`. Returns the stamped bytes
 * (in `out` when given), or null when the group's key cannot sign or the
 * packet already held an identifier, or has a Routing header.
 */
export function stamp(info: PacketInfo, group: Group, nowMs: number, out?: Uint8Array): Uint8Array | null {
	if (info.routingIndex >= 0) return null; // the stamp would be misplaced (locateIdentifier)
	const dataLen = identifierLength(group.alg);
	const hdrLen = 4 + dataLen; // 32, 48 or 96: a multiple of 8 with the option first, no padding
	let bytes: Uint8Array;
	let at: number;
	if (finalDestOptsIndex(info) < 0 && !info.isFragment && hdrLen % 8 === 0) {
		// The usual response has no Destination Options header of its own: write the new
		// header in one pass, the option at offset 2 (8n+2 alignment holds trivially).
		const buf = info.buf;
		const h = info.upperOff - info.off;
		const total = info.end - info.off + hdrLen;
		if (total - IPV6_HEADER_LEN > 0xffff) return null;
		bytes = out ? (out.length >= total ? out.subarray(0, total) : new Uint8Array(total)) : new Uint8Array(total);
		if (group.alg === Alg.HmacSha256 && hmacBackend() === 'native') {
			// The addon copies the rest around the new header and signs, in one call.
			bytes[h] = info.upperProto;
			bytes[h + 1] = hdrLen / 8 - 1;
			bytes[h + 2] = ID_OPTION_TYPE;
			bytes[h + 3] = dataLen;
			writeIdentifierFixed(bytes, h + 4, group.alg, group.keyId, group.anycast, Math.floor(nowMs));
			if (!stampHmacNative(group.keys, info, bytes, h, hdrLen)) return null;
			setU16(bytes, IPV6.payloadLength, total - IPV6_HEADER_LEN);
			bytes[info.nextHeaderOffset(info.extCount) - info.off] = Proto.DestOpts;
			return bytes;
		}
		// Plain copies: a response is short, and a subarray per copy would cost more than the bytes.
		copyBytes(buf, info.off, bytes, 0, h);
		bytes[h] = info.upperProto;
		bytes[h + 1] = hdrLen / 8 - 1;
		bytes[h + 2] = ID_OPTION_TYPE;
		bytes[h + 3] = dataLen;
		writeIdentifierFixed(bytes, h + 4, group.alg, group.keyId, group.anycast, Math.floor(nowMs));
		copyBytes(buf, info.upperOff, bytes, h + hdrLen, info.end - info.upperOff);
		setU16(bytes, IPV6.payloadLength, total - IPV6_HEADER_LEN);
		bytes[info.nextHeaderOffset(info.extCount) - info.off] = Proto.DestOpts;
		parsePacket(bytes, stampInfo);
		at = h + 4;
	} else {
		const data = new Uint8Array(dataLen);
		writeIdentifierFixed(data, 0, group.alg, group.keyId, group.anycast, Math.floor(nowMs));
		bytes = insertDestOption(info, {type: ID_OPTION_TYPE, data, align: ID_ALIGN}, out);
		parsePacket(bytes, stampInfo);
		const found = locateIdentifier(stampInfo);
		// A response that already carried an identifier now has two; the caller drops those first.
		if (typeof found !== 'number') return null;
		at = found;
	}
	return writeTag(group.alg, group.keys, stampInfo, at, scratch) ? bytes : null;
}

export interface VerifyPolicy {
	groups: Groups;
	/** Check (S, source) against the provisioned server list (boundary router, S205). */
	provisioned: boolean;
	/** Accept stamps at most this old or this far ahead (ms). */
	windowMs: number;
	/** Client only: each stamp is accepted once. */
	replay?: ReplayCache;
}

export type VerifyFault =
	| 'id-unsolicited'
	| 'id-unknown-group'
	| 'id-wrong-group'
	| 'id-not-provisioned'
	| 'id-bad-key'
	| 'id-stale'
	| 'id-replayed'
	| 'id-bad-tag';

/**
 * S205/S105 verification of the identifier whose option data is at `at`.
 * The cheap checks run first (group, expected S, provisioned list, key id,
 * time window, replay cache); cryptography last; then `admit`, the caller's
 * own check of a genuine stamp, before the replay cache remembers it.
 * `expected` is the anycast address the client's flow went to, if known.
 * Returns null when it verifies.
 */
export function verify(info: PacketInfo, at: number, policy: VerifyPolicy, nowMs: number, expected?: Uint8Array, admit?: () => VerifyFault | null): VerifyFault | null {
	const buf = info.buf;
	const group = policy.groups.find(buf, at + ID.anycast);
	if (!group) return expected && !addrEquals(buf, at + ID.anycast, expected, 0) ? 'id-wrong-group' : 'id-unknown-group';
	if (expected && !addrEquals(buf, at + ID.anycast, expected, 0)) return 'id-wrong-group';
	if (policy.provisioned && !policy.groups.isServer(group, buf, info.off + IPV6.src)) return 'id-not-provisioned';
	if (buf[at + ID.alg] !== group.alg || buf[at + ID.keyId] !== group.keyId) return 'id-bad-key';
	const timestamp = identifierTimestamp(buf, at);
	const age = nowMs - timestamp;
	if (age > policy.windowMs || age < -policy.windowMs) return 'id-stale';
	// The tag as a view only for the replay cache: a boundary router has none, and a view costs an allocation.
	const tag = policy.replay && group.alg !== Alg.None ? buf.subarray(at + ID.tag, at + identifierLength(group.alg)) : null;
	if (tag) {
		if (policy.replay!.has(tag, nowMs)) return 'id-replayed';
		// The cache gave up entries still in the window: stamps as old as those are refused as stale.
		if (timestamp <= policy.replay!.floor) return 'id-stale';
	}
	const result = checkTag(group.alg, group.keys, info, at, scratch);
	if (result !== 'ok') return result === 'no-key' ? 'id-bad-key' : 'id-bad-tag';
	// A genuine stamp the caller still refuses (an answer nobody asked for) is not remembered.
	const refused = admit?.();
	if (refused) return refused;
	if (tag) policy.replay!.add(tag, timestamp, nowMs);
	return null;
}
