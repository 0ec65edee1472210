// The control socket: HTTP on a Unix socket in the state directory (network
// namespaces do not share loopback, but they share the file system).
//   GET /status   the node's state as JSON
//   GET /metrics  the same counters in Prometheus text format
// The socket is mode 0600 in a 0700 directory (src/util/statedir.ts); on top
// of that, what reads or writes packets — /capture, /inject, arming a trace —
// is served only to a peer whose uid (SO_PEERCRED) is the node's own.
import {chmodSync, existsSync, unlinkSync} from 'node:fs';
import type {IncomingMessage} from 'node:http';
import {peerUid} from '../io/native.js';
import {createServer, request} from 'node:http';
import type {Server} from 'node:http';
import type {NodeStatus} from './status.js';
import {prometheus} from './metrics.js';
import type {Tap} from './capture.js';
import type {Tracer, TraceEvent} from './trace.js';

export interface ControlHandlers {
	status: () => NodeStatus;
	/** GET /capture[?port=NAME]: a pcap stream (link type IPv6) of the node's ports, until the client hangs up. */
	tap?: Tap;
	/** POST /trace/ID arms tracing of echo identifier ID; GET /trace/ID returns the events. */
	tracer?: Tracer;
	/** POST /inject: packets (hex, one per line) handed to the node as if its host had sent them. */
	inject?: (packets: Uint8Array[]) => number;
	/** POST /links: the state directory's link conditions changed (anyguard link): apply them; answers what the node now carries. */
	links?: () => unknown;
}

export function serveControl(path: string, handlers: ControlHandlers): Promise<Server> {
	const status = handlers.status;
	if (existsSync(path)) unlinkSync(path); // a socket left by a crashed predecessor
	const server = createServer((req, res) => {
		try {
			if (ownerOnly(req) && peerUid(req.socket) !== (process.geteuid?.() ?? 0)) {
				res.writeHead(403, {'content-type': 'text/plain'});
				res.end('forbidden: capture, injection and tracing are for the owner of this node only\n');
				return;
			}
			if (req.method === 'POST' && req.url === '/inject' && handlers.inject) {
				const inject = handlers.inject;
				let body = '';
				req.setEncoding('utf8');
				req.on('data', (chunk: string) => {
					body += chunk;
					if (body.length > 16 * 1024 * 1024) req.destroy();
				});
				req.on('end', () => {
					const packets = body.split('\n').map((l) => l.trim()).filter((l) => /^([0-9a-f]{2})+$/i.test(l)).map((l) => Uint8Array.from(Buffer.from(l, 'hex')));
					const sent = inject(packets);
					res.writeHead(200, {'content-type': 'application/json'});
					res.end(JSON.stringify({received: packets.length, injected: sent}));
				});
				return;
			}
			if (req.method === 'POST' && req.url === '/links' && handlers.links) {
				res.writeHead(200, {'content-type': 'application/json'});
				res.end(JSON.stringify(handlers.links()));
				return;
			}
			const url = new URL(req.url ?? '/', 'http://node');
			if (req.method === 'GET' && url.pathname === '/capture' && handlers.tap) {
				res.writeHead(200, {'content-type': 'application/vnd.tcpdump.pcap'});
				const port = url.searchParams.get('port') ?? undefined;
				const stop = handlers.tap.subscribe(port, (chunk) => {
					// A reader that cannot keep up loses packets rather than growing our memory.
					if (res.writableLength < 4 * 1024 * 1024) res.write(chunk);
				});
				req.socket.on('close', stop);
				return;
			}
			const trace = /^\/trace\/(\d+)$/.exec(url.pathname);
			if (trace && handlers.tracer) {
				const id = Number(trace[1]);
				if (req.method === 'POST') handlers.tracer.arm(id);
				res.writeHead(200, {'content-type': 'application/json'});
				res.end(JSON.stringify(req.method === 'POST' ? {armed: id} : handlers.tracer.take(id)));
				return;
			}
			if (req.method === 'GET' && req.url === '/status') {
				res.writeHead(200, {'content-type': 'application/json'});
				res.end(JSON.stringify(status()));
			} else if (req.method === 'GET' && req.url === '/metrics') {
				res.writeHead(200, {'content-type': 'text/plain; version=0.0.4'});
				res.end(prometheus(status()));
			} else {
				res.writeHead(404, {'content-type': 'text/plain'});
				res.end('not found: GET /status, /metrics, /capture, /trace/ID; POST /inject, /trace/ID, /links\n');
			}
		} catch (error) {
			res.writeHead(500, {'content-type': 'text/plain'});
			res.end(`${(error as Error).message}\n`);
		}
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(path, () => {
			server.off('error', reject);
			chmodSync(path, 0o600); // whatever the umask made of it
			server.unref();
			resolve(server);
		});
	});
}

