// `anyguard trace [address]`: one echo request from a node's host, and what
// every node did with it and with its reply, in time order.
import {spawnSync} from 'node:child_process';
import type {Topology} from '../config/topology.js';
import {traceControl} from '../ops/control.js';
import type {TraceEvent} from '../ops/trace.js';
import {files, namespace, stateDir} from '../netns/names.js';

export interface TraceResult {
	id: number;
	events: TraceEvent[];
	/** Nodes the request crossed, in order, ending where it was delivered or dropped. */
	requestPath: string[];
	/** Nodes the reply crossed. */
	replyPath: string[];
	answered: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function path(events: TraceEvent[], kind: TraceEvent['kind']): string[] {
	const nodes: string[] = [];
	for (const e of events) if (e.kind === kind && nodes.at(-1) !== e.node) nodes.push(e.node);
	return nodes;
}

export async function runTrace(t: Topology, o: {address?: string; from?: string; stateRoot?: string} = {}): Promise<TraceResult> {
	const state = stateDir(t, o.stateRoot);
	const from = t.nodes.find((n) => n.name === (o.from ?? t.nodes.find((x) => x.role === 'client')?.name));
	if (!from?.host) throw new Error(`no node ${o.from ?? 'client'} with a host to send from`);
	const address = o.address ?? t.groups.find((g) => g.name === from.groups?.[0])?.anycast ?? t.groups[0]!.anycast;
	const id = 0xa000 + Math.floor(Math.random() * 0x1000);
	await Promise.all(t.nodes.map((n) => traceControl(files.socket(state, n.name), id, 'POST').catch(() => [])));
	const ping = spawnSync('ip', ['netns', 'exec', namespace(t, from.name), 'ping', '-6', '-n', '-c', '1', '-W', '2', '-e', String(id), address], {encoding: 'utf8'});
	await sleep(200);
	const events = (await Promise.all(t.nodes.map((n) => traceControl(files.socket(state, n.name), id, 'GET').catch(() => [])))).flat().sort((a, b) => a.at - b.at);
	return {id, events, requestPath: path(events, 'echo-request'), replyPath: path(events, 'echo-reply'), answered: / 0% packet loss/.test(ping.stdout)};
}

export function renderTrace(r: TraceResult): string {
	const t0 = r.events[0]?.at ?? 0;
	const lines = r.events.map((e) => `${((e.at - t0) * 1000).toFixed(0).padStart(7)} µs  ${e.node.padEnd(11)} ${e.kind.padEnd(13)} ${e.decision.padEnd(22)} ${e.decision === 'received' ? 'from' : 'to'} ${e.port}`);
	return [
		`trace of echo id ${r.id}`,
		...lines,
		`request: ${r.requestPath.join(' → ') || '(not seen)'}`,
		`reply:   ${r.replyPath.join(' → ') || '(none)'}`,
		r.answered ? 'answered' : 'NOT answered',
	].join('\n');
}
