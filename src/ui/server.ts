// `anyguard ui`: a live view of a running network, in a browser, on
// 127.0.0.1 only. Every node's control socket feeds it: the page gets the
// topology once (GET /api/topology) and then a snapshot a second
// (GET /api/events, server-sent events): each node's counters and drop
// reasons, BFD state per link, the current path to S from each client, and
// which server answered the client's last probe (a DNS query to S every
// second). From the page a user runs a row of the attack table or a failover
// drill (POST /api/attack/KIND, /api/stop/NODE, /api/start/NODE).
//
// Every asset is served from the package (the page, its script, and
// cytoscape.js from node_modules): nothing is fetched from the internet. The
// server answers only requests whose Host is its own address and port (no DNS
// rebinding), and actions only with the token the page was given (no request
// forged by another site in the same browser).
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import type {Topology} from '../config/topology.js';
import {runAttack} from '../cli/attack.js';
import {watchProbe} from '../cli/probe.js';
import type {ProbeWatch} from '../cli/probe.js';
import {snapshot} from '../cli/status.js';
import {pathFromStatuses} from '../cli/topology.js';
import {isStopped, startNode, stopNode} from '../netns/drill.js';
import {namespace} from '../netns/names.js';
import {selfCommand} from '../netns/setup.js';
import {ATTACKS, isAttackKind} from '../roles/attacker.js';
import type {NodeStatus} from '../ops/status.js';

export interface UiOptions {
	port?: number;
	stateRoot?: string;
	/** Probe S from the clients every second (default true). */
	probe?: boolean;
}

const STATIC = fileURLToPath(new URL('../../src/ui/static/', import.meta.url));
const require = createRequire(import.meta.url);

interface Asset {
	type: string;
	body: Buffer;
}

function assets(): Record<string, Asset> {
	const file = (path: string, type: string): Asset => ({type, body: readFileSync(path)});
	return {
		'/': file(`${STATIC}index.html`, 'text/html; charset=utf-8'),
		'/app.js': file(`${STATIC}app.js`, 'text/javascript; charset=utf-8'),
		'/style.css': file(`${STATIC}style.css`, 'text/css; charset=utf-8'),
		'/vendor/cytoscape.min.js': file(require.resolve('cytoscape/dist/cytoscape.min.js'), 'text/javascript; charset=utf-8'),
	};
}

/** What the page draws from: nodes, links, groups. */
function topologyJson(t: Topology) {
	return {
		name: t.name,
		description: t.description ?? '',
		nodes: t.nodes.map((n) => ({name: n.name, role: n.role, description: n.description ?? '', address: n.host?.address ?? n.address ?? ''})),
		links: t.links.map((l) => ({a: l.a, b: l.b, cost: l.cost})),
		groups: t.groups.map((g) => ({name: g.name, anycast: g.anycast, servers: g.servers})),
		attacks: Object.entries(ATTACKS).map(([kind, spec]) => ({kind, summary: spec.summary, droppedAt: spec.droppedAt, reason: spec.reason})),
	};
}

/** One snapshot for the page. */
function stateJson(t: Topology, snap: Awaited<ReturnType<typeof snapshot>>, probes: Map<string, ProbeWatch>, stateRoot?: string) {
	const byName = new Map<string, NodeStatus>(snap.flatMap((s) => (s.status ? [[s.name, s.status] as const] : [])));
	const S = t.groups[0]?.anycast;
	const clients = t.nodes.filter((n) => n.role === 'client');
	return {
		at: Date.now(),
		nodes: snap.map(({name, role, status, error}) => ({
			name,
			role,
			up: status !== null,
			stopped: isStopped(t, name, stateRoot),
			...(error ? {error} : {}),
			...(status
				? {
						counters: {rx: status.counters.rxPackets, tx: status.counters.txPackets, forwarded: status.counters.forwarded, stamped: status.counters.stamped, verified: status.counters.verified},
						drops: Object.fromEntries(Object.entries(status.counters.drops).filter(([, v]) => v > 0)),
						bfd: status.bfd.map((b) => ({link: b.link, state: b.state})),
					}
				: {}),
		})),
		paths: S ? Object.fromEntries(clients.map((c) => [c.name, pathFromStatuses((n) => byName.get(n), c.name, S)])) : {},
		probes: Object.fromEntries([...probes].map(([client, w]) => [client, w.answers.at(-1) ?? null])),
		anycast: S ?? null,
	};
}

