// The timed part of bench/anycast.ts, in plain JavaScript on dist/: what the
// role processes run. (Under tsx every imported binding is read through a
// getter of its module, which costs the pipeline's hot loops 3–6× and would
// make the comparison with OpenSSL's C unfair to us.) Prints one JSON object
// of per-call costs in microseconds.
//
//   node bench/anycast-child.mjs hmac|ed25519 [MS]   MS: milliseconds per figure (default 1500)
import process from 'node:process';
import {createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, verify as edVerify} from 'node:crypto';
import {Groups} from '../dist/anycast/group.js';
import {hmacArgs, hmacBackend, nativeHmacKey, nativeHmacUnavailable, setHmacBackend} from '../dist/anycast/auth.js';
import {locateIdentifier, stamp, verify} from '../dist/anycast/identifier.js';
import {Alg} from '../dist/anycast/option.js';
import {HMAC_ARG} from '../dist/io/native.js';
import {parseAddr} from '../dist/util/addr.js';
import {PacketInfo, buildPacket, parsePacket} from '../dist/wire/index.js';

const WHAT = process.argv[2] ?? 'hmac';
const MS = Number(process.argv[3] ?? 1500);
const S = parseAddr('2001:db8:1:ac::53');
const server = parseAddr('2001:db8:1:a::30');
const client = parseAddr('2001:db8:2:c::10');
const WALL = 1_790_000_000_000;

/** Calls per second of `fn` over at least `ms`, after a warm-up (bench/lib.ts rate()). */
function rate(fn, ms, batch) {
	for (let i = 0; i < batch; i++) fn();
	let calls = 0;
	const start = process.hrtime.bigint();
	const limit = BigInt(ms) * 1_000_000n;
	let elapsed = 0n;
	while (elapsed < limit) {
		for (let i = 0; i < batch; i++) fn();
		calls += batch;
		elapsed = process.hrtime.bigint() - start;
	}
	return calls / (Number(elapsed) / 1e9);
}
const us = (fn, batch = 2000, ms = MS) => 1e6 / rate(fn, ms, batch);

/** A 100-byte UDP payload answer from server-a to the client: the benchmark's packet. */
const response = buildPacket({
	ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: server, dst: client},
	ext: [],
	upper: {proto: 17, udp: {srcPort: 53, dstPort: 40000, payload: new Uint8Array(100).fill(0x61)}},
});

const hmacKey = randomBytes(32);
const group = {anycast: S, alg: Alg.HmacSha256, keyId: 1, keys: {hmacKey}, servers: [server]};
const policy = {groups: new Groups([group]), provisioned: true, windowMs: 2000};
const out = new Uint8Array(2048);
const info = new PacketInfo();
const vinfo = new PacketInfo();
const stamped = stamp(parsePacket(response), group, WALL).slice();
const at = locateIdentifier(parsePacket(stamped));
const inputLen = 14 + 28 + 16 + 16 + 1 + 4 + (stamped.length - (at + 28 + 16)); // context … upper layer (docs/protocol.md §3)

const result = {inputLen, backend: hmacBackend(), nativeUnavailable: nativeHmacUnavailable() ?? null};
const stampUs = () => us(() => void stamp(parsePacket(response, info), group, WALL, out));
const verifyUs = () =>
	us(() => {
		parsePacket(stamped, vinfo);
		const a = locateIdentifier(vinfo);
		if (typeof a !== 'number' || verify(vinfo, a, policy, WALL) !== null) throw new Error('verify failed in the benchmark');
	});
if (WHAT === 'hmac' && !result.nativeUnavailable) {
	setHmacBackend('native');
	result.stamp = stampUs();
	result.verify = verifyUs();
	// The addon's HMAC alone, one packet a call and 64 a call.
	const k = nativeHmacKey(hmacKey);
	const sinfo = parsePacket(stamped);
	hmacArgs(k.args, 0, sinfo, at);
	result.nativeCall = us(() => void k.verify(stamped));
	for (let i = 1; i < 64; i++) k.args.copyWithin(i * HMAC_ARG.count, 0, HMAC_ARG.count);
	result.nativeBatch = us(() => void k.verifyBatch(stamped, 64), 50) / 64;
}
if (WHAT === 'hmac') {
setHmacBackend('js');
result.jsStamp = stampUs();
result.jsVerify = verifyUs();
result.bare = us(() => void createHmac('sha256', hmacKey).update(response).digest());
result.parseLocate = us(() => {
	parsePacket(stamped, vinfo);
	locateIdentifier(vinfo);
});

}

// Ed25519: the full stamp and verification, and node:crypto alone.
if (WHAT === 'ed25519') {
const {privateKey} = generateKeyPairSync('ed25519');
const publicKey = createPublicKey(privateKey);
const edGroup = {anycast: S, alg: Alg.Ed25519, keyId: 1, keys: {privateKey, publicKey}, servers: [server]};
const edStamped = stamp(parsePacket(response), edGroup, WALL).slice();
const edPolicy = {groups: new Groups([{...edGroup, keys: {publicKey}}]), provisioned: true, windowMs: 2000};
result.edSign = us(() => void stamp(parsePacket(response, info), edGroup, WALL, out), 200);
result.edVerify = us(() => {
	parsePacket(edStamped, vinfo);
	if (verify(vinfo, locateIdentifier(vinfo), edPolicy, WALL) !== null) throw new Error('ed25519 verify failed in the benchmark');
}, 200);
result.edNodeSign = us(() => void sign(null, response, privateKey), 200, 1000);
const signature = sign(null, response, privateKey);
result.edNodeVerify = us(() => void edVerify(null, response, publicKey, signature), 200, 1000);
}
process.stdout.write(JSON.stringify(result) + '\n');
