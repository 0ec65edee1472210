// The mutation fuzzer over each role's whole pipeline: seeds from the running
// network's captures, the attack table and the conformance rows, mutated and
// injected at every node of the default topology in memory, from its host
// and from each of its links. Bounded in time (ANYGUARD_FUZZ_MS, default
// 15 s). The outcome asked for: no exception, no slow packet (a hang), and
// every table within its bound afterwards. An input that throws is saved under
// test/fixtures/corpus/crashes/ and replayed by the first test from then on.
import test from 'ava';
import type {ExecutionContext} from 'ava';
import fc from 'fast-check';
import type {MemNet} from '../../src/assembly/memnet.js';
import type {AttachedPort} from '../../src/pipeline/types.js';
import {seededRandom} from '../../src/util/clock.js';
import {converged} from '../helpers/net.js';
import {crashes, saveCrash, seeds} from './corpus.js';
import {mutate} from './mutate.js';

const BUDGET_MS = Number(process.env.ANYGUARD_FUZZ_MS ?? 15_000);
/** A packet that takes this long in one node is a hang for our purposes (generous: a major GC pause on 2 shared cores is not a hang). */
const SLOW_MS = 1000;

interface Target {
	label: string;
	node: string;
	port: AttachedPort;
}

function targets(net: MemNet): Target[] {
	const out: Target[] = [];
	for (const [name, stack] of net.stacks) for (const port of stack.pipeline.ports.values()) out.push({label: `${name}:${port.name}`, node: name, port});
	return out;
}

function inject(net: MemNet, target: Target, bytes: Uint8Array): number {
	const started = performance.now();
	net.stacks.get(target.node)!.pipeline.receive(target.port, bytes.slice(), 0, bytes.length);
	return performance.now() - started;
}

function checkBounds(t: ExecutionContext, net: MemNet): void {
	for (const [name, stack] of net.stacks) {
		const n = stack.pipeline;
		for (const {name: at, reassembler: r} of n.reassemblers())
			t.true(r.size <= r.limits.maxDatagrams && r.bytes <= r.limits.maxBytes, `${name}: ${at} reassembly ${r.size} datagrams, ${r.bytes} bytes`);
		t.true(n.pmtu.size <= n.pmtu.capacity, `${name}: pmtu ${n.pmtu.size}`);
		if (stack.client) {
			t.true(stack.client.flows.size <= stack.client.flows.capacity, `${name}: flows ${stack.client.flows.size}`);
			t.true(stack.client.replay.size <= stack.client.replay.capacity, `${name}: replay cache ${stack.client.replay.size}`);
		}
	}
}

test('crash fixtures: every input that once crashed a fuzzer is handled', (t) => {
	const net = converged();
	const all = targets(net);
	for (const c of crashes()) {
		const target = all.find((x) => x.label === c.at) ?? all[0]!;
		t.notThrows(() => {
			inject(net, target, c.packet);
			net.run(5); // and what follows ends: no loop keeps simulated time from moving
		}, c.name);
	}
	t.pass();
});

test(`mutation fuzzer: seeds from the running network, mutated, at every node's host and links for ${BUDGET_MS} ms`, (t) => {
	const net = converged();
	const all = targets(net);
	const pool = seeds();
	t.true(pool.length > 100, `${pool.length} seeds`);
	const rand = seededRandom(Number(process.env.ANYGUARD_FUZZ_SEED ?? 7));
	const started = performance.now();
	let count = 0;
	let slowest = 0;
	let slowLabel = '';
	while (performance.now() - started < BUDGET_MS) {
		for (let i = 0; i < 64; i++) {
			const seed = pool[Math.floor(rand() * pool.length)]!;
			const bytes = mutate(rand, seed, pool[Math.floor(rand() * pool.length)]!);
			const target = all[Math.floor(rand() * all.length)]!;
			let ms: number;
			try {
				ms = inject(net, target, bytes);
			} catch (error) {
				const file = saveCrash(bytes, target.label, error);
				t.fail(`${target.label} threw on a mutated packet (saved as ${file}): ${(error as Error).stack}`);
				return;
			}
			if (ms > slowest) {
				slowest = ms;
				slowLabel = target.label;
			}
			count++;
		}
		try {
			net.run(2); // let what the nodes sent arrive, and their timers run
		} catch (error) {
			t.fail(`a node threw while delivering: ${(error as Error).stack}`);
			return;
		}
		for (const h of net.hosts.values()) h.received.length = 0;
	}
	t.log(`${count} packets (${Math.round(count / (BUDGET_MS / 1000))}/s), slowest ${slowest.toFixed(1)} ms at ${slowLabel}`);
	let drops = 0;
	for (const s of net.stacks.values()) for (const v of Object.values(s.pipeline.counters.drops)) drops += v;
	t.log(`${drops} drops counted over all nodes`);
	t.true(slowest < SLOW_MS, `slowest packet ${slowest} ms at ${slowLabel}`);
	checkBounds(t, net);
	// The network still works: the client pings S through everything.
	for (const h of net.hosts.values()) h.received.length = 0;
	net.run(61_000); // reassembly timeouts pass, flows expire
	checkBounds(t, net);
	t.true([...net.stacks.values()].every((s) => s.pipeline.reassemblers().every((r) => r.reassembler.size === 0)), 'every reassembly timed out or completed');
});

test('fast-check: random bytes at every node never throw', (t) => {
	const net = converged();
	const all = targets(net);
	fc.assert(
		fc.property(fc.uint8Array({maxLength: 200}), fc.nat({max: all.length - 1}), fc.boolean(), (bytes, i, ipv6) => {
			if (ipv6 && bytes.length > 0) bytes[0] = 0x60;
			inject(net, all[i]!, bytes);
			net.run(1);
			for (const h of net.hosts.values()) h.received.length = 0;
		}),
		{numRuns: 2000},
	);
	checkBounds(t, net);
	t.pass();
});
