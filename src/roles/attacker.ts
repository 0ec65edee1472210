// The malicious third party, and the insider: forged responses for each row
// of the attack table in docs/protocol.md. `craft` makes the packets; the
// attacker's (or terminal-a's) node injects them as if its host had sent them.
import {stamp} from '../anycast/identifier.js';
import type {Group} from '../anycast/group.js';
import {Alg, ID, ID_OPTION_TYPE, identifierOption} from '../anycast/option.js';
import type {DropReason} from '../node/drop.js';
import type {Addr} from '../util/addr.js';
import {Icmp6} from '../wire/icmpv6.js';
import {insertDestOption} from '../wire/destopts.js';
import type {ExtRepr} from '../wire/ext.js';
import type {OptionRepr} from '../wire/options.js';
import {parsePacket} from '../wire/packet.js';
import {buildPacket} from '../wire/repr.js';
import {rewriteDestination} from '../wire/rewrite.js';

/** Bytes every forged payload carries, so a capture can tell forged from genuine. */
export const FORGED_MARK = 'anyguard-forged';

export interface AttackSpec {
	/** Who sends it: the attacker on the Internet side, or terminal-a inside. */
	from: 'attacker' | 'terminal-a';
	/** Where docs/protocol.md says it must be dropped, and why. */
	droppedAt: 'client' | 'boundary';
	reason: DropReason;
	/** Needs a genuine stamped response to the client (a replay). */
	needsGenuine?: boolean;
	/** Needs a genuine stamped response to the attacker itself. */
	needsOwn?: boolean;
	/** Needs another group's signing key. */
	needsStolenKey?: boolean;
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
} as const satisfies Record<string, AttackSpec>;

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
	/** A genuine stamped response to the sender itself (replay-other-client). */
	own?: Uint8Array;
}

function reply(src: Addr, dst: Addr, echoId: number, seq: number, ext: ExtRepr[] = []): Uint8Array {
	return buildPacket({
		ip: {trafficClass: 0, flowLabel: 0, hopLimit: 64, src, dst},
		ext,
		upper: {proto: 58, icmp: {kind: 'echo', type: Icmp6.EchoReply, code: 0, identifier: echoId, sequence: seq, data: new TextEncoder().encode(FORGED_MARK)}},
	});
}

/** An identifier with a tag nobody computed: what a sender without the key can make. */
function fakeId(anycast: Addr, wallNow: number): OptionRepr {
	return identifierOption({alg: Alg.HmacSha256, keyId: 1, anycast, timestampMs: wallNow, tag: new Uint8Array(16).fill(0x5a)});
}

/** The forged packets of `kind`, one per sequence number (replays: the captured bytes). Throws when a needed input is missing. */
export function craft(kind: AttackKind, ctx: AttackContext): Uint8Array[] {
	const {client, anycast, self, server, echoId, wallNow} = ctx;
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
					upper: {proto: 17, udp: {srcPort: 53, dstPort: 53, payload: new TextEncoder().encode(FORGED_MARK)}},
				});
			case 'insider-src-s':
				return reply(anycast, client, echoId, seq);
			case 'insider-claim':
				return insertDestOption(parsePacket(reply(self, client, echoId, seq)), fake);
			default:
				return reply(server, client, echoId, seq, malformed());
		}
	});
}
