// anyguard catchment's report and map, from rows (the measuring needs a
// running network: it is the DNS query probe makes, in each client's namespace).
import test from 'ava';
import {catchmentHolds, colourDot, renderCatchment} from '../../src/cli/catchment.js';
import type {CatchmentReport} from '../../src/cli/catchment.js';

const rows = [
	{client: 'c1', answered: 'srv1', predicted: ['srv1'], cost: 3, matches: true},
	{client: 'c2', answered: 'srv2', predicted: ['srv1', 'srv2'], cost: 4, matches: true},
];

test('the report names each client, who answered and who was predicted; it holds only when every row matches', (t) => {
	const r: CatchmentReport = {anycast: '2001:db8:1:ac::53', rows};
	t.true(catchmentHolds(r));
	const text = renderCatchment(r);
	t.regex(text, /catchment of 2001:db8:1:ac::53: srv1 1, srv2 1/);
	t.regex(text, /c2\s+srv2\s+srv1 or srv2 \(4\)\s+ok/);
	const failed: CatchmentReport = {...r, failed: {server: 'srv1', settledMs: 1200, rows: [{...rows[0]!, answered: '', matches: false}, rows[1]!], moved: [{client: 'c1', from: 'srv1', to: ''}]}};
	t.false(catchmentHolds(failed));
	t.regex(renderCatchment(failed), /with srv1 stopped \(settled in 1\.2 s\)[\s\S]*c1\s+\(no answer\)[\s\S]*DIFFERS/);
});

test('the map colours each client as the server that answered it, and leaves the unanswered white', (t) => {
	const dot = colourDot('graph g {\n  "c1";\n}\n', ['srv1', 'srv2'], [...rows, {client: 'c3', answered: '', predicted: ['srv1'], cost: 2, matches: false}]);
	const fill = (n: string) => new RegExp(`"${n}" \\[style=filled, fillcolor="([^"]+)"`).exec(dot)?.[1];
	t.is(fill('c1'), fill('srv1'));
	t.is(fill('c2'), fill('srv2'));
	t.not(fill('srv1'), fill('srv2'));
	t.is(fill('c3'), '#ffffff');
	t.true(dot.trimEnd().endsWith('}'));
});
