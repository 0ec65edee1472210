// The malicious third party, and the insider: forged responses for each row
// of the attack table in docs/protocol.md. `craft` makes the packets; the
// attacker (or terminal-a) puts them on its own wire, past its own node: it
// owns its device, so the first node of ours to parse them is its neighbour.
import {stamp} from '../anycast/identifier.js';
import type {Group} from '../anycast/group.js';
import {Alg, ID, ID_OPTION_TYPE, identifierOption} from '../anycast/option.js';
import type {DropReason} from '../pipeline/drops.js';
import type {Addr} from '../util/addr.js';
import {Icmp6, quoteInvoking} from '../wire/icmpv6.js';
import {setU16, setU32} from '../wire/bytes.js';
import {finish, pseudoHeaderSum, sum16} from '../wire/checksum.js';
import {IPV6, IPV6_HEADER_LEN, Proto} from '../wire/ipv6.js';
import {decodePacket} from '../wire/repr.js';
import {RIPNG_GROUP, RIPNG_PORT, RIPNG_RESPONSE, encodeRipng} from '../route/ripng-wire.js';
import {insertDestOption} from '../wire/destopts.js';
import type {ExtRepr} from '../wire/ext.js';
import type {OptionRepr} from '../wire/options.js';
import {parsePacket} from '../wire/packet.js';
import {buildPacket} from '../wire/repr.js';
import {rewriteDestination} from '../wire/rewrite.js';

/** Bytes every forged payload carries, so a capture can tell forged from genuine. */
export const FORGED_MARK = 'anyguard-forged';

export interface AttackSpec {
	/** Who sends it: the attacker on the Internet side, or terminal-a inside. It goes on the sender's own wire. */
	from: 'attacker' | 'terminal-a';
	/** Where docs/protocol.md says it is stopped (the first node that refuses it), and why. */
	droppedAt: string;
	/** The drop reason the stopping node counts, once per forged packet. */
	reason: DropReason;
	/** A flood: FLOOD_PACKETS packets whatever the count asked. */
	flood?: true;
	/** Needs a genuine stamped response to the client (a replay). */
	needsGenuine?: boolean;
	/** Needs a genuine stamped response to the attacker itself. */
	needsOwn?: boolean;
	/** Needs another group's signing key. */
	needsStolenKey?: boolean;
	/** Needs the key terminal-a verifies with. */
	needsInsiderKey?: boolean;
	/** The victim's flow goes to the group whose key was stolen, not to the client's first group. */
	victimGroup?: 'stolen';
	/**
	 * When `droppedAt` is a kernel router (a bird or kernel node, which parses
	 * nothing of ours), where the attack stops instead: the next anyguard node
	 * that refuses it, or `bird-neighbours` — the nftables rules before BIRD
	 * that take RIPng and BFD only from the topology's neighbours, counted
	 * there (src/netns/bird.ts, docs/routing.md).
	 */
	pastKernel?: {droppedAt: string; reason: DropReason | 'bird-neighbours'};
	summary: string;
}

