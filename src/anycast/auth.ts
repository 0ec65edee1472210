// The authenticator over a stamped response (docs/protocol.md §3). The input
// binds the stamp to S, both addresses, the upper layer and the time, so a
// stamped response cannot be moved to another client, group or time.
import {createHmac, sign as edSign, verify as edVerify} from 'node:crypto';
import {HMAC_ARG, loadNative} from '../io/native.js';
import type {NativeHmacKey, NativeModule} from '../io/native.js';
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

// ---- HMAC-SHA256: the addon's, or node:crypto's ------------------------------

/**
 * Where HMAC-SHA256 tags are computed: 'native' is the addon
 * (src/io/native/hmac.c: OpenSSL's SHA-256 from Node's own binary, the key's
 * pads precomputed, the pieces hashed where they lie in the packet); 'js' is
 * node:crypto over a signing input assembled in `scratch`. Both compute the
 * same tag (test/anycast/auth.test.ts runs the same vectors through each).
 */
export type HmacBackend = 'native' | 'js';

type HmacKeyClass = NonNullable<NativeModule['HmacKey']>;

function nativeHmacClass(): {cls?: HmacKeyClass; why?: string} {
	try {
		const m = loadNative();
		return m.HmacKey ? {cls: m.HmacKey} : {why: m.hmacUnavailable ?? 'the addon has no HmacKey (rebuild it)'};
	} catch (error) {
		return {why: (error as Error).message};
	}
}

const nativeClass = nativeHmacClass();
let backend: HmacBackend = nativeClass.cls && process.env.ANYGUARD_HMAC !== 'js' ? 'native' : 'js';
const nativeKeys = new WeakMap<Uint8Array, NativeHmacKey>();

/** The backend in use: native when the addon has HmacKey, unless ANYGUARD_HMAC=js. */
export function hmacBackend(): HmacBackend {
	return backend;
}

/** Why the native backend is not available (undefined when it is). */
export function nativeHmacUnavailable(): string | undefined {
	return nativeClass.cls ? undefined : nativeClass.why;
}

/** Selects the backend (tests and benchmarks). Throws when 'native' is asked for and the addon lacks it. */
export function setHmacBackend(next: HmacBackend): void {
	if (next === 'native' && !nativeClass.cls) throw new Error(`native HMAC unavailable: ${nativeClass.why}`);
	backend = next;
}

let lastKey: Uint8Array | undefined;
let lastNative: NativeHmacKey | undefined;

/** The key prepared in the addon, once per key (a node mostly uses one: it is remembered apart). */
export function nativeHmacKey(key: Uint8Array): NativeHmacKey {
	if (key === lastKey) return lastNative!;
	let k = nativeKeys.get(key);
	if (!k) {
		k = new nativeClass.cls!(key, CONTEXT);
		nativeKeys.set(key, k);
	}
	lastKey = key;
	lastNative = k;
	return k;
}

/**
 * The stamp of the usual response in one native call: `out` holds the new
 * Destination Options header (at `h`, `hdrLen` bytes) with the option's fixed
 * part written; the call copies the headers before it and the upper layer of
 * the packet in `info` around it and writes the tag. The caller then fixes
 * the Payload Length and the Next Header that names the new header (neither
 * is signed). Returns false when `keys` hold no HMAC key.
 */
export function stampHmacNative(keys: KeyMaterial, info: PacketInfo, out: Uint8Array, h: number, hdrLen: number): boolean {
	const key = hmacKeyFor(keys, info);
	if (!key) return false;
	const k = nativeHmacKey(key);
	const a = k.args;
	const upperLen = info.end - info.upperOff;
	a[HMAC_ARG.data] = h + 4;
	a[HMAC_ARG.src] = IPV6.src;
	a[HMAC_ARG.dst] = IPV6.dst; // the delivered destination (docs/protocol.md §3)
	a[HMAC_ARG.proto] = info.upperProto;
	a[HMAC_ARG.upper] = h + hdrLen;
	a[HMAC_ARG.upperLen] = upperLen;
	a[HMAC_ARG.tagLen] = TAG_LEN[Alg.HmacSha256];
	a[HMAC_ARG.stampSrc] = info.off;
	a[HMAC_ARG.stampHead] = h;
	a[HMAC_ARG.stampUpper] = info.upperOff;
	a[HMAC_ARG.stampUpperLen] = upperLen;
	a[HMAC_ARG.stampOutUpper] = h + hdrLen;
	return k.stamp(out, info.buf);
}

/** Writes the pieces of the signing input of the identifier at `dataOff` into slot `i` of `args`. */
export function hmacArgs(args: Uint32Array, i: number, info: PacketInfo, dataOff: number): void {
	const a = i * HMAC_ARG.count;
	args[a + HMAC_ARG.data] = dataOff;
	args[a + HMAC_ARG.src] = info.off + IPV6.src;
	args[a + HMAC_ARG.dst] = info.off + IPV6.dst;
	args[a + HMAC_ARG.proto] = info.upperProto;
	args[a + HMAC_ARG.upper] = info.upperOff;
	args[a + HMAC_ARG.upperLen] = info.upperLen;
	args[a + HMAC_ARG.tagLen] = TAG_LEN[Alg.HmacSha256];
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
			if (backend === 'native') {
				const k = nativeHmacKey(key);
				hmacArgs(k.args, 0, info, dataOff);
				return k.sign(buf);
			}
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
			if (backend === 'native') {
				const k = nativeHmacKey(key);
				hmacArgs(k.args, 0, info, dataOff);
				return k.verify(buf) ? 'ok' : 'bad';
			}
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
