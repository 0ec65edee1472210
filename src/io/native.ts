// The bridge to build/Release/anyguard_io.node (src/io/native/anyguard_io.c):
// loading it with a clear error, and the wrapper both native port kinds share.
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import {IoError, PortBase} from './types.js';
import type {IoErrorCode, PacketPort, PortStats} from './types.js';

/** What the C side hands back: an object with shared areas and methods. */
export interface NativeHandle {
	readonly rx: ArrayBuffer;
	readonly offsets: ArrayBuffer;
	readonly lengths: ArrayBuffer;
	readonly counters: ArrayBuffer;
	readonly mtu: number;
	readonly ifindex: number;
	readonly localPort?: number;
	/** UDP: bytes per datagram slot. */
	readonly slot?: number;
	send(buf: Uint8Array, off: number, len: number): boolean;
	sendBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
	close(): void;
	/** One batch read now (no poll): the count, or -errno. */
	read(): number;
	ref(): void;
	unref(): void;
}

type Callback = (count: number) => void;

/**
 * A prepared HMAC-SHA256 key (src/io/native/hmac.c). `args` holds, per
 * packet, the offsets of the signing input's pieces in the buffer (HMAC_ARG);
 * sign/verify read the first packet's, the batch forms `count` of them.
 */
export interface NativeHmacKey {
	readonly args: Uint32Array;
	/** Writes the tag; throws RangeError when a piece lies outside `buf`. */
	sign(buf: Uint8Array): boolean;
	/** Compares the tag in constant time. */
	verify(buf: Uint8Array): boolean;
	/**
	 * Copies src[stampSrc, +stampHead) to out[0] and src[stampUpper, +stampUpperLen)
	 * to out[stampOutUpper] (slots of HMAC_ARG), then signs `out` as sign(out) does.
	 */
	stamp(out: Uint8Array, src: Uint8Array): boolean;
	/** Each packet's result (1 or 0) in args[HMAC_ARG.count * i + HMAC_ARG.result]; returns how many were good. */
	signBatch(buf: Uint8Array, count: number): number;
	verifyBatch(buf: Uint8Array, count: number): number;
}

/** Slots of one packet in NativeHmacKey.args, in the order of hmac.c. */
export const HMAC_ARG = {
	data: 0, src: 1, dst: 2, proto: 3, upper: 4, upperLen: 5, tagLen: 6, result: 7, count: 8,
	// stamp(): the copies, in the second packet's slots.
	stampSrc: 8, stampHead: 9, stampUpper: 10, stampUpperLen: 11, stampOutUpper: 12,
} as const;

export interface NativeModule {
	Tun: new (name: string, batch: number, callback: Callback, netns?: string) => NativeHandle;
	Udp: new (local: string, ifname: string, port: number, peer: string, peerPort: number, batch: number, slot: number, bufBytes: number, callback: Callback, gso?: boolean) => NativeHandle;
	counterCount: number;
	/** SO_PEERCRED: the uid at the other end of a Unix-domain socket, or -1. */
	peerUid: (fd: number) => number;
	/** Absent when this Node's OpenSSL lacks SHA256_Init/Update/Final (then `hmacUnavailable` says why). */
	HmacKey?: new (key: Uint8Array, context: Uint8Array) => NativeHmacKey;
	hmacUnavailable?: string;
	hmacArgs?: number;
	hmacMaxBatch?: number;
}

/** Where npm install (node-gyp) puts the addon; the same relative path from src/io and dist/io. */
export const ADDON_PATH = fileURLToPath(new URL('../../build/Release/anyguard_io.node', import.meta.url));

let loaded: NativeModule | undefined;
let loadError: string | undefined;

/** Loads the addon once; throws IoError('addon-missing') when it is not built. */
export function loadNative(): NativeModule {
	if (loaded) return loaded;
	if (loadError === undefined) {
		try {
			loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeModule;
			return loaded;
		} catch (error) {
			loadError = (error as Error).message.split('\n')[0] ?? String(error);
		}
	}
	throw new IoError('addon-missing', `the I/O addon ${ADDON_PATH} does not load (${loadError}); build it with \`npm install\` or \`npx node-gyp rebuild\``);
}

/**
 * The uid of the process at the other end of a Unix-domain socket
 * connection (SO_PEERCRED), or -1 when it cannot be told (no addon, no
 * descriptor): callers refuse what they would give the owner only.
 */
