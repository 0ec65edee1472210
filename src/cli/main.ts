#!/usr/bin/env node
// The anyguard command.
import {readFileSync} from 'node:fs';
import {readPcap, isWireError} from '../wire/index.js';
import {describePacket} from './format.js';

const USAGE = `usage: anyguard <command> [arguments]

commands:
  decode <file.pcap | file.hex | hex>   print each IPv6 packet, one line each
  help                                  this text
`;

/** An error meant for the user: printed without a stack trace, exit status 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

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

function decode(args: string[]): number {
	if (args.length !== 1) throw new UsageError('decode takes one argument: a pcap file, a hex file or hex text');
	let bad = 0;
	for (const [i, packet] of readInput(args[0]!).entries()) {
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

export function main(argv: string[]): number {
	const [command, ...rest] = argv;
	switch (command) {
		case 'decode':
			return decode(rest);
		case undefined:
		case 'help':
		case '--help':
		case '-h':
			process.stdout.write(USAGE);
			return 0;
		default:
			throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
	}
}

try {
	process.exitCode = main(process.argv.slice(2));
} catch (error) {
	if (error instanceof UsageError) {
		process.stderr.write(`anyguard: ${error.message}\n`);
		process.exitCode = 2;
	} else {
		throw error;
	}
}
