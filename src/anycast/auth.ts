// The authenticator over a stamped response (docs/protocol.md §3). The input
// binds the stamp to S, both addresses, the upper layer and the time, so a
// stamped response cannot be moved to another client, group or time.
import {createHmac, sign as edSign, verify as edVerify, timingSafeEqual} from 'node:crypto';
import {setU32} from '../wire/bytes.js';
import {IPV6} from '../wire/ipv6.js';
import {finalDestinationOffset} from '../wire/packet.js';
import type {PacketInfo} from '../wire/packet.js';
import type {KeyMaterial} from './keys.js';
import {Alg, ID, ID_FIXED_LEN, TAG_LEN} from './option.js';
import type {AlgId} from './option.js';

/** Domain separation: these bytes start every signing input, so no other protocol's MAC or signature can be replayed as ours. */
export const CONTEXT = new TextEncoder().encode('anyguard-id-v1');

/** CONTEXT | option data up to the tag (28) | src (16) | dst (16) | next header (1) | upper-layer length (4). */
export const PREFIX_LEN = CONTEXT.length + ID_FIXED_LEN + 16 + 16 + 1 + 4;

/**
 * Writes the signing-input prefix for the packet in `info` whose identifier
 * data starts at `dataOff`, into `out` (PREFIX_LEN bytes). The upper-layer
 * bytes, info.upperOff..info.end, follow it.
 */
export function writePrefix(info: PacketInfo, dataOff: number, out: Uint8Array): void {
	const buf = info.buf;
	let p = 0;
	out.set(CONTEXT, p);
	p += CONTEXT.length;
	out.set(buf.subarray(dataOff, dataOff + ID_FIXED_LEN), p);
	p += ID_FIXED_LEN;
	out.set(buf.subarray(info.off + IPV6.src, info.off + IPV6.src + 16), p);
	p += 16;
	const dst = finalDestinationOffset(info);
	out.set(buf.subarray(dst, dst + 16), p);
	p += 16;
	out[p++] = info.upperProto;
	setU32(out, p, info.upperLen);
}

/**
 * Computes the tag for the identifier at `dataOff` (its fixed part already
 * written) and writes it after the fixed part. Returns false when `keys` lack
 * what `alg` needs.
 */
export function writeTag(alg: AlgId, keys: KeyMaterial, info: PacketInfo, dataOff: number, scratch: Uint8Array): boolean {
	const buf = info.buf;
	const upper = buf.subarray(info.upperOff, info.end);
	const tagOff = dataOff + ID.tag;
	switch (alg) {
		case Alg.None:
			return true;
		case Alg.HmacSha256: {
			if (!keys.hmacKey) return false;
			writePrefix(info, dataOff, scratch);
			const mac = createHmac('sha256', keys.hmacKey).update(scratch.subarray(0, PREFIX_LEN)).update(upper).digest();
			buf.set(mac.subarray(0, TAG_LEN[Alg.HmacSha256]), tagOff);
			return true;
		}
		case Alg.Ed25519: {
			if (!keys.privateKey) return false;
			writePrefix(info, dataOff, scratch);
			const signature = edSign(null, Buffer.concat([scratch.subarray(0, PREFIX_LEN), upper]), keys.privateKey);
			buf.set(signature, tagOff);
			return true;
		}
	}
}

/**
 * Verifies the tag of the identifier at `dataOff`. The comparison of an HMAC
 * tag takes constant time (timingSafeEqual), so timing does not reveal how
 * much of a forged tag was right.
 */
export function checkTag(alg: AlgId, keys: KeyMaterial, info: PacketInfo, dataOff: number, scratch: Uint8Array): 'ok' | 'no-key' | 'bad' {
	const buf = info.buf;
	const upper = buf.subarray(info.upperOff, info.end);
	const tag = buf.subarray(dataOff + ID.tag, dataOff + ID.tag + TAG_LEN[alg]);
	switch (alg) {
		case Alg.None:
			return 'ok';
		case Alg.HmacSha256: {
			if (!keys.hmacKey) return 'no-key';
			writePrefix(info, dataOff, scratch);
			const mac = createHmac('sha256', keys.hmacKey).update(scratch.subarray(0, PREFIX_LEN)).update(upper).digest();
			return timingSafeEqual(mac.subarray(0, tag.length), tag) ? 'ok' : 'bad';
		}
		case Alg.Ed25519: {
			if (!keys.publicKey) return 'no-key';
			writePrefix(info, dataOff, scratch);
			return edVerify(null, Buffer.concat([scratch.subarray(0, PREFIX_LEN), upper]), keys.publicKey, tag) ? 'ok' : 'bad';
		}
	}
}
