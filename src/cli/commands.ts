// Every `anyguard` command, one row each: its arguments, options and what it
// runs. Each loads the modules it needs when it runs, so that a supervisor or
// `anyguard help` loads no pipeline (src/cli/main.ts dispatches).
import {existsSync, writeFileSync} from 'node:fs';
import type {Topology} from '../config/topology.js';
import type {AttackSpec} from '../roles/attacker.js';
import {UsageError} from './args.js';
import type {CommandSpec} from './args.js';

/** Refuses a node the topology does not have. */
function requireNode(t: Topology, name: string): void {
	if (!t.nodes.some((n) => n.name === name)) throw new UsageError(`no node named ${name} in ${t.file}`);
}

/** `up` and `down` also take the topology as their argument, as netns/setup.sh passes it. */
function upDownTopology(a: {positionals: string[]; topologyFile: string; string(name: string): string | undefined}): string {
	const [positional] = a.positionals;
	if (positional && a.string('topology')) throw new UsageError('give the topology once: as the argument or with -t, not both');
	return positional ?? a.topologyFile;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const COMMANDS: readonly CommandSpec[] = [
	{
		name: 'up',
		args: '[topology]',
		positionals: [0, 1],
		group: 'network',
		network: true,
		summary: 'create the namespaces, links and role processes; wait for routing',
		options: {
			verbose: {type: 'boolean', help: 'show every command as it runs'},
			'no-host-link': {type: 'boolean', help: "do not link the host's root namespace to the client"},
			'restart-delay': {type: 'number', value: 'MS', help: 'how long a supervisor waits before starting a role process again (default 1000)'},
			'host-route-metric': {type: 'number', value: 'N', help: "metric of the host's routes to the network (default 1024)"},
		},
		async run(a) {
			const {up} = await import('../netns/setup.js');
			const restartDelayMs = a.number('restart-delay');
			const hostRouteMetric = a.number('host-route-metric');
			await up(upDownTopology(a), {
				...a.state,
				hostLink: !a.flag('no-host-link'),
				verbose: a.flag('verbose'),
				...(restartDelayMs !== undefined ? {restartDelayMs} : {}),
				...(hostRouteMetric !== undefined ? {hostRouteMetric} : {}),
			});
			return 0;
		},
	},
	{
		name: 'down',
		args: '[topology]',
		positionals: [0, 1],
		group: 'network',
		network: true,
		summary: 'remove everything up made (idempotent)',
		options: {verbose: {type: 'boolean', help: 'show every command as it runs'}},
		async run(a) {
			const {down} = await import('../netns/setup.js');
			await down(upDownTopology(a), {...a.state, verbose: a.flag('verbose')});
			return 0;
		},
	},
	{
		name: 'status',
		args: '[node]',
		positionals: [0, 1],
		group: 'network',
		network: true,
		summary: 'nodes, links, control plane, bounded tables, routes and drop counters',
		options: {
			json: {type: 'boolean', help: 'the status of each node as JSON, for scripts'},
			watch: {type: 'boolean', help: 'refresh every second until interrupted'},
		},
		async run(a) {
			const {snapshot, render} = await import('./status.js');
			const t = await a.topology();
			const node = a.positionals[0];
			if (node) requireNode(t, node);
			const o = {...(node ? {node} : {}), ...a.state};
			if (a.flag('watch')) {
				for (;;) {
					const snap = await snapshot(t, o);
					process.stdout.write(`\x1b[H\x1b[2J${new Date().toISOString()}  (every 1 s; Ctrl-C to stop)\n\n${a.flag('json') ? JSON.stringify(snap) : render(snap, o)}\n`);
					await sleep(1000);
				}
			}
			const snap = await snapshot(t, o);
			console.log(a.flag('json') ? JSON.stringify(snap, null, 2) : render(snap, o));
			return snap.every((s) => s.status || s.kernel?.running) ? 0 : 1;
		},
	},
	{
		name: 'capture',
		args: '<node> [port]',
		positionals: [1, 2],
		group: 'network',
		network: true,
		summary: "pcap of a node's ports to stdout or -w FILE (anyguard capture client | tshark -r -)",
		options: {
			w: {type: 'string', short: 'w', value: 'FILE', help: 'write the pcap to FILE instead of stdout'},
			seconds: {type: 'number', value: 'N', min: 1, help: 'stop after N seconds'},
		},
		async run(a) {
			const t = await a.topology();
			const [node, port] = a.positionals as [string, string | undefined];
			requireNode(t, node);
			const {createWriteStream} = await import('node:fs');
			const {streamCapture} = await import('../ops/control.js');
			const {files, stateDir} = await import('../netns/names.js');
			const file = a.string('w');
			const out = file ? createWriteStream(file) : process.stdout;
			const abort = new AbortController();
			for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => abort.abort());
			out.on('error', () => abort.abort()); // the reader went away (tshark exited)
			const seconds = a.number('seconds');
			if (seconds) setTimeout(() => abort.abort(), seconds * 1000).unref();
			await streamCapture(files.socket(stateDir(t, a.stateRoot), node), port, out, abort.signal);
			if (file) await new Promise<void>((r) => out.end(() => r()));
			return 0;
		},
	},
	{
		name: 'trace',
		args: '[address]',
		positionals: [0, 1],
		group: 'network',
		network: true,
		summary: "one echo request from the client (or --from NODE): every node's decision, timed",
		options: {
			from: {type: 'string', value: 'NODE', help: 'the node whose host sends the echo request (default: the client)'},
			json: {type: 'boolean', help: 'the events as JSON'},
		},
		async run(a) {
			const t = await a.topology();
			const from = a.string('from');
			if (from) requireNode(t, from);
			const {runTrace, renderTrace} = await import('./trace.js');
			const r = await runTrace(t, {...(a.positionals[0] ? {address: a.positionals[0]} : {}), ...(from ? {from} : {}), ...a.state});
			console.log(a.flag('json') ? JSON.stringify(r, null, 2) : renderTrace(r));
			return r.answered ? 0 : 1;
		},
	},
	{
		name: 'topology',
		group: 'network',
		network: true,
		summary: 'a picture of the network (graphviz), with the path to S as routing has it now',
		options: {
			format: {type: 'string', value: 'FORMAT', choices: ['dot', 'svg', 'png'], help: 'dot (default), svg or png'},
			o: {type: 'string', short: 'o', value: 'FILE', help: 'write to FILE instead of stdout'},
		},
		async run(a) {
			const format = (a.string('format') ?? 'dot') as 'dot' | 'svg' | 'png';
			const t = await a.topology();
			const {topologyDot, renderDot} = await import('./topology.js');
			const dot = await topologyDot(t, a.stateRoot);
			const bytes = format === 'dot' ? Buffer.from(dot) : renderDot(dot, format);
			const file = a.string('o');
			if (file) writeFileSync(file, bytes);
			else process.stdout.write(bytes);
			return 0;
		},
	},
	{
		name: 'attack',
		args: '<kind>',
		positionals: [0, 1],
		group: 'network',
		network: true,
		summary: 'forge responses of one kind and show where they were dropped (--list: the kinds)',
		options: {
			count: {type: 'number', value: 'N', min: 1, max: 1000, help: 'forged packets to send (default 5)'},
			list: {type: 'boolean', help: 'the attack table: each kind, who sends it, where it is dropped'},
		},
		async run(a) {
			const {ATTACKS, isAttackKind} = await import('../roles/attacker.js');
			if (a.flag('list') || a.positionals.length === 0) {
				for (const [kind, spec] of Object.entries(ATTACKS) as Array<[string, AttackSpec]>)
					console.log(`${kind.padEnd(24)} from ${spec.from.padEnd(10)} dropped by ${spec.droppedAt.padEnd(8)} (${spec.reason}): ${spec.summary}`);
				return 0;
			}
			const kind = a.positionals[0]!;
			if (!isAttackKind(kind)) throw new UsageError(`unknown attack ${kind}; anyguard attack --list shows them`);
			const t = await a.topology();
			const {runAttack} = await import('./attack.js');
			const count = a.number('count');
			const r = await runAttack(t, kind, {...(count !== undefined ? {count} : {}), ...a.state, log: (line) => console.log(`  ${line}`)});
			console.log(`${kind}: ${r.dropped} of ${r.sent} forged packets dropped at ${r.spec.droppedAt} (${r.stoppedBy})`);
			console.log(`victim: ${r.victim.transmitted} pings, ${r.victim.received} genuine replies, ${r.victim.duplicates} duplicates`);
			return r.dropped === r.sent && r.victim.duplicates === 0 ? 0 : 1;
		},
	},
	{
		name: 'demo',
		group: 'network',
		network: true,
		summary: 'a narrated run: ping S, the pretenders and where each was dropped, failover and back',
		async run(a) {
			const t = await a.topology();
			const {runDemo} = await import('./demo.js');
			return (await runDemo(t, a.state)) ? 0 : 1;
		},
	},
	...(['stop-node', 'start-node'] as const).map(
		(name): CommandSpec => ({
			name,
			args: '<node>',
			positionals: [1, 1],
			group: 'network',
			network: true,
			summary: name === 'stop-node' ? 'stop a role process and keep it stopped (failover drill)' : 'let its supervisor start it again',
			async run(a) {
				const t = await a.topology();
				const node = a.positionals[0]!;
				requireNode(t, node);
				const {DrillError, startNode, stopNode} = await import('../netns/drill.js');
				try {
					if (name === 'stop-node') {
						const pid = stopNode(t, node, a.stateRoot);
						console.log(`stopped ${node} (pid ${pid}); anyguard start-node ${node} starts it again`);
					} else {
						startNode(t, node, a.stateRoot);
						console.log(`${node} will be started by its supervisor`);
					}
				} catch (error) {
					if (error instanceof DrillError) throw new UsageError(error.message);
					throw error;
				}
				return 0;
			},
		}),
	),
	{
		name: 'ui',
		group: 'network',
		network: true,
		summary: 'a live view in the browser, on 127.0.0.1 only: the path to S, counters, drops, BFD; attacks and drills',
		options: {port: {type: 'number', value: 'N', max: 65535, help: 'the port (default 4600; 0 picks a free one)'}},
		async run(a) {
			const t = await a.topology();
			const {startUi} = await import('../ui/server.js');
			const ui = await startUi(t, {port: a.number('port') ?? 4600, ...a.state});
			console.log(`anyguard ui: ${ui.url} (127.0.0.1 only; Ctrl-C stops it)`);
			await new Promise<void>((resolve) => {
				for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
			});
			await ui.close();
			return 0;
		},
	},
	{
		name: 'link',
		args: '<a> <b> [show | set KEY=VALUE… | down | up]',
		positionals: [2, 16],
		group: 'network',
		network: true,
		summary: 'the conditions of the link between a and b; set delay=20ms jitter=2ms loss=1% rate=10mbit mtu=1400 (0 clears one); down; up',
		options: {json: {type: 'boolean', help: 'the report as JSON'}},
		async run(a) {
			const {runLink, renderLinkReport} = await import('./interop.js');
			const [x, y, ...words] = a.positionals as [string, string, ...string[]];
			const r = await runLink(await a.topology(), x, y, words, a.stateRoot);
			console.log(a.flag('json') ? JSON.stringify(r, null, 2) : renderLinkReport(r, words.length > 0 && words[0] !== 'show'));
			return 0;
		},
	},
	{
		name: 'birdc',
		args: '<node> <command…>',
		positionals: [1, 64],
		group: 'network',
		network: true,
		summary: 'a BIRD command on a bird node, e.g. anyguard birdc internet show route',
		async run(a) {
			const {runBirdc} = await import('./interop.js');
			const r = runBirdc(await a.topology(), a.positionals[0]!, a.positionals.slice(1), a.stateRoot);
			process.stdout.write(r.stdout);
			process.stderr.write(r.stderr);
			return r.status;
		},
	},
	{
		name: 'catchment',
		group: 'network',
		network: true,
		summary: "which server of S answers each client, beside the servers the link costs predict; exit 1 when any differs",
		details: [
			'Each client and terminal asks the first group\'s anycast address "TXT whoami.anyguard" (as probe does);',
			"the prediction is the servers nearest by link cost (several on a tie).",
		].join('\n'),
		options: {
			json: {type: 'boolean', help: 'the report as JSON'},
			fail: {type: 'string', value: 'SERVER', help: 'then stop that server (as stop-node), report the catchment once routing settles and who moved, and start it again'},
			map: {type: 'string', value: 'FILE', help: 'the topology picture with each client coloured by the site that answered it (.svg, .png or .dot)'},
		},
		async run(a) {
			const t = await a.topology();
			const fail = a.string('fail');
			if (fail !== undefined && !t.groups[0]!.servers.includes(fail)) throw new UsageError(`catchment: --fail takes a server of ${t.groups[0]!.anycast} (${t.groups[0]!.servers.join(', ')}), got ${fail}`);
			const {stateDir} = await import('../netns/names.js');
			const dir = stateDir(t, a.stateRoot);
			if (!existsSync(dir)) throw new UsageError(`no running network in ${dir}: run anyguard up ${t.file} first`);
			const {catchment, catchmentHolds, colourDot, renderCatchment} = await import('./catchment.js');
			const tty = process.stderr.isTTY;
			const r = await catchment(t, {...a.state, ...(fail ? {fail} : {}), progress: (line) => tty && process.stderr.write(`\r\x1b[K${line}`)});
			if (tty) process.stderr.write('\r\x1b[K');
			console.log(a.flag('json') ? JSON.stringify(r, null, 2) : renderCatchment(r));
			const map = a.string('map');
			if (map) {
				const {topologyDot, renderDot} = await import('./topology.js');
				const dot = colourDot(await topologyDot(t, a.stateRoot), t.groups[0]!.servers, r.rows);
				writeFileSync(map, map.endsWith('.dot') ? Buffer.from(dot) : renderDot(dot, map.endsWith('.png') ? 'png' : 'svg'));
				if (!a.flag('json')) console.log(`map: ${map}`);
			}
			return catchmentHolds(r) ? 0 : 1;
		},
	},
	{
		name: 'node',
		args: '<name>',
		positionals: [1, 1],
		group: 'processes',
		network: true,
		summary: 'one role process on its TUN and links',
		options: {level: {type: 'string', value: 'LEVEL', choices: ['error', 'warn', 'info', 'debug'], help: 'log level (default info)'}},
		async run(a) {
			const {runNode} = await import('./node.js');
			const {stateDir} = await import('../netns/names.js');
			const level = a.string('level');
			await runNode({node: a.positionals[0]!, topology: a.topologyFile, state: a.stateRoot ?? stateDir(await a.topology()), ...(level ? {level} : {})});
			return -1; // keeps running
		},
	},
	{
		name: 'supervise',
		args: '<name>',
		positionals: [1, 1],
		group: 'processes',
		network: true,
		summary: 'keep a role process running',
		options: {'restart-delay': {type: 'number', value: 'MS', help: 'wait before starting it again (default 1000)'}},
		async run(a) {
			if (!a.stateRoot) throw new UsageError('supervise: --state DIR names the state directory (anyguard up passes it)');
			const {runSupervisor} = await import('./supervise.js');
			runSupervisor({node: a.positionals[0]!, topology: a.topologyFile, state: a.stateRoot, restartDelayMs: a.number('restart-delay') ?? 1000});
			return -1;
		},
	},
	{
		name: 'probe',
		args: '<address>',
		positionals: [1, 1],
		group: 'tools',
		summary: 'DNS "TXT whoami.anyguard" every MS ms; a JSON line per query (times failover)',
		options: {
			interval: {type: 'number', value: 'MS', min: 1, help: 'between queries (default 20)'},
			count: {type: 'number', value: 'N', min: 1, help: 'queries to send (default 100)'},
			timeout: {type: 'number', value: 'MS', min: 1, help: 'a query unanswered this long is lost (default 1000)'},
		},
		async run(a) {
			const {runProbe} = await import('./probe.js');
			await runProbe({address: a.positionals[0]!, intervalMs: a.number('interval') ?? 20, count: a.number('count') ?? 100, timeoutMs: a.number('timeout') ?? 1000});
			return 0;
		},
	},
	{
		name: 'generate',
		group: 'tools',
		summary: 'write a topology of anycast sites, clients and transit routers, and its keys; the same parameters give the same file',
		details: [
			'Each site is a boundary router and a server of S (2001:db8:1:ac::53) on its own /64; each client has its own /64',
			'and HMAC client key. The key files go beside FILE, in keys/. The file is checked as up would check it.',
			"Every client must reach a site within RIPng's 15: a network that does not is refused with what to change.",
			'Example: anyguard generate --sites 10 --clients 40 --routers 50 --seed 1 -o /tmp/big.json',
		].join('\n'),
		options: {
			sites: {type: 'number', value: 'N', min: 1, max: 4000, help: 'anycast sites (required)'},
			clients: {type: 'number', value: 'N', min: 1, max: 4000, help: 'clients (required)'},
			routers: {type: 'number', value: 'N', min: 1, max: 4000, help: 'transit routers (required)'},
			shape: {
				type: 'string', value: 'SHAPE', choices: ['tiered', 'geometric'],
				help: 'tiered (default): a full-mesh core of a fifth of the routers, the rest homed on two core routers, sites and clients on those; geometric: routers at random points of the unit square, joined within a radius, cost 1..3 by distance, each site and client on its nearest router',
			},
			seed: {type: 'number', value: 'N', help: 'the random seed (default 1)'},
			prefix: {type: 'string', value: 'P', help: 'the namespace prefix (default g-)'},
			output: {type: 'string', short: 'o', value: 'FILE', help: 'the topology file to write (required)'},
		},
		async run(a) {
			const need = (name: string) => {
				const v = a.number(name);
				if (v === undefined) throw new UsageError(`generate: --${name} is required (anyguard generate --help)`);
				return v;
			};
			const output = a.string('output');
			if (!output) throw new UsageError('generate: -o FILE is required (anyguard generate --help)');
			const {GenerateError} = await import('../config/generate.js');
			const {writeGenerated} = await import('./generate.js');
			try {
				const prefix = a.string('prefix');
				const t = writeGenerated({sites: need('sites'), clients: need('clients'), routers: need('routers'), shape: (a.string('shape') ?? 'tiered') as 'tiered' | 'geometric', seed: a.number('seed') ?? 1, ...(prefix ? {prefix} : {})}, output);
				console.log(`${output}: ${t.nodes.length} nodes, ${t.links.length} links, ${t.groups[0]!.servers.length} servers of ${t.groups[0]!.anycast}`);
				return 0;
			} catch (error) {
				if (error instanceof GenerateError) throw new UsageError(`generate: ${error.message}`);
				throw error;
			}
		},
	},
	{
		name: 'validate',
		args: '<topology>',
		positionals: [1, 1],
		group: 'tools',
		summary: 'check a topology file (JSON or YAML): every problem, with its path and line',
		async run(a) {
			const file = a.positionals[0]!;
			const {TopologyError, loadTopology} = await import('../config/topology.js');
			const {checkKeys} = await import('../netns/setup.js');
			try {
				const t = loadTopology(file);
				checkKeys(t);
				console.log(`${file}: valid: ${t.nodes.length} nodes, ${t.links.length} links, ${t.groups.length} anycast groups`);
				return 0;
			} catch (error) {
				if (!(error instanceof TopologyError)) throw error;
				for (const p of error.problems) console.error(`${file}${p.line ? `:${p.line}` : ''}: ${p.field ? `${p.field}: ` : ''}${p.reason}`);
				console.error(`${file}: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`);
				return 1;
			}
		},
	},
	{
		name: 'schema',
		group: 'tools',
		summary: 'print the JSON Schema of a topology file (netns/topologies/schema.json)',
		async run() {
			const {topologyJsonSchema} = await import('../config/topology.js');
			console.log(JSON.stringify(topologyJsonSchema(), null, 2));
			return 0;
		},
	},
	{
		name: 'keygen',
		args: '<hmac-sha256|ed25519> <file> | client <group key> <address> <file>',
		positionals: [2, 4],
		group: 'tools',
		summary: "a new group key (ed25519: also <file>.pub), or the HMAC key a client verifies with, derived for the address's /64",
		async run(a) {
			const {keygen} = await import('./tools.js');
			return keygen(a.positionals);
		},
	},
	{
		name: 'decode',
		args: '<file.pcap | file.hex | hex>',
		positionals: [1, 1],
		group: 'tools',
		summary: 'print each IPv6 packet, one line each; malformed ones with their error code',
		async run(a) {
			const {decode} = await import('./tools.js');
			return decode(a.positionals[0]!);
		},
	},
	{
		name: 'wireshark',
		args: 'install',
		positionals: [1, 1],
		group: 'tools',
		summary: "copy the identifier's dissector into Wireshark's plugin folder",
		options: {dir: {type: 'string', value: 'DIR', help: 'the plugin folder (default: the one tshark -G folders names)'}},
		async run(a) {
			if (a.positionals[0] !== 'install') throw new UsageError(`wireshark: the only subcommand is install, got ${a.positionals[0]}`);
			const {installDissector} = await import('./wireshark.js');
			const to = installDissector(a.string('dir'));
			console.log(`installed ${to}: Wireshark and tshark decode option 0x1E as anyguard.* from their next start (tshark -Y anyguard -T fields -e anyguard.anycast)`);
			return 0;
		},
	},
];
