// The conformance suite as data, gVisor packetimpact style: each row is a
// packet (or a few) that alpha's host sends into alpha's node, and what must
// follow — the ICMPv6 errors alpha's host gets back (exactly these), the drop
// counters that move (by exactly this much), other counters, and whether an
// echo reply made it back. The same rows run in memory (conformance.test.ts,
// no root) and on TUN devices in namespaces (netns.test.ts, root), over the
// network of test/fixtures/conformance.json:
//
//   alpha's host ─ alpha ─(1500)─ rtr ─(1280)─ beta ─ beta's host
//   2001:db8:c:a::5       2001:db8:c::1          2001:db8:c:b::6
//
// Rows marked `memOnly` inject on rtr's link from alpha (a link-local or
// multicast packet that a host cannot send through its node); in namespaces
// the links are UDP sockets of the role processes, with nowhere to inject.
import {fileURLToPath} from 'node:url';
import {fragments} from '../../lab/packets.js';
import type {DropReason} from '../../src/pipeline/drops.js';
import type {NodeCounters} from '../../src/ops/status.js';
import {parseAddr} from '../../src/util/addr.js';
import {Icmp6, buildPacket} from '../../src/wire/index.js';
import type {ExtRepr, PacketRepr} from '../../src/wire/index.js';

export {fragments};

export const CONFORMANCE_TOPOLOGY = fileURLToPath(new URL('../fixtures/conformance.json', import.meta.url));

export const C = {
	A: parseAddr('2001:db8:c:a::5'),
	B: parseAddr('2001:db8:c:b::6'),
	R: parseAddr('2001:db8:c::1'),
	ALL_NODES: parseAddr('ff02::1'),
	/** alpha's and rtr's link-local addresses (fe80::<index+1>, src/assembly/links.ts). */
	alphaLL: parseAddr('fe80::1'),
	rtrLL: parseAddr('fe80::2'),
	UNSPEC: new Uint8Array(16),
};

export type NodeName = 'alpha' | 'rtr' | 'beta';
export type NumericCounter = Exclude<keyof NodeCounters, 'drops'>;

export interface IcmpExpect {
	type: number;
	code: number;
	/** Pointer, MTU or unused word; checked when given. */
	param?: number;
	/** Source address of the error, as text. */
	from: string;
	/** Exact length of the whole error packet, when given. */
	length?: number;
}

export interface Case {
	id: string;
	/** The rule, for docs/conformance.md. */
	rule: string;
	rfc: string;
	/** Echo identifier of the row's packets, unique per row. */
	echoId: number;
	packets: () => Uint8Array[];
	memOnly?: boolean;
	/** How long to let things happen after the last packet (simulated or real ms). */
	waitMs?: number;
	/** ICMPv6 errors that reach alpha's host (or alpha's link-local, memOnly): exactly these. 'any': not checked. */
	icmp: IcmpExpect[] | 'any';
	/** Exact change of drop counters. */
	drops?: Array<[NodeName, DropReason, number]>;
	/** Minimum change of other counters. */
	counters?: Array<[NodeName, NumericCounter, number]>;
	/** An echo reply with the row's identifier reaches alpha's host from this address; null: none does; 'any': not checked. */
	reply: string | null | 'any';
}

const A = '2001:db8:c:a::5';
const B = '2001:db8:c:b::6';
const R = '2001:db8:c::1';
const RTR_LL = 'fe80::2';

const ip = (src: Uint8Array, dst: Uint8Array, hopLimit = 64) => ({trafficClass: 0, flowLabel: 0, hopLimit, src, dst});

function echoRepr(src: Uint8Array, dst: Uint8Array, id: number, ext: ExtRepr[] = [], size = 64, hopLimit = 64): PacketRepr {
	const data = new Uint8Array(size).map((_, i) => i & 0xff);
	return {ip: ip(src, dst, hopLimit), ext, upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: id, sequence: 1, data}}};
}

