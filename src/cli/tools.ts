// `anyguard decode` and `anyguard keygen`: the tools that need no network.
import {readFileSync, writeFileSync} from 'node:fs';
import {clientKeyText, generateKeyText, loadHmacKey} from '../anycast/keys.js';
import {formatAddr, parseAddr} from '../util/addr.js';
import {isWireError, readPcap} from '../wire/index.js';
import {UsageError} from './args.js';
import {describePacket} from './format.js';

function readInput(arg: string): Uint8Array[] {
	if (/^[0-9a-f\s]+$/i.test(arg) && arg.replace(/\s/g, '').length % 2 === 0 && arg.length >= 80) return [hex(arg)];
	let data: Buffer;
	try {
		data = readFileSync(arg);
	} catch (error) {
		throw new UsageError(`cannot read ${arg}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}
	if (data.length >= 4 && [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(data.readUInt32BE(0))) {
		try {
			return readPcap(data).packets.map((p) => p.data);
		} catch (error) {
			if (isWireError(error)) throw new UsageError(`${arg}: ${error.message}`);
			throw error;
		}
	}
	const text = data.toString('utf8').split('\n').filter((line) => !line.startsWith('#')).join(' ');
	if (!/^[0-9a-f\s]*$/i.test(text)) throw new UsageError(`${arg} is neither a pcap file nor hex text`);
	return [hex(text)];
}

function hex(text: string): Uint8Array {
	const clean = text.replace(/\s+/g, '');
	if (clean.length % 2 !== 0) throw new UsageError('hex input has an odd number of digits');
	return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** One line per packet of `input` (a pcap file, a hex file, or hex); 1 when any was malformed. */
export function decode(input: string): number {
	let bad = 0;
	for (const [i, packet] of readInput(input).entries()) {
		try {
			console.log(`${i + 1} ${describePacket(packet)}`);
		} catch (error) {
			if (!isWireError(error)) throw error;
			bad++;
			console.log(`${i + 1} malformed (${error.code}${error.offset >= 0 ? ` at byte ${error.offset}` : ''}): ${error.message}`);
		}
	}
	return bad > 0 ? 1 : 0;
}

/** `keygen <alg> <file>`, or `keygen client <group key> <address> <file>`. */
export function keygen(positionals: string[]): number {
	if (positionals[0] === 'client') {
		if (positionals.length !== 4) throw new UsageError(`keygen client: expected <group key> <address> <file>, got ${positionals.length - 1} arguments`);
		// A client's HMAC key: derived from the group key for the /64 of the client's address.
		const [, groupFile, address, file] = positionals as [string, string, string, string];
		let addr: Uint8Array;
		try {
			addr = parseAddr(address);
		} catch {
			throw new UsageError(`${address} is not an IPv6 address`);
		}
		const prefix = formatAddr(Uint8Array.from([...addr.subarray(0, 8), 0, 0, 0, 0, 0, 0, 0, 0]));
		writeFileSync(file, clientKeyText(loadHmacKey(groupFile), addr, `${prefix}/64, derived from ${groupFile}`), {mode: 0o600});
		console.log(`wrote ${file}: the client key for ${prefix}/64`);
		return 0;
	}
	if (positionals.length !== 2) throw new UsageError(`keygen: expected <alg> <file>, got ${positionals.length} arguments`);
	const [alg, file] = positionals as [string, string];
	if (alg !== 'hmac-sha256' && alg !== 'ed25519') throw new UsageError(`unknown algorithm ${alg}: hmac-sha256 or ed25519`);
	const text = generateKeyText(alg);
	writeFileSync(file, text.secret, {mode: 0o600});
	if (text.public) writeFileSync(`${file}.pub`, text.public);
	console.log(`wrote ${file}${text.public ? ` and ${file}.pub` : ''}`);
	return 0;
}
