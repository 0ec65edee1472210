// BFD under random loss (issue 11, docs/routing.md): how often a session with
// the topology's timers (100 ms × 3) declares a live neighbour dead, and how
// often routing flaps with it, with and without flap dampening.
//
//   bfd.sim.loss<P>.*   two BfdAgents (the code the role processes run) over a
//                       link that loses P % of packets at random, each way,
//                       on simulated time: hours in seconds, the same every run;
//   bfd.netem.*         the same on the running default network, the kernel
//                       losing 20 % on the boundary–router-a veth both ways
//                       (src/netns/conditions.ts: nftables at each end's ingress)
//                       for ANYGUARD_BFD_NETEM_S (default 120 s): the real
//                       sessions' false detections against the simulation's
//                       figure for 20 %, the check that the model holds.
//
//   npm run bench -- bfd          needs root for the netem part
import {loadTopology} from '../src/config/topology.js';
import {BfdAgent} from '../src/route/bfd.js';
import {setLoss} from '../src/netns/conditions.js';
import {Dampening} from '../src/route/dampening.js';
import type {DampeningConfig} from '../src/route/dampening.js';
import {parseAddr} from '../src/util/addr.js';
import {SimClock, seededRandom} from '../src/util/clock.js';
import {DEFAULT_TOPOLOGY} from '../src/netns/names.js';
import {bringUpNs} from '../lab/nsnet.js';
import {withRatio} from './lib.js';
import type {Bench, Result} from './lib.js';
import {sleep} from './proc.js';

export interface LossFigures {
	loss: number;
	hours: number;
	/** The session at one end going from Up to Down, both ends alive all along. */
	falsePerHour: number;
	/** Times routing lost the neighbour (went unusable), per hour. */
	routeLossPerHour: number;
	/** Seconds per hour the neighbour was unusable for routing. */
	unusableSecondsPerHour: number;
}

/**
 * Two agents on one link that loses `loss` of the packets each way, for
 * `hours` of simulated time; routing's view follows BFD through `dampening`
 * when given.
 */
export function simulateLoss(loss: number, hours: number, dampening?: Partial<DampeningConfig>, seed = 1): LossFigures {
	const clock = new SimClock();
	const drop = seededRandom(seed * 7919 + 3);
	const A = parseAddr('fe80::a');
	const B = parseAddr('fe80::b');
	const t = loadTopology(DEFAULT_TOPOLOGY).timers.bfd;
	let falseDowns = 0;
	let losses = 0;
	let unusableMs = 0;
	let lostAt = -1;
	let measuring = false;
	const up: Record<'a' | 'b', boolean> = {a: false, b: false};
	const damp = dampening ? new Dampening(clock, dampening, () => track()) : null;
	// Routing at `a` uses the neighbour while a's session is Up and not held.
	const usable = () => up.a && !(damp?.isSuppressed('b') ?? false);
	let wasUsable = false;
	const track = () => {
		const now = usable();
		if (measuring && wasUsable && !now) {
			losses++;
			lostAt = clock.now();
		}
		if (measuring && !wasUsable && now && lostAt >= 0) {
			unusableMs += clock.now() - lostAt;
			lostAt = -1;
		}
		wasUsable = now;
	};
	const agents = {} as Record<'a' | 'b', BfdAgent>;
	for (const [who, peer, self] of [['a', 'b', A], ['b', 'a', B]] as const) {
		agents[who] = new BfdAgent({
			clock,
			config: {desiredMinTxMs: t.intervalMs, requiredMinRxMs: t.intervalMs, detectMult: t.multiplier},
			random: seededRandom(seed + (who === 'a' ? 11 : 99)),
			onStateChange: (ev) => {
				up[who] = ev.state === 'Up';
				// A false detection takes both ends down (one by its timer, the other by its timer or its peer's word): count it once, at a.
				if (ev.previous === 'Up' && who === 'a') {
					if (measuring) falseDowns++;
					damp?.flap('b');
				}
				track();
			},
			send: (_link, payload) => {
				if (drop() < loss) return;
				const copy = Uint8Array.from(payload);
				clock.setTimeout(() => agents[peer].receive('l', copy, {src: self, srcPort: 49152, hopLimit: 255}), 0.1);
			},
		});
	}
	agents.a.addSession('l', B);
	agents.b.addSession('l', A);
	clock.advance(30_000);
	measuring = true;
	if (lostAt < 0 && !usable()) lostAt = clock.now();
	const end = hours * 3_600_000;
	for (let at = 0; at < end; at += 60_000) clock.advance(60_000);
	if (lostAt >= 0) unusableMs += clock.now() - lostAt;
	return {loss, hours, falsePerHour: falseDowns / hours, routeLossPerHour: losses / hours, unusableSecondsPerHour: unusableMs / 1000 / hours};
}