export function echo(src: Uint8Array, dst: Uint8Array, id: number, ext: ExtRepr[] = [], size = 64, hopLimit = 64): Uint8Array {
	return buildPacket(echoRepr(src, dst, id, ext, size, hopLimit));
}

/** An option of RFC 4727's experimental type family xx111110 with action bits `action`. */
function opt(action: number): {type: number; data: Uint8Array} {
	return {type: (action << 6) | 0x3e, data: new Uint8Array(4)};
}

function raw(src: Uint8Array, dst: Uint8Array, ext: ExtRepr[], proto: number, bytes: Uint8Array, hopLimit = 64): Uint8Array {
	return buildPacket({ip: ip(src, dst, hopLimit), ext, upper: {proto, raw: bytes}});
}

/** An ICMPv6 error (Destination Unreachable) from alpha's host, about nothing in particular. */
function anError(dst: Uint8Array, hopLimit: number): Uint8Array {
	return buildPacket({ip: ip(C.A, dst, hopLimit), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: Icmp6.DestUnreachable, code: 0, param: 0, invoking: echo(C.B, C.A, 1)}}});
}

const actions = [
	[0, '00 skip'],
	[1, '01 discard'],
	[2, '10 discard, Parameter Problem'],
	[3, '11 discard, Parameter Problem unless multicast'],
] as const;

function optionRows(): Case[] {
	const rows: Case[] = [];
	let next = 0x100;
	for (const [action, name] of actions) {
		const pp = (from: string): IcmpExpect[] => [{type: Icmp6.ParamProblem, code: 2, param: 42, from}];
		// Hop-by-Hop: every node processes it, so alpha's node is the first to act.
		rows.push({
			id: `rfc8200-hbh-${action.toString(2).padStart(2, '0')}-unicast`,
			rule: `Hop-by-Hop unknown option, action ${name}, unicast destination`,
			rfc: 'RFC 8200 §4.2, §4.3',
			...withId(++next, (id) => [echo(C.A, C.B, id, [{kind: 'hop-by-hop', options: [opt(action)]}])]),
			icmp: action >= 2 ? pp(A) : [],
			drops: [['alpha', 'option-unknown', action === 0 ? 0 : 1]],
			reply: action === 0 ? B : null,
		});
		rows.push({
			id: `rfc8200-hbh-${action.toString(2).padStart(2, '0')}-multicast`,
			rule: `Hop-by-Hop unknown option, action ${name}, multicast destination`,
			rfc: 'RFC 8200 §4.2, RFC 4443 §2.4(e.3)',
			...withId(++next, (id) => [echo(C.A, C.ALL_NODES, id, [{kind: 'hop-by-hop', options: [opt(action)]}])]),
			icmp: action === 2 ? pp(A) : [],
			// Past the options, a host's multicast goes nowhere: nodes do not forward multicast.
			drops: [['alpha', 'option-unknown', action === 0 ? 0 : 1], ['alpha', 'not-for-us', action === 0 ? 1 : 0]],
			reply: null,
		});
		// …and a router does too, not only the first node.
		rows.push({
			id: `rfc8200-hbh-${action.toString(2).padStart(2, '0')}-router`,
			rule: `Hop-by-Hop unknown option, action ${name}, processed by a router on the path`,
			rfc: 'RFC 8200 §4.3',
			memOnly: true,
			...withId(++next, (id) => [echo(C.A, C.B, id, [{kind: 'hop-by-hop', options: [opt(action)]}])]),
			icmp: action >= 2 ? [{type: Icmp6.ParamProblem, code: 2, param: 42, from: R}] : [],
			drops: [['rtr', 'option-unknown', action === 0 ? 0 : 1]],
			reply: action === 0 ? B : null,
		});
		// Destination Options: only the destination, here rtr's own stack.
		rows.push({
			id: `rfc8200-dst-${action.toString(2).padStart(2, '0')}-unicast`,
			rule: `Destination Options unknown option, action ${name}, at the destination (unicast)`,
			rfc: 'RFC 8200 §4.2, §4.6',
			...withId(++next, (id) => [echo(C.A, C.R, id, [{kind: 'dest-opts', options: [opt(action)]}])]),
			icmp: action >= 2 ? pp(R) : [],
			drops: [['rtr', 'option-unknown', action === 0 ? 0 : 1], ['alpha', 'option-unknown', 0]],
			reply: action === 0 ? R : null,
		});
		rows.push({
			id: `rfc8200-dst-${action.toString(2).padStart(2, '0')}-multicast`,
			rule: `Destination Options unknown option, action ${name}, at the destination (multicast ff02::1)`,
			rfc: 'RFC 8200 §4.2, RFC 4443 §2.4(e.3)',
			memOnly: true,
			...withId(++next, (id) => [echo(C.alphaLL, C.ALL_NODES, id, [{kind: 'dest-opts', options: [opt(action)]}])]),
			icmp: action === 2 ? [{type: Icmp6.ParamProblem, code: 2, param: 42, from: RTR_LL}] : [],
			drops: [['rtr', 'option-unknown', action === 0 ? 0 : 1]],
			reply: null, // echo to a multicast group is not answered here
		});
	}
	return rows;
}

