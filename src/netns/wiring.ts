// A role process's links in the namespace deployment: for each topology link
// of its node, the ports it opens on the veth or the neighbour's TUN, wired
// into the pipeline (../assembly/ports.ts), and the conditions it carries (links.ts says which share is the process's).
//   udp  two UDP sockets on the veth (data 6464, control 6465); delay and
//        jitter on what this end sends, each channel a FIFO of its own.
//   tun  the kernel neighbour's TUN device, opened in that node's namespace
//        (setns, src/io/tun.ts): this process is that interface's wire, so
//        it carries every condition both ways — delay, jitter, loss, rate —
//        with route exchange and BFD in a line of their own, sent first.
import type {Topology} from '../config/topology.js';
import {DelayLine, WireState} from '../io/emulator.js';
import type {Deliver, LineSettings, LineStats} from '../io/emulator.js';
import {openTun} from '../io/tun.js';
import {openUdpLink} from '../io/udp-link.js';
import type {PacketPort} from '../io/types.js';
import {CONTROL_PORT, LINK_PORT, findLink, linkIfname, namespace, underlayAddress} from './names.js';
import {linkKey, linkKind, processShare, readLinkStates} from './links.js';
import type {LinkKind} from './links.js';
import {pump} from '../assembly/ports.js';
import type {Stack} from '../assembly/stack.js';
import type {PortTap as Tap} from '../io/types.js';
import type {Clock} from '../util/clock.js';
import type {Logger} from '../util/log.js';
import {BFD_PORT} from '../route/bfd-wire.js';
import {RIPNG_PORT} from '../route/ripng-wire.js';
import {u16} from '../wire/bytes.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import {UDP_HEADER_LEN} from '../wire/udp.js';

/** Route exchange or BFD between neighbours (link-local UDP to 521 or 3784), which a line sends first. */
function isControl(buf: Uint8Array, off: number, len: number): boolean {
	// Next Header UDP at once, and a source in fe80::/10.
	if (len < IPV6_HEADER_LEN + UDP_HEADER_LEN || buf[off + IPV6.nextHeader] !== Proto.Udp || buf[off + IPV6.src] !== 0xfe || (buf[off + IPV6.src + 1]! & 0xc0) !== 0x80) return false;
	const port = u16(buf, off + IPV6_HEADER_LEN + 2);
	return port === RIPNG_PORT || port === BFD_PORT;
}

/** One direction of one link in this process: a data line and a control line sharing the wire's rate. */
class Direction {
	readonly data: DelayLine;
	readonly control: DelayLine;

	constructor(clock: Clock, deliverData: Deliver, deliverControl: Deliver) {
		const wire = new WireState();
		this.data = new DelayLine({clock, deliver: deliverData, wire});
		this.control = new DelayLine({clock, deliver: deliverControl, wire, priority: true});
	}

	set(s: LineSettings): void {
		this.data.set(s);
		this.control.set(s);
	}
}

export interface LinkEmulation {
	peer: string;
	kind: LinkKind;
	/** The conditions this process carries (the rest are the kernel's, or the other end's). */
	settings: LineSettings;
	mtu: number;
	/** What this end sent through its lines; and for a tun link, what it received through them. */
	out: LineStats;
	in?: LineStats;
}

export interface LinkWiring {
	/** Every port opened, by name (`<peer>` and `<peer>:control`), for counters and closing. */
	ports: Array<[string, PacketPort]>;
	/** Reads the state directory's links.json again and applies this node's share of it. */
	reload(): void;
	emulation(): LinkEmulation[];
}

function sum(a: LineStats, b: LineStats): LineStats {
	return {delivered: a.delivered + b.delivered, queued: a.queued + b.queued, lost: a.lost + b.lost, overflow: a.overflow + b.overflow, downDropped: a.downDropped + b.downDropped, depth: a.depth + b.depth};
}

