// The identifier option, stamping and verification as pure functions.
import test from 'ava';
import {Groups} from '../../src/anycast/group.js';
import {locateIdentifier, stamp, verify} from '../../src/anycast/identifier.js';
import type {VerifyPolicy} from '../../src/anycast/identifier.js';
import {Alg, ID, ID_OPTION_TYPE, decodeIdentifier, identifierLength, identifierOption} from '../../src/anycast/option.js';
import type {AlgId} from '../../src/anycast/option.js';
import {ReplayCache} from '../../src/anycast/replay.js';
import {PacketInfo, Proto, buildPacket, checkUdp, insertDestOption, parsePacket, rewriteDestination} from '../../src/wire/index.js';
import type {PacketRepr} from '../../src/wire/index.js';
import {CLIENT, S, S2, SERVER_A, makeGroup} from '../helpers/anycast.js';
import {addr} from '../helpers/bytes.js';

const NOW = 1_790_000_000_000;

function response(src = SERVER_A, dst = CLIENT, payload = Uint8Array.of(1, 2, 3, 4)): Uint8Array {
	const repr: PacketRepr = {ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst}, ext: [], upper: {proto: 17, udp: {srcPort: 53, dstPort: 40000, payload}}};
	return buildPacket(repr);
}

function stamped(alg: AlgId, group = makeGroup(alg).signer, bytes = response(), at = NOW): Uint8Array {
	const out = stamp(parsePacket(bytes), group, at);
	if (!out) throw new Error('stamp failed');
	return out.slice();
}

const policy = (groups: Groups, replay?: ReplayCache): VerifyPolicy => ({groups, provisioned: true, windowMs: 2000, ...(replay ? {replay} : {})});

for (const [name, alg] of [
	['none', Alg.None],
	['hmac-sha256', Alg.HmacSha256],
	['ed25519', Alg.Ed25519],
] as const) {
	test(`${name}: stamp places one well-formed option before the upper layer and verifies`, (t) => {
		const {signer, verifier} = makeGroup(alg);
		const bytes = stamped(alg, signer);
		const info = parsePacket(bytes);
		t.is(info.extCount, 1);
		t.is(info.extProto[0], Proto.DestOpts);
		t.notThrows(() => checkUdp(info), 'the upper layer is untouched');
		const at = locateIdentifier(info);
		if (typeof at !== 'number') return t.fail(String(at));
		t.is(at % 8, 4, 'S on a 4-byte boundary, timestamp on 8 (8n+2 option alignment)');
		const id = decodeIdentifier(bytes, at, identifierLength(alg));
		if (typeof id === 'string') return t.fail(id);
		t.is(id.alg, alg);
		t.deepEqual(id.anycast, S);
		t.is(id.timestampMs, NOW);
		t.is(verify(info, at, policy(new Groups([verifier])), NOW + 100), null);
	});
}

for (const [name, alg] of [
	['hmac-sha256', Alg.HmacSha256],
	['ed25519', Alg.Ed25519],
] as const) {
	test(`${name}: any change to a signed field breaks the tag`, (t) => {
		const {signer, verifier} = makeGroup(alg);
		const groups = new Groups([verifier]);
		const mutations: Array<[string, (b: Uint8Array, info: PacketInfo, at: number) => void]> = [
			['source', (b) => (b[8 + 15]! ^= 1)],
			['destination', (b, info) => rewriteDestination(info, addr('2001:db8:2:c::11'))],
			['upper-layer byte', (b, info) => (b[info.end - 1]! ^= 1)],
			['timestamp', (b, _i, at) => (b[at + ID.timestamp + 7]! ^= 1)],
			['tag', (b, _i, at) => (b[at + ID.tag]! ^= 1)],
		];
		for (const [what, mutate] of mutations) {
			const bytes = stamped(alg, signer);
			const info = parsePacket(bytes);
			const at = locateIdentifier(info) as number;
			mutate(bytes, info, at);
			// As the client checks (no provisioned list), so that only the tag can catch it.
			t.is(verify(parsePacket(bytes), at, {...policy(groups), provisioned: false}, NOW), 'id-bad-tag', what);
		}
		// Hop limit and flow label are not covered: routers change the first.
		const bytes = stamped(alg, signer);
		bytes[7] = 3;
		t.is(verify(parsePacket(bytes), locateIdentifier(parsePacket(bytes)) as number, policy(groups), NOW), null);
	});
}