function withId(echoId: number, make: (id: number) => Uint8Array[]): {echoId: number; packets: () => Uint8Array[]} {
	return {echoId, packets: () => make(echoId)};
}

function build(): Case[] {
	const rows: Case[] = [];
	const add = (c: Omit<Case, 'packets'> & {packets: (id: number) => Uint8Array[]}) => rows.push({...c, packets: () => c.packets(c.echoId)});
	rows.push(...optionRows());
	add({
		id: 'rfc8200-dst-to-host-not-applied',
		rule: 'Destination Options are not acted on by a node for its host (the host is the destination)',
		rfc: 'RFC 8200 §4.6',
		echoId: 0x200,
		packets: (id) => [echo(C.A, C.B, id, [{kind: 'dest-opts', options: [opt(2)]}])],
		icmp: 'any', // what beta's host does with it is its own kernel's business
		drops: [['beta', 'option-unknown', 0], ['rtr', 'option-unknown', 0]],
		counters: [['beta', 'forwarded', 1]],
		reply: 'any',
	});
	add({
		id: 'rfc8200-nh-unknown',
		rule: 'Unknown Next Header at the destination: Parameter Problem code 1, pointer at the Next Header field',
		rfc: 'RFC 8200 §4',
		echoId: 0x201,
		packets: () => [raw(C.A, C.R, [], 253, new Uint8Array(16))],
		icmp: [{type: Icmp6.ParamProblem, code: 1, param: 6, from: R}],
		drops: [['rtr', 'next-header-unknown', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-nh-unknown-after-ext',
		rule: 'Unknown Next Header after a Destination Options header: pointer at that header\'s Next Header',
		rfc: 'RFC 8200 §4',
		echoId: 0x202,
		packets: () => [raw(C.A, C.R, [{kind: 'dest-opts', options: []}], 253, new Uint8Array(16))],
		icmp: [{type: Icmp6.ParamProblem, code: 1, param: 40, from: R}],
		drops: [['rtr', 'next-header-unknown', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-hbh-not-first',
		rule: 'Hop-by-Hop header anywhere but first: Parameter Problem code 1 at the Next Header that names it',
		rfc: 'RFC 8200 §4, §4.3',
		echoId: 0x203,
		packets: (id) => [echo(C.A, C.R, id, [{kind: 'dest-opts', options: []}, {kind: 'hop-by-hop', options: []}])],
		icmp: [{type: Icmp6.ParamProblem, code: 1, param: 40, from: A}],
		drops: [['alpha', 'malformed-bad-order', 1]],
		reply: null,
	});
	const rh = (type: number, segmentsLeft: number): ExtRepr => ({kind: 'routing', routingType: type, segmentsLeft, data: new Uint8Array(20).fill(0, 0, 4).map((v, i) => (i >= 4 ? C.R[i - 4]! : v))});
	for (const [type, name] of [
		[0, 'type 0'],
		[253, 'an unknown type (253)'],
	] as const) {
		add({
			id: `rfc5095-rh${type}-segments-left`,
			rule: `Routing header of ${name} with Segments Left > 0: Parameter Problem code 0 at the Routing Type`,
			rfc: type === 0 ? 'RFC 5095 §3, RFC 8200 §4.4' : 'RFC 8200 §4.4',
			echoId: 0x210 + (type & 0xf),
			packets: (id) => [echo(C.A, C.R, id, [rh(type, 1)])],
			icmp: [{type: Icmp6.ParamProblem, code: 0, param: 42, from: R}],
			drops: [['rtr', 'routing-header', 1]],
			reply: null,
		});
		add({
			id: `rfc5095-rh${type}-no-segments-left`,
			rule: `Routing header of ${name} with Segments Left 0: ignored, the packet is processed`,
			rfc: 'RFC 8200 §4.4',
			echoId: 0x220 + (type & 0xf),
			packets: (id) => [echo(C.A, C.R, id, [rh(type, 0)])],
			icmp: [],
			drops: [['rtr', 'routing-header', 0]],
			reply: R,
		});
	}
	add({
		id: 'rfc8200-hop-limit',
		rule: 'Hop limit runs out at a router: Time Exceeded code 0',
		rfc: 'RFC 8200 §3, RFC 4443 §3.3',
		echoId: 0x230,
		packets: (id) => [echo(C.A, C.B, id, [], 64, 1)],
		icmp: [{type: Icmp6.TimeExceeded, code: 0, param: 0, from: R}],
		drops: [['rtr', 'hop-limit', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-hop-limit-2',
		rule: 'Hop limit 2 crosses one router (the nodes next to hosts do not count as hops)',
		rfc: 'RFC 8200 §3',
		echoId: 0x231,
		packets: (id) => [echo(C.A, C.B, id, [], 64, 2)],
		icmp: [],
		drops: [['rtr', 'hop-limit', 0]],
		reply: B,
	});
	add({
		id: 'rfc8200-packet-too-big',
		rule: 'Packet bigger than the next link\'s MTU: Packet Too Big with that MTU, quoting as much as fits in 1280 bytes',
		rfc: 'RFC 8200 §5, RFC 4443 §3.2, §2.4(c)',
		echoId: 0x232,
		packets: (id) => [echo(C.A, C.B, id, [], 1400 - 48)],
		icmp: [{type: Icmp6.PacketTooBig, code: 0, param: 1280, from: R, length: 1280}],
		drops: [['rtr', 'too-big', 1]],
		reply: null,
	});
	add({
		id: 'rfc8201-pmtu-floor',
		rule: 'A Packet Too Big reporting less than 1280 lowers the path MTU to 1280, no lower; the node then fragments its own replies',
		rfc: 'RFC 8201 §4, RFC 8200 §4.5, §5',
		echoId: 0x233,
		packets: (id) => {
			const big = echo(C.A, C.R, id, [], 1400 - 48);
			// What rtr answered the first time (src R, dst A), quoted in a forged-looking but valid Packet Too Big of 1000.
			const reply = buildPacket({...echoRepr(C.R, C.A, id, [], 1400 - 48), upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: id, sequence: 1, data: new Uint8Array(1400 - 48).map((_, i) => i & 0xff)}}});
			const ptb = buildPacket({ip: ip(C.A, C.R), ext: [], upper: {proto: 58, icmp: {kind: 'error', type: Icmp6.PacketTooBig, code: 0, param: 1000, invoking: reply.subarray(0, 1232)}}});
			return [big, ptb, big];
		},
		icmp: [],
		counters: [['rtr', 'pmtuUpdates', 1], ['rtr', 'fragmented', 1], ['alpha', 'reassembled', 1]],
		reply: R,
	});
	// RFC 4443 §2.4(e)
	add({
		id: 'rfc4443-e1-no-error-about-error',
		rule: 'No ICMPv6 error about an ICMPv6 error message (here: its hop limit runs out)',
		rfc: 'RFC 4443 §2.4(e.1)',
		echoId: 0x240,
		packets: () => [anError(C.B, 1)],
		icmp: [],
		drops: [['rtr', 'hop-limit', 1]],
		counters: [['rtr', 'icmpSuppressed', 1]],
		reply: null,
	});
	add({
		id: 'rfc4443-e3-no-error-to-multicast',
		rule: 'No ICMPv6 error about a packet to a multicast destination (here: unknown Next Header to ff02::1)',
		rfc: 'RFC 4443 §2.4(e.3)',
		echoId: 0x241,
		memOnly: true,
		packets: () => [raw(C.alphaLL, C.ALL_NODES, [], 253, new Uint8Array(16))],
		icmp: [],
		drops: [['rtr', 'next-header-unknown', 1]],
		counters: [['rtr', 'icmpSuppressed', 1]],
		reply: null,
	});
	add({
		id: 'rfc4443-e6-no-error-to-unspecified',
		rule: 'No ICMPv6 error about a packet from the unspecified address',
		rfc: 'RFC 4443 §2.4(e.6)',
		echoId: 0x242,
		memOnly: true,
		packets: () => [raw(C.UNSPEC, C.R, [], 253, new Uint8Array(16))],
		icmp: [],
		drops: [['rtr', 'next-header-unknown', 1]],
		counters: [['rtr', 'icmpSuppressed', 1]],
		reply: null,
	});
	add({
		id: 'rfc4291-multicast-source',
		rule: 'A multicast source is dropped, with no ICMPv6 error',
		rfc: 'RFC 4291 §2.7, RFC 4443 §2.4(e.6)',
		echoId: 0x243,
		packets: (id) => [echo(parseAddr('ff0e::1'), C.B, id, [], 64, 1)],
		icmp: [],
		drops: [['alpha', 'bad-source', 1]],
		reply: null,
	});
	// Fragments (RFC 8200 §4.5): an echo of 200 bytes of data (208 of ICMPv6) to beta's host, in pieces.
	const toB = (id: number) => echo(C.A, C.B, id, [], 200);
	add({
		id: 'rfc8200-frag-routers-forward',
		rule: 'Routers forward fragments untouched; the destination side (beta, for its host) reassembles',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x250,
		packets: (id) => fragments(toB(id), 0x250, [[0, 104], [104, 208, true]]),
		icmp: [],
		drops: [['beta', 'frag-overlap', 0]],
		counters: [['beta', 'reassembled', 1], ['rtr', 'forwarded', 2]],
		reply: B,
	});
	add({
		id: 'rfc8200-frag-local',
		rule: 'A node reassembles fragments for its own address',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x251,
		packets: (id) => fragments(echo(C.A, C.R, id, [], 200), 0x251, [[0, 104], [104, 208, true]]),
		icmp: [],
		counters: [['rtr', 'reassembled', 1]],
		reply: R,
	});
	add({
		id: 'rfc8200-frag-reverse-order',
		rule: 'Fragments in any order are reassembled',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x252,
		packets: (id) => fragments(toB(id), 0x252, [[104, 208, true], [56, 104], [0, 56]]),
		icmp: [],
		counters: [['beta', 'reassembled', 1]],
		reply: B,
	});
	add({
		id: 'rfc6946-atomic-fragment',
		rule: 'An atomic fragment (offset 0, M = 0) is processed as a whole datagram, in isolation',
		rfc: 'RFC 6946 §4',
		echoId: 0x253,
		packets: (id) => fragments(toB(id), 0x253, [[0, 208, true]]),
		icmp: [],
		counters: [['beta', 'reassembled', 1]],
		reply: B,
	});
	add({
		id: 'rfc5722-overlap',
		rule: 'Overlapping fragments: the whole datagram is dropped, later fragments too, no ICMP',
		rfc: 'RFC 5722 §4, RFC 8200 §4.5',
		echoId: 0x254,
		packets: (id) => fragments(toB(id), 0x254, [[0, 104], [96, 208, true], [104, 208, true]]),
		icmp: [],
		drops: [['beta', 'frag-overlap', 3]],
		reply: null,
	});
	add({
		id: 'rfc8200-frag-duplicate',
		rule: 'An exact duplicate fragment is dropped alone; the datagram completes',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x255,
		packets: (id) => fragments(toB(id), 0x255, [[0, 104], [0, 104], [104, 208, true]]),
		icmp: [],
		drops: [['beta', 'frag-duplicate', 1], ['beta', 'frag-overlap', 0]],
		reply: B,
	});
	add({
		id: 'rfc7112-incomplete-chain-upper',
		rule: 'First fragment without the whole upper-layer header: Parameter Problem code 3, pointer 0',
		rfc: 'RFC 7112 §5',
		echoId: 0x256,
		packets: () => [raw(C.A, C.B, [{kind: 'fragment', offset: 0, more: true, identification: 0x256}], 17, new Uint8Array([0x9c, 0x40, 0, 53]))],
		icmp: [{type: Icmp6.ParamProblem, code: 3, param: 0, from: A}],
		drops: [['alpha', 'frag-incomplete-chain', 1]],
		reply: null,
	});
	add({
		id: 'rfc7112-incomplete-chain-ext',
		rule: 'First fragment whose extension-header chain is cut short: Parameter Problem code 3',
		rfc: 'RFC 7112 §5',
		echoId: 0x257,
		// A Destination Options header that claims 16 bytes, with 8 present.
		packets: () => [raw(C.A, C.B, [{kind: 'fragment', offset: 0, more: true, identification: 0x257}], 60, new Uint8Array([58, 1, 1, 4, 0, 0, 0, 0]))],
		icmp: [{type: Icmp6.ParamProblem, code: 3, param: 0, from: A}],
		drops: [['alpha', 'frag-incomplete-chain', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-frag-timeout-first',
		rule: 'Reassembly times out (configurable, here 2 s) with the first fragment in: Time Exceeded code 1',
		rfc: 'RFC 8200 §4.5, RFC 4443 §3.3',
		echoId: 0x258,
		packets: (id) => fragments(toB(id), 0x258, [[0, 104]]),
		// 2 s timeout, checked by a 1 s sweep, plus room for a loaded machine.
		waitMs: 6000,
		icmp: [{type: Icmp6.TimeExceeded, code: 1, param: 0, from: B}],
		drops: [['beta', 'frag-timeout', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-frag-timeout-no-first',
		rule: 'Reassembly times out without the first fragment: no ICMP',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x259,
		packets: (id) => fragments(toB(id), 0x259, [[104, 208, true]]),
		waitMs: 6000,
		icmp: [],
		drops: [['beta', 'frag-timeout', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-frag-not-multiple-of-8',
		rule: 'A fragment with M = 1 whose length is not a multiple of 8: Parameter Problem code 0 at Payload Length',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x25a,
		packets: (id) => fragments(toB(id), 0x25a, [[0, 100]]),
		icmp: [{type: Icmp6.ParamProblem, code: 0, param: 4, from: B}],
		drops: [['beta', 'frag-bad-length', 1]],
		reply: null,
	});
	add({
		id: 'rfc8200-frag-past-65535',
		rule: 'A fragment that would end past 65535 bytes of payload: Parameter Problem code 0 at the Fragment Offset',
		rfc: 'RFC 8200 §4.5',
		echoId: 0x25b,
		packets: () => [raw(C.A, C.B, [{kind: 'fragment', offset: 8190, more: true, identification: 0x25b}], 58, new Uint8Array(32))],
		icmp: [{type: Icmp6.ParamProblem, code: 0, param: 42, from: B}],
		drops: [['beta', 'frag-bad-length', 1]],
		reply: null,
	});
	return rows;
}

export const CASES: Case[] = build();
