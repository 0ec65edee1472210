// BFD control packet codec (RFC 5880 §4.1), mandatory section only (24 bytes;
// authentication is not used). decodeBfd fills a caller-owned object and
// allocates nothing; times on the wire are microseconds.
//
//   Vers(3) Diag(5) | Sta(2) P F C A D M | Detect Mult | Length
//   My Discriminator | Your Discriminator | Desired Min TX | Required Min RX
//   Required Min Echo RX
export const BFD_PORT = 3784;
export const BFD_VERSION = 1;
export const BFD_LEN = 24;
/** RFC 5881 §4: source ports for single-hop control packets. */
export const BFD_SRC_PORT_MIN = 49152;

/** Session states as on the wire (RFC 5880 §4.1). */
export const BfdStateCode = {AdminDown: 0, Down: 1, Init: 2, Up: 3} as const;
export type BfdStateCode = (typeof BfdStateCode)[keyof typeof BfdStateCode];
export type BfdStateName = keyof typeof BfdStateCode;
export const BFD_STATE_NAMES: readonly BfdStateName[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** RFC 5880 §4.1 diagnostic codes used here. */
export const BfdDiag = {None: 0, DetectionTimeExpired: 1, NeighborSignaledDown: 3, AdminDown: 7} as const;

export type BfdWireCode = 'truncated' | 'bad-version' | 'bad-length' | 'zero-detect-mult' | 'multipoint' | 'zero-my-discriminator' | 'auth-unsupported';

export class BfdWireError extends Error {
	override readonly name = 'BfdWireError';
	constructor(readonly code: BfdWireCode, message: string) {
		super(message);
	}
}

export interface BfdControl {
	diag: number;
	state: BfdStateCode;
	poll: boolean;
	final: boolean;
	cpi: boolean;
	auth: boolean;
	demand: boolean;
	multipoint: boolean;
	detectMult: number;
	length: number;
	myDisc: number;
	yourDisc: number;
	/** Microseconds. */
	desiredMinTx: number;
	requiredMinRx: number;
	requiredMinEchoRx: number;
}

export function emptyBfdControl(): BfdControl {
	return {
		diag: 0, state: BfdStateCode.Down, poll: false, final: false, cpi: false, auth: false, demand: false, multipoint: false,
		detectMult: 0, length: BFD_LEN, myDisc: 0, yourDisc: 0, desiredMinTx: 0, requiredMinRx: 0, requiredMinEchoRx: 0,
	};
}

function u32(b: Uint8Array, o: number): number {
	return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function put32(b: Uint8Array, o: number, v: number): void {
	b[o] = v >>> 24;
	b[o + 1] = (v >>> 16) & 0xff;
	b[o + 2] = (v >>> 8) & 0xff;
	b[o + 3] = v & 0xff;
}

/**
 * Decodes buf[off, off+len) into `out`, applying the packet-level reception checks
 * of RFC 5880 §6.8.6 (version, length, detect multiplier, multipoint, my
 * discriminator, authentication). Throws BfdWireError. Session checks are the caller's.
 */
export function decodeBfd(buf: Uint8Array, off: number, len: number, out: BfdControl): BfdControl {
	if (len < BFD_LEN || off + len > buf.length) throw new BfdWireError('truncated', `BFD packet of ${len} bytes is shorter than 24`);
	const b0 = buf[off]!;
	const b1 = buf[off + 1]!;
	const version = b0 >>> 5;
	if (version !== BFD_VERSION) throw new BfdWireError('bad-version', `BFD version ${version}, expected 1`);
	const auth = (b1 & 0x04) !== 0;
	const length = buf[off + 3]!;
	if (length < (auth ? BFD_LEN + 2 : BFD_LEN)) throw new BfdWireError('bad-length', `BFD Length field ${length} is below the minimum`);
	if (length > len) throw new BfdWireError('truncated', `BFD Length field ${length} exceeds the ${len}-byte payload`);
	const detectMult = buf[off + 2]!;
	if (detectMult === 0) throw new BfdWireError('zero-detect-mult', 'BFD Detect Mult is zero');
	if ((b1 & 0x01) !== 0) throw new BfdWireError('multipoint', 'BFD Multipoint bit is set');
	const myDisc = u32(buf, off + 4);
	if (myDisc === 0) throw new BfdWireError('zero-my-discriminator', 'BFD My Discriminator is zero');
	// No authentication is configured, so an authenticated packet cannot be verified.
	if (auth) throw new BfdWireError('auth-unsupported', 'BFD packet carries authentication, none configured');
	out.diag = b0 & 0x1f;
	out.state = (b1 >>> 6) as BfdStateCode;
	out.poll = (b1 & 0x20) !== 0;
	out.final = (b1 & 0x10) !== 0;
	out.cpi = (b1 & 0x08) !== 0;
	out.auth = auth;
	out.demand = (b1 & 0x02) !== 0;
	out.multipoint = false;
	out.detectMult = detectMult;
	out.length = length;
	out.myDisc = myDisc;
	out.yourDisc = u32(buf, off + 8);
	out.desiredMinTx = u32(buf, off + 12);
	out.requiredMinRx = u32(buf, off + 16);
	out.requiredMinEchoRx = u32(buf, off + 20);
	return out;
}

/** Writes a 24-byte control packet at out[off]. Returns the bytes written. */
export function encodeBfd(p: BfdControl, out: Uint8Array, off = 0): number {
	out[off] = (BFD_VERSION << 5) | (p.diag & 0x1f);
	out[off + 1] = ((p.state & 3) << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) |
		(p.auth ? 0x04 : 0) | (p.demand ? 0x02 : 0) | (p.multipoint ? 0x01 : 0);
	out[off + 2] = p.detectMult;
	out[off + 3] = BFD_LEN;
	put32(out, off + 4, p.myDisc);
	put32(out, off + 8, p.yourDisc);
	put32(out, off + 12, p.desiredMinTx);
	put32(out, off + 16, p.requiredMinRx);
	put32(out, off + 20, p.requiredMinEchoRx);
	return BFD_LEN;
}
