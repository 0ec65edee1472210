#!/usr/bin/env node
// The anyguard command.
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
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
  ui [--port N]              a live view in the browser, on 127.0.0.1 (default port 4600)
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
  catchment [--fail SERVER] [--json] [--map FILE]
                                        which server answers each client, against the link costs' prediction
  generate --sites N --clients N --routers N [--shape tiered|geometric] [--seed N] -o FILE
                                        write a topology of that size, and its keys (generate --help)
  keygen <hmac-sha256|ed25519> <file>   write a new group key (ed25519: also <file>.pub)
  keygen client <group key> <address> <file>
                                        write the HMAC key a client verifies with: derived for the address's /64
  decode <file.pcap | file.hex | hex>   print each IPv6 packet, one line each
  wireshark install [--dir DIR]         copy the identifier's dissector into Wireshark's plugin folder
  validate <topology>                   check a topology file (JSON or YAML): every problem, with its path and line
  schema                                print the topology files' JSON Schema (netns/topologies/schema.json)
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

const CATCHMENT_HELP = `usage: anyguard catchment [-t FILE] [--state DIR] [--json] [--fail SERVER] [--map FILE]

For every client and terminal of the running network, which server of the
first group's anycast address answers it (DNS TXT whoami.anyguard, as probe
asks) beside the servers its link costs predict. Exits 1 when any differs.

  -t, --topology FILE  the network (default: the default topology)
  --state DIR          its state folder's parent (as given to up)
  --json               the report as JSON
  --fail SERVER        then stop that server (as stop-node), report the catchment once routing settles
                       and which clients moved, and start it again
  --map FILE           the topology picture with each client coloured by the site that answered it
                       (.svg, .png or .dot)
  --help               this text`;

const GENERATE_HELP = `usage: anyguard generate --sites N --clients N --routers N [options] -o FILE

Writes a topology of anycast sites, clients and transit routers, and the key
files it names (beside FILE, in keys/), then checks it as up would.

  --sites N        anycast sites, 1..4000: each a boundary router and a server of S (2001:db8:1:ac::53) on its own /64
  --clients N      clients, 1..4000: each on its own /64, with its HMAC client key
  --routers N      transit routers, 1..4000
  --shape S        tiered (default): a full-mesh core of a fifth of the routers, the rest each homed on two core
                   routers, sites and clients on the non-core ones; geometric: routers at random points of the
                   unit square, joined within a radius, link cost 1..3 growing with the distance, each site and
                   client on its nearest router
  --seed N         the random seed (default 1): the same parameters give the same file
  --prefix P       the namespace prefix (default g-)
  -o, --output F   the topology file to write (required)
  --help           this text

Every client must reach a site within RIPng's 15: a network that does not is
refused with what to change. Example:
  anyguard generate --sites 10 --clients 40 --routers 50 --seed 1 -o /tmp/big.json`;