export const ATTACKS = {
	'no-id': {from: 'attacker', droppedAt: 'client', reason: 'id-missing', summary: 'a response with no identifier'},
	'forged-tag': {from: 'attacker', droppedAt: 'client', reason: 'id-bad-tag', summary: 'a forged identifier (wrong tag), from the Internet side'},
	'forged-tag-inside': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-bad-tag', summary: 'a forged identifier (wrong tag), from inside, claiming server-a'},
	'wrong-group': {from: 'attacker', droppedAt: 'client', reason: 'id-wrong-group', needsStolenKey: true, summary: "a valid identifier of another anycast group (a stolen key)"},
	replay: {from: 'attacker', droppedAt: 'client', reason: 'id-replayed', needsGenuine: true, summary: 'the same bytes as a genuine response, again'},
	'replay-stale': {from: 'attacker', droppedAt: 'client', reason: 'id-stale', needsGenuine: true, summary: 'a genuine response, replayed after the window'},
	'replay-other-client': {from: 'attacker', droppedAt: 'client', reason: 'id-bad-tag', needsOwn: true, summary: "a genuine response to the attacker, sent on to the client"},
	'spoof-server': {from: 'attacker', droppedAt: 'boundary', reason: 'ingress-spoofed', summary: "server-a's unicast address spoofed from the Internet side"},
	'insider-src-s': {from: 'terminal-a', droppedAt: 'boundary', reason: 'src-is-anycast', summary: 'terminal-a answering with S as its source'},
	'insider-claim': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-not-provisioned', summary: 'terminal-a claiming S with an identifier of its own'},
	'truncated-id': {from: 'attacker', droppedAt: 'client', reason: 'id-malformed', summary: 'a truncated identifier option'},
	'duplicate-id': {from: 'attacker', droppedAt: 'client', reason: 'id-duplicate', summary: 'two identifier options'},
	'oversized-id': {from: 'attacker', droppedAt: 'client', reason: 'id-malformed', summary: 'an oversized identifier option'},
	'misplaced-id': {from: 'attacker', droppedAt: 'client', reason: 'id-misplaced', summary: 'the identifier in the Hop-by-Hop header'},
	'truncated-id-inside': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-malformed', summary: 'a truncated identifier option, from inside'},
	'duplicate-id-inside': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-duplicate', summary: 'two identifier options, from inside'},
	'oversized-id-inside': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-malformed', summary: 'an oversized identifier option, from inside'},
	'misplaced-id-inside': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-misplaced', summary: 'the identifier in the Hop-by-Hop header, from inside'},
	// Issue 12: pretenders built outside the first table.
	'nested-fragment': {from: 'attacker', droppedAt: 'internet', reason: 'malformed-repeated-header', pastKernel: {droppedAt: 'client', reason: 'malformed-repeated-header'}, summary: "a reply from server-a's address in two atomic Fragment headers"},
	'from-s-no-flow': {from: 'attacker', droppedAt: 'client', reason: 'src-is-anycast', summary: 'a reply from S to an echo identifier no flow uses'},
	'syn-from-s': {from: 'attacker', droppedAt: 'client', reason: 'src-is-anycast', summary: 'TCP SYNs from S, to make the host send resets to S'},
	'forged-unreachable': {from: 'attacker', droppedAt: 'client', reason: 'id-missing', summary: "Destination Unreachable (administratively prohibited) from server-a's address, quoting the victim's request"},
	'forged-ptb': {from: 'attacker', droppedAt: 'client', reason: 'icmp-implausible', summary: "Packet Too Big 1280 quoting the victim's small request"},
	'forged-time-exceeded': {from: 'attacker', droppedAt: 'client', reason: 'icmp-implausible', summary: "Time Exceeded quoting the victim's request sent with hop limit 64"},
	reflection: {from: 'attacker', droppedAt: 'client', reason: 'id-unsolicited', summary: "echo requests to S spoofed from the client: genuine answers it never asked for"},
	'routing-header-moved': {from: 'attacker', droppedAt: 'client', reason: 'id-misplaced', needsOwn: true, summary: "a genuine answer to the attacker, sent to the client behind a Routing header naming the attacker"},
	'insider-forged-stamp': {from: 'terminal-a', droppedAt: 'boundary', reason: 'id-bad-tag', needsInsiderKey: true, summary: "terminal-a stamping a reply claiming server-a with the key it verifies with"},
	'stolen-key-unprovisioned': {from: 'attacker', droppedAt: 'client', reason: 'id-not-provisioned', needsStolenKey: true, victimGroup: 'stolen', summary: 'a valid stamp made with a stolen group key, from an address not in the provisioned list'},
	'bfd-flood': {from: 'attacker', droppedAt: 'internet', reason: 'control-invalid', flood: true, pastKernel: {droppedAt: 'internet', reason: 'bird-neighbours'}, summary: "RIPng from made-up link-local sources, each a would-be BFD neighbour: not the link's neighbour, so no route and no session"},
} as const satisfies Record<string, AttackSpec>;

/** Packets a flood sends, whatever the count asked: several times what a bounded table would hold on a link. */
export const FLOOD_PACKETS = 64;

/** What `stopped` reads of a node's status (src/ops/status.ts): its drop counters. */
export interface StoppedBy {
	counters: {drops: Record<DropReason, number>};
}

/** How many of an attack's packets were stopped, read from the status of the node that stops them. */
export function stopped(spec: AttackSpec, status: StoppedBy): number {
	return status.counters.drops[spec.reason];
}

export type AttackKind = keyof typeof ATTACKS;

export function isAttackKind(kind: string): kind is AttackKind {
	return Object.hasOwn(ATTACKS, kind);
}

