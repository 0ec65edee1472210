// Local files (issue 12 item 11): the state directory, its sockets and its
// pid files are the owner's alone, whatever the umask; a directory that is not
// is refused; the control socket serves packets to its owner only; `down`
// signals no process it cannot tell is its own.
import {spawn} from 'node:child_process';
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {request} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {serveControl} from '../../src/ops/control.js';
import {copyTopology} from '../../src/config/topology.js';
import {down} from '../../src/netns/setup.js';
import {StateDirError, privateDir} from '../../src/util/statedir.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {isRoot} from '../io/netns.js';

const mode = (p: string) => statSync(p).mode & 0o777;
const quiet = {step: () => {}, detail: () => {}};

function withUmask<T>(mask: number, f: () => T): T {
	const old = process.umask(mask);
	try {
		return f();
	} finally {
		process.umask(old);
	}
}

test.serial('privateDir: a new state directory, and the parents it makes, are 0700 whatever the umask', (t) => {
	const root = mkdtempSync(join(tmpdir(), 'anyguard-sd-'));
	try {
		for (const mask of [0, 0o022, 0o077]) {
			const dir = join(root, `m${mask}`, 'state');
			withUmask(mask, () => privateDir(dir));
			t.is(mode(dir), 0o700, `umask ${mask.toString(8)}`);
			t.is(mode(join(root, `m${mask}`)), 0o700, 'the parent it made');
		}
		t.is(mode(root), 0o700, 'a parent that was there is left as it was (mkdtemp made it 0700)');
		const loose = join(root, 'loose');
		mkdirSync(loose, {mode: 0o700});
		chmodSync(loose, 0o755);
		privateDir(loose);
		t.is(mode(loose), 0o700, 'an existing directory of ours is tightened');
	} finally {
		rmSync(root, {recursive: true, force: true});
	}
});

test.serial('privateDir: a directory that others could write, a symbolic link, or a file is refused with a clear error', (t) => {
	const root = mkdtempSync(join(tmpdir(), 'anyguard-sd-'));
	try {
		const open = join(root, 'open');
		mkdirSync(open);
		chmodSync(open, 0o777);
		t.regex(t.throws(() => privateDir(open), {instanceOf: StateDirError})!.message, /state directory .*open can be written by its group or others \(mode 777\): refusing to use it/);
		symlinkSync(open, join(root, 'link'));
		t.regex(t.throws(() => privateDir(join(root, 'link')), {instanceOf: StateDirError})!.message, /is a symbolic link/);
		writeFileSync(join(root, 'file'), '');
		t.regex(t.throws(() => privateDir(join(root, 'file')), {instanceOf: StateDirError})!.message, /is not a directory/);
		if (isRoot) {
			const theirs = join(root, 'theirs');
			mkdirSync(theirs, {mode: 0o700});
			chownSync(theirs, 65534, 65534);
			t.regex(t.throws(() => privateDir(theirs), {instanceOf: StateDirError})!.message, /theirs belongs to uid 65534, not to this user \(uid 0\)/);
		}
	} finally {
		rmSync(root, {recursive: true, force: true});
	}
});

function get(socket: string, path: string, method = 'GET'): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = request({socketPath: socket, path, method, agent: false}, (res) => {
			res.resume();
			resolve(res.statusCode ?? 0);
			res.destroy();
		});
		req.on('error', reject);
		req.end(method === 'POST' ? '' : undefined);
	});
}

test.serial('control socket: 0600 whatever the umask; capture, injection and tracing only for its owner', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-ctl-'));
	const socket = join(dir, 'n.sock');
	let injected = 0;
	const server = await withUmask(0, () =>
		serveControl(socket, {
			status: () => ({}) as never,
			inject: (p) => (injected += p.length),
			tap: {subscribe: () => () => {}} as never,
			tracer: {arm: () => {}, take: () => []} as never,
		}),
	);
	try {
		t.is(mode(socket), 0o600);
		t.is(await get(socket, '/inject', 'POST'), 200, 'the owner may inject');
		if (!isRoot) return t.log('not root: the other-user half needs a second uid');
		// Someone loosened the permissions: another user reaches the socket, and still gets no packets.
		chmodSync(dir, 0o755);
		chmodSync(socket, 0o666);
		// Asynchronously: the server answering is in this process.
		const asNobody = (path: string, method: string) =>
			new Promise<string>((resolve) => {
				const child = spawn(process.execPath, ['-e', `require('http').request({socketPath: ${JSON.stringify(socket)}, path: ${JSON.stringify(path)}, method: ${JSON.stringify(method)}}, (r) => { console.log(r.statusCode); process.exit(0); }).on('error', (e) => { console.log(e.code); }).end()`], {uid: 65534, gid: 65534});
				let out = '';
				child.stdout.on('data', (d: Buffer) => (out += d.toString()));
				child.once('exit', () => resolve(out.trim()));
			});
		t.is(await asNobody('/inject', 'POST'), '403');
		t.is(await asNobody('/capture', 'GET'), '403');
		t.is(await asNobody('/capture?port=host', 'GET'), '403');
		t.is(await asNobody('/trace/7', 'POST'), '403');
		t.is(await asNobody('/nothing', 'GET'), '404', 'the rest is answered as usual');
		t.is(injected, 0, 'nothing was injected by the other user');
	} finally {
		server.close();
		rmSync(dir, {recursive: true, force: true});
	}
});

test.serial('down: a pid file planted in the state directory, or one naming a process of somebody else, gets no signal', async (t) => {
	const root = mkdtempSync(join(tmpdir(), 'anyguard-down-'));
	const file = copyTopology(DEFAULT_TOPOLOGY, `d${process.pid % 10000}-`, join(root, 'topology.json'));
	const state = join(root, `d${process.pid % 10000}`);
	const bystander = spawn('sleep', ['60'], {stdio: 'ignore'});
	try {
		privateDir(state);
		writeFileSync(join(state, 'client.pid'), `${bystander.pid}\n`);
		await down(file, {stateRoot: root, progress: quiet});
		t.true(existsSync(`/proc/${bystander.pid}`), 'an unrelated process named in a pid file is left alone');
		t.false(existsSync(state), 'the state directory is removed');
		if (isRoot) {
			// A state directory that is not ours alone: its pid files are not read at all.
			mkdirSync(state, {mode: 0o700});
			chownSync(state, 65534, 65534);
			writeFileSync(join(state, 'client.pid'), `${bystander.pid}\n`);
			await down(file, {stateRoot: root, progress: quiet});
			t.true(existsSync(`/proc/${bystander.pid}`));
		}
	} finally {
		bystander.kill('SIGKILL');
		rmSync(root, {recursive: true, force: true});
	}
});