async function generate(argv: string[]): Promise<number> {
	if (argv.includes('--help') || argv.includes('-h')) {
		console.log(GENERATE_HELP);
		return 0;
	}
	const {values} = args(argv, {sites: {type: 'string'}, clients: {type: 'string'}, routers: {type: 'string'}, shape: {type: 'string'}, seed: {type: 'string'}, prefix: {type: 'string'}, output: {type: 'string', short: 'o'}}, [0, 0]);
	const whole = (name: string, fallback?: number): number => {
		const v = values[name] as string | undefined;
		if (v === undefined) {
			if (fallback === undefined) throw new UsageError(`generate: --${name} is required (anyguard generate --help)`);
			return fallback;
		}
		if (!/^\d+$/.test(v)) throw new UsageError(`generate: --${name} takes a whole number, got ${v}`);
		return Number(v);
	};
	if (!values.output) throw new UsageError('generate: -o FILE is required (anyguard generate --help)');
	const shape = (values.shape as string | undefined) ?? 'tiered';
	const {SHAPES, GenerateError} = await import('../config/generate.js');
	if (!(SHAPES as readonly string[]).includes(shape)) throw new UsageError(`generate: --shape takes ${SHAPES.join(' or ')}, got ${shape}`);
	const {writeGenerated} = await import('./generate.js');
	try {
		const t = writeGenerated({sites: whole('sites'), clients: whole('clients'), routers: whole('routers'), shape: shape as 'tiered' | 'geometric', seed: whole('seed', 1), ...(values.prefix ? {prefix: values.prefix as string} : {})}, values.output as string);
		console.log(`${values.output as string}: ${t.nodes.length} nodes, ${t.links.length} links, ${t.groups[0]!.servers.length} servers of ${t.groups[0]!.anycast}`);
		return 0;
	} catch (error) {
		if (error instanceof GenerateError) throw new UsageError(`generate: ${error.message}`);
		throw error;
	}
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
		case 'generate':
			return await generate(rest);
		case 'ui': {
			const {values} = args(rest, {...stateOption, topology: {type: 'string', short: 't'}, port: {type: 'string'}}, [0, 0]);
			const port = Number(values.port ?? 4600);
			if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a port number 0..65535, got ${String(values.port)}`);
			const t = await loadTopology((values.topology as string | undefined) ?? DEFAULT_TOPOLOGY);
			const {startUi} = await import('../ui/server.js');
			const ui = await startUi(t, {port, ...(values.state ? {stateRoot: values.state as string} : {})});
			console.log(`anyguard ui: ${ui.url} (127.0.0.1 only; Ctrl-C stops it)`);
			await new Promise<void>((resolve) => {
				for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
			});
			await ui.close();
			return 0;
		}
		case 'validate': {
			const {positionals} = args(rest, {}, [1, 1]);
			const file = positionals[0]!;
			const {checkKeys} = await import('../netns/setup.js');
			const {TopologyError} = await import('../config/topology.js');
			try {
				const t = await loadTopology(file);
				checkKeys(t);
				console.log(`${file}: valid: ${t.nodes.length} nodes, ${t.links.length} links, ${t.groups.length} anycast groups`);
				return 0;
			} catch (error) {
				if (!(error instanceof TopologyError)) throw error;
				for (const p of error.problems) console.error(`${file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.reason}`);
				console.error(`${file}: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`);
				return 1;
			}
		}
		case 'schema': {
			args(rest, {}, [0, 0]);
			const {topologyJsonSchema} = await import('../config/topology.js');
			console.log(JSON.stringify(topologyJsonSchema(), null, 2));
			return 0;
		}
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
		case 'catchment': {
			if (rest.includes('--help') || rest.includes('-h')) {
				console.log(CATCHMENT_HELP);
				return 0;
			}
			const {values} = args(rest, {...stateOption, topology: {type: 'string', short: 't'}, json: {type: 'boolean'}, fail: {type: 'string'}, map: {type: 'string'}}, [0, 0]);
			const t = await loadTopology((values.topology as string | undefined) ?? DEFAULT_TOPOLOGY);
			const fail = values.fail as string | undefined;
			if (fail !== undefined && !t.groups[0]!.servers.includes(fail)) throw new UsageError(`catchment: --fail takes a server of ${t.groups[0]!.anycast} (${t.groups[0]!.servers.join(', ')}), got ${fail}`);
			const dir = stateDir(t, values.state as string | undefined);
			if (!existsSync(dir)) throw new UsageError(`no running network in ${dir}: run anyguard up ${t.file} first`);
			const {catchment, catchmentHolds, colourDot, renderCatchment} = await import('./catchment.js');
			const tty = process.stderr.isTTY;
			const r = await catchment(t, {...(values.state ? {stateRoot: values.state as string} : {}), ...(fail ? {fail} : {}), progress: (line) => tty && process.stderr.write(`\r\x1b[K${line}`)});
			if (tty) process.stderr.write('\r\x1b[K');
			console.log(values.json ? JSON.stringify(r, null, 2) : renderCatchment(r));
			if (values.map) {
				const {topologyDot, renderDot} = await import('./topology.js');
				const file = values.map as string;
				const dot = colourDot(await topologyDot(t, values.state as string | undefined), t.groups[0]!.servers, r.rows);
				writeFileSync(file, file.endsWith('.dot') ? Buffer.from(dot) : renderDot(dot, file.endsWith('.png') ? 'png' : 'svg'));
				if (!values.json) console.log(`map: ${file}`);
			}
			return catchmentHolds(r) ? 0 : 1;
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
			const {DrillError, startNode, stopNode} = await import('../netns/drill.js');
			try {
				if (command === 'stop-node') {
					const pid = stopNode(t, name, values.state as string | undefined);
					console.log(`stopped ${name} (pid ${pid}); anyguard start-node ${name} starts it again`);
				} else {
					startNode(t, name, values.state as string | undefined);
					console.log(`${name} will be started by its supervisor`);
				}
			} catch (error) {
				if (error instanceof DrillError) throw new UsageError(error.message);
				throw error;
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
