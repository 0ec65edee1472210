// Seeds for the fuzzers: what the running network carried (captured by
// test/fuzz/capture.ts into test/fixtures/corpus/*.hex), the attack table's
// forged packets and the conformance rows' packets. Also crashes/*.hex: every
// input that ever crashed a fuzzer, kept as a regression fixture.
import {existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {ATTACKS, craft} from '../../src/roles/attacker.js';
import type {AttackKind} from '../../src/roles/attacker.js';
import {A} from '../helpers/net.js';
import {CASES} from '../conformance/cases.js';

export const CORPUS_DIR = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));
export const CRASH_DIR = join(CORPUS_DIR, 'crashes');

/** Packets of a corpus file: `#` comment lines, then one hex packet per line. */
export function readCorpusFile(file: string): Uint8Array[] {
	return readFileSync(file, 'utf8')
		.split('\n')
		.map((l) => l.trim())
		.filter((l) => l && !l.startsWith('#'))
		.map((l) => Uint8Array.from(Buffer.from(l, 'hex')));
}

export function captured(): Uint8Array[] {
	return readdirSync(CORPUS_DIR)
		.filter((f) => f.endsWith('.hex'))
		.flatMap((f) => readCorpusFile(join(CORPUS_DIR, f)));
}

export function crashes(): Array<{name: string; packet: Uint8Array; at: string}> {
	if (!existsSync(CRASH_DIR)) return [];
	return readdirSync(CRASH_DIR)
		.filter((f) => f.endsWith('.hex'))
		.map((f) => {
			const text = readFileSync(join(CRASH_DIR, f), 'utf8');
			const at = /^# at (\S+)/m.exec(text)?.[1] ?? 'client:host';
			return {name: f, packet: readCorpusFile(join(CRASH_DIR, f))[0]!, at};
		});
}

/** Saves an input that crashed a fuzzer as a fixture; returns its path. */
export function saveCrash(packet: Uint8Array, at: string, error: unknown): string {
	mkdirSync(CRASH_DIR, {recursive: true});
	const name = `${createHash('sha256').update(packet).digest('hex').slice(0, 16)}.hex`;
	const file = join(CRASH_DIR, name);
	const root = fileURLToPath(new URL('../../', import.meta.url));
	const stack = String((error as Error)?.stack ?? error).split('\n').slice(0, 3).join(' | ').replaceAll(root, '');
	writeFileSync(file, `# at ${at}\n# ${stack}\n${Buffer.from(packet).toString('hex')}\n`);
	return file;
}

export function generated(): Uint8Array[] {
	const out: Uint8Array[] = [];
	const ctx = {client: A.client, anycast: A.S, self: A.attacker, server: A.serverA, echoId: 0x4242, sequences: [1], wallNow: 1_790_000_003_000};
	for (const kind of Object.keys(ATTACKS) as AttackKind[]) {
		try {
			out.push(...craft(kind, ctx));
		} catch {
			// rows that need a genuine capture or a stolen key
		}
	}
	for (const c of CASES) out.push(...c.packets());
	return out;
}

export function seeds(): Uint8Array[] {
	return [...captured(), ...generated()];
}