/** The dampening the figures are taken with: the defaults (docs/routing.md). */
const DAMPING: Partial<DampeningConfig> = {};

function simResults(): Result[] {
	const out: Result[] = [];
	for (const [pct, hours] of [[2, 50], [5, 20], [10, 10], [20, 5]] as const) {
		const plain = simulateLoss(pct / 100, hours);
		const damped = simulateLoss(pct / 100, hours, DAMPING);
		const r = (name: string, value: number, unit: string, note?: string): Result => ({name: `bfd.sim.loss${pct}.${name}`, value: Math.round(value * 100) / 100, unit, ...(note ? {note} : {})});
		const flaps = r('route_losses_per_hour', plain.routeLossPerHour, '/h', 'routing loses the neighbour, no dampening');
		const down = r('unusable_s_per_hour', plain.unusableSecondsPerHour, 's/h');
		out.push(
			r('false_detections_per_hour', plain.falsePerHour, '/h', `${hours} simulated hours, ${pct} % random loss each way, timers 100 ms × 3`),
			flaps,
			withRatio(r('damped.route_losses_per_hour', damped.routeLossPerHour, '/h', 'with the default dampening'), flaps),
			down,
			withRatio(r('damped.unusable_s_per_hour', damped.unusableSecondsPerHour, 's/h'), down),
		);
	}
	return out;
}

async function netemResults(): Promise<Result[]> {
	if (process.getuid?.() !== 0) return [{name: 'bfd.netem.skipped', value: 0, unit: '', note: 'needs root (namespaces)'}];
	const seconds = Number(process.env.ANYGUARD_BFD_NETEM_S ?? 120);
	const pct = 20;
	const net = await bringUpNs(DEFAULT_TOPOLOGY, 'b');
	try {
		await sleep(3000);
		const downs = async () => (await net.status('boundary')).bfdDowns + (await net.status('router-a')).bfdDowns;
		const before = await downs();
		setLoss(net.ns('boundary'), 'to-router-a', pct);
		setLoss(net.ns('router-a'), 'to-boundary', pct);
		await sleep(seconds * 1000);
		setLoss(net.ns('boundary'), 'to-router-a', 0);
		setLoss(net.ns('router-a'), 'to-boundary', 0);
		// Up → Down at either end; a false detection takes both down, the simulation counts it once.
		const count = ((await downs()) - before) / 2;
		const sim = simulateLoss(pct / 100, 5);
		const expected: Result = {name: 'bfd.netem.sim_false_per_hour', value: Math.round(sim.falsePerHour), unit: '/h', note: `the simulation's figure at ${pct} %`};
		return [
			{name: 'bfd.netem.downs', value: count, unit: 'downs', note: `boundary and router-a, ${seconds} s of ${pct} % random loss each way on their link`},
			expected,
			withRatio({name: 'bfd.netem.false_per_hour', value: Math.round((count * 3600) / seconds), unit: '/h'}, expected),
		];
	} finally {
		await net.down();
	}
}

export const run: Bench = async () => [...simResults(), ...(await netemResults())];
