// Random loss on a veth end, applied by the kernel: an nftables rule on the
// device's ingress hook (netdev family) drops a random share of what arrives
// there, before any protocol sees it — as a lossy wire would, and silently:
// a drop on the sending side's egress is reported to some senders as local
// congestion (ping gets ENOBUFS and sends again), one on arrival never is.
// tc netem would do as well, but some kernels, this project's CI machine
// among them, are built without it (CONFIG_NET_SCH_NETEM).
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';

export class ConditionError extends Error {
	override readonly name = 'ConditionError';
	readonly code = 'link-conditions';
}

/**
 * nftables' command by its system path: under `npm run`, PATH starts with
 * node_modules/.bin, where @vercel/nft (a dependency of the test runner)
 * installs a command of the same name.
 */
export const NFT = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].find((p) => existsSync(p));

function nft(ns: string, args: string[], input?: string): {status: number | null; stderr: string} {
	if (!NFT) throw new ConditionError('random loss needs nftables: apt-get install -y nftables');
	const r = spawnSync('ip', ['netns', 'exec', ns, NFT, ...args], {encoding: 'utf8', ...(input === undefined ? {} : {input})});
	return {status: r.status, stderr: (r.stderr ?? '').trim() || (r.error?.message ?? '')};
}

const table = (dev: string) => `anyguard_${dev.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** Loses `percent` % of the packets arriving at `dev` in namespace `ns`, at random; 0 removes the loss. Throws ConditionError. */
export function setLoss(ns: string, dev: string, percent: number): void {
	if (!(percent >= 0 && percent <= 100)) throw new ConditionError(`loss must be 0..100 %, got ${percent}`);
	const t = table(dev);
	nft(ns, ['delete', 'table', 'netdev', t]);
	if (percent === 0) return;
	// numgen random mod 10000 < N: N in ten-thousandths, so 2.5 % is 250; 100 % drops all.
	const share = Math.round(percent * 100);
	const rule = share >= 10000 ? 'counter drop' : `numgen random mod 10000 < ${share} counter drop`;
	const script = `table netdev ${t} {\n\tchain ingress {\n\t\ttype filter hook ingress device "${dev}" priority 0;\n\t\t${rule}\n\t}\n}\n`;
	const r = nft(ns, ['-f', '-'], script);
	if (r.status !== 0) throw new ConditionError(`nftables on ${dev} in ${ns}: ${r.stderr}`);
}

/** Packets `setLoss` has dropped on `dev` so far (0 without a rule). */
export function lossDropped(ns: string, dev: string): number {
	return nftCounted(ns, 'netdev', table(dev));
}

/** Loads nftables script `script` in namespace `ns`. Throws ConditionError. */
export function nftLoad(ns: string, script: string): void {
	const r = nft(ns, ['-f', '-'], script);
	if (r.status !== 0) throw new ConditionError(`nftables in ${ns}: ${r.stderr}`);
}

/** The sum of the counters of nftables table `family name` in `ns` (0 without the table). */
export function nftCounted(ns: string, family: string, name: string): number {
	const r = spawnSync('ip', ['netns', 'exec', ns, NFT ?? 'nft', 'list', 'table', family, name], {encoding: 'utf8'});
	return [...(r.stdout ?? '').matchAll(/counter packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}
