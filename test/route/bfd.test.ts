import test from 'ava';
import {parseAddr} from '../../src/util/addr.js';
import {SimClock, seededRandom} from '../../src/util/clock.js';
import {BfdAgent, DEFAULT_BFD} from '../../src/route/bfd.js';
import type {BfdConfig, BfdEvent} from '../../src/route/bfd.js';
import {BFD_LEN, BfdStateCode, decodeBfd, emptyBfdControl, encodeBfd} from '../../src/route/bfd-wire.js';

const A = parseAddr('fe80::a');
const B = parseAddr('fe80::b');

/** Two agents on one link; `cut` silences a side, as if its process died. */
function pair(config: Partial<BfdConfig> = {}, seed = 1) {
	const clock = new SimClock();
	const events: (BfdEvent & {who: string; at: number})[] = [];
	const sent: {who: string; at: number; bytes: Uint8Array}[] = [];
	const cut = {a: false, b: false};
	const agents: Record<'a' | 'b', BfdAgent> = {} as Record<'a' | 'b', BfdAgent>;
	for (const [who, peer, self] of [['a', 'b', A], ['b', 'a', B]] as const) {
		agents[who] = new BfdAgent({
			clock, config, random: seededRandom(seed + (who === 'a' ? 0 : 99)),
			onStateChange: (ev) => events.push({...ev, who, at: clock.now()}),
			send: (_link, payload, dst, dstPort) => {
				if (cut[who]) return;
				if (!dst.every((b, i) => b === (who === 'a' ? B : A)[i])) return; // to someone else on the link
				sent.push({who, at: clock.now(), bytes: payload});
				const copy = Uint8Array.from(payload);
				clock.setTimeout(() => {
					if (!cut[who]) agents[peer].receive('l', copy, {src: self, srcPort: 49152, hopLimit: 255});
				}, 1);
				void dstPort;
			},
		});
	}
	agents.a.addSession('l', B);
	agents.b.addSession('l', A);
	return {clock, agents, events, sent, cut};
}

test('sessions come Up by the three-way handshake and then send at the configured rate', (t) => {
	const {clock, agents, sent} = pair();
	clock.advance(5000);
	t.is(agents.a.state('l', B), 'Up');
	t.is(agents.b.state('l', A), 'Up');
	const [view] = agents.a.sessions();
	t.like(view, {txIntervalMs: DEFAULT_BFD.desiredMinTxMs, detectTimeMs: DEFAULT_BFD.detectMult * DEFAULT_BFD.desiredMinTxMs});
	// §6.8.7 jitter: gaps between a's packets are 75..100% of the interval.
	const times = sent.filter((s) => s.who === 'a' && s.at > 3000).map((s) => s.at);
	const gaps = times.slice(1).map((x, i) => x - times[i]!);
	t.true(gaps.length > 10);
	for (const g of gaps) t.true(g >= 75 - 1e-9 && g <= 100 + 1e-9, `gap ${g}`);
	t.true(new Set(gaps.map((g) => Math.round(g))).size > 3, 'jittered, not fixed');
});

test('before Up, packets go no faster than once a second (RFC 5880 §6.8.3)', (t) => {
	const {clock, sent, cut} = pair();
	cut.b = true; // b never answers: a stays Down
	clock.advance(5000);
	const times = sent.filter((s) => s.who === 'a').map((s) => s.at);
	for (let i = 1; i < times.length; i++) t.true(times[i]! - times[i - 1]! >= 750 - 1e-9);
});

for (const cfg of [{desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3}, {desiredMinTxMs: 50, requiredMinRxMs: 50, detectMult: 5}, {desiredMinTxMs: 200, requiredMinRxMs: 200, detectMult: 1}]) {
	test(`a silent neighbour is declared Down within detectMult × interval (${cfg.detectMult} × ${cfg.desiredMinTxMs} ms)`, (t) => {
		const {clock, agents, events, cut} = pair(cfg);
		clock.advance(5000);
		t.is(agents.a.state('l', B), 'Up');
		const died = clock.now();
		cut.b = true;
		const at = clock.advanceUntil(() => agents.a.state('l', B) === 'Down', 5000);
		t.not(at, null);
		t.true(at! - died <= cfg.detectMult * cfg.desiredMinTxMs, `detected after ${at! - died} ms`);
		t.true(at! - died > (cfg.detectMult - 1) * cfg.desiredMinTxMs * 0.75 - 1, 'not before the detection time');
		const down = events.find((e) => e.who === 'a' && e.state === 'Down')!;
		t.is(down.previous, 'Up');
		t.is(down.diag, 1, 'Control Detection Time Expired');
	});
}

