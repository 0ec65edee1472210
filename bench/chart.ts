// The performance chart: throughput and latency, anyguard against the kernel
// measured in the same run, as a hand-written SVG. bench/run.ts writes it to
// bench/chart.svg and docs/performance.svg after the network suites;
// `npx tsx bench/chart.ts` redraws it from bench/results.json.
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import type {Result} from './lib.js';

export const CHART = fileURLToPath(new URL('chart.svg', import.meta.url));
export const DOCS_CHART = fileURLToPath(new URL('../docs/performance.svg', import.meta.url));

interface Pair {
	label: string;
	kernel: number;
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
	const max = Math.max(...pairs.flatMap((p) => [p.kernel, p.ours]));
	const min = log ? Math.max(1, Math.min(...pairs.flatMap((p) => [p.kernel, p.ours])) / 2) : 0;
	const scale = (v: number) => (log ? (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max * 1.05) - Math.log10(min)) : v / (max * 1.05)) * barW;
	const parts = [`<text x="${x}" y="${y}" class="title">${esc(title)}</text>`];
	let row = y + 16;
	for (const p of pairs) {
		parts.push(`<text x="${x}" y="${row + 22}" class="label">${esc(p.label)}</text>`);
		for (const [who, v, cls] of [
			['kernel', p.kernel, 'kernel'],
			['anyguard', p.ours, 'ours'],
		] as const) {
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

/** The SVG for `results`; figures that are missing are left out. */
export function chartSvg(results: Result[], caption: string): string {
	const v = (name: string) => results.find((r) => r.name === name)?.value;
	const pair = (label: string, kernel: string, ours: string): Pair[] => {
		const a = v(kernel);
		const b = v(ours);
		return a !== undefined && b !== undefined ? [{label, kernel: a, ours: b}] : [];
	};
	const throughput = [...pair('one router process', 'node.forward.kernel.pps', 'node.forward.pps'), ...pair('client → S, 5 nodes', 'e2e.udp.kernel.pps', 'e2e.udp.pps')];
	const latency = [...pair('ping RTT p50', 'e2e.ping.kernel.rtt_p50_us', 'e2e.ping.rtt_p50_us'), ...pair('ping RTT p99', 'e2e.ping.kernel.rtt_p99_us', 'e2e.ping.rtt_p99_us'), ...pair('per node crossed, p50', 'e2e.hop.kernel_us_p50', 'e2e.hop.added_us_p50')];
	const W = 900;
	const H = 60 + Math.max(throughput.length, latency.length) * 52 + 60;
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<style>
.title { font-size: 15px; font-weight: bold; fill: #222; }
.label { font-size: 12px; fill: #222; }
.value { font-size: 11px; fill: #333; }
.ratio { font-size: 11px; fill: #666; }
.note { font-size: 10px; fill: #888; }
.kernel { fill: #8c9aa8; }
.ours { fill: #2f7ed8; }
</style>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="20" y="24" class="title">anyguard against the Linux kernel on the same topology, same run</text>
<rect x="560" y="12" width="12" height="12" class="kernel"/><text x="578" y="22" class="label">kernel forwarding</text>
<rect x="700" y="12" width="12" height="12" class="ours"/><text x="718" y="22" class="label">anyguard (userspace)</text>
${panel(20, 56, 430, 'Throughput, 100-byte UDP payloads (higher is better)', throughput, 'pps', false)}
${panel(460, 56, 430, 'Latency (lower is better)', latency, 'us', true)}
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
	const json = JSON.parse(readFileSync(file, 'utf8')) as {date: string; machine: {cpus: number; model: string; node: string}; results: Result[]};
	writeChart(json.results, `${json.date}, ${json.machine.cpus} × ${json.machine.model}, Node ${json.machine.node}; ratios are ours / kernel (bench/results.json)`);
	console.log(`wrote ${CHART} and ${DOCS_CHART}`);
}
