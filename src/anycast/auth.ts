// The authenticator over a stamped response (docs/protocol.md §3). The input
// binds the stamp to S, both addresses, the upper layer and the time, so a
// stamped response cannot be moved to another client, group or time.
import {createHmac, sign as edSign, verify as edVerify} from 'node:crypto';
import {setU32} from '../wire/bytes.js';
import {IPV6} from '../wire/ipv6.js';
import type {PacketInfo} from '../wire/packet.js';
import {CLIENT_KEY_PREFIX_BYTES, deriveClientKey} from './keys.js';
import type {KeyMaterial} from './keys.js';
import {Alg, ID, ID_FIXED_LEN, TAG_LEN} from './option.js';
import type {AlgId} from './option.js';

/** Domain separation: these bytes start every signing input, so no other protocol's MAC or signature can be replayed as ours. */
export const CONTEXT = new TextEncoder().encode('anyguard-id-v1');

/** CONTEXT | option data up to the tag (28) | src (16) | dst (16) | next header (1) | upper-layer length (4). */
export const PREFIX_LEN = CONTEXT.length + ID_FIXED_LEN + 16 + 16 + 1 + 4;

/** Copies `len` bytes without making views: cheaper than subarray + set for the short runs here. */
function copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, len: number): void {
	for (let i = 0; i < len; i++) dst[to + i] = src[from + i]!;
}

/**
 * Writes the signing input for the packet in `info` whose identifier data
 * starts at `dataOff` into `out`: the prefix (PREFIX_LEN bytes) and, when
 * `withUpper`, the upper-layer bytes after it. Returns its length. One
 * contiguous input means one `update` call into the native HMAC.
 */
export function writeInput(info: PacketInfo, dataOff: number, out: Uint8Array, withUpper: boolean): number {
	const buf = info.buf;
	let p = 0;
	out.set(CONTEXT, p);
	p += CONTEXT.length;
	copy(buf, dataOff, out, p, ID_FIXED_LEN);
	p += ID_FIXED_LEN;
	copy(buf, info.off + IPV6.src, out, p, 16);
	p += 16;
	// The address the packet is delivered to, never one a Routing header names (identifier.ts refuses
	// stamps in packets with a Routing header, so for a stamped packet the two are the same).
	copy(buf, info.off + IPV6.dst, out, p, 16);
	p += 16;
	out[p++] = info.upperProto;
	setU32(out, p, info.upperLen);
	p += 4;
	if (!withUpper) return p;
	out.set(buf.subarray(info.upperOff, info.end), p);
	return p + info.upperLen;
}

/** Writes the prefix only (PREFIX_LEN bytes): the Ed25519 path concatenates the upper layer itself. */
export function writePrefix(info: PacketInfo, dataOff: number, out: Uint8Array): void {
	writeInput(info, dataOff, out, false);
}

/** Room for the largest signing input: the prefix and a whole IPv6 payload. */
export const INPUT_MAX = PREFIX_LEN + 65535;

/** Client keys derived per group key, by destination /64: bounded, least recently derived first out. */
const derived = new WeakMap<Buffer, Map<string, Buffer>>();
export const DERIVED_KEYS_MAX = 4096;

/**
 * The HMAC key for the packet's destination: a client's own key as it is,
 * or, from the group key, the key derived for the destination's /64
 * (keys.ts, deriveClientKey). Undefined when the node holds neither.
 */
function hmacKeyFor(keys: KeyMaterial, info: PacketInfo): Buffer | undefined {
	if (keys.hmacClientKey) return keys.hmacClientKey;
	const group = keys.hmacKey;
	if (!group) return undefined;
	let cache = derived.get(group);
	if (!cache) derived.set(group, (cache = new Map()));
	const dst = info.off + IPV6.dst;
	const k = Buffer.from(info.buf.buffer, info.buf.byteOffset + dst, CLIENT_KEY_PREFIX_BYTES).toString('latin1');
	let key = cache.get(k);
	if (!key) {
		if (cache.size >= DERIVED_KEYS_MAX) cache.delete(cache.keys().next().value as string);
		key = deriveClientKey(group, info.buf, dst);
		cache.set(k, key);
	}
	return key;
}

function hmacTag(key: Buffer, info: PacketInfo, dataOff: number, scratch: Uint8Array): Buffer {
	const len = writeInput(info, dataOff, scratch, true);
	return createHmac('sha256', key).update(scratch.subarray(0, len)).digest();
}

/** Compares without an early exit, so timing does not reveal how much of a forged tag was right. */
function equalConstantTime(a: Uint8Array, b: Uint8Array, len: number): boolean {
	let diff = 0;
	for (let i = 0; i < len; i++) diff |= a[i]! ^ b[i]!;
	return diff === 0;
}

/**
 * Computes the tag for the identifier at `dataOff` (its fixed part already
 * written) and writes it after the fixed part. Returns false when `keys` lack
 * what `alg` needs. `scratch` holds INPUT_MAX bytes.
 */
export function writeTag(alg: AlgId, keys: KeyMaterial, info: PacketInfo, dataOff: number, scratch: Uint8Array): boolean {
	const buf = info.buf;
	const tagOff = dataOff + ID.tag;
	switch (alg) {
		case Alg.None:
			return true;
		case Alg.HmacSha256: {
			const key = hmacKeyFor(keys, info);
			if (!key) return false;
			const mac = hmacTag(key, info, dataOff, scratch);
			for (let i = 0; i < TAG_LEN[Alg.HmacSha256]; i++) buf[tagOff + i] = mac[i]!;
			return true;
		}
		case Alg.Ed25519: {
			if (!keys.privateKey) return false;
			const len = writeInput(info, dataOff, scratch, true);
			buf.set(edSign(null, scratch.subarray(0, len), keys.privateKey), tagOff);
			return true;
		}
	}
}

/**
 * Verifies the tag of the identifier at `dataOff`. The HMAC tag is compared
 * in constant time. `scratch` holds INPUT_MAX bytes.
 */
export function checkTag(alg: AlgId, keys: KeyMaterial, info: PacketInfo, dataOff: number, scratch: Uint8Array): 'ok' | 'no-key' | 'bad' {
	const buf = info.buf;
	const tagOff = dataOff + ID.tag;
	switch (alg) {
		case Alg.None:
			return 'ok';
		case Alg.HmacSha256: {
			const key = hmacKeyFor(keys, info);
			if (!key) return 'no-key';
			const mac = hmacTag(key, info, dataOff, scratch);
			return equalConstantTime(mac, buf.subarray(tagOff), TAG_LEN[Alg.HmacSha256]) ? 'ok' : 'bad';
		}
		case Alg.Ed25519: {
			if (!keys.publicKey) return 'no-key';
			const len = writeInput(info, dataOff, scratch, true);
			return edVerify(null, scratch.subarray(0, len), keys.publicKey, buf.subarray(tagOff, tagOff + TAG_LEN[Alg.Ed25519])) ? 'ok' : 'bad';
		}
	}
}