test('the neighbour coming back brings the session Up again', (t) => {
	const {clock, agents, cut} = pair();
	clock.advance(5000);
	cut.b = true;
	clock.advance(1000);
	t.is(agents.a.state('l', B), 'Down');
	cut.b = false;
	clock.advance(5000);
	t.is(agents.a.state('l', B), 'Up');
	t.true(agents.a.stateChanges >= 4);
});

test('a neighbour signalling Down takes the session Down (diag 3)', (t) => {
	const {clock, agents, events} = pair();
	clock.advance(5000);
	const [va] = agents.a.sessions();
	const p = {...emptyBfdControl(), state: BfdStateCode.Down, detectMult: 3, myDisc: va!.remoteDisc, yourDisc: va!.localDisc, desiredMinTx: 1_000_000, requiredMinRx: 100_000};
	const buf = new Uint8Array(BFD_LEN);
	encodeBfd(p, buf);
	agents.a.receive('l', buf, {src: B, srcPort: 49152, hopLimit: 255});
	t.is(agents.a.state('l', B), 'Down');
	t.is(events.at(-1)!.diag, 3);
});

test('a Poll is answered at once with a Final', (t) => {
	const {clock, agents, sent} = pair();
	clock.advance(5000);
	const [va] = agents.a.sessions();
	const before = sent.length;
	const buf = new Uint8Array(BFD_LEN);
	encodeBfd({...emptyBfdControl(), state: BfdStateCode.Up, poll: true, detectMult: 3, myDisc: va!.remoteDisc, yourDisc: va!.localDisc, desiredMinTx: 100_000, requiredMinRx: 100_000}, buf);
	agents.a.receive('l', buf, {src: B, srcPort: 49152, hopLimit: 255});
	const reply = sent.slice(before).find((s) => s.who === 'a')!;
	t.is(reply.at, clock.now());
	const d = decodeBfd(reply.bytes, 0, reply.bytes.length, emptyBfdControl());
	t.true(d.final);
	t.false(d.poll);
});

const drops: [string, (good: Uint8Array) => {bytes: Uint8Array; src?: Uint8Array; hop?: number; link?: string}, string][] = [
	['hop limit 254 (RFC 5881 §5)', (g) => ({bytes: g, hop: 254}), 'bad-hop-limit'],
	['bad version', (g) => ({bytes: Uint8Array.from(g, (x, i) => (i === 0 ? 0x40 : x))}), 'bad-version'],
	['unknown Your Discriminator', (g) => ({bytes: Uint8Array.from(g, (x, i) => (i === 8 ? x ^ 0xff : x))}), 'unknown-your-discriminator'],
	['right discriminator, wrong source', (g) => ({bytes: g, src: parseAddr('fe80::c')}), 'session-mismatch'],
	['right discriminator, wrong link', (g) => ({bytes: g, link: 'other'}), 'session-mismatch'],
	['Your Discriminator 0 while Up', (g) => ({bytes: Uint8Array.from(g, (x, i) => (i >= 8 && i < 12 ? 0 : x))}), 'zero-your-discriminator-not-down'],
	['Your Discriminator 0 from a stranger', (g) => ({bytes: Uint8Array.from(g, (x, i) => (i >= 8 && i < 12 ? 0 : i === 1 ? 1 << 6 : x)), src: parseAddr('fe80::c')}), 'no-session'],
];
for (const [name, make, reason] of drops) {
	test(`BFD reception check: ${name} is dropped as ${reason}`, (t) => {
		const {clock, agents} = pair();
		clock.advance(5000);
		const [va] = agents.a.sessions();
		const good = new Uint8Array(BFD_LEN);
		encodeBfd({...emptyBfdControl(), state: BfdStateCode.Up, detectMult: 3, myDisc: va!.remoteDisc, yourDisc: va!.localDisc, desiredMinTx: 100_000, requiredMinRx: 100_000}, good);
		const m = make(good);
		const changes = agents.a.stateChanges;
		agents.a.receive(m.link ?? 'l', m.bytes, {src: m.src ?? B, srcPort: 49152, hopLimit: m.hop ?? 255});
		t.is(agents.a.drops[reason as keyof typeof agents.a.drops], 1);
		t.is(Object.values(agents.a.drops).reduce((x, y) => x + y, 0), 1, 'counted once, under one reason');
		t.is(agents.a.stateChanges, changes);
	});
}

