// The benchmark-only C tools of bench/native/, compiled on demand (never on
// npm install): `tool('c_relay')` builds build/bench/c_relay from
// bench/native/c_relay.c when it is missing or older than its source (or
// common.h, what the tools share), and returns its path.
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, statSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

const OUT = fileURLToPath(new URL('../../build/bench/', import.meta.url));

export function tool(name: 'agio_bench' | 'c_relay' | 'c_send'): string {
	const src = fileURLToPath(new URL(`${name}.c`, import.meta.url));
	const bin = `${OUT}${name}`;
	const common = fileURLToPath(new URL('common.h', import.meta.url));
	if (existsSync(bin) && statSync(bin).mtimeMs >= Math.max(statSync(src).mtimeMs, statSync(common).mtimeMs)) return bin;
	mkdirSync(OUT, {recursive: true});
	const cc = process.env.CC ?? 'cc';
	const r = spawnSync(cc, ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-o', bin, src], {encoding: 'utf8'});
	if (r.status !== 0) throw new Error(`bench/native: ${cc} ${name}.c failed: ${r.error?.message ?? ''}${r.stderr}`);
	return bin;
}
