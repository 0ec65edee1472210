// Test helpers for byte-level codecs.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {parseAddr} from '../../src/util/addr.js';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Reads a hex fixture: `#` comment lines, then hex bytes separated by white space. */
export function readHex(relative: string): Uint8Array {
	const text = readFileSync(fixturesDir + relative, 'utf8');
	return fromHex(text.split('\n').filter((line) => !line.startsWith('#')).join(' '));
}

export function fromHex(text: string): Uint8Array {
	const clean = text.replace(/\s+/g, '');
	if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`not hex: ${text.slice(0, 40)}`);
	return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function toHex(bytes: Uint8Array): string {
	return Buffer.from(bytes).toString('hex');
}

/** A buffer pre-filled with 0xa5, so a test proves that emit writes every byte itself (smoltcp's habit). */
export function junk(len: number): Uint8Array {
	return new Uint8Array(len).fill(0xa5);
}

export const addr = parseAddr;