test('bad configuration is refused', (t) => {
	const clock = new SimClock();
	for (const config of [{detectMult: 0}, {desiredMinTxMs: 0}, {requiredMinRxMs: -1}, {detectMult: 256}]) {
		t.is(t.throws(() => new BfdAgent({clock, send: () => {}, config}))!.name, 'BfdError');
	}
});

test('a link holds at most maxSessionsPerLink: a new peer replaces a session that never came Up, and one that was Up is never pushed out', (t) => {
	const {clock, agents} = pair({maxSessionsPerLink: 3});
	clock.advance(5000);
	t.is(agents.a.state('l', B), 'Up');
	for (let i = 0; i < 100; i++) agents.a.addSession('l', parseAddr(`fe80::1:${i.toString(16)}`));
	const sessions = agents.a.sessions();
	t.is(sessions.length, 3);
	t.is(agents.a.state('l', B), 'Up', 'the real neighbour keeps its session');
	t.is(agents.a.evicted, 100 - 2);
	// The others are on another link's budget.
	for (let i = 0; i < 5; i++) agents.a.addSession('m', parseAddr(`fe80::2:${i}`));
	t.is(agents.a.sessions().filter((s) => s.link === 'm').length, 3);
	t.is(agents.a.sessions().filter((s) => s.link === 'l').length, 3);
	clock.advance(5000);
	t.is(agents.a.state('l', B), 'Up');
});

test('a link whose sessions have all been Up refuses new peers, and counts them', (t) => {
	const {clock, agents} = pair({maxSessionsPerLink: 1});
	clock.advance(5000);
	t.false(agents.a.addSession('l', parseAddr('fe80::c')));
	t.is(agents.a.refused, 1);
	t.is(agents.a.state('l', B), 'Up');
	t.is(t.throws(() => new BfdAgent({clock, send: () => {}, config: {maxSessionsPerLink: 0}}))!.name, 'BfdError');
});

test('a late detection timer reads what waits on the link first: packets queued unread keep the session Up', (t) => {
	// b's packets to a pile up unread (a's process was busy) past a's detection time; a's timer then fires.
	const run = (drain: boolean) => {
		const clock = new SimClock();
		const queued: Uint8Array[] = [];
		let reading = true;
		const agents = {} as Record<'a' | 'b', BfdAgent>;
		const deliver = (to: 'a' | 'b', from: Uint8Array, bytes: Uint8Array) => agents[to].receive('l', bytes, {src: from, srcPort: 49152, hopLimit: 255});
		agents.a = new BfdAgent({
			clock, random: seededRandom(1),
			send: (_l, p) => void clock.setTimeout(() => deliver('b', A, Uint8Array.from(p)), 1),
			beforeDetect: () => {
				if (drain) for (const p of queued.splice(0)) deliver('a', B, p);
			},
		});
		agents.b = new BfdAgent({
			clock, random: seededRandom(2),
			send: (_l, p) => {
				const copy = Uint8Array.from(p);
				clock.setTimeout(() => (reading ? deliver('a', B, copy) : queued.push(copy)), 1);
			},
		});
		agents.a.addSession('l', B);
		agents.b.addSession('l', A);
		clock.advance(5000);
		t.is(agents.a.state('l', B), 'Up');
		reading = false; // a stops polling; b's packets wait in the socket
		clock.advance(400);
		return {state: agents.a.state('l', B), downs: agents.a.downs};
	};
	t.deepEqual(run(true), {state: 'Up', downs: 0}, 'drained: the waiting packets re-arm the timer');
	t.deepEqual(run(false), {state: 'Down', downs: 1}, 'without the drain the same timer declares a live neighbour dead');
});
