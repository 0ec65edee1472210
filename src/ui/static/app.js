// The live view's page: draws the topology once with cytoscape.js, then
// applies each snapshot the server streams (GET /api/events): node state,
// BFD per link, the path to S from each client, counters and drop reasons.
'use strict';

const TOKEN = document.body.dataset.token;
const ROLE = {
	client: {color: '#cfe8ff', shape: 'round-rectangle'},
	terminal: {color: '#e6f2ff', shape: 'round-rectangle'},
	attacker: {color: '#ffd6d6', shape: 'round-rectangle'},
	router: {color: '#eeeeee', shape: 'ellipse'},
	boundary: {color: '#ffe9b3', shape: 'octagon'},
	server: {color: '#d8f5d0', shape: 'barrel'},
};
const edgeId = (a, b) => [a, b].sort().join('--');
const $ = (sel) => document.querySelector(sel);
const history = []; // [{at, drops: {node: {reason: n}}}] for "rising in the last 10 s"

async function post(path) {
	const res = await fetch(path, {method: 'POST', headers: {'x-anyguard-token': TOKEN}});
	const body = await res.json();
	if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
	return body;
}

function draw(topo) {
	$('#net').textContent = `${topo.name}: S = ${topo.groups[0] ? topo.groups[0].anycast : '—'}`;
	const elements = [
		...topo.nodes.map((n) => ({data: {id: n.name, label: `${n.name}\n${n.address}`, role: n.role}})),
		...topo.links.map((l) => ({data: {id: edgeId(l.a, l.b), source: l.a, target: l.b, label: `cost ${l.cost}`}})),
	];
	const cy = cytoscape({
		container: $('#graph'),
		elements,
		// Levels from the outside in: the client and the attacker first, then breadth first across the links.
		layout: {name: 'breadthfirst', roots: topo.nodes.filter((n) => n.role === 'client' || n.role === 'attacker').map((n) => `#${CSS.escape(n.name)}`).join(', '), spacingFactor: 1.1, padding: 24, directed: false},
		autoungrabify: false,
		style: [
			{selector: 'node', style: {label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'font-size': 10, width: 118, height: 40, 'border-width': 1, 'border-color': '#8c959f'}},
			...Object.entries(ROLE).map(([role, s]) => ({selector: `node[role = "${role}"]`, style: {'background-color': s.color, shape: s.shape}})),
			{selector: 'node.down', style: {'background-color': '#d0d7de', color: '#57606a', 'border-style': 'dashed'}},
			{selector: 'node.path', style: {'border-width': 3, 'border-color': '#1f6feb'}},
			{selector: 'edge', style: {label: 'data(label)', 'font-size': 9, 'text-background-color': '#fff', 'text-background-opacity': 1, width: 2, 'line-color': '#8c959f', 'curve-style': 'bezier'}},
			{selector: 'edge.up', style: {'line-color': '#2da44e'}},
			{selector: 'edge.notup', style: {'line-color': '#cf222e', 'line-style': 'dashed'}},
			{selector: 'edge.path', style: {width: 6, 'line-color': '#1f6feb'}},
		],
	});
	window.cy = cy; // for the headless test, and for a curious user's console
	for (const a of topo.attacks) $('#attack').append(new Option(`${a.kind}: ${a.summary} (→ ${a.droppedAt}, ${a.reason})`, a.kind));
	const servers = [...new Set(topo.groups.flatMap((g) => g.servers))];
	for (const s of servers) $('#server').append(new Option(s, s));
	return cy;
}

