// Big-endian field access over Uint8Array. Callers check lengths first.

/** Reads the big-endian 16-bit word at `off`. */
export function u16(buf: Uint8Array, off: number): number {
	return (buf[off]! << 8) | buf[off + 1]!;
}

/** Writes `value` as a big-endian 16-bit word at `off`. */
export function setU16(buf: Uint8Array, off: number, value: number): void {
	buf[off] = value >>> 8;
	buf[off + 1] = value;
}

/** Reads the big-endian 32-bit word at `off` as an unsigned number. */
export function u32(buf: Uint8Array, off: number): number {
	return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function setU32(buf: Uint8Array, off: number, value: number): void {
	buf[off] = value >>> 24;
	buf[off + 1] = value >>> 16;
	buf[off + 2] = value >>> 8;
	buf[off + 3] = value;
}
