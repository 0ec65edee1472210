// Identifier costs per packet (suite `anycast`): stamping (option insertion +
// HMAC-SHA256) at the server and verification at the boundary, against
// OpenSSL's own HMAC-SHA256 over an input of the same size (`openssl speed
// -hmac sha256 -bytes N`), measured in the same run on the same core; and
// Ed25519 signing and verifying next to `openssl speed ed25519`.
//
// The timed loops run in bench/anycast-child.mjs: plain node on dist/, what
// the role processes run (tsx would read every imported binding through a
// getter). Child and openssl alternate, ROUNDS rounds each (a child's round
// takes MS per figure), pinned to cpu 1; each figure is the median round.
//
//   anycast.hmac.stamp_us / verify_us   the pipeline's calls, with the addon's HMAC
//                                       (src/io/native/hmac.c), the default
//   anycast.hmac.native_us              the addon's HMAC call alone; _batch_us per packet of 64 in one call
//   anycast.hmac.js.stamp_us / verify_us  the fallback (node:crypto), against createHmac alone (bare_us)
import {execFileSync} from 'node:child_process';
import {cpus} from 'node:os';
import {fileURLToPath} from 'node:url';
import {ensureDist} from './code.js';
import {withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';
import {median} from './proc.js';

const CHILD = fileURLToPath(new URL('anycast-child.mjs', import.meta.url));
const ROUNDS = Math.max(1, Number(process.env.ANYGUARD_BENCH_ROUNDS ?? 5));
/** Milliseconds per figure in a round: short rounds keep ours and OpenSSL's close in time on a shared machine. */
const MS = 600;
const pin = cpus().length >= 2 ? ['taskset', '-c', '1'] : [];

function exec(cmd: string[]): string {
	const [exe, ...args] = [...pin, ...cmd];
	return execFileSync(exe!, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

/** OpenSSL's HMAC-SHA256 over `bytes` bytes: µs per HMAC (openssl speed -mr prints bytes per second). */
function opensslHmacUs(bytes: number): number | undefined {
	try {
		const out = exec(['openssl', 'speed', '-seconds', '1', '-bytes', String(bytes), '-mr', '-hmac', 'sha256']);
		const m = /^\+F:\d+:hmac\(sha256\):([\d.]+)/m.exec(out);
		return m ? (bytes / Number(m[1])) * 1e6 : undefined;
	} catch {
		return undefined;
	}
}

function opensslEd25519(): {sign: number; verify: number} | undefined {
	try {
		const out = exec(['openssl', 'speed', '-seconds', '2', 'ed25519']);
		const m = /Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
		return m ? {sign: Number(m[1]), verify: Number(m[2])} : undefined;
	} catch {
		return undefined;
	}
}

type Child = Record<string, number | string | null>;

export const run: Bench = async () => {
	if (ensureDist((line) => process.stderr.write(`${line}\n`)) !== 'dist') throw new Error('bench/anycast.ts: dist/ could not be built');
	const rounds: Child[] = [];
	const ssl: number[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const child = JSON.parse(exec([process.execPath, CHILD, 'hmac', String(MS)])) as Child;
		rounds.push(child);
		const o = opensslHmacUs(Number(child.inputLen));
		if (o !== undefined) ssl.push(o);
		process.stderr.write(`    round ${i + 1}: stamp ${Number(child.stamp).toFixed(3)} µs, verify ${Number(child.verify).toFixed(3)} µs, openssl ${o?.toFixed(3) ?? '?'} µs\n`);
	}
	const first = rounds[0]!;
	const ed = JSON.parse(exec([process.execPath, CHILD, 'ed25519', '1000'])) as Child;
	const m = (key: string) => median(rounds.map((r) => Number(r[key] ?? ed[key])));
	const list = (key: string) => rounds.map((r) => Number(r[key]).toFixed(3)).join(', ');
	const perRound = rounds.map((r, i) => (ssl[i] ? `${(Number(r.stamp) / ssl[i]).toFixed(2)}/${(Number(r.verify) / ssl[i]).toFixed(2)}` : '')).join(', ');
	const results: Result[] = [];
	const bare: Result = {name: 'anycast.hmac.bare_us', value: m('bare'), unit: 'µs', note: `node:crypto createHmac over the same packet bytes, alone; rounds ${list('bare')}`};
	const jsStamp = withRatio({name: 'anycast.hmac.js.stamp_us', value: m('jsStamp'), unit: 'µs', note: `the fallback (node:crypto): parse + option insertion + HMAC; rounds ${list('jsStamp')}`}, bare);
	const jsVerify = withRatio({name: 'anycast.hmac.js.verify_us', value: m('jsVerify'), unit: 'µs', note: `the fallback: parse + checks + HMAC; rounds ${list('jsVerify')}`}, bare);
	if (first.nativeUnavailable || ssl.length === 0) {
		results.push(bare, {...jsStamp, name: 'anycast.hmac.stamp_us', goal: '<= 3'}, {...jsVerify, name: 'anycast.hmac.verify_us', goal: '<= 3'});
		results.push({name: 'anycast.hmac.skipped', value: 0, unit: '', note: `native HMAC: ${first.nativeUnavailable ?? 'available'}; openssl: ${ssl.length ? 'found' : 'not found'}`});
	} else {
		const sslR: Result = {
			name: 'anycast.hmac.openssl_us',
			value: median(ssl),
			unit: 'µs',
			note: `openssl speed -hmac sha256 -bytes ${first.inputLen} (the signing input's size), same core, between the rounds (baseline); rounds ${ssl.map((x) => x.toFixed(3)).join(', ')}`,
		};
		results.push(
			sslR,
			withRatio({name: 'anycast.hmac.stamp_us', value: m('stamp'), unit: 'µs', goal: '<= 3 and ratio <= 2', note: `parse + option insertion + HMAC in the addon, one call; rounds ${list('stamp')}; stamp/verify over openssl per round ${perRound}`}, sslR),
			withRatio({name: 'anycast.hmac.verify_us', value: m('verify'), unit: 'µs', goal: '<= 3 and ratio <= 2', note: `parse + locate + checks + HMAC in the addon (boundary router, no replay cache); rounds ${list('verify')}; parse + locate alone ${m('parseLocate').toFixed(3)} µs`}, sslR),
			withRatio({name: 'anycast.hmac.native_us', value: m('nativeCall'), unit: 'µs', note: 'the addon\'s HMAC-SHA256 alone, one packet a call (N-API call included)'}, sslR),
			withRatio({name: 'anycast.hmac.native_batch_us', value: m('nativeBatch'), unit: 'µs', note: 'per packet, 64 packets in one call (verifyBatch)'}, sslR),
			bare,
			jsStamp,
			jsVerify,
		);
	}
	const signResult: Result = {name: 'anycast.ed25519.sign_per_s', value: 1e6 / m('edSign'), unit: 'stamps/s', note: 'full stamp: option insertion + Ed25519 signature'};
	const verifyResult: Result = {name: 'anycast.ed25519.verify_per_s', value: 1e6 / m('edVerify'), unit: 'packets/s', note: 'full verification at the boundary'};
	const nodeSign: Result = {name: 'anycast.ed25519.node_sign_per_s', value: 1e6 / m('edNodeSign'), unit: 'signatures/s', note: 'crypto.sign alone'};
	const nodeVerify: Result = {name: 'anycast.ed25519.node_verify_per_s', value: 1e6 / m('edNodeVerify'), unit: 'verifications/s', note: 'crypto.verify alone'};
	const ceiling = opensslEd25519();
	if (ceiling) {
		const sslSign: Result = {name: 'anycast.ed25519.openssl_sign_per_s', value: ceiling.sign, unit: 'signatures/s', note: 'openssl speed ed25519 (ceiling)'};
		const sslVerify: Result = {name: 'anycast.ed25519.openssl_verify_per_s', value: ceiling.verify, unit: 'verifications/s', note: 'openssl speed ed25519 (ceiling)'};
		results.push(sslSign, sslVerify, withRatio(nodeSign, sslSign), withRatio(nodeVerify, sslVerify), withRatio(signResult, sslSign), withRatio(verifyResult, sslVerify));
	} else {
		results.push(nodeSign, nodeVerify, {...signResult, note: `${signResult.note}; openssl not found, no ceiling`}, verifyResult);
	}
	return results;
};
