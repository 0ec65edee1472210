// The performance chart: throughput and latency, anyguard against the kernel
// and the C relay measured in the same run, and every goal of the run with
// its value, its baseline and the same-run ratio, as a hand-written SVG.
// bench/run.ts writes it to bench/chart.svg and docs/performance.svg after a
// full run (every suite) only; `npx tsx bench/chart.ts` redraws it from
// bench/results.json, which only a full run writes.
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {meetsGoal} from './lib.js';
import type {Result} from './lib.js';

export const CHART = fileURLToPath(new URL('chart.svg', import.meta.url));
export const DOCS_CHART = fileURLToPath(new URL('../docs/performance.svg', import.meta.url));

interface Pair {
	label: string;
	kernel: number;
	/** The C relay of the same path, when measured. */
	relay?: number;
	ours: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(v: number, unit: string): string {
	if (unit === 'pps') return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M/s` : `${(v / 1e3).toFixed(0)}k/s`;
	return v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} µs`;
}

/** One panel of horizontal bar pairs; `log` draws a log10 axis (latencies differ by orders of magnitude). */
function panel(x: number, y: number, w: number, title: string, pairs: Pair[], unit: 'pps' | 'us', log: boolean): string {
	const labelW = 150;
	const barW = w - labelW - 90;
	const all = pairs.flatMap((p) => [p.kernel, p.ours, ...(p.relay !== undefined ? [p.relay] : [])]);
	const max = Math.max(...all);
	const min = log ? Math.max(1, Math.min(...all) / 2) : 0;
	const scale = (v: number) => (log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max * 1.05) - Math.log10(min)) : v / (max * 1.05)) * barW;
	const parts = [`<text x="${x}" y="${y}" class="ptitle">${esc(title)}</text>`];
	let row = y + 16;
	for (const p of pairs) {
		parts.push(`<text x="${x}" y="${row + 22}" class="label">${esc(p.label)}</text>`);
		const bars: Array<readonly [string, number, string]> = [['kernel', p.kernel, 'kernel'], ...(p.relay !== undefined ? [['C relay', p.relay, 'relay'] as const] : []), ['anyguard', p.ours, 'ours']];
		for (const [who, v, cls] of bars) {
			const bw = Math.max(1, scale(v));
			parts.push(`<rect x="${x + labelW}" y="${row}" width="${bw.toFixed(1)}" height="16" class="${cls}"><title>${who}: ${fmt(v, unit)}</title></rect>`);
			parts.push(`<text x="${(x + labelW + bw + 4).toFixed(1)}" y="${row + 12}" class="value">${fmt(v, unit)}</text>`);
			row += 19;
		}
		const ratio = p.ours / p.kernel;
		parts.push(`<text x="${x + labelW - 8}" y="${row - 4}" class="ratio" text-anchor="end">${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×</text>`);
		row += 14;
	}
	if (log) parts.push(`<text x="${x + labelW}" y="${row + 2}" class="note">log scale</text>`);
	return parts.join('\n');
}