export interface UiServer {
	server: Server;
	url: string;
	token: string;
	close(): Promise<void>;
}

export async function startUi(t: Topology, o: UiOptions = {}): Promise<UiServer> {
	const files = assets();
	const token = randomBytes(16).toString('hex');
	const probes = new Map<string, ProbeWatch>();
	const S = t.groups[0]?.anycast;
	if (o.probe !== false && S) {
		for (const c of t.nodes.filter((n) => n.role === 'client')) probes.set(c.name, watchProbe(namespace(t, c.name), selfCommand(), S, 1000));
	}
	const streams = new Set<ServerResponse>();
	let host = '';
	let latest = '';
	const tick = async () => {
		if (streams.size === 0) return;
		latest = JSON.stringify(stateJson(t, await snapshot(t, o.stateRoot === undefined ? {} : {stateRoot: o.stateRoot}), probes, o.stateRoot));
		for (const res of streams) res.write(`data: ${latest}\n\n`);
	};
	const timer = setInterval(() => void tick().catch(() => {}), 1000);

	const send = (res: ServerResponse, code: number, type: string, body: string | Buffer) => {
		res.writeHead(code, {'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff'});
		res.end(body);
	};
	const json = (res: ServerResponse, code: number, value: unknown) => send(res, code, 'application/json', JSON.stringify(value));
	const act = async (req: IncomingMessage, res: ServerResponse, path: string) => {
		if (req.headers['x-anyguard-token'] !== token) return json(res, 403, {error: 'missing or wrong x-anyguard-token: actions come from the page anyguard ui served'});
		const [, what, arg] = path.split('/').slice(1); // api, what, arg
		try {
			if (what === 'attack') {
				if (!arg || !isAttackKind(arg)) return json(res, 400, {error: `no attack named ${arg}`});
				const r = await runAttack(t, arg, {count: 3, ...(o.stateRoot === undefined ? {} : {stateRoot: o.stateRoot})});
				return json(res, 200, {kind: r.kind, sent: r.sent, dropped: r.dropped, at: r.spec.droppedAt, reason: r.spec.reason, victim: {transmitted: r.victim.transmitted, received: r.victim.received, duplicates: r.victim.duplicates}});
			}
			if ((what === 'stop' || what === 'start') && arg) {
				if (what === 'stop') stopNode(t, arg, o.stateRoot);
				else startNode(t, arg, o.stateRoot);
				return json(res, 200, {[what === 'stop' ? 'stopped' : 'started']: arg});
			}
			return json(res, 404, {error: `no action ${path}`});
		} catch (error) {
			return json(res, 500, {error: (error as Error).message});
		}
	};
	const server = createServer((req, res) => {
		// Only requests addressed to us by our own name: a page elsewhere cannot reach in through a rebinding name.
		if (req.headers.host !== host) return send(res, 421, 'text/plain', 'wrong Host\n');
		const path = new URL(req.url ?? '/', 'http://x').pathname;
		if (req.method === 'GET' && files[path]) return send(res, 200, files[path].type, path === '/' ? files[path].body.toString('utf8').replace('%TOKEN%', token) : files[path].body);
		if (req.method === 'GET' && path === '/api/topology') return json(res, 200, topologyJson(t));
		if (req.method === 'GET' && path === '/api/events') {
			res.writeHead(200, {'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive'});
			streams.add(res);
			if (latest) res.write(`data: ${latest}\n\n`);
			void tick().catch(() => {});
			req.socket.on('close', () => streams.delete(res));
			return;
		}
		if (req.method === 'POST' && path.startsWith('/api/')) return void act(req, res, path);
		send(res, 404, 'text/plain', 'not found\n');
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(o.port ?? 4600, '127.0.0.1', () => resolve());
	});
	const address = server.address() as {port: number};
	host = `127.0.0.1:${address.port}`;
	return {
		server,
		url: `http://${host}/`,
		token,
		close: () =>
			new Promise<void>((resolve) => {
				clearInterval(timer);
				for (const p of probes.values()) p.stop();
				for (const r of streams) r.end();
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}
