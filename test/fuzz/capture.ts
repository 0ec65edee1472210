// Captures the fuzzers' seed corpus from the running network (run once, as
// root: `npx tsx test/fuzz/capture.ts`). Brings the default topology up in
// namespaces (prefix k<pid>-, no host link), runs tcpdump on TUNs and on the
// boundary's veths while real traffic flows — ping, dig, tracepath and every
// row of the attack table — and writes what it saw, one packet per hex line,
// to test/fixtures/corpus/<node>-<device>.hex. Veth captures are the UDP
// underlay: the inner IPv6 packet is what is kept.
import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {runAttack} from '../../src/cli/attack.js';
import {UNDERLAY_OVERHEAD} from '../../src/netns/names.js';
import {ATTACKS} from '../../src/roles/attacker.js';
import type {AttackKind} from '../../src/roles/attacker.js';
import {readPcap} from '../../src/wire/index.js';
import {DEFAULT_TOPOLOGY} from '../helpers/net.js';
import {bringUpNs} from '../../lab/nsnet.js';

const out = fileURLToPath(new URL('../fixtures/corpus/', import.meta.url));
const points: Array<[string, string, boolean]> = [
	['client', 'tun0', false],
	['server-a', 'tun0', false],
	['attacker', 'tun0', false],
	['boundary', 'to-internet', true],
	['boundary', 'to-router-a', true],
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const net = await bringUpNs(DEFAULT_TOPOLOGY, 'k');
try {
	const dumps = points.map(([node, dev]) => {
		const file = join(net.stateRoot, `${node}-${dev}.pcap`);
		const child = spawn('ip', ['netns', 'exec', net.ns(node), 'tcpdump', '-i', dev, '-U', '-n', '-w', file], {stdio: 'ignore'});
		return {node, dev, file, child};
	});
	await sleep(1500);
	const S = '2001:db8:1:ac::53';
	net.exec('client', ['ping', '-6', '-n', '-c', '3', '-i', '0.2', '-s', '1200', S]);
	net.exec('client', ['ping', '-6', '-n', '-c', '3', '-i', '0.2', '2001:db8:1:ac::54']);
	net.exec('terminal-b', ['ping', '-6', '-n', '-c', '2', '-i', '0.2', S]);
	net.exec('client', ['dig', '+short', '+time=1', '+tries=1', `@${S}`, 'TXT', 'whoami.anyguard']);
	net.exec('client', ['dig', '+short', '+time=1', '+tries=1', `@${S}`, 'A', 'nothing.anyguard']);
	net.exec('client', ['tracepath', '-6', '-n', '-m', '6', S], undefined, 20_000);
	for (const kind of Object.keys(ATTACKS) as AttackKind[]) {
		try {
			await runAttack(net.topology, kind, {count: 1, stateRoot: net.stateRoot});
		} catch (error) {
			console.error(`attack ${kind}: ${(error as Error).message}`);
		}
	}
	await sleep(1000);
	for (const d of dumps) d.child.kill('SIGINT');
	await sleep(1000);
	for (const d of dumps) {
		const {packets} = readPcap(readFileSync(d.file), {partial: true});
		const seen = new Set<string>();
		for (const p of packets) {
			let bytes = p.data;
			if (d.dev !== 'tun0') {
				if (bytes.length <= UNDERLAY_OVERHEAD || bytes[6] !== 17) continue; // not the UDP underlay
				bytes = bytes.subarray(UNDERLAY_OVERHEAD);
			}
			if (bytes.length < 40 || bytes[0]! >> 4 !== 6) continue;
			seen.add(Buffer.from(bytes).toString('hex'));
			if (seen.size >= 300) break;
		}
		const name = `${d.node}-${d.dev}.hex`;
		writeFileSync(join(out, name), `# ${d.node} ${d.dev}: ${seen.size} distinct IPv6 packets from the running default network (test/fuzz/capture.ts)\n${[...seen].join('\n')}\n`);
		console.log(`${name}: ${seen.size} packets`);
	}
} finally {
	await net.down();
}
