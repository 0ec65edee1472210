// Identifier costs per packet: stamping (option insertion + HMAC) and
// verification at the boundary, against a bare HMAC-SHA256 of the same bytes
// in the same run; Ed25519 signing and verifying next to `openssl speed
// ed25519`, the ceiling on this machine, run in the same benchmark.
import {execFileSync} from 'node:child_process';
import {createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, verify as edVerify} from 'node:crypto';
import {Groups} from '../src/anycast/group.js';
import type {Group} from '../src/anycast/group.js';
import {locateIdentifier, stamp, verify} from '../src/anycast/identifier.js';
import {Alg} from '../src/anycast/option.js';
import {parseAddr} from '../src/util/addr.js';
import {PacketInfo, buildPacket, parsePacket} from '../src/wire/index.js';
import {rate, withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';

const S = parseAddr('2001:db8:1:ac::53');
const server = parseAddr('2001:db8:1:a::30');
const client = parseAddr('2001:db8:2:c::10');
const WALL = 1_790_000_000_000;

/** A 100-byte UDP payload answer from server-a to the client: the benchmark's packet. */
const response = buildPacket({
	ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: server, dst: client},
	ext: [],
	upper: {proto: 17, udp: {srcPort: 53, dstPort: 40000, payload: new Uint8Array(100).fill(0x61)}},
});

function openssl(): {sign: number; verify: number} | undefined {
	try {
		const out = execFileSync('openssl', ['speed', '-seconds', '2', 'ed25519'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
		const m = /Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
		return m ? {sign: Number(m[1]), verify: Number(m[2])} : undefined;
	} catch {
		return undefined;
	}
}

export const run: Bench = async () => {
	const results: Result[] = [];
	const hmacKey = randomBytes(32);
	const group: Group = {anycast: S, alg: Alg.HmacSha256, keyId: 1, keys: {hmacKey}, servers: [server]};
	const out = new Uint8Array(2048);
	const info = new PacketInfo();
	const perCallUs = (perSecond: number) => 1e6 / perSecond;

	const bare = rate(() => void createHmac('sha256', hmacKey).update(response).digest(), 1500, 2000);
	const bareResult: Result = {name: 'anycast.hmac.bare_us', value: perCallUs(bare), unit: 'µs', note: 'createHmac over the same packet bytes (baseline)'};
	const stampRate = rate(() => void stamp(parsePacket(response, info), group, WALL, out), 1500, 2000);
	const stamped = stamp(parsePacket(response), group, WALL)!.slice();
	const policy = {groups: new Groups([group]), provisioned: true, windowMs: 2000};
	const vinfo = new PacketInfo();
	const verifyRate = rate(() => {
		parsePacket(stamped, vinfo);
		const at = locateIdentifier(vinfo);
		if (typeof at !== 'number' || verify(vinfo, at, policy, WALL) !== null) throw new Error('verify failed in the benchmark');
	}, 1500, 2000);
	results.push(
		bareResult,
		withRatio({name: 'anycast.hmac.stamp_us', value: perCallUs(stampRate), unit: 'µs', goal: '<= 3'}, bareResult),
		withRatio({name: 'anycast.hmac.verify_us', value: perCallUs(verifyRate), unit: 'µs', goal: '<= 3'}, bareResult),
	);

	const {privateKey} = generateKeyPairSync('ed25519');
	const publicKey = createPublicKey(privateKey);
	const edGroup: Group = {anycast: S, alg: Alg.Ed25519, keyId: 1, keys: {privateKey, publicKey}, servers: [server]};
	const edStamped = stamp(parsePacket(response), edGroup, WALL)!.slice();
	const edPolicy = {groups: new Groups([{...edGroup, keys: {publicKey}}]), provisioned: true, windowMs: 2000};
	const signRate = rate(() => void stamp(parsePacket(response, info), edGroup, WALL, out), 1500, 200);
	const edVerifyRate = rate(() => {
		parsePacket(edStamped, vinfo);
		if (verify(vinfo, locateIdentifier(vinfo) as number, edPolicy, WALL) !== null) throw new Error('ed25519 verify failed in the benchmark');
	}, 1500, 200);
	const rawSign = rate(() => void sign(null, response, privateKey), 1000, 200);
	const signature = sign(null, response, privateKey);
	const rawVerify = rate(() => void edVerify(null, response, publicKey, signature), 1000, 200);
	const ceiling = openssl();
	const signResult: Result = {name: 'anycast.ed25519.sign_per_s', value: signRate, unit: 'stamps/s', note: 'full stamp: option insertion + Ed25519 signature'};
	const verifyResult: Result = {name: 'anycast.ed25519.verify_per_s', value: edVerifyRate, unit: 'packets/s', note: 'full verification at the boundary'};
	const nodeSign: Result = {name: 'anycast.ed25519.node_sign_per_s', value: rawSign, unit: 'signatures/s', note: 'crypto.sign alone'};
	const nodeVerify: Result = {name: 'anycast.ed25519.node_verify_per_s', value: rawVerify, unit: 'verifications/s', note: 'crypto.verify alone'};
	if (ceiling) {
		const sslSign: Result = {name: 'anycast.ed25519.openssl_sign_per_s', value: ceiling.sign, unit: 'signatures/s', note: 'openssl speed ed25519 (ceiling)'};
		const sslVerify: Result = {name: 'anycast.ed25519.openssl_verify_per_s', value: ceiling.verify, unit: 'verifications/s', note: 'openssl speed ed25519 (ceiling)'};
		results.push(sslSign, sslVerify, withRatio(nodeSign, sslSign), withRatio(nodeVerify, sslVerify), withRatio(signResult, sslSign), withRatio(verifyResult, sslVerify));
	} else {
		results.push(nodeSign, nodeVerify, {...signResult, note: `${signResult.note}; openssl not found, no ceiling`}, verifyResult);
	}
	return results;
};
