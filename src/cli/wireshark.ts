// `anyguard wireshark install [--dir DIR]`: copies the identifier's dissector
// (contrib/wireshark/anyguard.lua) into the user's personal Lua plugin folder,
// where Wireshark and tshark load it at start.
import {spawnSync} from 'node:child_process';
import {copyFileSync, mkdirSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const DISSECTOR = fileURLToPath(new URL('../../contrib/wireshark/anyguard.lua', import.meta.url));

/** The folder Wireshark reads personal Lua plugins from, as `tshark -G folders` names it; the documented default otherwise. */
export function personalPluginFolder(): string {
	const r = spawnSync('tshark', ['-G', 'folders'], {encoding: 'utf8'});
	const line = (r.stdout ?? '').split('\n').find((l) => /^Personal Lua Plugins:/i.test(l));
	const dir = line?.split('\t').slice(1).join('\t').trim();
	return dir || join(process.env.XDG_CONFIG_HOME ? join(process.env.XDG_CONFIG_HOME, '..') : homedir(), '.local', 'lib', 'wireshark', 'plugins');
}

/** Installs the dissector; returns the path written. */
export function installDissector(dir = personalPluginFolder()): string {
	mkdirSync(dir, {recursive: true});
	const to = join(dir, 'anyguard.lua');
	copyFileSync(DISSECTOR, to);
	return to;
}