export interface AttackContext {
	/** The victim's host address and the anycast address it asked. */
	client: Addr;
	anycast: Addr;
	/** The sender's own host address. */
	self: Addr;
	/** A provisioned server's unicast address, to impersonate. */
	server: Addr;
	/** The victim's open flow: an echo identifier, and the sequence numbers to answer. */
	echoId: number;
	sequences: number[];
	/** Wall-clock ms for forged timestamps. */
	wallNow: number;
	/** Another group's signing key (wrong-group). */
	stolen?: Group;
	/** A genuine stamped response to the victim (replay, replay-stale). */
	genuine?: Uint8Array;
	/** A genuine stamped response to the sender itself (replay-other-client, routing-header-moved). */
	own?: Uint8Array;
	/** The group as terminal-a holds it, with the key it verifies with (insider-forged-stamp). */
	insider?: Group;
}

function reply(src: Addr, dst: Addr, echoId: number, seq: number, ext: ExtRepr[] = []): Uint8Array {
	return buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst},
		ext,
		upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: echoId, sequence: seq, data: new TextEncoder().encode(FORGED_MARK)}},
	});
}

/** An identifier with a tag nobody computed: what a sender without the key can make. */
function fakeId(anycast: Addr, wallNow: number): OptionRepr {
	return identifierOption({alg: Alg.HmacSha256, keyId: 1, anycast, timestampMs: wallNow, tag: new Uint8Array(16).fill(0x5a)});
}

/** The victim's echo request, as a forged error would quote it. */
function request(client: Addr, anycast: Addr, echoId: number, seq: number): Uint8Array {
	return buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: client, dst: anycast},
		ext: [],
		upper: {proto: Proto.Icmpv6, icmp: {kind: 'echo', type: Icmp6.EchoRequest, code: 0, identifier: echoId, sequence: seq, data: new TextEncoder().encode(FORGED_MARK)}},
	});
}

function icmpError(src: Addr, dst: Addr, type: 1 | 2 | 3, code: number, param: number, invoking: Uint8Array): Uint8Array {
	return buildPacket({ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst}, ext: [], upper: {proto: Proto.Icmpv6, icmp: {kind: 'error', type, code, param, invoking: quoteInvoking(invoking)}}});
}

const atomic = (identification: number): ExtRepr => ({kind: 'fragment', offset: 0, more: false, identification, reserved: 0, res: 0});

/** A TCP SYN from `src`: a hand-made segment with its checksum. */
function syn(src: Addr, dst: Addr, sport: number, dport: number, seq: number): Uint8Array {
	const seg = new Uint8Array(20);
	setU16(seg, 0, sport);
	setU16(seg, 2, dport);
	setU32(seg, 4, seq);
	seg[12] = 5 << 4;
	seg[13] = 0x02;
	setU16(seg, 14, 65535);
	const bytes = buildPacket({ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst}, ext: [], upper: {proto: Proto.Tcp, raw: seg}});
	setU16(bytes, IPV6_HEADER_LEN + 16, finish(sum16(bytes, IPV6_HEADER_LEN, 20, pseudoHeaderSum(bytes, IPV6.src, IPV6.dst, 20, Proto.Tcp))));
	return bytes;
}

/** RIPng Responses to the RIPng group with hop limit 255, each from a made-up link-local address: would-be BFD neighbours. */
function ripngFlood(seed: number): Uint8Array[] {
	return Array.from({length: FLOOD_PACKETS}, (_, i) => {
		const src = new Uint8Array(16);
		src[0] = 0xfe;
		src[1] = 0x80;
		setU32(src, 12, (seed * 7919 + i * 104729) >>> 0 || 1);
		src[8] = 0xa0;
		return buildPacket({
			ip: {trafficClass: 0, flowLabel: 0, hopLimit: 255, src, dst: RIPNG_GROUP},
			ext: [],
			upper: {proto: Proto.Udp, udp: {srcPort: RIPNG_PORT, dstPort: RIPNG_PORT, payload: encodeRipng(RIPNG_RESPONSE, [{prefix: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0x77, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), len: 64, metric: 1}])}},
		});
	});
}

