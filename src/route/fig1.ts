// The default topology of the patent's Fig. 1, as an in-memory network:
//
//   client ──┐                      ┌─ router-a ── LAN a: server-a, terminal-a
//            internet ── boundary ──┤  (cost 1)
//   attacker ┘                      └─ router-b ── LAN b: server-b, terminal-b
//                                      (cost 3)
//
// server-a and server-b both originate the anycast address S/128. Hosts
// (client, attacker, terminals) use a static default route; the others run
// RIPng and BFD.
import {parseAddr} from '../util/addr.js';
import type {Addr} from '../util/addr.js';
import type {HealthCheck} from './anycast.js';
import type {BfdConfig} from './bfd.js';
import type {RipngTimers} from './ripng.js';
import type {RouterConfig} from './router.js';
import {SimNetwork} from './sim.js';

export const FIG1 = {
	S: '2001:db8:1:ac::53',
	client: '2001:db8:2:c::10',
	attacker: '2001:db8:2:e::66',
	serverA: '2001:db8:1:a::30',
	serverB: '2001:db8:1:b::30',
	terminalA: '2001:db8:1:a::5',
	terminalB: '2001:db8:1:b::6',
	lanA: '2001:db8:1:a::/64',
	lanB: '2001:db8:1:b::/64',
} as const;

/** Link-local address of each node (the same on all of its links). */
export const FIG1_LL: Record<string, string> = {
	client: 'fe80::1', internet: 'fe80::2', attacker: 'fe80::3', boundary: 'fe80::4', 'router-a': 'fe80::5',
	'router-b': 'fe80::6', 'server-a': 'fe80::7', 'server-b': 'fe80::8', 'terminal-a': 'fe80::9', 'terminal-b': 'fe80::a',
};

export interface Fig1Options {
	seed?: number;
	linkDelayMs?: number;
	ripng?: Partial<RipngTimers>;
	bfd?: Partial<BfdConfig>;
	/** Cost of boundary–router-b (default 3); boundary–router-a costs 1. */
	costB?: number;
	/** Health checks of the two anycast servers (default: none, healthy while alive). */
	checkA?: HealthCheck;
	checkB?: HealthCheck;
	checkIntervalMs?: number;
}

export function fig1(opts: Fig1Options = {}): SimNetwork {
	const net = new SimNetwork({seed: opts.seed ?? 1, ...(opts.linkDelayMs === undefined ? {} : {linkDelayMs: opts.linkDelayMs})});
	const timers = {...(opts.ripng ? {ripng: opts.ripng} : {}), ...(opts.bfd ? {bfd: opts.bfd} : {})};
	const ll = (n: string): string => FIG1_LL[n]!;
	const host = (name: string, addr: string, gateway: string): RouterConfig => ({
		name,
		links: [{id: 'eth0', linkLocal: ll(name), addresses: [addr], ripng: false}],
		static: [{prefix: '::/0', link: 'eth0', via: ll(gateway)}],
	});
	const anycast = (check: HealthCheck | undefined) => [{
		address: FIG1.S,
		...(check ? {check} : {}),
		...(opts.checkIntervalMs === undefined ? {} : {intervalMs: opts.checkIntervalMs}),
	}];
	const costB = opts.costB ?? 3;
	const configs: RouterConfig[] = [
		host('client', `${FIG1.client}/64`, 'internet'),
		host('attacker', `${FIG1.attacker}/64`, 'internet'),
		{
			name: 'internet', ...timers,
			links: [
				{id: 'client', linkLocal: ll('internet'), addresses: ['2001:db8:2:c::1/64'], ripng: false},
				{id: 'attacker', linkLocal: ll('internet'), addresses: ['2001:db8:2:e::1/64'], ripng: false},
				{id: 'boundary', linkLocal: ll('internet'), addresses: ['2001:db8:2:f::1/64']},
			],
		},
		{
			name: 'boundary', ...timers,
			links: [
				{id: 'internet', linkLocal: ll('boundary'), addresses: ['2001:db8:2:f::2/64']},
				{id: 'router-a', linkLocal: ll('boundary'), cost: 1},
				{id: 'router-b', linkLocal: ll('boundary'), cost: costB},
			],
		},
		{
			name: 'router-a', ...timers,
			links: [
				{id: 'boundary', linkLocal: ll('router-a'), cost: 1},
				{id: 'lan', linkLocal: ll('router-a'), addresses: ['2001:db8:1:a::1/64']},
			],
		},
		{
			name: 'router-b', ...timers,
			links: [
				{id: 'boundary', linkLocal: ll('router-b'), cost: costB},
				{id: 'lan', linkLocal: ll('router-b'), addresses: ['2001:db8:1:b::1/64']},
			],
		},
		{name: 'server-a', ...timers, links: [{id: 'lan', linkLocal: ll('server-a'), addresses: [`${FIG1.serverA}/64`]}], anycast: anycast(opts.checkA)},
		{name: 'server-b', ...timers, links: [{id: 'lan', linkLocal: ll('server-b'), addresses: [`${FIG1.serverB}/64`]}], anycast: anycast(opts.checkB)},
		host('terminal-a', `${FIG1.terminalA}/64`, 'router-a'),
		host('terminal-b', `${FIG1.terminalB}/64`, 'router-b'),
	];
	for (const c of configs) net.addNode(c);
	net.addLink('client-internet', [{node: 'client', link: 'eth0'}, {node: 'internet', link: 'client'}]);
	net.addLink('attacker-internet', [{node: 'attacker', link: 'eth0'}, {node: 'internet', link: 'attacker'}]);
	net.addLink('internet-boundary', [{node: 'internet', link: 'boundary'}, {node: 'boundary', link: 'internet'}]);
	net.addLink('boundary-router-a', [{node: 'boundary', link: 'router-a'}, {node: 'router-a', link: 'boundary'}]);
	net.addLink('boundary-router-b', [{node: 'boundary', link: 'router-b'}, {node: 'router-b', link: 'boundary'}]);
	net.addLink('lan-a', [{node: 'router-a', link: 'lan'}, {node: 'server-a', link: 'lan'}, {node: 'terminal-a', link: 'eth0'}]);
	net.addLink('lan-b', [{node: 'router-b', link: 'lan'}, {node: 'server-b', link: 'lan'}, {node: 'terminal-b', link: 'eth0'}]);
	return net;
}

export function fig1Addr(name: keyof typeof FIG1): Addr {
	const text = FIG1[name];
	return parseAddr(text.includes('/') ? text.slice(0, text.indexOf('/')) : text);
}