test('cheap checks: group, provisioned list, key, window, replay', (t) => {
	const {signer, verifier} = makeGroup(Alg.HmacSha256);
	const other = makeGroup(Alg.HmacSha256, S2);
	const groups = new Groups([verifier, other.verifier]);
	const check = (bytes: Uint8Array, p: VerifyPolicy, now = NOW, expected?: Uint8Array) => {
		const info = parsePacket(bytes);
		return verify(info, locateIdentifier(info) as number, p, now, expected);
	};
	t.is(check(stamped(Alg.HmacSha256, signer), policy(new Groups([other.verifier]))), 'id-unknown-group');
	t.is(check(stamped(Alg.HmacSha256, other.signer), policy(groups), NOW, S), 'id-wrong-group');
	t.is(check(stamped(Alg.HmacSha256, signer, response(addr('2001:db8:1:a::5'))), policy(groups)), 'id-not-provisioned');
	t.is(check(stamped(Alg.HmacSha256, {...signer, keyId: 2}), policy(groups)), 'id-bad-key');
	t.is(check(stamped(Alg.HmacSha256, signer), policy(groups), NOW + 2001), 'id-stale');
	t.is(check(stamped(Alg.HmacSha256, signer), policy(groups), NOW - 2001), 'id-stale', 'from the future');
	const replay = new ReplayCache(2000);
	const once = stamped(Alg.HmacSha256, signer);
	t.is(check(once.slice(), policy(groups, replay)), null);
	t.is(check(once.slice(), policy(groups, replay), NOW + 10), 'id-replayed');
	t.is(replay.size, 1);
});

test('replay: a stamp replayed exactly at the end of the window is refused (the window is closed at both ends)', (t) => {
	const {signer, verifier} = makeGroup(Alg.HmacSha256);
	const groups = new Groups([verifier]);
	const replay = new ReplayCache(2000);
	const check = (bytes: Uint8Array, now: number) => {
		const info = parsePacket(bytes);
		return verify(info, locateIdentifier(info) as number, policy(groups, replay), now);
	};
	const once = stamped(Alg.HmacSha256, signer);
	t.is(check(once.slice(), NOW), null);
	t.is(check(once.slice(), NOW + 2000), 'id-replayed', 'timestamp + window: still in the window, so still remembered');
	t.is(check(once.slice(), NOW + 2001), 'id-stale');
	// Stamped in the future by the whole window: accepted once, and remembered until it is too old.
	const ahead = stamped(Alg.HmacSha256, signer, response(), NOW + 2000);
	t.is(check(ahead.slice(), NOW), null);
	t.is(check(ahead.slice(), NOW + 4000), 'id-replayed');
});

test('replay: a full cache evicts its oldest stamp and refuses stamps that old, so the evicted one cannot come back', (t) => {
	const {signer, verifier} = makeGroup(Alg.HmacSha256);
	const groups = new Groups([verifier]);
	const replay = new ReplayCache(2000, 4);
	const check = (bytes: Uint8Array, now: number) => {
		const info = parsePacket(bytes);
		return verify(info, locateIdentifier(info) as number, policy(groups, replay), now);
	};
	const stamps = [0, 1, 2, 3, 4].map((i) => stamped(Alg.HmacSha256, signer, response(SERVER_A, CLIENT, Uint8Array.of(i)), NOW + i));
	for (const s of stamps) t.is(check(s.slice(), NOW + 10), null);
	t.is(replay.size, 4);
	t.is(replay.evictions, 1);
	t.is(check(stamps[0]!.slice(), NOW + 11), 'id-stale', 'the evicted stamp is refused');
	t.is(check(stamps[1]!.slice(), NOW + 11), 'id-replayed');
	t.is(check(stamped(Alg.HmacSha256, signer, response(SERVER_A, CLIENT, Uint8Array.of(9)), NOW + 5), NOW + 11), null, 'newer stamps still pass');
});

