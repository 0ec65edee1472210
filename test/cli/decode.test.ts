// The CLI as a user runs it: a process, its output and its exit status.
import {spawnSync} from 'node:child_process';
import {writeFileSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {LinkType, pcapHeader, pcapRecord} from '../../src/wire/index.js';
import {fixturesDir, readHex} from '../helpers/bytes.js';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function anyguard(...args: string[]) {
	return spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {encoding: 'utf8'});
}

test('decode prints one line per packet of a hex fixture', (t) => {
	const r = anyguard('decode', join(fixturesDir, 'wire/packet-too-big.hex'));
	t.is(r.status, 0, r.stderr);
	t.is(r.stdout.trim(), '1 2001:db8:ff:1::2 > 2001:db8:ff:1::1 hlim 64 ICMP6 packet too big code 0 mtu 1280 quoting 1232 bytes');
});

test('decode reads a pcap and reports malformed packets with their code, exit 1', (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'anyguard-cli-'));
	try {
		const good = readHex('wire/echo-request.hex');
		const file = join(dir, 'x.pcap');
		writeFileSync(file, Buffer.concat([pcapHeader(LinkType.Raw), pcapRecord(good, 0), pcapRecord(good.subarray(0, 50), 0)]));
		const r = anyguard('decode', file);
		t.is(r.status, 1);
		const lines = r.stdout.trim().split('\n');
		t.regex(lines[0]!, /^1 2001:db8:ff:1::1 > 2001:db8:ff:2::1 hlim 64 ICMP6 echo request id \d+ seq 1 len 56$/);
		t.regex(lines[1]!, /^2 malformed \(truncated at byte 4\)/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('bad input gives a clear error and no stack trace, exit 2', (t) => {
	for (const args of [['decode', '/nonexistent/file.pcap'], ['decode'], ['frobnicate']]) {
		const r = anyguard(...args);
		t.is(r.status, 2, args.join(' '));
		t.regex(r.stderr, /^anyguard: /);
		t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
	}
});
