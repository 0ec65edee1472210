#!/usr/bin/env node
// The anyguard command.
import {readFileSync, writeFileSync, existsSync, rmSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import type {ParseArgsConfig} from 'node:util';
import {KeyError, clientKeyText, generateKeyText, loadHmacKey} from '../anycast/keys.js';
import type {AttackSpec} from '../roles/attacker.js';
import {formatAddr, parseAddr} from '../util/addr.js';
import type {Topology} from '../config/topology.js';
import {IoError} from '../io/types.js';
import {files, stateDir} from '../netns/names.js';
// Everything heavier is imported by the command that needs it: a supervisor
// (\`anyguard supervise\`, ten of them start with every \`up\`) loads no
// schema, no logger and no pipeline, so the role processes start sooner.

/** Loads and checks a topology file (zod is loaded with it). */
async function loadTopology(file: string, o?: {keyRoles?: boolean}): Promise<Topology> {
	return (await import('../config/topology.js')).loadTopology(file, o);
}

export const DEFAULT_TOPOLOGY = fileURLToPath(new URL('../../netns/topologies/default.json', import.meta.url));

const USAGE = `usage: anyguard <command> [arguments]

network (as root):
  up [topology]              create the namespaces, links and role processes; wait for routing
      [--state DIR] [--verbose] [--no-host-link] [--restart-delay MS] [--host-route-metric N]
  down [topology]            remove everything up made (idempotent)
  status [node]              nodes, links, routes and drop counters   [--json] [--watch]
  capture <node> [port]      pcap of a node's ports to stdout, or -w FILE [--seconds N]
                             (e.g. anyguard capture client | tshark -r -)
  trace [address]            one echo request from the client: every node's decision, timed
      [--from NODE]
  topology [--format dot|svg|png] [-o FILE]   a picture, with the path to S highlighted
  attack <kind> [--count N]  forge responses of one kind and show where they were dropped
  attack --list              the attack kinds
  demo                       a narrated run: ping, attacks, failover and back
  stop-node <node>           stop a role process and keep it stopped (failover drill)
  start-node <node>          let its supervisor start it again
  link <a> <b> [show]        the conditions of the link between a and b now
  link <a> <b> set KEY=VALUE…   change them: delay=20ms jitter=2ms loss=1% rate=10mbit mtu=1400 (0 clears one)
  link <a> <b> down|up       take the link down, or bring it back
  birdc <node> <command…>    a BIRD command on a bird node, e.g. anyguard birdc internet show route

processes (started by up):
  node <name> --topology FILE --state DIR       one role process on its TUN and links
  supervise <name> --topology FILE --state DIR  keep a role process running

tools:
  probe <address> [--interval MS] [--count N]   DNS "TXT whoami.anyguard" every MS ms; a JSON line per query
  keygen <hmac-sha256|ed25519> <file>   write a new group key (ed25519: also <file>.pub)
  keygen client <group key> <address> <file>
                                        write the HMAC key a client verifies with: derived for the address's /64
  decode <file.pcap | file.hex | hex>   print each IPv6 packet, one line each
  wireshark install [--dir DIR]         copy the identifier's dissector into Wireshark's plugin folder
  help                                  this text

The default topology is ${DEFAULT_TOPOLOGY}; commands on a running network
use the one it was brought up with (its state directory says), unless --topology names another.
`;

/** An error meant for the user: printed without a stack trace, exit status 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

function args(argv: string[], options: ParseArgsConfig['options'], positionals: [number, number]) {
	let parsed;
	try {
		parsed = parseArgs({args: argv, options: options ?? {}, allowPositionals: true, strict: true});
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const [min, max] = positionals;
	if (parsed.positionals.length < min || parsed.positionals.length > max) throw new UsageError(`expected ${min === max ? min : `${min} to ${max}`} arguments, got ${parsed.positionals.length}\n\n${USAGE}`);
	return parsed;
}

async function readInput(arg: string): Promise<Uint8Array[]> {
	const {readPcap, isWireError} = await import('../wire/index.js');
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

async function decode(argv: string[]): Promise<number> {
	const {positionals} = args(argv, {}, [1, 1]);
	const {isWireError} = await import('../wire/index.js');
	const {describePacket} = await import('./format.js');
	let bad = 0;
	for (const [i, packet] of (await readInput(positionals[0]!)).entries()) {
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

function keygen(argv: string[]): number {
	if (argv[0] === 'client') {
		// A client's HMAC key: derived from the group key for the /64 of the client's address.
		const {positionals} = args(argv.slice(1), {}, [3, 3]);
		const [groupFile, address, file] = positionals as [string, string, string];
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
	const {positionals} = args(argv, {}, [2, 2]);
	const [alg, file] = positionals as [string, string];
	if (alg !== 'hmac-sha256' && alg !== 'ed25519') throw new UsageError(`unknown algorithm ${alg}: hmac-sha256 or ed25519`);
	const text = generateKeyText(alg);
	writeFileSync(file, text.secret, {mode: 0o600});
	if (text.public) writeFileSync(`${file}.pub`, text.public);
	console.log(`wrote ${file}${text.public ? ` and ${file}.pub` : ''}`);
	return 0;
}

const stateOption = {state: {type: 'string'}} as const;

/**
 * The topology a command on a running network means: --topology when given,
 * else the one the network under the default prefix was brought up with
 * (its state directory's topology.path), else the default topology.
 */
async function topologyFile(values: {topology?: unknown; state?: unknown}): Promise<string> {
	if (typeof values.topology === 'string') return values.topology;
	try {
		const running = readFileSync(files.topology(stateDir(await loadTopology(DEFAULT_TOPOLOGY, {keyRoles: false}), values.state as string | undefined)), 'utf8').trim();
		if (running && existsSync(running)) return running;
	} catch {
		// no network up: the default
	}
	return DEFAULT_TOPOLOGY;
}

async function main(argv: string[]): Promise<number> {
	const [command, ...rest] = argv;
	switch (command) {
		case 'decode':
			return await decode(rest);
		case 'keygen':
			return keygen(rest);
		case 'wireshark': {
			const {positionals, values} = args(rest, {dir: {type: 'string'}}, [1, 1]);
			if (positionals[0] !== 'install') throw new UsageError(`wireshark: the only subcommand is install, got ${positionals[0]}`);
			const {installDissector} = await import('./wireshark.js');
			const to = installDissector(values.dir as string | undefined);
			console.log(`installed ${to}: Wireshark and tshark decode option 0x1E as anyguard.* from their next start (tshark -Y anyguard -T fields -e anyguard.anycast)`);
			return 0;
		}
		case 'up': {
			const {positionals, values} = args(rest, {...stateOption, verbose: {type: 'boolean'}, 'no-host-link': {type: 'boolean'}, 'restart-delay': {type: 'string'}, 'host-route-metric': {type: 'string'}}, [0, 1]);
			const number = (name: string, v: unknown) => {
				const n = Number(v);
				if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, got ${String(v)}`);
				return n;
			};
			const {up} = await import('../netns/setup.js');
			await up(positionals[0] ?? DEFAULT_TOPOLOGY, {
				...(values.state ? {stateRoot: values.state as string} : {}),
				hostLink: !values['no-host-link'],
				verbose: Boolean(values.verbose),
				...(values['restart-delay'] ? {restartDelayMs: number('restart-delay', values['restart-delay'])} : {}),
				...(values['host-route-metric'] ? {hostRouteMetric: number('host-route-metric', values['host-route-metric'])} : {}),
			});
			return 0;
		}
		case 'down': {
			const {positionals, values} = args(rest, {...stateOption, verbose: {type: 'boolean'}}, [0, 1]);
			const {down} = await import('../netns/setup.js');
			await down(positionals[0] ?? (await topologyFile(values)), {...(values.state ? {stateRoot: values.state as string} : {}), verbose: Boolean(values.verbose)});
			return 0;
		}
		case 'status': {
			const {positionals, values} = args(rest, {...stateOption, json: {type: 'boolean'}, watch: {type: 'boolean'}, topology: {type: 'string'}}, [0, 1]);
			const {snapshot, render} = await import('./status.js');
			const t = await loadTopology(await topologyFile(values));
			const o = {...(positionals[0] ? {node: positionals[0]} : {}), ...(values.state ? {stateRoot: values.state as string} : {})};
			if (o.node && !t.nodes.some((n) => n.name === o.node)) throw new UsageError(`no node named ${o.node} in ${t.file}`);
			if (values.watch) {
				// Refresh in place until interrupted.
				for (;;) {
					const snap = await snapshot(t, o);
					process.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString()}  (every 1 s; Ctrl-C to stop)\n\n${values.json ? JSON.stringify(snap) : render(snap, o)}\n`);
					await new Promise((r) => setTimeout(r, 1000));
				}
			}
			const snap = await snapshot(t, o);
			console.log(values.json ? JSON.stringify(snap, null, 2) : render(snap, o));
			return snap.every((s) => s.status || s.kernel?.running) ? 0 : 1;
		}
		case 'capture': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}, w: {type: 'string', short: 'w'}, seconds: {type: 'string'}}, [1, 2]);
			const t = await loadTopology(await topologyFile(values));
			const [node, port] = positionals as [string, string | undefined];
			if (!t.nodes.some((n) => n.name === node)) throw new UsageError(`no node named ${node} in ${t.file}`);
			const {createWriteStream} = await import('node:fs');
			const {streamCapture} = await import('../node/control.js');
			const out = values.w ? createWriteStream(values.w as string) : process.stdout;
			const abort = new AbortController();
			for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => abort.abort());
			out.on('error', () => abort.abort()); // the reader went away (tshark exited)
			if (values.seconds) setTimeout(() => abort.abort(), Number(values.seconds) * 1000).unref();
			await streamCapture(files.socket(stateDir(t, values.state as string | undefined), node), port, out, abort.signal);
			if (values.w) await new Promise<void>((r) => out.end(() => r()));
			return 0;
		}
		case 'trace': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}, from: {type: 'string'}, json: {type: 'boolean'}}, [0, 1]);
			const t = await loadTopology(await topologyFile(values));
			const {runTrace, renderTrace} = await import('./trace.js');
			const r = await runTrace(t, {
				...(positionals[0] ? {address: positionals[0]} : {}),
				...(values.from ? {from: values.from as string} : {}),
				...(values.state ? {stateRoot: values.state as string} : {}),
			});
			console.log(values.json ? JSON.stringify(r, null, 2) : renderTrace(r));
			return r.answered ? 0 : 1;
		}
		case 'topology': {
			const {values} = args(rest, {...stateOption, topology: {type: 'string'}, format: {type: 'string'}, o: {type: 'string', short: 'o'}}, [0, 0]);
			const format = (values.format as string | undefined) ?? 'dot';
			if (format !== 'dot' && format !== 'svg' && format !== 'png') throw new UsageError(`--format is dot, svg or png, not ${format}`);
			const t = await loadTopology(await topologyFile(values));
			const {topologyDot, renderDot} = await import('./topology.js');
			const dot = await topologyDot(t, values.state as string | undefined);
			const bytes = format === 'dot' ? Buffer.from(dot) : renderDot(dot, format);
			if (values.o) writeFileSync(values.o as string, bytes);
			else process.stdout.write(bytes);
			return 0;
		}
		case 'attack': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}, count: {type: 'string'}, list: {type: 'boolean'}}, [0, 1]);
			const {ATTACKS, isAttackKind} = await import('../roles/attacker.js');
			if (values.list || positionals.length === 0) {
				for (const [kind, spec] of Object.entries(ATTACKS) as Array<[string, AttackSpec]>)
					console.log(`${kind.padEnd(24)} from ${spec.from.padEnd(10)} dropped by ${spec.droppedAt.padEnd(8)} (${spec.reason}): ${spec.summary}`);
				return 0;
			}
			const kind = positionals[0]!;
			if (!isAttackKind(kind)) throw new UsageError(`unknown attack ${kind}; anyguard attack --list shows them`);
			const t = await loadTopology(await topologyFile(values));
			const {runAttack} = await import('./attack.js');
			const r = await runAttack(t, kind, {
				...(values.count ? {count: Number(values.count)} : {}),
				...(values.state ? {stateRoot: values.state as string} : {}),
				log: (line) => console.log(`  ${line}`),
			});
			console.log(`${kind}: ${r.dropped} of ${r.sent} forged packets dropped at ${r.spec.droppedAt} (${r.stoppedBy})`);
			console.log(`victim: ${r.victim.transmitted} pings, ${r.victim.received} genuine replies, ${r.victim.duplicates} duplicates`);
			return r.dropped === r.sent && r.victim.duplicates === 0 ? 0 : 1;
		}
		case 'demo': {
			const {values} = args(rest, {...stateOption, topology: {type: 'string'}}, [0, 0]);
			const {runDemo} = await import('./demo.js');
			const t = await loadTopology(await topologyFile(values));
			return (await runDemo(t, values.state ? {stateRoot: values.state as string} : {})) ? 0 : 1;
		}
		case 'probe': {
			const {positionals, values} = args(rest, {interval: {type: 'string'}, count: {type: 'string'}, timeout: {type: 'string'}}, [1, 1]);
			const {runProbe} = await import('./probe.js');
			await runProbe({address: positionals[0]!, intervalMs: Number(values.interval ?? 20), count: Number(values.count ?? 100), timeoutMs: Number(values.timeout ?? 1000)});
			return 0;
		}
		case 'stop-node':
		case 'start-node': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}}, [1, 1]);
			const t = await loadTopology(await topologyFile(values));
			const name = positionals[0]!;
			if (!t.nodes.some((n) => n.name === name)) throw new UsageError(`no node named ${name} in ${t.file}`);
			const dir = stateDir(t, values.state as string | undefined);
			if (!existsSync(dir)) throw new UsageError(`no running network in ${dir}: run anyguard up first`);
			if (command === 'stop-node') {
				writeFileSync(files.stop(dir, name), `${new Date().toISOString()}\n`);
				const pid = Number(readFileSync(files.pid(dir, name), 'utf8').trim());
				if (pid > 0) process.kill(pid, 'SIGTERM');
				console.log(`stopped ${name} (pid ${pid}); anyguard start-node ${name} starts it again`);
			} else {
				rmSync(files.stop(dir, name), {force: true});
				console.log(`${name} will be started by its supervisor`);
			}
			return 0;
		}
		case 'birdc': {
			// Everything after the node is BIRD's command; --topology and --state may come anywhere.
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}}, [1, 64]);
			const {runBirdc} = await import('./interop.js');
			const r = runBirdc(await loadTopology(await topologyFile(values)), positionals[0]!, positionals.slice(1), values.state as string | undefined);
			process.stdout.write(r.stdout);
			process.stderr.write(r.stderr);
			return r.status;
		}
		case 'link': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}, json: {type: 'boolean'}}, [2, 16]);
			const {runLink, renderLinkReport} = await import('./interop.js');
			const [a, b, ...words] = positionals as [string, string, ...string[]];
			const r = await runLink(await loadTopology(await topologyFile(values)), a, b, words, values.state as string | undefined);
			console.log(values.json ? JSON.stringify(r, null, 2) : renderLinkReport(r, words.length > 0 && words[0] !== 'show'));
			return 0;
		}
		case 'node': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}, level: {type: 'string'}}, [1, 1]);
			const {runNode} = await import('./node.js');
			await runNode({
				node: positionals[0]!,
				topology: await topologyFile(values),
				state: (values.state as string | undefined) ?? stateDir(await loadTopology(await topologyFile(values))),
				...(values.level ? {level: values.level as string} : {}),
			});
			return -1; // keeps running
		}
		case 'supervise': {
			const {positionals, values} = args(rest, {...stateOption, topology: {type: 'string'}, 'restart-delay': {type: 'string'}}, [1, 1]);
			const {runSupervisor} = await import('./supervise.js');
			runSupervisor({
				node: positionals[0]!,
				topology: (values.topology as string | undefined) ?? (await topologyFile(values)),
				state: values.state as string,
				restartDelayMs: Number(values['restart-delay'] ?? 1000),
			});
			return -1;
		}
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

main(process.argv.slice(2)).then(
	(code) => {
		if (code >= 0) process.exitCode = code;
	},
	(error: unknown) => {
		// TopologyError, SetupError, StateDirError and the interop errors by name: their modules load only with the commands that throw them.
		const name = (error as Error | undefined)?.name;
		if (
			error instanceof UsageError || error instanceof KeyError || error instanceof IoError || name === 'TopologyError' || name === 'SetupError' || name === 'StateDirError' ||
			['ConditionError', 'ConditionSyntaxError', 'LinkError', 'BirdError', 'InteropUsageError'].includes(name ?? '')
		) {
			process.stderr.write(`anyguard: ${(error as Error).message}\n`);
			process.exitCode = 2;
		} else {
			throw error;
		}
	},
);
