// npm's install step for the addon: `node-gyp rebuild` against this Node's
// own headers. node-gyp fetches headers from nodejs.org unless it is given
// --nodedir (or this Node was built with use_prefix_to_find_headers), and a
// CI machine may have no route there; a distribution's Node ships them under
// <prefix>/include/node, which is what this passes when they match.
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import console from 'node:console';
import process from 'node:process';
import {URL, fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const prefix = dirname(dirname(process.execPath));
const versionH = join(prefix, 'include', 'node', 'node_version.h');

function localHeadersMatch() {
	if (!existsSync(versionH)) return false;
	const text = readFileSync(versionH, 'utf8');
	const part = (name) => text.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
	return `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === process.version;
}

const args = ['rebuild'];
if (!process.env.npm_config_nodedir && localHeadersMatch()) args.push(`--nodedir=${prefix}`);
// npm names its bundled node-gyp in npm_config_node_gyp for scripts; run by
// hand, fall back to the copy inside this Node's npm, then to PATH.
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const result = gyp ? spawnSync(process.execPath, [gyp, ...args], {cwd: root, stdio: 'inherit'}) : spawnSync('node-gyp', args, {cwd: root, stdio: 'inherit'});
if (result.error) console.error(`anyguard: cannot run node-gyp: ${result.error.message}`);
process.exit(result.status ?? 1);
