import test from 'ava';
import {Opt, OptAction, WireError, checkOptions, emitOptions, findOption, optionAction, optionMayChange, optionsHeaderLength, parseOptions} from '../../src/wire/index.js';
import type {OptionRepr} from '../../src/wire/index.js';
import {fromHex, junk, toHex} from '../helpers/bytes.js';

test('an unknown option keeps its whole type byte: action bits and change-en-route bit', (t) => {
	for (const type of [0x1e, 0x5e, 0x9e, 0xde, 0x3e, 0xfe]) {
		const hdr = junk(optionsHeaderLength([{type, data: Uint8Array.of(1, 2, 3)}]));
		emitOptions([{type, data: Uint8Array.of(1, 2, 3)}], hdr, 0, 2, hdr.length);
		const [opt] = parseOptions(hdr, 2, hdr.length);
		t.is(opt?.type, type);
		t.is(optionAction(opt!.type), type >>> 6);
		t.is(optionMayChange(opt!.type), (type & 0x20) !== 0);
		t.deepEqual(opt?.data, Uint8Array.of(1, 2, 3));
	}
	t.is(optionAction(0x1e), OptAction.Skip);
	t.is(optionAction(0xde), OptAction.DiscardIcmpUnlessMulticast);
});

test('Pad1 and PadN fill to a multiple of 8, and parse back as options', (t) => {
	// 2-byte preamble + option of 2+3 = 7: one Pad1 fills to 8.
	const one: OptionRepr[] = [{type: 0x1e, data: Uint8Array.of(9, 9, 9)}];
	t.is(optionsHeaderLength(one), 8);
	const hdr = junk(8);
	emitOptions(one, hdr, 0, 2, 8);
	t.is(toHex(hdr.subarray(2)), '1e0309090900');
	// 2 + (2+1) = 5: PadN of 3 (01 01 00).
	const hdr2 = junk(8);
	emitOptions([{type: 0x1e, data: Uint8Array.of(7)}], hdr2, 0, 2, 8);
	t.is(toHex(hdr2.subarray(2)), '1e0107010100');
	t.deepEqual(
		parseOptions(hdr2, 2, 8).map((o) => o.type),
		[0x1e, Opt.PadN],
	);
});

test('alignment xn+y pads before the option', (t) => {
	// 4n+2: the option's type byte lands at offset 2 of its header, already aligned; 8n+2 at 2 too, 8n+6 needs 4 bytes pad.
	const hdr = junk(16);
	emitOptions([{type: 0x1e, data: new Uint8Array(4).fill(7), align: {x: 8, y: 6}}], hdr, 0, 2, 16);
	t.is(hdr[6], 0x1e);
	t.is(toHex(hdr.subarray(2, 6)), '01020000');
	t.is(findOption(hdr, 2, 16, 0x1e), 6);
});

test('malformed option areas are bad-option', (t) => {
	const cases: Array<[string, string]> = [
		['length byte missing', '1e'],
		['length overruns', '1e05000000'],
		['PadN overruns', '000001ff'],
	];
	for (const [name, hex] of cases) {
		const bytes = fromHex(hex);
		const error = t.throws(() => checkOptions(bytes, 0, bytes.length), {instanceOf: WireError}, name);
		t.is(error?.code, 'bad-option', name);
	}
	t.is(checkOptions(fromHex('000000'), 0, 3), 3, 'three Pad1');
});

test('an options header holds at most 2048 bytes', (t) => {
	const big = Array.from({length: 9}, () => ({type: 0x1e, data: new Uint8Array(255)}));
	t.is(t.throws(() => optionsHeaderLength(big))?.name, 'WireError');
});
