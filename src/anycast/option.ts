// The anycast identifier option (docs/protocol.md §2): carried in the
// Destination Options header directly before the upper-layer header, type
// 0x1E (RFC 4727 experimental: action bits 00, change-en-route 0).
//
//  option data
//  0       1       2       4                20               28
//  | alg   | keyid | rsvd  | anycast S (16)  | timestamp (8)  | authenticator …
import {u16, u32, setU16, setU32} from '../wire/bytes.js';
import {Opt} from '../wire/options.js';
import type {OptionRepr} from '../wire/options.js';

export const ID_OPTION_TYPE = Opt.Anycast;
/** Option data up to the authenticator. */
export const ID_FIXED_LEN = 28;
/** 8n+2 puts S on a 4-byte and the timestamp on an 8-byte boundary of the header. */
export const ID_ALIGN = {x: 8, y: 2} as const;

export const Alg = {None: 0, HmacSha256: 1, Ed25519: 2} as const;
export type AlgId = (typeof Alg)[keyof typeof Alg];
export type AlgName = 'none' | 'hmac-sha256' | 'ed25519';

export const ALG_BY_NAME: Record<AlgName, AlgId> = {none: Alg.None, 'hmac-sha256': Alg.HmacSha256, ed25519: Alg.Ed25519};
export const ALG_NAMES: Record<AlgId, AlgName> = {0: 'none', 1: 'hmac-sha256', 2: 'ed25519'};

/** Authenticator length per algorithm: HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows ≥ half), Ed25519's 64-byte signature. */
export const TAG_LEN: Record<AlgId, number> = {0: 0, 1: 16, 2: 64};

export const ID = {alg: 0, keyId: 1, reserved: 2, anycast: 4, timestamp: 20, tag: 28} as const;

export function isAlg(alg: number): alg is AlgId {
	return alg === Alg.None || alg === Alg.HmacSha256 || alg === Alg.Ed25519;
}

export interface IdentifierRepr {
	alg: AlgId;
	keyId: number;
	anycast: Uint8Array;
	/** Milliseconds since the Unix epoch. */
	timestampMs: number;
	tag: Uint8Array;
}

/**
 * Why option data is not a well-formed identifier. Every code is also a drop
 * reason (src/roles/anycast.ts) of the node that parsed it.
 */
export type IdentifierFault = 'id-malformed' | 'id-unknown-alg';

/** Checks option data at [off, off+len): known algorithm, exact length, zero reserved bits. Allocates nothing. */
export function checkIdentifier(buf: Uint8Array, off: number, len: number): IdentifierFault | null {
	if (len < ID_FIXED_LEN) return 'id-malformed';
	const alg = buf[off + ID.alg]!;
	if (!isAlg(alg)) return 'id-unknown-alg';
	if (len !== ID_FIXED_LEN + TAG_LEN[alg]) return 'id-malformed';
	if (u16(buf, off + ID.reserved) !== 0) return 'id-malformed';
	return null;
}

/** Timestamp of checked option data, as a number of milliseconds (exact below 2^53). */
export function identifierTimestamp(buf: Uint8Array, off: number): number {
	return u32(buf, off + ID.timestamp) * 0x1_0000_0000 + u32(buf, off + ID.timestamp + 4);
}

export function decodeIdentifier(buf: Uint8Array, off: number, len: number): IdentifierRepr | IdentifierFault {
	const fault = checkIdentifier(buf, off, len);
	if (fault) return fault;
	const alg = buf[off + ID.alg] as AlgId;
	return {
		alg,
		keyId: buf[off + ID.keyId]!,
		anycast: buf.subarray(off + ID.anycast, off + ID.anycast + 16),
		timestampMs: identifierTimestamp(buf, off),
		tag: buf.subarray(off + ID.tag, off + len),
	};
}

/** Option data length for `alg`. */
export function identifierLength(alg: AlgId): number {
	return ID_FIXED_LEN + TAG_LEN[alg];
}

/** Writes the fixed part of the option data at `off`; the tag is left for the signer. */
export function writeIdentifierFixed(buf: Uint8Array, off: number, alg: AlgId, keyId: number, anycast: Uint8Array, timestampMs: number): void {
	buf[off + ID.alg] = alg;
	buf[off + ID.keyId] = keyId;
	setU16(buf, off + ID.reserved, 0);
	for (let i = 0; i < 16; i++) buf[off + ID.anycast + i] = anycast[i]!;
	setU32(buf, off + ID.timestamp, Math.floor(timestampMs / 0x1_0000_0000));
	setU32(buf, off + ID.timestamp + 4, timestampMs >>> 0);
}

/** The option as a value, for insertDestOption. */
export function identifierOption(repr: IdentifierRepr): OptionRepr {
	const data = new Uint8Array(identifierLength(repr.alg));
	writeIdentifierFixed(data, 0, repr.alg, repr.keyId, repr.anycast, repr.timestampMs);
	data.set(repr.tag.subarray(0, TAG_LEN[repr.alg]), ID.tag);
	return {type: ID_OPTION_TYPE, data, align: ID_ALIGN};
}
