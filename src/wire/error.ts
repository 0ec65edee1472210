// One error type for every malformed input the codecs see. The pipeline
// catches it and turns it into a counted drop; nothing else may escape a codec.

/** The closed set of reasons a byte string is not a well-formed packet. */
export const WIRE_ERROR_CODES = [
	'truncated', // fewer bytes than a header or a length field says
	'bad-version', // IPv6 version field is not 6
	'bad-length', // a length field disagrees with the bytes around it
	'bad-checksum', // upper-layer checksum does not verify, or UDP checksum 0 (RFC 8200 §8.1)
	'bad-option', // a TLV option overruns its header
	'bad-order', // Hop-by-Hop header anywhere but first (RFC 8200 §4.3)
	'chain-too-long', // more extension headers than MAX_EXT_HEADERS
	'repeated-header', // a second Fragment or Routing header in one chain (RFC 8200 §4.1: each occurs once)
	'bad-value', // a field holds a value the codec cannot represent or emit
] as const;

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export class WireError extends Error {
	override readonly name = 'WireError';
	/**
	 * @param code what is wrong
	 * @param offset byte offset in the packet where the fault was found; an
	 * ICMPv6 Parameter Problem pointer can be taken from it
	 */
	constructor(
		readonly code: WireErrorCode,
		message: string,
		readonly offset = -1,
	) {
		super(message);
	}
}

export function isWireError(error: unknown): error is WireError {
	return error instanceof WireError;
}
