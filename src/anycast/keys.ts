// Key files named in the topology. A missing, unreadable or malformed key
// stops the node before it starts, with an error that names the file.
import {createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes} from 'node:crypto';
import type {KeyObject} from 'node:crypto';
import {readFileSync} from 'node:fs';
import type {AlgName} from './option.js';

export type KeyErrorCode = 'key-missing' | 'key-unreadable' | 'key-malformed' | 'key-role';

export class KeyError extends Error {
	override readonly name = 'KeyError';
	constructor(
		readonly code: KeyErrorCode,
		readonly file: string,
		reason: string,
	) {
		super(`key file ${file}: ${reason}`);
	}
}

/** HMAC-SHA256 keys: at least the hash length (RFC 2104 §3), at most one block. */
export const HMAC_KEY_MIN = 32;
export const HMAC_KEY_MAX = 64;

/** What a node holds for one anycast group. */
export interface KeyMaterial {
	/** The HMAC group key (servers and the boundary router): it signs and verifies for any destination. */
	hmacKey?: Buffer;
	/** A client's HMAC key, derived from the group key for the client's /64: it verifies answers to that /64 only. */
	hmacClientKey?: Buffer;
	/** Ed25519 private key (servers). */
	privateKey?: KeyObject;
	/** Ed25519 public key (boundary routers and clients: a trust anchor). */
	publicKey?: KeyObject;
}

/** The part of a destination address a client key is derived for: its /64, the subnet (RFC 7421). */
export const CLIENT_KEY_PREFIX_BYTES = 8;
const CLIENT_KEY_SALT = Buffer.from('anyguard-client-key-v1');

/**
 * The HMAC key for answers to the /64 of the address at addr[off..off+16):
 * HKDF-SHA256 (RFC 5869) of the group key, info = the /64. A client holds
 * the key of its own /64 only, so it can check answers to itself and forge
 * none to anybody else; the servers and the boundary router, holding the
 * group key, derive it for each response's destination.
 */
export function deriveClientKey(groupKey: Buffer, addr: Uint8Array, off = 0): Buffer {
	return Buffer.from(hkdfSync('sha256', groupKey, CLIENT_KEY_SALT, addr.subarray(off, off + CLIENT_KEY_PREFIX_BYTES), 32));
}

function read(file: string): string {
	try {
		return readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') throw new KeyError('key-missing', file, 'no such file');
		throw new KeyError('key-unreadable', file, `cannot be read (${code ?? (error as Error).message})`);
	}
}

/** Reads an HMAC key: hex text (white space and `#` comment lines ignored). */
export function loadHmacKey(file: string): Buffer {
	const text = read(file)
		.split('\n')
		.filter((line) => !line.trimStart().startsWith('#'))
		.join('')
		.replace(/\s+/g, '');
	if (!/^([0-9a-fA-F]{2})+$/.test(text)) throw new KeyError('key-malformed', file, 'expected the HMAC key as hex digits');
	const key = Buffer.from(text, 'hex');
	if (key.length < HMAC_KEY_MIN || key.length > HMAC_KEY_MAX)
		throw new KeyError('key-malformed', file, `HMAC-SHA256 key must be ${HMAC_KEY_MIN}–${HMAC_KEY_MAX} bytes, found ${key.length}`);
	return key;
}

/** Reads an Ed25519 key in PEM: a PKCS#8 private key or an SPKI public key. */
export function loadEd25519(file: string, kind: 'private' | 'public'): KeyObject {
	const pem = read(file);
	let key: KeyObject;
	try {
		key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
	} catch (error) {
		throw new KeyError('key-malformed', file, `not a PEM ${kind} key (${(error as Error).message})`);
	}
	if (key.asymmetricKeyType !== 'ed25519') throw new KeyError('key-malformed', file, `expected an ed25519 key, found ${key.asymmetricKeyType ?? 'a symmetric key'}`);
	return key;
}

/**
 * Loads what a node of the given kind needs for an algorithm: signers
 * (servers) sign; verifiers verify; a client verifies with its own HMAC key.
 * `file` names the HMAC group key, a client's derived HMAC key, the Ed25519
 * private key (signer) or the Ed25519 public key (verifier). A verifier is
 * never handed a private key: a file that holds one is refused before it
 * is parsed (key-role).
 */
export function loadKeyMaterial(alg: AlgName, file: string | undefined, use: 'sign' | 'verify' | 'client'): KeyMaterial {
	if (alg === 'none') return {};
	if (file === undefined) throw new KeyError('key-missing', '(none)', `algorithm ${alg} needs a key file`);
	if (alg === 'hmac-sha256') return use === 'client' ? {hmacClientKey: loadHmacKey(file)} : {hmacKey: loadHmacKey(file)};
	if (use === 'sign') {
		const privateKey = loadEd25519(file, 'private');
		return {privateKey, publicKey: createPublicKey(privateKey)};
	}
	const pem = read(file);
	if (pem.includes('PRIVATE KEY')) throw new KeyError('key-role', file, 'holds a private key, but this node only verifies: give it the public key (the group\'s publicKey)');
	return {publicKey: loadEd25519(file, 'public')};
}

/** A client key file's contents: the key derived from `groupKey` for the /64 of `addr`. */
export function clientKeyText(groupKey: Buffer, addr: Uint8Array, label: string): string {
	return `# anyguard HMAC-SHA256 client key: ${label}\n${deriveClientKey(groupKey, addr).toString('hex')}\n`;
}

/** New key files' contents for `alg`: [secret or private key, public key (ed25519 only)]. */
export function generateKeyText(alg: Exclude<AlgName, 'none'>): {secret: string; public?: string} {
	if (alg === 'hmac-sha256') return {secret: `# anyguard HMAC-SHA256 group key\n${randomBytes(32).toString('hex')}\n`};
	const {privateKey, publicKey} = generateKeyPairSync('ed25519');
	return {
		secret: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
		public: publicKey.export({type: 'spki', format: 'pem'}).toString(),
	};
}
