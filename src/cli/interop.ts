// `anyguard birdc <node> <command…>` and `anyguard link <a> <b> set … | down | up`:
// the commands for real routers beside anyguard's nodes and for link
// conditions on a running network.
import type {Topology} from '../config/topology.js';
import {birdc} from '../netns/bird.js';
import {changeLink, describeConditions, isKernelNode, linkDevices, linkKind} from '../netns/links.js';
import type {LinkCommand} from '../netns/links.js';
import {files, stateDir} from '../netns/names.js';
import {reloadLinks} from '../ops/control.js';

export class InteropUsageError extends Error {
	override readonly name = 'InteropUsageError';
}

/** Runs a BIRD command on bird node `node`; its output as BIRD gave it, and birdc's exit status. */
export function runBirdc(t: Topology, node: string, command: string[], stateRoot?: string): {status: number; stdout: string; stderr: string} {
	const spec = t.nodes.find((n) => n.name === node);
	if (!spec) throw new InteropUsageError(`no node named ${node} in ${t.file}`);
	if (spec.role !== 'bird') {
		const birds = t.nodes.filter((n) => n.role === 'bird').map((n) => n.name);
		throw new InteropUsageError(`${node} is a ${spec.role} node, not a bird node${birds.length ? ` (bird nodes: ${birds.join(', ')})` : ` (${t.file} has none; netns/topologies/interop-bird.json has two)`}`);
	}
	if (command.length === 0) throw new InteropUsageError(`birdc ${node} needs a BIRD command, e.g. anyguard birdc ${node} show route`);
	const r = birdc(stateDir(t, stateRoot), node, command);
	return {status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr};
}

/** Parses `set k=v…`, `down`, `up` or nothing (show). */
export function linkCommand(words: string[]): LinkCommand {
	const [verb, ...rest] = words;
	if (verb === undefined || verb === 'show') {
		if (rest.length > 0) throw new InteropUsageError(`link … show takes no more words, got ${rest.join(' ')}`);
		return {kind: 'show'};
	}
	if (verb === 'set') return {kind: 'set', words: rest};
	if (verb === 'down' || verb === 'up') {
		if (rest.length > 0) throw new InteropUsageError(`link … ${verb} takes no more words, got ${rest.join(' ')}`);
		return {kind: verb};
	}
	throw new InteropUsageError(`link <a> <b> takes set key=value…, down, up or show; got ${JSON.stringify(verb)}`);
}

export interface LinkChangeReport {
	link: string;
	kind: string;
	before: string;
	after: string;
	/** Who applies what (the kernel's devices, the anyguard ends' processes). */
	applied: string[];
	/** Anyguard ends that did not answer (stopped): they apply the conditions when they start. */
	unreachable: string[];
}

/** `anyguard link <a> <b> …`: changes the running network's link, then tells its anyguard ends. */
export async function runLink(t: Topology, a: string, b: string, words: string[], stateRoot?: string): Promise<LinkChangeReport> {
	const cmd = linkCommand(words);
	const dir = stateDir(t, stateRoot);
	const {link, before, after} = changeLink(t, dir, a, b, cmd);
	const kind = linkKind(t, link);
	const ends = [link.a, link.b].filter((n) => !isKernelNode(t, n));
	const unreachable: string[] = [];
	if (cmd.kind !== 'show')
		for (const n of ends) {
			try {
				await reloadLinks(files.socket(dir, n));
			} catch {
				unreachable.push(n);
			}
		}
	const applied: string[] = [];
	const devs = linkDevices(t, link).map((d) => `${d.dev} in ${d.ns}`).join(', ');
	if (cmd.kind === 'down' || cmd.kind === 'up') applied.push(`kernel: ${devs} set ${cmd.kind}${kind === 'tun' ? `; ${ends.join(', ')} holds the TUN` : ''}`);
	else if (kind === 'tun') applied.push(`${ends.join(', ')}: every condition, both ways, in the process holding the TUN`, `kernel: mtu and state of ${devs}`);
	else if (kind === 'udp') applied.push(`kernel: loss (nftables, ingress), rate (tc htb), mtu and state of ${devs}`, `${ends.join(', ')}: delay and jitter of what each end sends`);
	else applied.push(`kernel: every condition on ${devs} (delay needs tc netem)`);
	return {link: `${link.a}–${link.b}`, kind, before: describeConditions(link, before), after: describeConditions(link, after), applied, unreachable};
}

export function renderLinkReport(r: LinkChangeReport, changed: boolean): string {
	const lines = [changed ? `${r.link} (${r.kind}): ${r.after}   (was ${r.before})` : `${r.link} (${r.kind}): ${r.after}`];
	if (changed) for (const a of r.applied) lines.push(`  ${a}`);
	for (const n of r.unreachable) lines.push(`  ${n} is not running: it takes the conditions when it starts`);
	return lines.join('\n');
}
