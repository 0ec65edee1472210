// A persistent TUN device, attached by name through the native addon.
// The device is made beforehand (`ip tuntap add dev NAME mode tun`), so this
// process needs no CAP_NET_ADMIN beyond what attaching requires, and the
// device, its addresses and routes outlive a restart of the process.
import {NativePort, loadNative, mapNativeError} from './native.js';
import {IoError} from './types.js';
import type {TunDevice} from './types.js';

export interface TunOptions {
	/** Packets per receive batch, 1..1024 (default 64). */
	batch?: number;
	/**
	 * The device is in another network namespace: the path of its file
	 * (`/run/netns/NAME`). The addon enters it to attach and comes back
	 * (setns(2), needs root); the descriptor then carries that namespace's
	 * interface, so what this process writes is received there.
	 */
	netns?: string;
}

/** IFNAMSIZ is 16 with the NUL (netdevice(7)). */
const IFNAME = /^[^\s/:%]{1,15}$/;

class NativeTun extends NativePort implements TunDevice {
	readonly kind = 'tun';
	readonly name: string;
	readonly ifindex: number;

	constructor(name: string, batch: number, netns?: string) {
		const native = loadNative();
		const where = netns === undefined ? '' : ` in ${netns}`;
		super(
			(callback) => {
				try {
					return netns === undefined ? new native.Tun(name, batch, callback) : new native.Tun(name, batch, callback, netns);
				} catch (error) {
					throw mapNativeError(error, `TUN device ${name}${where}`, {
						ENODEV: ['no-device', ` does not exist; create it with \`ip${netns === undefined ? '' : ` -n ${netns.split('/').pop()}`} tuntap add dev ${name} mode tun\``],
						ENOENT: ['no-device', netns === undefined ? ': /dev/net/tun is missing (no tun driver?)' : ': the namespace or /dev/net/tun is missing'],
						EINVAL: ['not-tun', ' exists but is not a TUN device in tun mode'],
						EPERM: ['permission', ': attaching needs CAP_NET_ADMIN or the device owner'],
						EACCES: ['permission', netns === undefined ? ': cannot open /dev/net/tun' : ': cannot open /dev/net/tun or the namespace'],
						EBUSY: ['busy', ' is attached by another process'],
					});
				}
			},
			(handle) => handle.mtu,
		);
		this.name = name;
		this.ifindex = this.handle.ifindex;
	}
}

/**
 * Attaches to the existing TUN device `name` (IFF_TUN | IFF_NO_PI: each read
 * and write is one bare IPv6 packet). Throws IoError: 'addon-missing',
 * 'no-device', 'not-tun', 'permission', 'busy' or 'bad-argument'.
 */
export function openTun(name: string, options: TunOptions = {}): TunDevice & NativePort {
	if (!IFNAME.test(name)) throw new IoError('bad-argument', `TUN device name ${JSON.stringify(name)} is not a valid interface name (1-15 characters, no space, / or :)`);
	const batch = options.batch ?? 64;
	if (!Number.isInteger(batch) || batch < 1 || batch > 1024) throw new IoError('bad-argument', `TUN device ${name}: batch must be an integer in 1..1024, got ${batch}`);
	if (options.netns !== undefined && !/^\/[^\0]{1,250}$/.test(options.netns)) throw new IoError('bad-argument', `TUN device ${name}: netns must be an absolute path (/run/netns/NAME), got ${JSON.stringify(options.netns)}`);
	return new NativeTun(name, batch, options.netns);
}