function num(v: number, unit: string): string {
	if (unit === 'packets/s' || unit === 'pps') return fmt(v, 'pps');
	if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k ${unit}`;
	return `${Number.isInteger(v) ? v : v.toFixed(v < 10 ? 2 : 1)} ${unit}`;
}

/** Every goal of the run: the figure, its value, its baseline of the same run, the ratio, the goal, met or missed. */
function goalTable(x: number, y: number, goals: Result[]): string {
	const cols = [0, 240, 360, 600, 670, 815];
	const head = ['goal figure', 'this run', 'baseline (same run)', 'ratio', 'goal', ''];
	const parts = [`<text x="${x}" y="${y}" class="title">Goals of this run, each against its baseline measured in the same run</text>`];
	let row = y + 22;
	parts.push(head.map((h, i) => `<text x="${x + cols[i]!}" y="${row}" class="note">${esc(h)}</text>`).join(''));
	for (const r of goals) {
		row += 18;
		const met = meetsGoal(r);
		const cells = [
			r.name,
			num(r.value, r.unit),
			r.baseline ? `${r.baseline.name.replace(/^.*\.(?=[^.]+\.[^.]+$)/, '…')} ${num(r.baseline.value, r.unit === '×' ? '' : r.unit)}` : '',
			r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : '',
			r.goal ?? '',
		];
		parts.push(cells.map((c, i) => `<text x="${x + cols[i]!}" y="${row}" class="cell">${esc(c)}</text>`).join(''));
		parts.push(`<text x="${x + cols[5]!}" y="${row}" class="${met ? 'met' : 'missed'}">${met ? 'met' : 'MISSED'}</text>`);
	}
	return parts.join('\n');
}

/** The SVG for `results`; figures that are missing are left out. */
export function chartSvg(results: Result[], caption: string): string {
	const v = (name: string) => results.find((r) => r.name === name)?.value;
	const pair = (label: string, kernel: string, ours: string, relay?: string): Pair[] => {
		const a = v(kernel);
		const b = v(ours);
		const c = relay ? v(relay) : undefined;
		return a !== undefined && b !== undefined ? [{label, kernel: a, ours: b, ...(c !== undefined ? {relay: c} : {})}] : [];
	};
	const throughput = [
		...pair('one router process', 'node.forward.kernel.pps', 'node.forward.pps', 'node.forward.c_relay.pps'),
		...pair('client → S, 5 nodes', 'e2e.udp.kernel.pps', 'e2e.udp.pps', 'e2e.udp.c_relay.pps'),
	];
	const latency = [
		...pair('ping RTT p50', 'e2e.ping.kernel.rtt_p50_us', 'e2e.ping.rtt_p50_us', 'e2e.ping.c_relay.rtt_p50_us'),
		...pair('ping RTT p99', 'e2e.ping.kernel.rtt_p99_us', 'e2e.ping.rtt_p99_us', 'e2e.ping.c_relay.rtt_p99_us'),
		...pair('per node crossed, p50', 'e2e.hop.kernel_us_p50', 'e2e.hop.added_us_p50', 'e2e.hop.c_relay_us_p50'),
	];
	const rowsH = (ps: Pair[]) => ps.reduce((h, p) => h + 14 + 19 * (p.relay !== undefined ? 3 : 2), 16);
	const goals = results.filter((r) => r.goal);
	const W = 900;
	const top = 80;
	const panelsH = Math.max(rowsH(throughput), rowsH(latency)) + 20;
	const goalsY = top + panelsH + 20;
	const H = goalsY + 40 + goals.length * 18 + 40;
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<style>
.title { font-size: 15px; font-weight: bold; fill: #222; }
.ptitle { font-size: 13px; font-weight: bold; fill: #222; }
.label { font-size: 12px; fill: #222; }
.value { font-size: 11px; fill: #333; }
.ratio { font-size: 11px; fill: #666; }
.note { font-size: 10px; fill: #888; }
.kernel { fill: #8c9aa8; }
.ours { fill: #2f7ed8; }
.relay { fill: #d9a441; }
.met { fill: #2e8b57; font-size: 11px; font-weight: bold; }
.missed { fill: #c0392b; font-size: 11px; font-weight: bold; }
.cell { font-size: 11px; fill: #222; }
</style>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="20" y="24" class="title">anyguard against the Linux kernel and a C relay on the same topology, same run</text>
<rect x="20" y="36" width="12" height="12" class="kernel"/><text x="38" y="46" class="label">kernel forwarding</text>
<rect x="160" y="36" width="12" height="12" class="relay"/><text x="178" y="46" class="label">C relay, one process per node</text>
<rect x="370" y="36" width="12" height="12" class="ours"/><text x="388" y="46" class="label">anyguard</text>
${panel(20, top, 430, 'Throughput, 100-byte UDP payloads (higher is better)', throughput, 'pps', false)}
${panel(460, top, 430, 'Latency (lower is better)', latency, 'us', true)}
${goalTable(20, goalsY, goals)}
<text x="20" y="${H - 12}" class="note">${esc(caption)}</text>
</svg>
`;
}

/** Writes bench/chart.svg and docs/performance.svg. */
export function writeChart(results: Result[], caption: string): void {
	writeFileSync(CHART, chartSvg(results, caption));
	copyFileSync(CHART, DOCS_CHART);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const file = fileURLToPath(new URL('results.json', import.meta.url));
	const json = JSON.parse(readFileSync(file, 'utf8')) as {date: string; machine: {cpus: number; model: string; node: string}; results: Result[]; complete?: boolean};
	if (json.complete === false) throw new Error(`${file} holds a partial run: the chart is drawn from full runs only (npm run bench)`);
	writeChart(json.results, `${json.date}, ${json.machine.cpus} × ${json.machine.model}, Node ${json.machine.node}; ratios are ours / kernel (bench/results.json)`);
	console.log(`wrote ${CHART} and ${DOCS_CHART}`);
}
