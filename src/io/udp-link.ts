// An underlay link: one inner IPv6 packet per UDP datagram between the two
// ends' addresses on a veth pair, normally link-local (fe80::/64 with the
// interface as zone, RFC 4007 §11) so that the underlay needs no routing.
// Receive drains with recvmmsg(2) and sends leave in sendmmsg(2) batches (see
// src/io/native/anyguard_io.c). Only datagrams from the configured peer
// address and port are passed on; the rest are counted in rxForeign.
import {isIPv6} from 'node:net';
import {NativePort, loadNative, mapNativeError} from './native.js';
import {IoError} from './types.js';
import type {UdpEndpoint, UdpLink} from './types.js';

export interface UdpLinkOptions {
	/** Defaults to `udp:<ifname>` (or the local address when there is no interface). */
	name?: string;
	/** Local end. `address` may carry the zone, as in `fe80::1%veth0`. Port 0 picks a free port. */
	local: UdpEndpoint;
	/** Peer end; a link-local peer uses the local end's zone. */
	peer: UdpEndpoint;
	/** Datagrams per recvmmsg/sendmmsg batch, 1..1024 (default 64). */
	batch?: number;
	/** Bytes per datagram slot; 0 (default) sizes it from the interface MTU, at least 2048. */
	slot?: number;
	/** SO_RCVBUF and SO_SNDBUF in bytes (default 4 MiB; 0 keeps the system default). */
	socketBuffer?: number;
	/**
	 * Send each run of equal-sized datagrams of a batch as one UDP GSO message
	 * (UDP_SEGMENT, udp(7)); the peer's kernel splits it back before its
	 * socket. Default true, or false when ANYGUARD_IO_GSO=0 (for comparisons);
	 * a kernel that refuses GSO turns it off by itself.
	 */
	gso?: boolean;
}

/** Splits `fe80::1%veth0` into address and zone. */
function splitZone(address: string, ifname: string | undefined): [string, string] {
	const at = address.indexOf('%');
	if (at < 0) return [address, ifname ?? ''];
	const zone = address.slice(at + 1);
	if (ifname !== undefined && ifname !== zone) throw new IoError('bad-argument', `address ${address} names zone ${zone} but ifname is ${ifname}`);
	return [address.slice(0, at), zone];
}

function checkPort(port: number, what: string, allowZero: boolean): void {
	if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) throw new IoError('bad-argument', `${what}: UDP port ${port} is out of range`);
}

class NativeUdpLink extends NativePort implements UdpLink {
	readonly kind = 'udp';
	readonly name: string;
	readonly local: Readonly<Required<UdpEndpoint>>;
	readonly peer: Readonly<UdpEndpoint>;
	/** Bytes per receive slot (the largest datagram accepted). */
	readonly slot: number;

	constructor(options: UdpLinkOptions) {
		const [localAddr, ifname] = splitZone(options.local.address, options.local.ifname);
		const [peerAddr] = splitZone(options.peer.address, options.peer.ifname ?? (ifname || undefined));
		const name = options.name ?? `udp:${ifname || localAddr}`;
		for (const [addr, what] of [
			[localAddr, 'local'],
			[peerAddr, 'peer'],
		] as const)
			if (!isIPv6(addr)) throw new IoError('bad-address', `${name}: ${what} address ${JSON.stringify(addr)} is not an IPv6 address`);
		checkPort(options.local.port, name, true);
		checkPort(options.peer.port, name, false);
		const batch = options.batch ?? 64;
		if (!Number.isInteger(batch) || batch < 1 || batch > 1024) throw new IoError('bad-argument', `${name}: batch must be an integer in 1..1024, got ${batch}`);
		const slot = options.slot ?? 0;
		if (!Number.isInteger(slot) || (slot !== 0 && slot < 64) || slot > 65535) throw new IoError('bad-argument', `${name}: slot must be 0 or 64..65535, got ${slot}`);
		const bufBytes = options.socketBuffer ?? 4 << 20;
		const gso = options.gso ?? process.env.ANYGUARD_IO_GSO !== '0';
		const native = loadNative();
		super(
			(callback) => {
				try {
					return new native.Udp(localAddr, ifname, options.local.port, peerAddr, options.peer.port, batch, slot, bufBytes, callback, gso);
				} catch (error) {
					throw mapNativeError(error, `${name} (${localAddr}${ifname ? '%' + ifname : ''} port ${options.local.port})`, {
						ENODEV: ['no-device', `: interface ${ifname} does not exist`],
						EADDRNOTAVAIL: ['bad-address', ': the address is not assigned here, or still tentative (add it with nodad)'],
						EADDRINUSE: ['address-in-use', ': the UDP port is taken'],
						EINVAL: ['bad-argument', ': bad address or zone (a link-local address needs an interface)'],
					});
				}
			},
			(handle) => handle.mtu,
		);
		this.name = name;
		this.local = {address: localAddr, ifname, port: this.handle.localPort ?? options.local.port};
		this.peer = {address: peerAddr, ...(ifname ? {ifname} : {}), port: options.peer.port};
		this.slot = this.handle.slot ?? 0;
	}
}

/**
 * Opens the local end of an underlay link. `mtu` is the inner packet limit:
 * the interface MTU less 48 bytes (IPv6 40 + UDP 8), at most the slot size.
 * Throws IoError: 'addon-missing', 'no-device', 'bad-address',
 * 'address-in-use', 'bad-argument' or 'permission'.
 */
export function openUdpLink(options: UdpLinkOptions): UdpLink & NativePort & {readonly slot: number} {
	return new NativeUdpLink(options);
}
