// The packet pipeline of one node, the same for every role. A packet goes
//
//   receive → validate → hop-by-hop options → prerouting → [own address? → local]
//           → route → hop limit → [reassembly] → from-host | to-host | forward
//           → MTU → postrouting → transmit
//
// one file per stage (docs/architecture.md names them; docs/pipeline.md lists
// every stage, drop reason and ICMPv6 error). Roles are sets of hooks at the
// named points (src/roles), and register the drop reasons, counters and trace
// events of their own with extend(). The pipeline never throws on a packet:
// every failure is a counted drop with a reason, and the ICMPv6 error the
// RFCs ask for, if any, is sent.
import type {RouteTable} from '../route/table.js';
import type {Addr} from '../util/addr.js';
import type {PipelineCounters} from './counters.js';
import type {DropReason, Extension, ExtensionSpec} from './drops.js';
import {originate, sendUdp} from './egress.js';
import {expireReassemblies, reassemblyGone} from './fragments.js';
import {nextHopOf, portOf} from './forward.js';
import {sendError} from './icmp-errors.js';
import type {PmtuCache} from './pmtu.js';
import {DEFAULT_REASSEMBLY, Reassembler} from './reassembly.js';
import {receive, receiveControl} from './receive.js';
import {PipelineState, drop} from './state.js';
import {AttachedPort} from './types.js';
import type {Hook, HookPoint, Packet, PipelineConfig, Port, ReassemblyMode, UdpHandler} from './types.js';

export class Pipeline {
	private readonly s: PipelineState;
	private readonly added: Extension[] = [];

	constructor(config: PipelineConfig) {
		this.s = new PipelineState(config, this);
		this.s.onGone = (e) => reassemblyGone(this.s, e);
	}

	get name(): string {
		return this.s.name;
	}

	get routes(): RouteTable {
		return this.s.routes;
	}

	get counters(): PipelineCounters {
		return this.s.counters;
	}

	/** The node's ports by name: its links (named for the neighbour) and `host`. */
	get ports(): ReadonlyMap<string, AttachedPort> {
		return this.s.ports;
	}

	get host(): AttachedPort | null {
		return this.s.host;
	}

	/** Path MTUs for what this node originates (RFC 8201). */
	get pmtu(): PmtuCache {
		return this.s.pmtu;
	}

	/** The extensions registered, in order: each one's spec and live counters. */
	get extensions(): readonly Extension[] {
		return this.added;
	}

	addPort(port: Port): AttachedPort {
		const s = this.s;
		const attached = new AttachedPort(port, s.limits.control, s.now());
		if (port.kind === 'host') {
			if (s.host) throw new Error(`node ${s.name} already has a host port`);
			s.host = attached;
		}
		s.ports.set(port.name, attached);
		if (port.linkLocal) s.own.push(port.linkLocal);
		return attached;
	}

	addHook(point: HookPoint, hook: Hook): void {
		this.s.hooks[point].push(hook);
	}

	/**
	 * Registers what a role adds (ExtensionSpec): its drop reasons get counters
	 * beside the pipeline's, its own counters start at 0. Returns them, for the
	 * role to increment.
	 */
	extend<C extends string>(spec: ExtensionSpec<C>): Extension<C> {
		const s = this.s;
		if (this.added.some((e) => e.spec.name === spec.name)) throw new Error(`node ${s.name}: extension ${spec.name} is registered already`);
		const counters = {} as Record<C, number>;
		for (const name of Object.keys(spec.counters) as C[]) counters[name] = 0;
		for (const reason of spec.drops) s.counters.drops[reason] ??= 0;
		for (const [name, reasons] of Object.entries(spec.tally ?? {}) as Array<[C, readonly DropReason[]]>) {
			for (const reason of reasons) {
				const list = s.tally.get(reason) ?? [];
				list.push({counters, name});
				s.tally.set(reason, list);
			}
		}
		const ext: Extension<C> = {spec, counters};
		this.added.push(ext as unknown as Extension);
		return ext;
	}

	/**
	 * Fragments reaching `point` for which `when` holds are reassembled first
	 * (see ReassemblyMode), in a reassembler of their own: fragments sent to
	 * the node itself, or meant for another point, never push them out.
	 */
	reassembleAt(point: 'from-host' | 'to-host' | 'forward', when: (pkt: Packet) => boolean, mode: ReassemblyMode): void {
		const s = this.s;
		s.reassemblyAt.push({point, when, mode, reassembler: new Reassembler({...DEFAULT_REASSEMBLY, ...s.config.reassembly})});
	}

	/** Every reassembler of the node, named: `local` (its own stack) and one per reassembleAt point. */
	reassemblers(): Array<{name: string; reassembler: Reassembler<AttachedPort>}> {
		const s = this.s;
		return [{name: 'local', reassembler: s.reassembly}, ...s.reassemblyAt.map((r) => ({name: r.point, reassembler: r.reassembler}))];
	}

	/** Timer work: abandons reassemblies past their timeout (RFC 8200 §4.5). Call about once a second. */
	tick(): void {
		expireReassemblies(this.s);
	}

	joinGroup(group: Addr): void {
		this.s.groups.push(group);
	}

	/**
	 * Delivers UDP datagrams to `port` on this node's own addresses and groups
	 * to `handler`. A `control` port (route exchange, BFD) takes link-local
	 * packets from a link, on the link's control channel or not, and is
	 * policed per link apart from the node's other local traffic.
	 */
	bindUdp(port: number, handler: UdpHandler, control = false): void {
		this.s.udp.set(port, handler);
		if (control) this.s.controlPorts.add(port);
	}

	isOwn(buf: Uint8Array, off: number): boolean {
		return this.s.isOwn(buf, off);
	}

	isAnycast(buf: Uint8Array, off: number): boolean {
		return this.s.isAnycast(buf, off);
	}

	/** Entry point for a packet from a port: [off, off+len) of `buf`. The bytes may be changed in place. */
	receive(port: AttachedPort, buf: Uint8Array, off: number, len: number): void {
		receive(this.s, port, buf, off, len);
	}

	/** Entry point for a link's control channel (receive.ts): route exchange and BFD for this node only. */
	receiveControl(port: AttachedPort, buf: Uint8Array, off: number, len: number): void {
		receiveControl(this.s, port, buf, off, len);
	}

	/**
	 * The port the node's route to the destination of the packet at `off`
	 * leaves by (the host port for a local route), or null when there is none.
	 */
	routePort(buf: Uint8Array, off: number): AttachedPort | null {
		const nh = nextHopOf(this.s, buf, off);
		return nh ? portOf(this.s, nh) : null;
	}

	/** Sends a packet this node made: out of `port` when given, else by the route table; no hooks run on it. */
	originate(bytes: Uint8Array, port: AttachedPort | null = null): boolean {
		return originate(this.s, bytes, port);
	}

	/** Sends a route-exchange or BFD datagram on link `link`, on its control channel when it has one (egress.ts). */
	sendUdp(link: string, payload: Uint8Array, dst: Addr, dstPort: number, srcPort: number): boolean {
		return sendUdp(this.s, link, payload, dst, dstPort, srcPort);
	}

	/** Sends an ICMPv6 error about `pkt` to its source, within RFC 4443 §2.4(e) and (f) (icmp-errors.ts). */
	sendError(pkt: Packet, type: number, code: number, param: number): void {
		sendError(this.s, pkt, type, code, param);
	}

	/** Counts a drop of `pkt` and reports it. */
	drop(reason: DropReason, pkt: Packet | null): void {
		drop(this.s, reason, pkt);
	}
}