function apply(cy, state) {
	const down = new Set(state.nodes.filter((n) => !n.up).map((n) => n.name));
	cy.nodes().forEach((n) => n.toggleClass('down', down.has(n.id())));
	// BFD per link: the state either end reports (Up only if both say so).
	const bfd = new Map();
	for (const n of state.nodes) for (const b of n.bfd || []) {
		const id = edgeId(n.name, b.link);
		bfd.set(id, (bfd.get(id) ?? true) && b.state === 'Up');
	}
	cy.edges().forEach((e) => {
		const up = bfd.get(e.id());
		e.toggleClass('up', up === true && !down.has(e.source().id()) && !down.has(e.target().id()));
		e.toggleClass('notup', up !== true);
	});
	cy.elements().removeClass('path');
	for (const path of Object.values(state.paths)) {
		path.forEach((n, i) => {
			cy.$id(n).addClass('path');
			if (i > 0) cy.$id(edgeId(path[i - 1], n)).addClass('path');
		});
	}
	const last = Object.values(state.probes)[0];
	const probe = $('#probe');
	probe.textContent = last ? (last.lost ? 'probe: lost' : `probe: answered by ${last.answer} in ${last.rttMs} ms`) : 'probe: …';
	probe.className = `pill ${last && !last.lost ? 'ok' : last ? 'bad' : ''}`;
	probe.dataset.answer = last && !last.lost ? last.answer : '';

	const tbody = $('#nodes tbody');
	tbody.replaceChildren(
		...state.nodes.map((n) => {
			const tr = document.createElement('tr');
			tr.dataset.node = n.name;
			if (!n.up) tr.className = 'down';
			const dropped = Object.values(n.drops || {}).reduce((a, b) => a + b, 0);
			const c = n.counters || {};
			const cells = [n.name, n.role, n.up ? 'up' : n.stopped ? 'stopped' : 'down', c.forwarded ?? '', c.stamped ?? '', c.verified ?? '', n.up ? dropped : ''];
			for (const [i, v] of cells.entries()) {
				const td = document.createElement('td');
				td.textContent = String(v);
				if (i >= 3) td.className = 'num';
				if (i === 6) td.dataset.dropped = String(dropped);
				tr.append(td);
			}
			return tr;
		}),
	);
	// Drop reasons, the ones that rose in the last 10 s marked.
	const now = state.at;
	history.push({at: now, drops: Object.fromEntries(state.nodes.map((n) => [n.name, n.drops || {}]))});
	while (history.length > 1 && history[0].at < now - 10_000) history.shift();
	const then = history[0].drops;
	const rows = state.nodes.flatMap((n) => Object.entries(n.drops || {}).map(([reason, count]) => ({node: n.name, reason, count, rising: count > ((then[n.name] || {})[reason] || 0)})));
	rows.sort((a, b) => Number(b.rising) - Number(a.rising) || b.count - a.count);
	$('#drops tbody').replaceChildren(
		...rows.map((r) => {
			const tr = document.createElement('tr');
			tr.dataset.node = r.node;
			tr.dataset.reason = r.reason;
			if (r.rising) tr.className = 'rising';
			for (const [i, v] of [r.node, r.reason, r.count].entries()) {
				const td = document.createElement('td');
				td.textContent = String(v);
				if (i === 2) td.className = 'num';
				tr.append(td);
			}
			return tr;
		}),
	);
}

async function main() {
	const topo = await (await fetch('/api/topology')).json();
	const cy = draw(topo);
	const events = new EventSource('/api/events');
	events.onopen = () => {
		$('#conn').textContent = 'live';
		$('#conn').className = 'pill ok';
	};
	events.onerror = () => {
		$('#conn').textContent = 'reconnecting…';
		$('#conn').className = 'pill bad';
	};
	events.onmessage = (e) => apply(cy, JSON.parse(e.data));
	const result = $('#result');
	const busy = async (what, f) => {
		result.textContent = `${what} …`;
		try {
			result.textContent = await f();
		} catch (error) {
			result.textContent = `${what}: ${error.message}`;
		}
	};
	$('#run-attack').onclick = () =>
		busy(`attack ${$('#attack').value}`, async () => {
			const r = await post(`/api/attack/${encodeURIComponent($('#attack').value)}`);
			return `${r.kind}: ${r.dropped} of ${r.sent} forged packets dropped at ${r.at} (${r.reason}); the victim got ${r.victim.received}/${r.victim.transmitted} genuine replies${r.victim.duplicates ? `, ${r.victim.duplicates} duplicates` : ''}`;
		});
	$('#stop-server').onclick = () => busy(`stop ${$('#server').value}`, async () => `${(await post(`/api/stop/${encodeURIComponent($('#server').value)}`)).stopped} stopped: watch S move`);
	$('#start-server').onclick = () => busy(`start ${$('#server').value}`, async () => `${(await post(`/api/start/${encodeURIComponent($('#server').value)}`)).started} starting: watch S come back`);
}

main().catch((error) => {
	$('#result').textContent = `the view failed: ${error.message}`;
});
