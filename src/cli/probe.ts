// `anyguard probe <address>`: asks the DNS service on an (anycast) address
// "TXT whoami.anyguard" every few milliseconds from one UDP socket and prints
// a JSON line per query: when it was sent (wall-clock ms), which instance
// answered, and the round trip, or that it was lost. One process, no
// per-query start-up cost, so failover can be timed to the query.
import {spawn} from 'node:child_process';
import {createSocket} from 'node:dgram';

export interface ProbeOptions {
	address: string;
	intervalMs: number;
	count: number;
	timeoutMs: number;
	name?: string;
}

/** A DNS query (RFC 1035 §4.1) for TXT `name`, recursion not desired. */
export function txtQuery(id: number, name: string): Buffer {
	const labels = name.split('.').filter(Boolean);
	const q = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + l.length, 0) + 1 + 4);
	q.writeUInt16BE(id, 0);
	q.writeUInt16BE(1, 4); // QDCOUNT
	let p = 12;
	for (const l of labels) {
		q[p++] = l.length;
		p += q.write(l, p, 'ascii');
	}
	q[p++] = 0;
	q.writeUInt16BE(16, p); // TXT
	q.writeUInt16BE(1, p + 2); // IN
	return q;
}

/** The first TXT string of a response, or undefined. Compression pointers in names are skipped, not followed. */
export function firstTxt(msg: Buffer): string | undefined {
	if (msg.length < 12) return undefined;
	const qd = msg.readUInt16BE(4);
	const an = msg.readUInt16BE(6);
	let p = 12;
	const skipName = () => {
		while (p < msg.length) {
			const len = msg[p]!;
			if (len === 0) return void p++;
			if ((len & 0xc0) === 0xc0) return void (p += 2);
			p += 1 + len;
		}
	};
	for (let i = 0; i < qd; i++) {
		skipName();
		p += 4;
	}
	for (let i = 0; i < an && p < msg.length; i++) {
		skipName();
		const type = msg.readUInt16BE(p);
		const rdlen = msg.readUInt16BE(p + 8);
		p += 10;
		if (type === 16 && rdlen > 0) return msg.toString('utf8', p + 1, p + 1 + msg[p]!);
		p += rdlen;
	}
	return undefined;
}

export function runProbe(o: ProbeOptions): Promise<void> {
	const socket = createSocket('udp6');
	const sent = new Map<number, number>();
	let id = 0;
	let done = 0;
	return new Promise((resolve) => {
		const finish = () => {
			if (++done < o.count) return;
			socket.close();
			resolve();
		};
		socket.on('message', (msg) => {
			const qid = msg.readUInt16BE(0);
			const at = sent.get(qid);
			if (at === undefined) return;
			sent.delete(qid);
			console.log(JSON.stringify({sentAt: at, rttMs: Date.now() - at, answer: firstTxt(msg) ?? null}));
			finish();
		});
		/** Queries unanswered for longer than the timeout are reported lost. */
		const reap = () => {
			const now = Date.now();
			for (const [qid, at] of sent) {
				if (now - at < o.timeoutMs) continue;
				sent.delete(qid);
				console.log(JSON.stringify({sentAt: at, lost: true}));
				finish();
			}
		};
		const tick = setInterval(() => {
			reap();
			const now = Date.now();
			if (id >= o.count) return;
			id++;
			const qid = id & 0xffff;
			sent.set(qid, now);
			socket.send(txtQuery(qid, o.name ?? 'whoami.anyguard'), 53, o.address);
			if (id >= o.count) clearInterval(tick);
		}, o.intervalMs);
		// After the last query, keep checking for losses until every query is settled.
		const reaper = setInterval(reap, 50);
		socket.on('close', () => clearInterval(reaper));
	});
}

export interface ProbeAnswer {
	sentAt: number;
	rttMs?: number;
	answer?: string | null;
	lost?: boolean;
}

/** A prober running in namespace `ns`, collecting its answers as they come. */
export interface ProbeWatch {
	answers: ProbeAnswer[];
	/** The first query sent at or after `from` (wall-clock ms) that `name` answered. */
	firstFrom(name: string, from: number): ProbeAnswer | undefined;
	/** Resolves once `name` has answered a query sent at or after `from`, or after `timeoutMs`. */
	waitFor(name: string, from: number, timeoutMs: number): Promise<ProbeAnswer | undefined>;
	stop(): void;
}

export function watchProbe(ns: string, command: string[], address: string, intervalMs = 20): ProbeWatch {
	const [exe, ...args] = command;
	const child = spawn('ip', ['netns', 'exec', ns, exe!, ...args, 'probe', address, '--interval', String(intervalMs), '--count', '100000'], {stdio: ['ignore', 'pipe', 'ignore']});
	const answers: ProbeAnswer[] = [];
	let buffered = '';
	child.stdout!.on('data', (d: Buffer) => {
		buffered += d.toString();
		const lines = buffered.split('\n');
		buffered = lines.pop()!;
		for (const line of lines) if (line) answers.push(JSON.parse(line) as ProbeAnswer);
	});
	const firstFrom = (name: string, from: number) => answers.filter((a) => a.answer === name && a.sentAt >= from).sort((x, y) => x.sentAt - y.sentAt)[0];
	return {
		answers,
		firstFrom,
		async waitFor(name, from, timeoutMs) {
			const until = Date.now() + timeoutMs;
			while (Date.now() < until) {
				const a = firstFrom(name, from);
				if (a) return a;
				await new Promise((r) => setTimeout(r, 20));
			}
			return firstFrom(name, from);
		},
		stop: () => void child.kill(),
	};
}