export function peerUid(socket: object): number {
	// Node keeps the descriptor of a Unix-domain socket on its (undocumented, long stable) handle.
	const fd = (socket as {_handle?: {fd?: number} | null})._handle?.fd;
	if (typeof fd !== 'number' || fd < 0 || !nativeAvailable()) return -1;
	return loadNative().peerUid(fd);
}

/** True when the addon loads. */
export function nativeAvailable(): boolean {
	try {
		loadNative();
		return true;
	} catch {
		return false;
	}
}

/** Maps an error the C side threw (code = errno name) to an IoError naming `what`; a hint's text follows `what` directly. */
export function mapNativeError(error: unknown, what: string, hints: Partial<Record<string, [IoErrorCode, string]>> = {}): IoError {
	const e = error as {code?: string; errno?: number; message?: string};
	const hint = e.code !== undefined ? hints[e.code] : undefined;
	if (hint) return new IoError(hint[0], `${what}${hint[1]} (${e.message})`, e.errno);
	const code: IoErrorCode =
		e.code === 'EPERM' || e.code === 'EACCES'
			? 'permission'
			: e.code === 'EBUSY'
				? 'busy'
				: e.code === 'ENODEV'
					? 'no-device'
					: e.code === 'EADDRNOTAVAIL'
						? 'bad-address'
						: e.code === 'EADDRINUSE'
							? 'address-in-use'
							: e.code === 'EINVAL' || e.code === 'ERR_OUT_OF_RANGE'
								? 'bad-argument'
								: 'system';
	return new IoError(code, `${what}: ${e.message ?? String(error)}`, e.errno);
}

// Counter slots, in the order of the C enum.
const C = {
	rxPackets: 0,
	rxBytes: 1,
	rxBatches: 2,
	rxErrors: 3,
	rxTruncated: 4,
	rxForeign: 5,
	rxKernelDrops: 6,
	txPackets: 7,
	txBytes: 8,
	txDrops: 9,
	txErrors: 10,
	txSyscalls: 11,
} as const;
const COUNTERS = 12;

/** What TunDevice and UdpLink share over a NativeHandle. */
export abstract class NativePort extends PortBase implements PacketPort {
	abstract readonly name: string;
	readonly mtu: number;
	protected readonly handle: NativeHandle;
	private readonly buf: Uint8Array;
	private readonly offsets: Uint32Array;
	private readonly lengths: Uint32Array;
	private readonly counters: Float64Array;

	protected constructor(open: (callback: Callback) => NativeHandle, mtu: (handle: NativeHandle) => number) {
		super();
		if (loadNative().counterCount !== COUNTERS) throw new IoError('addon-missing', `the I/O addon at ${ADDON_PATH} is stale (counter layout differs); rebuild it with \`npx node-gyp rebuild\``);
		// One closure per port, not per batch: the C side calls it with the batch size.
		this.handle = open((count) => {
			if (count >= 0) this.handler(this.buf, this.offsets, this.lengths, count);
			else this.fail(-count);
		});
		this.buf = new Uint8Array(this.handle.rx);
		this.offsets = new Uint32Array(this.handle.offsets);
		this.lengths = new Uint32Array(this.handle.lengths);
		this.counters = new Float64Array(this.handle.counters);
		this.mtu = mtu(this.handle);
	}

	send(packet: Uint8Array, off = 0, len = packet.length - off): boolean {
		return this.handle.send(packet, off, len);
	}

	sendBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number {
		return this.handle.sendBatch(buf, offsets, lengths, count);
	}

	/**
	 * Reads what is waiting now, without waiting for the poll, and hands it to
	 * the receive handler: at most `batches` batches. Returns the packets read.
	 */
	drain(batches = 4): number {
		let total = 0;
		for (let i = 0; i < batches && !this.isClosed; i++) {
			const n = this.handle.read();
			if (n < 0) {
				this.fail(-n);
				break;
			}
			if (n === 0) break;
			total += n;
			this.handler(this.buf, this.offsets, this.lengths, n);
		}
		return total;
	}

	stats(): PortStats {
		const c = this.counters;
		const out = {} as PortStats;
		for (const [key, slot] of Object.entries(C)) out[key as keyof PortStats] = c[slot]!;
		return out;
	}

	/** Lets the process exit while the port is open (uv_unref). */
	unref(): this {
		this.handle.unref();
		return this;
	}

	/** Undoes unref(). */
	ref(): this {
		this.handle.ref();
		return this;
	}

	close(): void {
		if (this.isClosed) return;
		this.isClosed = true;
		this.handle.close();
	}

	private fail(errno: number): void {
		this.raise(new IoError('device-gone', `${this.name}: stopped receiving (errno ${errno}); the device or socket is gone`, errno));
	}
}
