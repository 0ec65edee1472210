// Which build of the project the network benchmarks run: the compiled dist/
// (what `anyguard` runs) when it is current, else the TypeScript source
// through tsx. Runtime speed is the same once loaded; tsx adds start-up time.
import {spawnSync} from 'node:child_process';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

function newest(dir: string, ext: string): number {
	let t = 0;
	if (!existsSync(dir)) return 0;
	for (const e of readdirSync(dir, {withFileTypes: true})) {
		const p = join(dir, e.name);
		if (e.isDirectory()) t = Math.max(t, newest(p, ext));
		else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs);
	}
	return t;
}

/** dist/ is current when it exists and no source file is newer than its newest file. */
export function distFresh(): boolean {
	const dist = newest(join(ROOT, 'dist'), '.js');
	return dist > 0 && newest(join(ROOT, 'src'), '.ts') <= dist;
}

/** Builds dist/ when it is stale (npm run build, a few seconds). Returns which code the benchmarks will run. */
export function ensureDist(log: (line: string) => void = () => {}): 'dist' | 'src' {
	if (distFresh()) return 'dist';
	log('bench: dist/ is older than src/: npm run build …');
	const r = spawnSync('npm', ['run', 'build'], {cwd: ROOT, encoding: 'utf8'});
	if (r.status === 0 && distFresh()) return 'dist';
	log(`bench: the build failed; the network benchmarks run the source through tsx:\n${r.stdout}${r.stderr}`);
	return 'src';
}

/** `which`: 'dist' (compiled) or 'src' (tsx). */
export function codeKind(): 'dist' | 'src' {
	return process.env.ANYGUARD_BENCH_CODE === 'src' || !distFresh() ? 'src' : 'dist';
}

/** Imports module `rel` (e.g. 'netns/setup') from dist/ or src/ as codeKind() says. */
export async function load<T>(rel: string): Promise<T> {
	const kind = codeKind();
	return (await import(new URL(`../${kind}/${rel}.${kind === 'dist' ? 'js' : 'ts'}`, import.meta.url).href)) as T;
}
