// `anyguard demo`: a narrated run on the network `up` made. Pings S and says
// which server answered and who verified it; runs attacks and shows where
// each was dropped; stops server-a and times the failover to server-b; then
// restores it.
import {spawnSync} from 'node:child_process';
import {rmSync, writeFileSync, readFileSync} from 'node:fs';
import type {Topology} from '../config/topology.js';
import {queryStatus} from '../ops/control.js';
import {files, namespace, stateDir} from '../netns/names.js';
import {ATTACKS} from '../roles/attacker.js';
import type {AttackKind} from '../roles/attacker.js';
import {runAttack} from './attack.js';
import {watchProbe} from './probe.js';
import {selfCommand} from '../netns/setup.js';

const SHOWN: AttackKind[] = [
	'no-id', 'forged-tag', 'forged-tag-inside', 'wrong-group', 'replay', 'replay-other-client', 'spoof-server', 'insider-src-s', 'insider-claim', 'misplaced-id',
	// issue 12
	'nested-fragment', 'from-s-no-flow', 'forged-unreachable', 'forged-ptb', 'reflection', 'routing-header-moved', 'insider-forged-stamp', 'stolen-key-unprovisioned', 'bfd-flood',
];

export async function runDemo(t: Topology, o: {stateRoot?: string; out?: (line: string) => void} = {}): Promise<boolean> {
	const say = o.out ?? ((line: string) => console.log(line));
	const state = stateDir(t, o.stateRoot);
	const client = t.nodes.find((n) => n.role === 'client');
	const group = t.groups.find((g) => g.name === client?.groups?.[0]) ?? t.groups[0];
	if (!client || !group) throw new Error(`${t.file} has no client or no anycast group`);
	const S = group.anycast;
	const inClient = (...args: string[]) => spawnSync('ip', ['netns', 'exec', namespace(t, client.name), ...args], {encoding: 'utf8', timeout: 30_000});
	const who = () => inClient('dig', '+short', '+time=1', '+tries=1', `@${S}`, 'TXT', 'whoami.anyguard').stdout.trim().replace(/"/g, '');
	const counters = async (node: string) => (await queryStatus(files.socket(state, node))).counters;
	let ok = true;

	say(`\n1. The client pings the anycast address S = ${S}`);
	const before = {stamped: await Promise.all(group.servers.map(async (s) => (await counters(s)).stamped)), verified: (await counters(client.name)).verified};
	const ping = inClient('ping', '-6', '-n', '-c', '3', '-i', '0.3', S);
	say(ping.stdout.split('\n').filter((l) => /bytes from|packet loss/.test(l)).map((l) => `   ${l}`).join('\n'));
	const stamped = await Promise.all(group.servers.map(async (s, i) => [s, (await counters(s)).stamped - before.stamped[i]!] as const));
	const verified = (await counters(client.name)).verified - before.verified;
	say(`   stamped by: ${stamped.map(([s, n]) => `${s} ${n}`).join(', ')}; verified at the client: ${verified}`);
	say(`   DNS: dig @${S} TXT whoami.anyguard → "${who()}"`);
	ok &&= / 0% packet loss/.test(ping.stdout);

	say('\n2. Pretenders: each forged response, and where it was dropped');
	for (const kind of SHOWN) {
		const r = await runAttack(t, kind, {count: 3, ...(o.stateRoot ? {stateRoot: o.stateRoot} : {})});
		const stoppedAll = r.dropped === r.sent && r.victim.duplicates === 0;
		ok &&= stoppedAll;
		const where = `${r.dropped}/${r.sent} dropped at ${r.spec.droppedAt} (${r.spec.reason})`;
		say(`   ${stoppedAll ? '✔' : '✘'} ${kind.padEnd(24)} ${ATTACKS[kind].summary}: ${where}; the victim got ${r.victim.received}/${r.victim.transmitted} genuine replies`);
	}

	const nearest = group.servers[0]!;
	const next = group.servers[1];
	if (next) {
		// One prober asks S every 20 ms, so the moment of the switch is known to the query.
		const probe = watchProbe(namespace(t, client.name), selfCommand(), S);
		try {
			await probe.waitFor(nearest, 0, 10_000);
			say(`\n3. Failover: ${nearest} stops (asking S every 20 ms)`);
			writeFileSync(files.stop(state, nearest), `${new Date().toISOString()}\n`);
			const stopped = Date.now();
			process.kill(Number(readFileSync(files.pid(state, nearest), 'utf8')), 'SIGTERM');
			const moved = await probe.waitFor(next, stopped, 10_000);
			say(moved ? `   ${next} answers queries sent ${moved.sentAt - stopped} ms after ${nearest} stopped` : `   ${next} did not answer within 10 s`);
			ok &&= Boolean(moved);
			say(`\n4. ${nearest} comes back`);
			rmSync(files.stop(state, nearest), {force: true});
			const restored = Date.now();
			const back = await probe.waitFor(nearest, restored, 30_000);
			say(back ? `   ${nearest} answers again, for queries sent ${back.sentAt - restored} ms later` : `   ${nearest} did not answer within 30 s`);
			ok &&= Boolean(back);
		} finally {
			probe.stop();
		}
	}
	say(ok ? '\nEvery pretender was stopped, and S kept answering.' : '\nSomething above did not hold: see anyguard status.');
	return ok;
}
