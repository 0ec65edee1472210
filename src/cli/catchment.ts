// `anyguard catchment`: which server of S answers each client (by DNS TXT,
// as `probe` asks), beside the server the topology's link costs predict; with
// --fail, the same after one site stops: the shift a withdrawal causes, as in
// the anycast catchment studies (Verfploeter, IMC 2017).
import {spawn} from 'node:child_process';
import type {Topology} from '../config/topology.js';
import {predictCatchment} from '../config/generate.js';
import {namespace} from '../netns/names.js';
import {startNode, stopNode} from '../netns/drill.js';
import {table} from '../util/table.js';

export interface CatchmentRow {
	client: string;
	/** The server that answered, or '' when none did. */
	answered: string;
	/** The servers nearest by link cost (several on a tie), and that cost. */
	predicted: string[];
	cost: number;
	matches: boolean;
}

export interface CatchmentReport {
	anycast: string;
	rows: CatchmentRow[];
	/** With --fail: the server stopped, the rows after, and the clients that moved. */
	failed?: {server: string; rows: CatchmentRow[]; moved: Array<{client: string; from: string; to: string}>; settledMs: number};
}

function dig(ns: string, anycast: string): Promise<string> {
	return new Promise((resolve) => {
		const p = spawn('ip', ['netns', 'exec', ns, 'dig', '+short', '+time=1', '+tries=2', `@${anycast}`, 'TXT', 'whoami.anyguard'], {stdio: ['ignore', 'pipe', 'ignore']});
		let out = '';
		p.stdout.on('data', (d: Buffer) => (out += d.toString()));
		p.once('error', () => resolve(''));
		p.once('exit', () => resolve(out.trim().split('\n')[0]!.replace(/"/g, '')));
	});
}

/** Asks S from every client of the group, a few at a time; returns the rows against the prediction. */
async function measure(t: Topology, predicted: Map<string, {servers: string[]; cost: number}>, onProgress: (done: number, total: number) => void): Promise<CatchmentRow[]> {
	const group = t.groups[0]!;
	const clients = [...predicted.keys()];
	const answers = new Map<string, string>();
	let next = 0;
	const worker = async () => {
		while (next < clients.length) {
			const c = clients[next++]!;
			answers.set(c, await dig(namespace(t, c), group.anycast));
			onProgress(answers.size, clients.length);
		}
	};
	await Promise.all(Array.from({length: Math.min(8, clients.length)}, worker));
	return clients.map((c) => {
		const p = predicted.get(c)!;
		const answered = answers.get(c) ?? '';
		return {client: c, answered, predicted: p.servers, cost: p.cost, matches: p.servers.includes(answered)};
	});
}

export interface CatchmentOptions {
	stateRoot?: string;
	fail?: string;
	/** How long to wait, at most, for routing to settle after --fail (default 15 s). */
	settleMs?: number;
	progress?: (line: string) => void;
}

export async function catchment(t: Topology, o: CatchmentOptions = {}): Promise<CatchmentReport> {
	const group = t.groups[0]!;
	const say = o.progress ?? (() => {});
	const progress = (what: string) => (done: number, total: number) => say(`${what}: ${done}/${total} clients answered`);
	const rows = await measure(t, predictCatchment(t, group), progress('asking S'));
	const report: CatchmentReport = {anycast: group.anycast, rows};
	if (o.fail === undefined) return report;
	const server = o.fail;
	const without = predictCatchment(t, {...group, servers: group.servers.filter((s) => s !== server)});
	stopNode(t, server, o.stateRoot);
	const started = Date.now();
	try {
		// Settled when no client is answered by the stopped server, or by nobody, and the answers hold twice in a row.
		let after = await measure(t, without, progress(`${server} stopped`));
		for (let previous = ''; Date.now() - started < (o.settleMs ?? 15_000); ) {
			const now = JSON.stringify(after.map((r) => r.answered));
			if (now === previous && after.every((r) => r.answered !== '' && r.answered !== server)) break;
			previous = now;
			await new Promise((r) => setTimeout(r, 500));
			after = await measure(t, without, progress(`${server} stopped`));
		}
		const before = new Map(rows.map((r) => [r.client, r.answered]));
		report.failed = {
			server, rows: after, settledMs: Date.now() - started,
			moved: after.filter((r) => r.answered !== before.get(r.client)).map((r) => ({client: r.client, from: before.get(r.client) ?? '', to: r.answered})),
		};
	} finally {
		startNode(t, server, o.stateRoot);
		say(`${server} started again`);
	}
	return report;
}

/** Whether every client answered, by a predicted server, before and (with --fail) after. */
export function catchmentHolds(r: CatchmentReport): boolean {
	return r.rows.every((x) => x.matches) && (r.failed?.rows.every((x) => x.matches) ?? true);
}

function rowsTable(rows: CatchmentRow[]): string {
	return table(
		['client', 'answered by', 'predicted (link cost)', ''],
		rows.map((r) => [r.client, r.answered || '(no answer)', `${r.predicted.join(' or ')} (${r.cost})`, r.matches ? 'ok' : 'DIFFERS']),
	);
}

function sizes(rows: CatchmentRow[]): string {
	const count = new Map<string, number>();
	for (const r of rows) count.set(r.answered || '(none)', (count.get(r.answered || '(none)') ?? 0) + 1);
	return [...count].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${n}`).join(', ');
}

export function renderCatchment(r: CatchmentReport): string {
	const out = [`catchment of ${r.anycast}: ${sizes(r.rows)}`, rowsTable(r.rows)];
	if (r.failed) {
		const f = r.failed;
		out.push('', `with ${f.server} stopped (settled in ${(f.settledMs / 1000).toFixed(1)} s): ${sizes(f.rows)}`, rowsTable(f.rows));
		out.push('', f.moved.length === 0 ? 'no client moved' : `${f.moved.length} client${f.moved.length === 1 ? '' : 's'} moved: ${f.moved.map((m) => `${m.client} ${m.from} → ${m.to}`).join(', ')}`);
	}
	out.push('', catchmentHolds(r) ? 'every client is answered by a server its link costs predict' : 'some clients are answered by a server their link costs do not predict (marked DIFFERS)');
	return out.join('\n');
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The topology picture (`dot`) with each site's server and the clients it answers in one colour. */
export function colourDot(dot: string, servers: string[], rows: CatchmentRow[]): string {
	const colour = new Map(servers.map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
	const lines = [
		...servers.map((s) => `  "${s}" [style=filled, fillcolor="${colour.get(s)}", fontcolor=white];`),
		...rows.map((r) => `  "${r.client}" [style=filled, fillcolor="${colour.get(r.answered) ?? '#ffffff'}"${colour.has(r.answered) ? ', fontcolor=white' : ''}];`),
	];
	const end = dot.lastIndexOf('}');
	return `${dot.slice(0, end)}${lines.join('\n')}\n}\n`;
}
