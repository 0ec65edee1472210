/// <reference lib="dom" />
// The live view in headless Chromium (Debian's chromium, driven by
// playwright-core) against the running default network: every node drawn,
// an attack run from the page moves the drop counter on the page, a failover
// drill moves the path to S, and a screenshot is saved
// (ANYGUARD_UI_SCREENSHOT=docs/ui.png writes the README's).
import {existsSync, mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';
import type {Browser, Page} from 'playwright-core';
import {startUi} from '../../src/ui/server.js';
import type {UiServer} from '../../src/ui/server.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {bringUpNs} from '../../lab/nsnet.js';
import type {NsNet} from '../../lab/nsnet.js';
import {isRoot, rootTest} from '../io/netns.js';

const test = rootTest('test/ui/ui.test.ts');
const CHROMIUM = '/usr/bin/chromium';
let net: NsNet | undefined;
let ui: UiServer | undefined;
let browser: Browser | undefined;
let page: Page;

declare global {
	interface Window {
		cy: {nodes(): {length: number; map<T>(f: (n: {id(): string; renderedBoundingBox(): {x1: number; y1: number; x2: number; y2: number}}) => T): T[]}; width(): number; height(): number; $id(id: string): {hasClass(c: string): boolean}};
	}
}

if (isRoot) {
	test.before(async () => {
		if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
		net = await bringUpNs(DEFAULT_TOPOLOGY, 'w');
		ui = await startUi(net.topology, {port: 0, stateRoot: net.stateRoot});
		// As the environment notes say: no sandbox as root, and no background networking on a closed network.
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			headless: true,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
		});
		page = await browser.newPage({viewport: {width: 1400, height: 820}});
		await page.goto(ui.url);
	});
	test.after.always(async () => {
		await browser?.close();
		await ui?.close();
		await net?.down();
	});
}

const dropped = (node: string) => page.$eval(`#nodes tr[data-node="${node}"] td[data-dropped]`, (td) => Number((td as HTMLElement).dataset.dropped));

test('the page draws all ten nodes inside the view, live, with the path to S through server-a', async (t) => {
	await page.waitForFunction(() => window.cy !== undefined && window.cy.nodes().length === 10, undefined, {timeout: 20_000});
	const inside = await page.evaluate(() => window.cy.nodes().map((n) => {
		const b = n.renderedBoundingBox();
		return {id: n.id(), ok: b.x1 >= 0 && b.y1 >= 0 && b.x2 <= window.cy.width() && b.y2 <= window.cy.height()};
	}));
	t.is(inside.length, 10);
	t.deepEqual(inside.filter((n) => !n.ok), [], 'every node is drawn inside the view');
	await page.waitForSelector('#nodes tbody tr:nth-child(10)', {timeout: 20_000});
	t.is(await page.$$eval('#nodes tbody tr', (rows) => rows.length), 10, 'a row per node');
	await page.waitForFunction(() => window.cy.$id('server-a').hasClass('path'), undefined, {timeout: 20_000});
	t.false(await page.evaluate(() => window.cy.$id('server-b').hasClass('path')));
	await page.waitForFunction(() => (document.querySelector('#probe') as HTMLElement).dataset.answer === 'server-a', undefined, {timeout: 20_000});
	t.is(await page.textContent('#conn'), 'live');
});

test('an attack run from the page moves the drop counter on the page', async (t) => {
	await page.waitForSelector('#nodes tr[data-node="client"] td[data-dropped]', {timeout: 20_000});
	const before = await dropped('client');
	await page.selectOption('#attack', 'no-id');
	await page.click('#run-attack');
	await page.waitForFunction(() => /dropped at client/.test(document.querySelector('#result')!.textContent ?? ''), undefined, {timeout: 60_000});
	t.regex((await page.textContent('#result'))!, /no-id: 3 of 3 forged packets dropped at client \(id-missing\)/);
	await page.waitForFunction((b) => Number((document.querySelector('#nodes tr[data-node="client"] td[data-dropped]') as HTMLElement).dataset.dropped) >= b + 3, before, {timeout: 20_000});
	t.true((await dropped('client')) >= before + 3);
	t.truthy(await page.$('#drops tr.rising[data-node="client"][data-reason="id-missing"]'), 'the reason is marked rising');
	const dir = process.env.ANYGUARD_UI_SCREENSHOT ? undefined : mkdtempSync(join(tmpdir(), 'anyguard-ui-'));
	const file = process.env.ANYGUARD_UI_SCREENSHOT ?? join(dir!, 'ui.png');
	try {
		await page.screenshot({path: file});
		t.true(statSync(file).size > 20_000, `a screenshot of ${statSync(file).size} bytes`);
	} finally {
		if (dir) rmSync(dir, {recursive: true, force: true});
	}
});

test('a failover drill from the page: server-a stops, the path and the probe move to server-b, and come back', async (t) => {
	await page.selectOption('#server', 'server-a');
	await page.click('#stop-server');
	await page.waitForFunction(() => window.cy.$id('server-b').hasClass('path') && !window.cy.$id('server-a').hasClass('path'), undefined, {timeout: 30_000});
	await page.waitForFunction(() => (document.querySelector('#probe') as HTMLElement).dataset.answer === 'server-b', undefined, {timeout: 30_000});
	// A stopped server withdraws S before its process is gone: the path can move a snapshot before the row says so.
	await page.waitForFunction(() => /stopped/.test(document.querySelector('#nodes tr[data-node="server-a"]')?.textContent ?? ''), undefined, {timeout: 10_000});
	t.regex((await page.textContent('#nodes tr[data-node="server-a"]'))!, /stopped/);
	await page.click('#start-server');
	await page.waitForFunction(() => window.cy.$id('server-a').hasClass('path'), undefined, {timeout: 60_000});
	t.pass('S is back on server-a');
});

test('the server answers only its own Host, and actions only with the page\'s token', async (t) => {
	const url = new URL(ui!.url);
	const port = url.port;
	const http = await import('node:http');
	const status = (path: string, method: string, headers: Record<string, string>) =>
		new Promise<number>((resolve, reject) => {
			const req = http.request({host: '127.0.0.1', port, path, method, headers}, (res) => {
				res.resume();
				resolve(res.statusCode ?? 0);
			});
			req.on('error', reject);
			req.end();
		});
	t.is(await status('/api/topology', 'GET', {host: `127.0.0.1:${port}`}), 200);
	t.is(await status('/api/topology', 'GET', {host: `evil.example:${port}`}), 421, 'a rebinding name is refused');
	t.is(await status('/api/stop/server-a', 'POST', {host: `127.0.0.1:${port}`}), 403, 'no token, no action');
	t.is(await status('/api/stop/server-a', 'POST', {host: `127.0.0.1:${port}`, 'x-anyguard-token': 'guess'}), 403);
});
