// TLV options of the Hop-by-Hop and Destination Options headers (RFC 8200 §4.2).
//
// An unknown option is kept whole: its type byte carries the two action bits
// (what a node that does not know it must do) and the change-en-route bit.
import {WireError} from './error.js';

export const Opt = {
	Pad1: 0x00,
	PadN: 0x01,
	/** RFC 4727 experimental value, used for the anycast identifier (docs/protocol.md). */
	Anycast: 0x1e,
} as const;

/** The action bits, the high-order two bits of the type (RFC 8200 §4.2). */
export const OptAction = {
	Skip: 0,
	Discard: 1,
	DiscardIcmp: 2,
	DiscardIcmpUnlessMulticast: 3,
} as const;

export interface OptionRepr {
	/** The whole type byte: action bits, change-en-route bit and rest. */
	type: number;
	/** Option data; empty for Pad1. */
	data: Uint8Array;
	/**
	 * Alignment requirement xn+y (RFC 8200 §4.2) applied by the builder, which
	 * pads before the option; parsed options carry their padding explicitly.
	 */
	align?: {x: number; y: number};
}

export function optionAction(type: number): number {
	return type >>> 6;
}

/** The change-en-route bit (RFC 8200 §4.2): option data may change on the way. */
export function optionMayChange(type: number): boolean {
	return (type & 0x20) !== 0;
}

/**
 * The options iterator: the offset just past the option at `pos` (Pad1 is one
 * byte; every other option is type, length and data). Every walk over an
 * options area steps with it, allocating nothing:
 *
 *     for (let pos = start; pos < end; pos = nextOption(buf, pos)) { const type = buf[pos]; … }
 *
 * The area must have passed checkOptions (parsePacket checks every options
 * header), so no step runs past `end`.
 */
export function nextOption(buf: Uint8Array, pos: number): number {
	return buf[pos] === Opt.Pad1 ? pos + 1 : pos + 2 + buf[pos + 1]!;
}

/** Bytes of data of the option at `pos` (0 for Pad1). */
export function optionDataLength(buf: Uint8Array, pos: number): number {
	return buf[pos] === Opt.Pad1 ? 0 : buf[pos + 1]!;
}

/** Whether the option at `pos` is padding (Pad1 or PadN). */
export function isPadding(buf: Uint8Array, pos: number): boolean {
	return buf[pos] === Opt.Pad1 || buf[pos] === Opt.PadN;
}

/**
 * Walks the options in [start, end) without allocating and returns how many
 * there are. Throws bad-option where a length runs past `end`.
 */
export function checkOptions(buf: Uint8Array, start: number, end: number): number {
	let count = 0;
	for (let pos = start; pos < end; count++) {
		if (buf[pos] !== Opt.Pad1 && pos + 2 > end) throw new WireError('bad-option', `option at ${pos} has no length byte`, pos);
		const next = nextOption(buf, pos);
		if (next > end) throw new WireError('bad-option', `option at ${pos} overruns its header by ${next - end} bytes`, pos);
		pos = next;
	}
	return count;
}

/**
 * Offset of the first option of `type` in [start, end), or -1. The area must
 * have passed checkOptions. Allocates nothing.
 */
export function findOption(buf: Uint8Array, start: number, end: number, type: number): number {
	for (let pos = start; pos < end; pos = nextOption(buf, pos)) if (buf[pos] === type) return pos;
	return -1;
}

/** Decodes every option in [start, end), padding included, as views into `buf`. */
export function parseOptions(buf: Uint8Array, start: number, end: number): OptionRepr[] {
	checkOptions(buf, start, end);
	const out: OptionRepr[] = [];
	for (let pos = start; pos < end; pos = nextOption(buf, pos)) {
		const data = buf[pos] === Opt.Pad1 ? pos : pos + 2;
		out.push({type: buf[pos]!, data: buf.subarray(data, data + optionDataLength(buf, pos))});
	}
	return out;
}

/**
 * Bytes `options` take, alignment padding included, when they start `areaOff`
 * bytes into their header (alignment is relative to the header start).
 */
export function optionsSpan(options: readonly OptionRepr[], areaOff: number): number {
	let pos = areaOff;
	for (const option of options) {
		pos += alignPad(option, pos);
		pos += option.type === Opt.Pad1 ? 1 : 2 + option.data.length;
	}
	return pos - areaOff;
}

function alignPad(option: OptionRepr, pos: number): number {
	if (!option.align) return 0;
	const {x, y} = option.align;
	return (((y - pos) % x) + x) % x;
}

/**
 * Length of a Hop-by-Hop or Destination Options header holding `options`:
 * the 2-byte preamble, the options and padding to a multiple of 8 (RFC 8200 §4.3).
 */
export function optionsHeaderLength(options: readonly OptionRepr[]): number {
	const raw = 2 + optionsSpan(options, 2);
	return roundHeaderLength(raw);
}

/** Rounds an options header up to a multiple of 8 and checks the 2048-byte limit of an 8-bit length. */
export function roundHeaderLength(raw: number): number {
	const len = (raw + 7) & ~7;
	if (len > 2048) throw new WireError('bad-value', `options need ${len} bytes; a header holds at most 2048`);
	return len;
}

/** Writes `n` bytes of padding at `pos`: Pad1 for one byte, PadN otherwise. */
export function emitPadding(buf: Uint8Array, pos: number, n: number): void {
	if (n === 0) return;
	if (n === 1) {
		buf[pos] = Opt.Pad1;
		return;
	}
	buf[pos] = Opt.PadN;
	buf[pos + 1] = n - 2;
	buf.fill(0, pos + 2, pos + n);
}

/**
 * Writes `options` into [start, end) of a header beginning at `headerOff`,
 * padding before aligned options and after the last one to fill the area.
 */
export function emitOptions(options: readonly OptionRepr[], buf: Uint8Array, headerOff: number, start: number, end: number): void {
	let pos = start;
	for (const option of options) {
		const pad = alignPad(option, pos - headerOff);
		emitPadding(buf, pos, pad);
		pos += pad;
		if (option.type === Opt.Pad1) {
			if (option.data.length !== 0) throw new WireError('bad-value', 'Pad1 carries no data');
			buf[pos++] = Opt.Pad1;
			continue;
		}
		if (option.type > 0xff || option.type < 0 || option.data.length > 255)
			throw new WireError('bad-value', `option ${option.type} with ${option.data.length} bytes cannot be encoded`);
		buf[pos] = option.type;
		buf[pos + 1] = option.data.length;
		buf.set(option.data, pos + 2);
		pos += 2 + option.data.length;
	}
	if (pos > end) throw new WireError('bad-value', 'options do not fit their header');
	emitPadding(buf, pos, end - pos);
}
