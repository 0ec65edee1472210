// Insert or remove an option in the Destination Options header that sits
// directly before the upper-layer header (RFC 8200 §4.1: the one "for options
// to be processed only by the final recipient"). The anycast server stamps
// responses this way, and the client may strip the stamp after verifying.
import {setU16} from './bytes.js';
import {WireError} from './error.js';
import {EXT} from './ext.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from './ipv6.js';
import {emitOptions, emitPadding, findOption, isPadding, nextOption, optionsSpan, roundHeaderLength} from './options.js';
import type {OptionRepr} from './options.js';
import type {PacketInfo} from './packet.js';

/** Index of the Destination Options header directly before the upper layer, or -1. */
export function finalDestOptsIndex(info: PacketInfo): number {
	const last = info.extCount - 1;
	return last >= 0 && info.extProto[last] === Proto.DestOpts && !info.isFragment ? last : -1;
}

/** Start of the trailing run of Pad1/PadN options in [start, end): the options before it are kept as they are. */
function trailingPaddingStart(buf: Uint8Array, start: number, end: number): number {
	let padFrom = start;
	for (let pos = start; pos < end; pos = nextOption(buf, pos)) if (!isPadding(buf, pos)) padFrom = nextOption(buf, pos);
	return padFrom;
}

function output(len: number, out?: Uint8Array): Uint8Array {
	if (!out) return new Uint8Array(len);
	if (out.length < len) throw new WireError('bad-value', `output buffer of ${out.length} bytes cannot hold ${len}`);
	return out.subarray(0, len);
}

/**
 * Returns the packet with `option` added to the Destination Options header
 * before the upper layer, creating that header if there is none. Existing
 * options keep their bytes and alignment; trailing padding is redone. Upper-
 * layer checksums are unchanged: the pseudo-header names the upper layer.
 * A fragment cannot be changed this way, since the upper layer is split.
 */
export function insertDestOption(info: PacketInfo, option: OptionRepr, out?: Uint8Array): Uint8Array {
	if (info.isFragment) throw new WireError('bad-value', 'cannot add a destination option to a fragment');
	const buf = info.buf;
	const idx = finalDestOptsIndex(info);
	// Options kept from an existing header: [keepStart, keepEnd) of buf.
	let keepStart = 0;
	let keepEnd = 0;
	let hdrOff = info.upperOff; // where the (new or rebuilt) header goes
	let oldHdrLen = 0;
	if (idx >= 0) {
		hdrOff = info.extOff[idx]!;
		oldHdrLen = info.extLen[idx]!;
		keepStart = hdrOff + 2;
		keepEnd = trailingPaddingStart(buf, keepStart, hdrOff + oldHdrLen);
	}
	const kept = keepEnd - keepStart;
	// The kept bytes stay as they are; the option follows with its alignment, then padding to 8.
	const hdrLen = roundHeaderLength(2 + kept + optionsSpan([option], 2 + kept));
	const growth = hdrLen - oldHdrLen;
	const total = info.end - info.off + growth;
	if (total - IPV6_HEADER_LEN > 0xffff) throw new WireError('bad-value', 'packet would exceed 65535 bytes of payload');
	const dst = output(total, out);
	// Everything up to the header, then the header, then the upper layer.
	dst.set(buf.subarray(info.off, hdrOff), 0);
	const h = hdrOff - info.off;
	dst[h + EXT.nextHeader] = info.upperProto;
	dst[h + EXT.hdrExtLen] = hdrLen / 8 - 1;
	dst.set(buf.subarray(keepStart, keepEnd), h + 2);
	emitOptions([option], dst, h, h + 2 + kept, h + hdrLen);
	dst.set(buf.subarray(info.upperOff, info.end), h + hdrLen);
	setU16(dst, IPV6.payloadLength, total - IPV6_HEADER_LEN);
	if (idx < 0) dst[info.nextHeaderOffset(info.extCount) - info.off] = Proto.DestOpts;
	return dst;
}

/**
 * Returns the packet without the first option of `type` in the Destination
 * Options header before the upper layer, or null when there is none. The
 * option is overwritten with padding so the others keep their alignment; a
 * header left holding only padding is removed.
 */
export function removeDestOption(info: PacketInfo, type: number, out?: Uint8Array): Uint8Array | null {
	const idx = finalDestOptsIndex(info);
	if (idx < 0) return null;
	const buf = info.buf;
	const hdrOff = info.extOff[idx]!;
	const hdrLen = info.extLen[idx]!;
	const pos = findOption(buf, hdrOff + 2, hdrOff + hdrLen, type);
	if (pos < 0) return null;
	const optLen = nextOption(buf, pos) - pos;
	const onlyPadding = allPadding(buf, hdrOff + 2, pos) && allPadding(buf, pos + optLen, hdrOff + hdrLen);
	if (onlyPadding) {
		const total = info.end - info.off - hdrLen;
		const dst = output(total, out);
		dst.set(buf.subarray(info.off, hdrOff), 0);
		dst.set(buf.subarray(hdrOff + hdrLen, info.end), hdrOff - info.off);
		setU16(dst, IPV6.payloadLength, total - IPV6_HEADER_LEN);
		dst[info.nextHeaderOffset(idx) - info.off] = info.upperProto;
		return dst;
	}
	const dst = output(info.end - info.off, out);
	dst.set(buf.subarray(info.off, info.end), 0);
	emitPadding(dst, pos - info.off, optLen);
	return dst;
}

function allPadding(buf: Uint8Array, start: number, end: number): boolean {
	for (let pos = start; pos < end; pos = nextOption(buf, pos)) if (!isPadding(buf, pos)) return false;
	return true;
}