/** The forged packets of `kind`, one per sequence number (replays: the captured bytes; floods: FLOOD_PACKETS). Throws when a needed input is missing. */
export function craft(kind: AttackKind, ctx: AttackContext): Uint8Array[] {
	const {client, anycast, self, server, echoId, wallNow} = ctx;
	if (kind === 'bfd-flood') return ripngFlood(wallNow % 100_000);
	const fake = fakeId(anycast, wallNow);
	const malformed = (): ExtRepr[] => {
		switch (kind) {
			case 'truncated-id':
			case 'truncated-id-inside':
				return [{kind: 'dest-opts', options: [{type: ID_OPTION_TYPE, data: fake.data.subarray(0, ID.tag + 4)}]}];
			case 'duplicate-id':
			case 'duplicate-id-inside':
				return [{kind: 'dest-opts', options: [fake, fake]}];
			case 'oversized-id':
			case 'oversized-id-inside': {
				const data = new Uint8Array(fake.data.length + 8);
				data.set(fake.data);
				return [{kind: 'dest-opts', options: [{type: ID_OPTION_TYPE, data}]}];
			}
			default:
				return [{kind: 'hop-by-hop', options: [fake]}];
		}
	};
	return ctx.sequences.map((seq) => {
		switch (kind) {
			case 'no-id':
				return reply(self, client, echoId, seq);
			case 'forged-tag':
			case 'forged-tag-inside':
				return insertDestOption(parsePacket(reply(server, client, echoId, seq)), fake);
			case 'wrong-group': {
				if (!ctx.stolen) throw new Error('wrong-group needs a stolen key of another group');
				const signed = stamp(parsePacket(reply(self, client, echoId, seq)), ctx.stolen, wallNow);
				if (!signed) throw new Error('the stolen key cannot sign');
				return signed;
			}
			case 'replay':
			case 'replay-stale':
				if (!ctx.genuine) throw new Error(`${kind} needs a genuine response to replay`);
				return ctx.genuine.slice();
			case 'replay-other-client': {
				if (!ctx.own) throw new Error('replay-other-client needs a genuine response to the sender');
				const moved = ctx.own.slice();
				rewriteDestination(parsePacket(moved), client);
				return moved;
			}
			case 'spoof-server':
				// A query to S that claims to come from server-a: the reflection the ingress filter stops.
				return buildPacket({
					ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src: server, dst: anycast},
					ext: [],
					upper: {proto: Proto.Udp, udp: {srcPort: 53, dstPort: 53, payload: new TextEncoder().encode(FORGED_MARK)}},
				});
			case 'insider-src-s':
				return reply(anycast, client, echoId, seq);
			case 'insider-claim':
				return insertDestOption(parsePacket(reply(self, client, echoId, seq)), fake);
			case 'nested-fragment':
				return reply(server, client, echoId, seq, [atomic(seq), atomic(seq + 1000)]);
			case 'from-s-no-flow':
				return reply(anycast, client, (echoId + 1) & 0xffff, seq);
			case 'syn-from-s':
				return syn(anycast, client, 80, 20000 + seq, seq);
			case 'forged-unreachable':
				return icmpError(server, client, Icmp6.DestUnreachable, 1, 0, request(client, anycast, echoId, seq));
			case 'forged-ptb':
				return icmpError(self, client, Icmp6.PacketTooBig, 0, 1280, request(client, anycast, echoId, seq));
			case 'forged-time-exceeded':
				return icmpError(self, client, Icmp6.TimeExceeded, 0, 0, request(client, anycast, echoId, seq));
			case 'reflection':
				return request(client, anycast, echoId, seq);
			case 'routing-header-moved': {
				if (!ctx.own) throw new Error('routing-header-moved needs a genuine response to the sender');
				const own = decodePacket(ctx.own);
				// The attacker's own answer, to the client, with a type 2 Routing header naming the attacker, whom the stamp is for.
				return buildPacket({...own, ip: {...own.ip, dst: client}, ext: [{kind: 'routing', routingType: 2, segmentsLeft: 1, data: Uint8Array.from([0, 0, 0, 0, ...self])}, ...own.ext]});
			}
			case 'insider-forged-stamp': {
				if (!ctx.insider) throw new Error('insider-forged-stamp needs the key terminal-a verifies with');
				const signed = stamp(parsePacket(reply(server, client, echoId, seq)), ctx.insider, wallNow);
				if (!signed) throw new Error("terminal-a's key cannot compute a tag");
				return signed;
			}
			case 'stolen-key-unprovisioned': {
				if (!ctx.stolen) throw new Error('stolen-key-unprovisioned needs a stolen key');
				const signed = stamp(parsePacket(reply(self, client, echoId, seq)), ctx.stolen, wallNow);
				if (!signed) throw new Error('the stolen key cannot sign');
				return signed;
			}
			default:
				return reply(server, client, echoId, seq, malformed());
		}
	});
}
