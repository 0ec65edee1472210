// The shape every packet endpoint shares: a TUN device, a UDP link, or an
// in-memory stand-in for tests. Packets arrive in batches over one shared
// receive area and leave one at a time or in batches; nothing on either path
// allocates per packet.

/**
 * Called once per received batch. Packet i is `buf.subarray(offsets[i],
 * offsets[i] + lengths[i])`, for i < count. `buf`, `offsets` and `lengths`
 * are reused by the next batch: handle the packets before returning, or copy
 * the ones you keep. Sending a packet straight out of `buf` is fine.
 */
export type ReceiveHandler = (buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number) => void;

/** Counters since the port opened. Every packet not passed on is counted in exactly one of them. */
export interface PortStats {
	rxPackets: number;
	rxBytes: number;
	/** Handler calls. rxPackets / rxBatches is the mean batch size. */
	rxBatches: number;
	/** Failed reads (a read error, not a packet). */
	rxErrors: number;
	/** Datagrams longer than the receive slot, dropped (UDP). */
	rxTruncated: number;
	/** Datagrams from anyone but the configured peer, dropped (UDP). */
	rxForeign: number;
	/** Datagrams the kernel dropped because the socket buffer was full (UDP, SO_RXQ_OVFL). */
	rxKernelDrops: number;
	txPackets: number;
	txBytes: number;
	/** Packets dropped because the kernel would have blocked (EAGAIN): the overload policy is to drop, not queue. */
	txDrops: number;
	/** Packets refused for any other reason: too big for the port, EMSGSIZE, a closed peer. */
	txErrors: number;
	/** write(2)/sendmmsg(2) calls made. txPackets / txSyscalls is the mean transmit batch. */
	txSyscalls: number;
}

export interface PacketPort {
	/** The device or link name, for logs and counters. */
	readonly name: string;
	/** Largest inner IPv6 packet, in bytes, this port carries. */
	readonly mtu: number;
	/** True after close(). */
	readonly closed: boolean;
	/** Sets the batch handler (replacing any earlier one). Without a handler, received packets are counted and dropped. */
	onReceive(handler: ReceiveHandler): void;
	/**
	 * Sets the handler for an error that stops the port (the device was
	 * deleted, the socket failed). Without one the error is thrown as an
	 * uncaught exception, as for an EventEmitter 'error' with no listener.
	 */
	onError(handler: (error: IoError) => void): void;
	/**
	 * Sends `len` bytes of `packet` from `off` (default: the whole view).
	 * Returns false when the packet was dropped (counted in txDrops or
	 * txErrors). Never blocks. The bytes are copied or sent before it returns.
	 */
	send(packet: Uint8Array, off?: number, len?: number): boolean;
	/** Sends `count` packets laid out like a receive batch; returns how many were accepted. */
	sendBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
	stats(): PortStats;
	/** Reads what waits now, without waiting for the poll, into the receive handler; returns the packets read (native ports). */
	drain?(batches?: number): number;
	/** Stops receiving and releases the fd at once. Safe to call twice; the process can exit afterwards. */
	close(): void;
}

export interface TunDevice extends PacketPort {
	readonly kind: 'tun';
	/** Kernel interface index of the device. */
	readonly ifindex: number;
}

/** One end of an underlay link: an IPv6 address, its zone (needed for fe80::/10) and a UDP port. */
export interface UdpEndpoint {
	address: string;
	/** Interface name: the zone of a link-local address (RFC 4007 §11). */
	ifname?: string;
	port: number;
}

/**
 * A capture point on a node's ports (the pcap tap of `anyguard capture`,
 * src/ops/capture.ts): whoever moves packets tests `active` and, only while
 * it holds, hands each packet to `record`.
 */
export interface PortTap {
	readonly active: boolean;
	record(port: string, dir: 'in' | 'out', buf: Uint8Array, off: number, len: number): void;
}

export interface UdpLink extends PacketPort {
	readonly kind: 'udp';
	readonly local: Readonly<Required<UdpEndpoint>>;
	readonly peer: Readonly<UdpEndpoint>;
}

export const IO_ERROR_CODES = [
	'addon-missing', // build/Release/anyguard_io.node is not built or does not load
	'no-device', // the named interface does not exist, or /dev/net/tun is missing
	'not-tun', // the interface exists but cannot be attached as IFF_TUN | IFF_NO_PI
	'permission', // EPERM/EACCES: not root and not the device's owner
	'busy', // another process holds the (single-queue) TUN
	'bad-address', // not an IPv6 address, or not assigned here (EADDRNOTAVAIL)
	'address-in-use', // the UDP port is taken
	'bad-argument', // a value out of range
	'device-gone', // the port stopped: device deleted or socket failed
	'system', // any other system error; `errno` holds the number
] as const;

export type IoErrorCode = (typeof IO_ERROR_CODES)[number];

export class IoError extends Error {
	override readonly name = 'IoError';
	constructor(
		readonly code: IoErrorCode,
		message: string,
		/** The system errno behind it, when there is one. */
		readonly errno?: number,
	) {
		super(message);
	}
}

export function isIoError(error: unknown): error is IoError {
	return error instanceof IoError;
}

function ignore(): void {}

/**
 * What every port keeps, native or in memory: its receive and error
 * handlers and whether it is closed. A port that stops calls raise().
 */
export abstract class PortBase {
	protected handler: ReceiveHandler = ignore;
	private errorHandler: ((error: IoError) => void) | undefined;
	protected isClosed = false;

	get closed(): boolean {
		return this.isClosed;
	}

	onReceive(handler: ReceiveHandler): void {
		this.handler = handler;
	}

	onError(handler: (error: IoError) => void): void {
		this.errorHandler = handler;
	}

	/** Hands an error that stops the port to the error handler, or throws it when there is none (as an EventEmitter's 'error'). */
	protected raise(error: IoError): void {
		if (this.errorHandler) this.errorHandler(error);
		else throw error;
	}
}

export function emptyStats(): PortStats {
	return {
		rxPackets: 0,
		rxBytes: 0,
		rxBatches: 0,
		rxErrors: 0,
		rxTruncated: 0,
		rxForeign: 0,
		rxKernelDrops: 0,
		txPackets: 0,
		txBytes: 0,
		txDrops: 0,
		txErrors: 0,
		txSyscalls: 0,
	};
}