export function wireLinks(o: {t: Topology; node: string; state: string; stack: Stack; tap: Tap; clock: Clock; log: Logger; fail: (what: string) => (error: Error) => void}): LinkWiring {
	const {t, node, stack, tap, clock, log, fail} = o;
	const ports: Array<[string, PacketPort]> = [];
	const ends: Array<{peer: string; key: string; kind: LinkKind; out: Direction; in?: Direction; link: ReturnType<typeof findLink>}> = [];
	/** What link `id` sends: into its line while the line holds conditions, else straight out of `port`; the tap sees it. */
	const via = (id: string, line: DelayLine, port: PacketPort) => (buf: Uint8Array, off: number, len: number) => {
		if (tap.active) tap.record(id, 'out', buf, off, len);
		return line.active ? line.push(buf, off, len) : port.send(buf, off, len);
	};
	for (const end of stack.links) {
		const link = findLink(t, node, end.peer);
		const kind = linkKind(t, link);
		const ifname = linkIfname(end.peer);
		if (kind === 'tun') {
			// The kernel neighbour's interface: the TUN named for this node, in the neighbour's namespace.
			const dev = linkIfname(node);
			const tun = openTun(dev, {netns: `/run/netns/${namespace(t, end.peer)}`});
			tun.onError(fail(`link ${end.peer} (TUN ${dev} in ${namespace(t, end.peer)})`));
			ports.push([end.id, tun]);
			const batchOut = (buf: Uint8Array, offs: Uint32Array, lens: Uint32Array, n: number) => void tun.sendBatch(buf, offs, lens, n);
			const out = new Direction(clock, batchOut, batchOut);
			const attached = stack.attachLink(end.id, via(end.id, out.data, tun), via(end.id, out.control, tun));
			const receiveBatch = (buf: Uint8Array, offs: Uint32Array, lens: Uint32Array, n: number) => {
				for (let i = 0; i < n; i++) stack.pipeline.receive(attached, buf, offs[i]!, lens[i]!);
			};
			const inbound = new Direction(clock, receiveBatch, receiveBatch);
			pump(tun, attached, tap, (p, b, off, len) => {
				const line = isControl(b, off, len) ? inbound.control : inbound.data;
				if (line.active) line.push(b, off, len);
				else stack.pipeline.receive(p, b, off, len);
			});
			ends.push({peer: end.peer, key: linkKey(link), kind, out, in: inbound, link});
			log.child({link: end.peer}).info('link attached', {kind, dev, netns: namespace(t, end.peer), mtu: end.mtu, cost: end.cost});
			continue;
		}
		const open = (port: number, extra: {batch?: number; socketBuffer?: number}, what: string) => {
			const udp = openUdpLink({
				name: what,
				local: {address: underlayAddress(t, link, node), ifname, port},
				peer: {address: underlayAddress(t, link, end.peer), port},
				...extra,
			});
			udp.onError(fail(`link ${what}`));
			return udp;
		};
		const udp = open(LINK_PORT, {}, ifname);
		// The link's control channel: a socket of its own, so route exchange and BFD never wait
		// behind (or drop with) data in the data socket's queue (docs/pipeline.md).
		const control = open(CONTROL_PORT, {batch: 16, socketBuffer: 1 << 20}, `${ifname} control`);
		ports.push([end.id, udp], [`${end.id}:control`, control]);
		const out = new Direction(
			clock,
			(buf, offs, lens, n) => void udp.sendBatch(buf, offs, lens, n),
			(buf, offs, lens, n) => void control.sendBatch(buf, offs, lens, n),
		);
		const attached = stack.attachLink(end.id, via(end.id, out.data, udp), via(end.id, out.control, control), () => void control.drain());
		pump(udp, attached, tap, (p, b, off, len) => stack.pipeline.receive(p, b, off, len));
		pump(control, attached, tap, (p, b, off, len) => stack.pipeline.receiveControl(p, b, off, len));
		ends.push({peer: end.peer, key: linkKey(link), kind, out, link});
		log.child({link: end.peer}).info('link attached', {kind, ifname, mtu: end.mtu, cost: end.cost});
	}
	const settings = new Map<string, {share: LineSettings; mtu: number}>();
	return {
		ports,
		reload() {
			const states = readLinkStates(t, o.state);
			for (const e of ends) {
				const c = states[e.key] ?? {};
				const share = processShare(t, e.link, c);
				const mtu = c.mtu ?? e.link.mtu;
				e.out.set(share);
				e.in?.set(share);
				stack.setLinkMtu(e.peer, mtu);
				const was = settings.get(e.peer);
				if (!was || JSON.stringify(was.share) !== JSON.stringify(share) || was.mtu !== mtu) log.child({link: e.peer}).info('link conditions', {...share, mtu});
				settings.set(e.peer, {share, mtu});
			}
		},
		emulation() {
			return ends.map((e) => ({
				peer: e.peer, kind: e.kind, settings: settings.get(e.peer)?.share ?? {}, mtu: settings.get(e.peer)?.mtu ?? e.link.mtu,
				out: sum(e.out.data.stats, e.out.control.stats), ...(e.in ? {in: sum(e.in.data.stats, e.in.control.stats)} : {}),
			}));
		},
	};
}
