// The shape of an `anyguard` command and its arguments: each command declares
// its positionals and options (with their types and bounds) in the table of
// src/cli/commands.ts; parse() checks a command line against that, so every
// command gets its own --help and refuses a bad value with a clear message,
// never a stack trace.
import {parseArgs} from 'node:util';
import type {ParseArgsConfig} from 'node:util';
import type {Topology} from '../config/topology.js';
import {existsSync, readFileSync} from 'node:fs';
import {DEFAULT_TOPOLOGY, files, stateDir} from '../netns/names.js';

/**
 * The topology of the network running under the default topology's prefix,
 * when `up` brought one up from another file (interop-bird.json, say): the
 * commands that talk to a network then need no -t. Read without loading the
 * topology module: `up` wrote the file's path into the state directory.
 */
function runningTopology(stateRoot: string | undefined): string | undefined {
	try {
		const {prefix} = JSON.parse(readFileSync(DEFAULT_TOPOLOGY, 'utf8')) as {prefix: string};
		const running = readFileSync(files.topology(stateDir({prefix}, stateRoot)), 'utf8').trim();
		return running && existsSync(running) ? running : undefined;
	} catch {
		return undefined; // no network up: the default
	}
}

/** An error meant for the user: printed without a stack trace, exit status 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

export type OptionSpec =
	| {type: 'boolean'; help: string; short?: string}
	| {type: 'string'; help: string; short?: string; value: string; choices?: readonly string[]}
	/** A whole number in [min, max]. */
	| {type: 'number'; help: string; short?: string; value: string; min?: number; max?: number};

export interface CommandSpec {
	name: string;
	/** The positionals as the usage shows them, e.g. `<node> [port]`. */
	args?: string;
	/** How many positionals it takes, at least and at most (default none). */
	positionals?: [number, number];
	summary: string;
	/** More lines for `anyguard <command> --help`. */
	details?: string;
	group: 'network' | 'processes' | 'tools';
	/**
	 * Talks to a network: takes `-t FILE` (default: the default topology) and
	 * `--state DIR` (the state root: /run/anyguard by default).
	 */
	network?: boolean;
	options?: Record<string, OptionSpec>;
	/** Runs it; the exit status, or -1 for a command that keeps running (a role process). */
	run(args: Args): Promise<number>;
}

/** A command line that passed its command's checks. */
export interface Args {
	positionals: string[];
	flag(name: string): boolean;
	string(name: string): string | undefined;
	number(name: string): number | undefined;
	/** The topology file: `-t FILE`, or the default topology. */
	topologyFile: string;
	/** The topology, loaded and checked (network commands). */
	topology(): Promise<Topology>;
	/** `--state DIR`, when given. */
	stateRoot: string | undefined;
	/** {stateRoot} when --state was given, else {}: for options objects under exactOptionalPropertyTypes. */
	state: {stateRoot?: string};
}

const NETWORK_OPTIONS: Record<string, OptionSpec> = {
	topology: {type: 'string', short: 't', value: 'FILE', help: 'the topology (default: the default topology)'},
	state: {type: 'string', value: 'DIR', help: 'the state root (default /run/anyguard)'},
};

/** Every option a command takes, its own and the network ones. */
export function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
	return {...(spec.network ? NETWORK_OPTIONS : {}), ...spec.options, help: {type: 'boolean', short: 'h', help: 'this text'}};
}

/** Checks `argv` (what follows the command's name) against the command. Throws UsageError. */
export function parse(spec: CommandSpec, argv: string[]): Args {
	const options = optionsOf(spec);
	const config: ParseArgsConfig['options'] = {};
	for (const [name, o] of Object.entries(options)) config[name] = {type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? {short: o.short} : {})};
	let parsed;
	try {
		parsed = parseArgs({args: argv, options: config, allowPositionals: true, strict: true});
	} catch (error) {
		throw new UsageError(`${spec.name}: ${(error as Error).message}; anyguard ${spec.name} --help lists its options`);
	}
	const values = parsed.values as Record<string, string | boolean | undefined>;
	const numbers: Record<string, number> = {};
	for (const [name, o] of Object.entries(options)) {
		const v = values[name];
		if (typeof v !== 'string') continue;
		if (o.type === 'string' && o.choices && !o.choices.includes(v)) throw new UsageError(`${spec.name}: --${name} is ${o.choices.join(', ')}, not ${v}`);
		if (o.type === 'number') {
			const n = Number(v);
			const min = o.min ?? 0;
			if (v.trim() === '' || !Number.isInteger(n) || n < min || (o.max !== undefined && n > o.max))
				throw new UsageError(`${spec.name}: --${name} takes a whole number${o.max !== undefined ? ` from ${min} to ${o.max}` : ` of at least ${min}`}, got ${v}`);
			numbers[name] = n;
		}
	}
	const positionals = parsed.positionals;
	const [min, max] = spec.positionals ?? [0, 0];
	if (!values.help && (positionals.length < min || positionals.length > max))
		throw new UsageError(`${spec.name}: expected ${min === max ? min : `${min} to ${max}`} arguments, got ${positionals.length}\n\n${usage(spec)}`);
	const stateRoot = values.state as string | undefined;
	const topologyFile = (values.topology as string | undefined) ?? runningTopology(stateRoot) ?? DEFAULT_TOPOLOGY;
	let loaded: Promise<Topology> | undefined;
	return {
		positionals,
		flag: (name) => values[name] === true,
		string: (name) => (typeof values[name] === 'string' ? (values[name] as string) : undefined),
		number: (name) => numbers[name],
		topologyFile,
		// The topology module (and zod with it) loads only for the commands that read a topology.
		topology: () => (loaded ??= import('../config/topology.js').then((m) => m.loadTopology(topologyFile))),
		stateRoot,
		state: stateRoot ? {stateRoot} : {},
	};
}

/** `anyguard <command> --help`. */
export function usage(spec: CommandSpec): string {
	const lines = [`usage: anyguard ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`, '', spec.summary];
	if (spec.details) lines.push('', spec.details);
	const options = Object.entries(optionsOf(spec)).map(([name, o]) => {
		const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'boolean' ? '' : ` ${o.type === 'string' && o.choices ? o.choices.join('|') : o.value}`}`;
		return [flag, o.help] as const;
	});
	const width = Math.max(...options.map(([f]) => f.length));
	lines.push('', 'options:', ...options.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`));
	if (spec.network) lines.push('', `The default topology is ${DEFAULT_TOPOLOGY}.`);
	return lines.join('\n') + '\n';
}

/** `anyguard help`: every command, by group. */
export function overview(commands: readonly CommandSpec[]): string {
	const groups: Array<[CommandSpec['group'], string]> = [
		['network', 'network (as root; each takes -t FILE, default the default topology, and --state DIR):'],
		['processes', 'processes (started by up):'],
		['tools', 'tools:'],
	];
	const rows = commands.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary] as const);
	const width = Math.max(...rows.map(([u]) => u.length));
	const lines = ['usage: anyguard <command> [arguments] [options]', ''];
	for (const [group, title] of groups) {
		lines.push(title);
		commands.forEach((c, i) => {
			if (c.group === group) lines.push(`  ${rows[i]![0].padEnd(width)}  ${rows[i]![1]}`);
		});
		lines.push('');
	}
	lines.push('anyguard <command> --help shows a command\'s options.', `The default topology is ${DEFAULT_TOPOLOGY}; commands on a running network use the one it was brought up with (its state directory says), unless -t names another.`);
	return lines.join('\n') + '\n';
}
