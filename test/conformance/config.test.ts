// Bad configuration: `anyguard up` with a malformed topology or key file
// fails with an error naming the file and the field, before it makes
// anything — no namespace, no state directory. As root (CI) this is the real
// check; without root `up` would refuse anyway, but only after the same
// validation, so the messages are checked either way.
import test from 'ava';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {loadTopology} from '../../src/config/topology.js';
import {stateDir} from '../../src/netns/names.js';
import {checkKeys, up} from '../../src/netns/setup.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {retarget} from '../../lab/nsnet.js';

const quiet = {step: () => {}, detail: () => {}};

function scratch(): string {
	return mkdtempSync(join(tmpdir(), 'anyguard-badconf-'));
}

function namespacesWith(prefix: string): string[] {
	return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix)) : [];
}

/** The default topology under prefix `prefix`, with group `group`'s key file replaced by `text`. */
function withKey(dir: string, prefix: string, group: number, field: 'key' | 'publicKey', text: string): string {
	const file = retarget(DEFAULT_TOPOLOGY, prefix, dir);
	const json = JSON.parse(readFileSync(file, 'utf8')) as {groups: Array<Record<string, string>>};
	const key = join(dir, `bad-${field}`);
	writeFileSync(key, text);
	json.groups[group]![field] = key;
	writeFileSync(file, JSON.stringify(json));
	return file;
}

const rows = [
	{name: 'HMAC key that is not hex', group: 0, field: 'key' as const, text: 'not a key\n', field_: 'groups[0].key', says: /expected the HMAC key as hex digits/},
	{name: 'HMAC key too short', group: 0, field: 'key' as const, text: 'abcd\n', field_: 'groups[0].key', says: /must be 32–64 bytes/},
	{name: 'Ed25519 public key that is not PEM', group: 1, field: 'publicKey' as const, text: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', field_: 'groups[1].publicKey', says: /not a PEM public key/},
];

for (const row of rows) {
	test.serial(`bad key file (${row.name}): up fails naming the topology, the field and the key file, and makes nothing`, async (t) => {
		const dir = scratch();
		const prefix = `x${process.pid % 10000}-`;
		try {
			const file = withKey(dir, prefix, row.group, row.field, row.text);
			t.throws(() => checkKeys(loadTopology(file)), {message: new RegExp(`topology ${file}: ${row.field_.replace(/[[\]]/g, '\\$&')}: key file ${join(dir, `bad-${row.field}`)}`)});
			const error = await t.throwsAsync(up(file, {stateRoot: dir, hostLink: false, progress: quiet}));
			t.regex(error!.message, row.says);
			t.regex(error!.message, new RegExp(row.field_.replace(/[[\]]/g, '\\$&')));
			t.deepEqual(namespacesWith(prefix), [], 'no namespace was made');
			t.false(existsSync(stateDir(loadTopology(file), dir)), 'no state directory was made');
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
}

test.serial('malformed topology: up fails naming the file and the field, and makes nothing', async (t) => {
	const dir = scratch();
	const prefix = `x${process.pid % 10000}-`;
	try {
		const file = retarget(DEFAULT_TOPOLOGY, prefix, dir);
		const json = JSON.parse(readFileSync(file, 'utf8')) as {links: Array<Record<string, unknown>>};
		json.links[2]!.mtu = 1000;
		writeFileSync(file, JSON.stringify(json));
		const error = await t.throwsAsync(up(file, {stateRoot: dir, hostLink: false, progress: quiet}));
		t.regex(error!.message, new RegExp(`topology ${file}: links\\[2\\]\\.mtu: `));
		writeFileSync(file, '{"name": "x", "nodes": [');
		const error2 = await t.throwsAsync(up(file, {stateRoot: dir, hostLink: false, progress: quiet}));
		t.regex(error2!.message, new RegExp(`topology ${file}: not valid JSON`));
		t.deepEqual(namespacesWith(prefix), []);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
