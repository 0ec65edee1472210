// src/io: packet I/O for one node process. TUN devices and UDP underlay links
// through the native addon (src/io/native); in-memory stand-ins for tests are
// in test/io/memory.ts.
export * from './types.js';
export * from './tun.js';
export * from './udp-link.js';
export {ADDON_PATH, NativePort, nativeAvailable} from './native.js';