/** Requests that read or write the node's packets. */
function ownerOnly(req: IncomingMessage): boolean {
	const url = req.url ?? '/';
	return url === '/inject' || url.startsWith('/capture') || (req.method === 'POST' && (url.startsWith('/trace/') || url === '/links'));
}

/**
 * One request to the control socket at `path`: the answer's body when the
 * status is 200; otherwise an error naming `path`, `url`, the status and the
 * body; and an error when nobody answers within `timeoutMs`.
 */
function call(path: string, url: string, method: 'GET' | 'POST', timeoutMs: number, body?: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const headers = body === undefined ? undefined : {'content-type': 'text/plain', 'content-length': Buffer.byteLength(body)};
		const req = request({socketPath: path, agent: false, path: url, method, timeout: timeoutMs, ...(headers ? {headers} : {})}, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (text += chunk));
			res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${path}${url}: HTTP ${res.statusCode}: ${text.trim()}`))));
		});
		req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${timeoutMs} ms`)));
		req.on('error', reject);
		req.end(body);
	});
}

/** Fetches `what` from the control socket at `path`; rejects when nobody answers within `timeoutMs`. */
export function queryControl(path: string, what: '/status' | '/metrics', timeoutMs = 1000): Promise<string> {
	return call(path, what, 'GET', timeoutMs);
}

export async function queryStatus(path: string, timeoutMs = 1000): Promise<NodeStatus> {
	return JSON.parse(await queryControl(path, '/status', timeoutMs)) as NodeStatus;
}

/** Hands `packets` to the node at `path` as if its host had sent them. */
export async function injectPackets(path: string, packets: Uint8Array[], timeoutMs = 2000): Promise<{received: number; injected: number}> {
	const body = packets.map((p) => Buffer.from(p).toString('hex')).join('\n') + '\n';
	return JSON.parse(await call(path, '/inject', 'POST', timeoutMs, body)) as {received: number; injected: number};
}

/** Tells the node at `path` to apply the state directory's link conditions again (after anyguard link). */
export async function reloadLinks(path: string, timeoutMs = 2000): Promise<unknown> {
	return JSON.parse(await call(path, '/links', 'POST', timeoutMs)) as unknown;
}

/** Arms (POST) or reads (GET) the trace of echo identifier `id` at the node behind `path`. */
export async function traceControl(path: string, id: number, method: 'POST' | 'GET', timeoutMs = 1000): Promise<TraceEvent[]> {
	const body = JSON.parse(await call(path, `/trace/${id}`, method, timeoutMs)) as TraceEvent[] | {armed: number};
	return Array.isArray(body) ? body : [];
}

/** Streams the pcap capture of the node behind `path` to `out` until `signal` aborts. */
export function streamCapture(path: string, port: string | undefined, out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		const req = request({socketPath: path, agent: false, path: `/capture${port ? `?port=${encodeURIComponent(port)}` : ''}`, method: 'GET', signal}, (res) => {
			if (res.statusCode !== 200) return reject(new Error(`${path}/capture: HTTP ${res.statusCode}`));
			res.pipe(out, {end: false});
			res.on('end', resolve);
			res.on('error', () => resolve());
		});
		req.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
		req.end();
	});
}
