// Path MTU across the anycast network, as root: the default topology with a
// 1400-byte link between the Internet router and the boundary (prefix
// m<pid>-). Packet Too Big from routers the client cannot authenticate must
// still reach it, and the server must fit its stamped answers to the path:
// a 1450-byte ping crosses, tracepath finds the 1400-byte hop and reaches S,
// and a DNS answer of about 1,700 bytes arrives over UDP (in fragments) and
// over TCP (in segments sized to fit once stamped).
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {copyTopology} from '../../src/config/topology.js';
import {BIG_TXT} from '../../src/netns/setup.js';
import {isRoot, rootTest} from '../io/netns.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {bringUpNs} from '../../lab/nsnet.js';
import type {NsNet} from '../../lab/nsnet.js';

const test = rootTest('test/netns/pmtu.test.ts');
const S = '2001:db8:1:ac::53';
let net: NsNet | undefined;
let dir: string | undefined;

if (isRoot) {
	test.before(async () => {
		dir = mkdtempSync(join(tmpdir(), 'anyguard-pmtu-'));
		const file = copyTopology(DEFAULT_TOPOLOGY, 'ag-', join(dir, 'narrow.json'));
		const json = JSON.parse(readFileSync(file, 'utf8')) as {links: Array<{a: string; b: string; mtu?: number}>};
		json.links.find((l) => l.a === 'internet' && l.b === 'boundary')!.mtu = 1400;
		writeFileSync(file, JSON.stringify(json, null, 2));
		net = await bringUpNs(file, 'm');
	});
	test.after.always(async () => {
		await net?.down();
		if (dir) rmSync(dir, {recursive: true, force: true});
	});
}

test('a 1450-byte ping to S crosses the 1400-byte link: no loss once the path MTU is known', async (t) => {
	// The first tries teach both ends the path MTU (RFC 8201): lost, as on any network.
	net!.exec('client', ['ping', '-6', '-n', '-c', '3', '-i', '0.3', '-W', '1', '-s', '1450', S]);
	const r = net!.exec('client', ['ping', '-6', '-n', '-c', '10', '-i', '0.2', '-W', '2', '-s', '1450', S]);
	t.log(r.stdout.split('\n').filter((l) => /packets transmitted|rtt/.test(l)).join('\n'));
	t.regex(r.stdout, /10 packets transmitted, 10 received, 0% packet loss/);
	t.notRegex(r.stdout, /DUP!|errors/);
	t.regex(r.stdout, new RegExp(`1458 bytes from ${S}`), 'whole replies, from S');
	const server = (await net!.status('server-a')).counters;
	t.true(server.pmtuUpdates >= 1, 'server-a learned the path MTU from the Packet Too Big about its stamped answer');
	t.true(server.fragmented >= 10, `server-a sent its stamped answers in fragments (${server.fragmented})`);
	t.true((await net!.status('boundary')).counters.fragmentsForwarded >= 20, 'the boundary verified each whole and forwarded its fragments');
	const client = (await net!.status('client')).counters;
	t.is(client.drops['icmp-implausible'], 0, "the routers' Packet Too Big were believed");
	t.true(client.reassembled >= 10);
});

test('tracepath to S finds the 1400-byte hop, lists the routers and reaches S', (t) => {
	const r = net!.exec('client', ['tracepath', '-6', '-n', '-m', '10', S]);
	t.log(r.stdout);
	t.regex(r.stdout, /pmtu 1400/);
	const hops = [...r.stdout.matchAll(/^\s*(\d+):\s+(\S+)/gm)].map((m) => m[2]);
	for (const router of ['2001:db8:2::1', '2001:db8:1::1', '2001:db8:1:a::1']) t.true(hops.includes(router), `hop ${router}`);
	t.regex(r.stdout, /reached/);
});

const bigAnswer = (out: string) => out.trim().split(/\s+/).map((s) => s.replace(/"/g, ''));

test('a DNS answer of about 1,700 bytes arrives over UDP in fragments, and over TCP', (t) => {
	const udp = net!.exec('client', ['dig', '+short', '+time=2', '+tries=3', '+bufsize=4096', '+notcp', `@${S}`, 'TXT', 'big.anyguard']);
	t.deepEqual(bigAnswer(udp.stdout), BIG_TXT, udp.stdout + udp.stderr);
	const tcp = net!.exec('client', ['dig', '+short', '+time=3', '+tries=2', '+tcp', `@${S}`, 'TXT', 'big.anyguard']);
	t.deepEqual(bigAnswer(tcp.stdout), BIG_TXT, tcp.stdout + tcp.stderr);
	// The plain query, as any resolver asks it (EDNS 1232): truncated over UDP, retried over TCP.
	const plain = net!.exec('client', ['dig', '+short', '+time=3', '+tries=2', `@${S}`, 'TXT', 'big.anyguard']);
	t.deepEqual(bigAnswer(plain.stdout), BIG_TXT, plain.stdout + plain.stderr);
});