test('detection: absent, misplaced, duplicate, malformed', (t) => {
	const {signer} = makeGroup(Alg.HmacSha256);
	t.is(locateIdentifier(parsePacket(response())), 'absent');
	const opt = identifierOption({alg: Alg.HmacSha256, keyId: 1, anycast: S, timestampMs: NOW, tag: new Uint8Array(16)});
	const base: PacketRepr = {ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: SERVER_A, dst: CLIENT}, ext: [], upper: {proto: 17, udp: {srcPort: 53, dstPort: 4000, payload: new Uint8Array(2)}}};
	t.is(locateIdentifier(parsePacket(buildPacket({...base, ext: [{kind: 'hop-by-hop', options: [opt]}]}))), 'id-misplaced');
	t.is(
		locateIdentifier(parsePacket(buildPacket({...base, ext: [{kind: 'dest-opts', options: [opt]}, {kind: 'routing', routingType: 4, segmentsLeft: 0, data: new Uint8Array(4)}]}))),
		'id-misplaced',
	);
	t.is(locateIdentifier(parsePacket(buildPacket({...base, ext: [{kind: 'dest-opts', options: [opt, opt]}]}))), 'id-duplicate');
	const truncated = {type: ID_OPTION_TYPE, data: opt.data.subarray(0, 30)};
	t.is(locateIdentifier(parsePacket(buildPacket({...base, ext: [{kind: 'dest-opts', options: [truncated]}]}))), 'id-malformed');
	const oversized = {type: ID_OPTION_TYPE, data: new Uint8Array(60)};
	oversized.data.set(opt.data);
	t.is(locateIdentifier(parsePacket(buildPacket({...base, ext: [{kind: 'dest-opts', options: [oversized]}]}))), 'id-malformed');
	const badAlg = opt.data.slice();
	badAlg[0] = 9;
	t.is(locateIdentifier(parsePacket(buildPacket({...base, ext: [{kind: 'dest-opts', options: [{type: ID_OPTION_TYPE, data: badAlg}]}]}))), 'id-unknown-alg');
	// Stamping a packet that already carries one yields null, not two.
	const already = insertDestOption(parsePacket(response()), opt);
	t.is(stamp(parsePacket(already), signer, NOW), null);
});

test('stamping writes the same bytes as the generic option insertion, and verifies, for any packet', async (t) => {
	const {default: fc} = await import('fast-check');
	const {packet} = await import('../helpers/arbitrary.js');
	const {signer, verifier} = makeGroup(Alg.HmacSha256);
	const groups = new Groups([verifier]);
	fc.assert(
		fc.property(packet, (repr) => {
			const bytes = buildPacket(repr);
			const info = parsePacket(bytes, new PacketInfo());
			if (info.isFragment || locateIdentifier(info) !== 'absent') return true;
			// A stamp travels end to end: a packet with a Routing header is not stamped (its stamp would be misplaced).
			if (info.routingIndex >= 0) return stamp(info, signer, NOW) === null;
			const out = stamp(info, signer, NOW);
			if (!out) return false;
			const after = parsePacket(out, new PacketInfo());
			const at = locateIdentifier(after);
			if (typeof at !== 'number') return false;
			const id = decodeIdentifier(out, at, identifierLength(Alg.HmacSha256));
			if (typeof id === 'string') return false;
			// The generic path, given the same option, must produce the same packet.
			const generic = insertDestOption(parsePacket(bytes, new PacketInfo()), identifierOption(id));
			return Buffer.compare(Buffer.from(out), Buffer.from(generic)) === 0 && verify(after, at, {groups, provisioned: false, windowMs: 2000}, NOW) === null;
		}),
		{numRuns: 500},
	);
	t.pass();
});
