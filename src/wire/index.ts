// src/wire: zero-copy codecs for IPv6, its extension headers and options,
// ICMPv6 and UDP, plus checksums and pcap. Pure functions over bytes.
export * from './bytes.js';
export * from './checksum.js';
export * from './destopts.js';
export * from './error.js';
export * from './ext.js';
export * from './icmpv6.js';
export * from './ipv6.js';
export * from './options.js';
export * from './packet.js';
export * from './pcap.js';
export * from './repr.js';
export * from './udp.js';
export * from './rewrite.js';
