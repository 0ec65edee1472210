// Groups and keys for tests: generated in memory, never read from disk.
import {createPublicKey, generateKeyPairSync, randomBytes} from 'node:crypto';
import type {Group} from '../../src/anycast/group.js';
import {Alg} from '../../src/anycast/option.js';
import type {AlgId} from '../../src/anycast/option.js';
import {parseAddr} from '../../src/util/addr.js';

export const S = parseAddr('2001:db8:1:ac::53');
export const S2 = parseAddr('2001:db8:1:ac::54');
export const SERVER_A = parseAddr('2001:db8:1:a::30');
export const SERVER_B = parseAddr('2001:db8:1:b::30');
export const CLIENT = parseAddr('2001:db8:2:c::10');

/** A group as the signer holds it (private material) and as a verifier holds it (public only, for ed25519). */
export function makeGroup(alg: AlgId, anycast = S, servers = [SERVER_A, SERVER_B], keyId = 1): {signer: Group; verifier: Group} {
	if (alg === Alg.HmacSha256) {
		const keys = {hmacKey: randomBytes(32)};
		return {signer: {anycast, alg, keyId, keys, servers}, verifier: {anycast, alg, keyId, keys, servers}};
	}
	if (alg === Alg.Ed25519) {
		const {privateKey} = generateKeyPairSync('ed25519');
		const publicKey = createPublicKey(privateKey);
		return {
			signer: {anycast, alg, keyId, keys: {privateKey, publicKey}, servers},
			verifier: {anycast, alg, keyId, keys: {publicKey}, servers},
		};
	}
	return {signer: {anycast, alg, keyId, keys: {}, servers}, verifier: {anycast, alg, keyId, keys: {}, servers}};
}
