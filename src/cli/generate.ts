// `anyguard generate`: writes a generated topology (src/config/generate.ts)
// and the key files it names, then checks the result as `up` would.
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {clientKeyText, generateKeyText, loadHmacKey} from '../anycast/keys.js';
import {generateTopology} from '../config/generate.js';
import type {GenerateOptions} from '../config/generate.js';
import {loadTopology} from '../config/topology.js';
import type {Topology} from '../config/topology.js';
import {parseAddr} from '../util/addr.js';

/** Writes the topology to `file`, its group key (kept if already there) and each client's key beside it; returns the checked topology. */
export function writeGenerated(o: GenerateOptions, file: string): Topology {
	const g = generateTopology(o);
	const dir = dirname(resolve(file));
	const groupFile = join(dir, g.keys.group);
	mkdirSync(dirname(groupFile), {recursive: true});
	// The same parameters give the same topology; an existing group key is kept, so the clients' keys stay valid.
	if (!existsSync(groupFile)) writeFileSync(groupFile, generateKeyText('hmac-sha256').secret, {mode: 0o600});
	const groupKey = loadHmacKey(groupFile);
	for (const c of g.keys.clients) writeFileSync(join(dir, c.file), clientKeyText(groupKey, parseAddr(c.address), c.label), {mode: 0o600});
	const schema = join(dir, 'schema.json');
	if (!existsSync(schema)) delete g.json.$schema;
	writeFileSync(file, `${JSON.stringify(g.json, null, 2)}\n`);
	return loadTopology(file);
}
