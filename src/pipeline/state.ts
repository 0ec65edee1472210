// What every stage of one node's pipeline reads and changes: its ports,
// addresses, hooks, limits, the packet pool, and the counting of drops. The
// stages are functions over this state (receive.ts, forward.ts, local.ts,
// fragments.ts, icmp-errors.ts, egress.ts); Pipeline (pipeline.ts) is the
// face the rest of the program sees.
import {randomBytes} from 'node:crypto';
import type {RouteTable} from '../route/table.js';
import {addrEquals, parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import {PrefixLimiter, TokenBucket} from '../util/rate.js';
import {WireError} from '../wire/error.js';
import {PacketInfo} from '../wire/packet.js';
import {pipelineCounters} from './counters.js';
import type {PipelineCounters} from './counters.js';
import {malformed} from './drops.js';
import type {DropReason} from './drops.js';
import type {Pipeline} from './pipeline.js';
import {PmtuCache} from './pmtu.js';
import {DEFAULT_REASSEMBLY, Reassembler} from './reassembly.js';
import type {Expired} from './reassembly.js';
import {DEFAULT_CONTROL_PLANE, Packet, STOLEN} from './types.js';
import type {AttachedPort, ControlPlaneLimits, Hook, HookPoint, PipelineConfig, ReassemblyMode, UdpHandler, Verdict} from './types.js';

const ALL_NODES = parseAddr('ff02::1');
/** Nesting allowed for synchronous delivery (hooks that originate packets, links that deliver at once). */
export const MAX_DEPTH = 8;

/** A hook point that reassembles first: for packets `when` selects, in a reassembler of its own. */
export interface ReassemblyPoint {
	point: HookPoint;
	when: (pkt: Packet) => boolean;
	mode: ReassemblyMode;
	reassembler: Reassembler<AttachedPort>;
}

export class PipelineState {
	readonly name: string;
	readonly routes: RouteTable;
	readonly counters: PipelineCounters = pipelineCounters();
	readonly ports = new Map<string, AttachedPort>();
	host: AttachedPort | null = null;
	/** Addresses the node's own stack answers: its configured ones and its link-local ones. */
	readonly own: Addr[];
	readonly anycast: Addr[];
	readonly groups: Addr[] = [ALL_NODES];
	readonly hooks: Record<HookPoint, Hook[]> = {prerouting: [], 'from-host': [], 'to-host': [], forward: [], postrouting: []};
	readonly udp = new Map<number, UdpHandler>();
	/** UDP ports of the control plane (route exchange, BFD): their packets are policed per link, apart from the rest. */
	readonly controlPorts = new Set<number>();
	readonly limits: ControlPlaneLimits;
	readonly localBucket: TokenBucket;
	readonly replies: PrefixLimiter;
	/** RFC 4443 §2.4(f): the node-wide budget of ICMPv6 errors. */
	readonly errorBucket: TokenBucket;
	readonly pool: Packet[] = Array.from({length: MAX_DEPTH}, () => new Packet());
	depth = 0;
	/** Fragments held for the node's own stack. Each reassembly point has its own. */
	readonly reassembly: Reassembler<AttachedPort>;
	readonly reassemblyAt: ReassemblyPoint[] = [];
	/** Path MTUs for what this node originates (RFC 8201). */
	readonly pmtu = new PmtuCache();
	/** RFC 7739 §5: Fragment Identifications should not be predictable; a random start and a counter. */
	fragId = randomBytes(4).readUInt32BE(0);
	/** For parsing what the node originates. */
	readonly scratch = new PacketInfo();
	/** Drops that an extension also counts in one of its counters (ExtensionSpec.tally). */
	readonly tally = new Map<DropReason, Array<{counters: Record<string, number>; name: string}>>();
	/** Reports a datagram that timed out or was evicted (fragments.ts). */
	onGone: (e: Expired<AttachedPort>) => void = () => {};

	constructor(
		readonly config: PipelineConfig,
		/** The face hooks and the drop callback are handed. */
		readonly pipeline: Pipeline,
	) {
		this.name = config.name;
		this.routes = config.routes;
		this.own = config.addresses.slice();
		this.anycast = (config.anycast ?? []).slice();
		this.errorBucket = new TokenBucket(config.icmpRate ?? {perSecond: 100, burst: 10}, config.now());
		this.limits = {...DEFAULT_CONTROL_PLANE, ...config.controlPlane};
		this.localBucket = new TokenBucket(this.limits.local, config.now());
		this.replies = new PrefixLimiter(this.limits.replies);
		this.reassembly = new Reassembler({...DEFAULT_REASSEMBLY, ...config.reassembly});
	}

	now(): number {
		return this.config.now();
	}

	isOwn(buf: Uint8Array, off: number): boolean {
		return indexOf(this.own, buf, off) >= 0;
	}

	isAnycast(buf: Uint8Array, off: number): boolean {
		return indexOf(this.anycast, buf, off) >= 0;
	}

	/** A multicast group the node has joined. */
	inGroup(buf: Uint8Array, off: number): boolean {
		return indexOf(this.groups, buf, off) >= 0;
	}
}

function indexOf(list: Addr[], buf: Uint8Array, off: number): number {
	for (let i = 0; i < list.length; i++) if (addrEquals(list[i]!, 0, buf, off)) return i;
	return -1;
}

/**
 * The packet for one more level of nesting, reset for a packet from
 * `inPort` (to `outPort` when known); null when packets are already nested
 * MAX_DEPTH deep, which the caller drops as `nesting-too-deep`. Every
 * acquire is paired with a release, in a finally.
 */
export function acquire(s: PipelineState, inPort: AttachedPort | null, outPort: AttachedPort | null, viaControl: boolean): Packet | null {
	if (s.depth === MAX_DEPTH) return null;
	const pkt = s.pool[s.depth++]!;
	pkt.inPort = inPort;
	pkt.outPort = outPort;
	pkt.viaControl = viaControl;
	pkt.event = null;
	pkt.info.fragIndex = -1;
	return pkt;
}

export function release(s: PipelineState): void {
	s.depth--;
}

/** Counts a drop of `pkt` and reports it (the packet is null where there is none to show). */
export function drop(s: PipelineState, reason: DropReason, pkt: Packet | null): void {
	const drops = s.counters.drops;
	if (drops[reason] === undefined) throw new Error(`${s.name}: drop reason ${reason} is not registered (Pipeline.extend)`);
	drops[reason]++;
	const also = s.tally.get(reason);
	if (also !== undefined) for (const t of also) t.counters[t.name]!++;
	if (s.config.onDrop && pkt) s.config.onDrop(reason, pkt, s.pipeline);
}

/** Runs the hooks of `point`: the first verdict that is not null ends the run. */
export function runHooks(s: PipelineState, point: HookPoint, pkt: Packet): Verdict {
	const hooks = s.hooks[point];
	try {
		for (let i = 0; i < hooks.length; i++) {
			const v = hooks[i]!(pkt, s.pipeline);
			if (v !== null) return v;
		}
	} catch (error) {
		// A hook that met bytes its codec refuses: a counted drop, not a dead process.
		if (error instanceof WireError) return malformed(error.code);
		throw error;
	}
	return null;
}

/** Acts on a verdict that is not null: a reason drops the packet; STOLEN means the hook took it. */
export function verdict(s: PipelineState, v: DropReason | typeof STOLEN, pkt: Packet): void {
	if (v !== STOLEN) drop(s, v, pkt);
}
