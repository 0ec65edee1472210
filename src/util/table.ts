// Columns for people: each padded to its widest cell, two spaces apart, no
// trailing blanks. `anyguard status` and `anyguard catchment` print with it.

/** `header` and `rows` as aligned lines; a row shorter than the header leaves its last columns empty. */
export function table(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	return [header, ...rows].map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
