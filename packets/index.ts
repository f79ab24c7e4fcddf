// The packet model: layers, build, decode, summaries, addresses, hex, checksums, capture files.

export * from './address';
export * from './build';
export * from './checksum';
export * from './decode';
export * from './display-filter';
export * from './fields';
export * from './hex';
export * from './layer';
export { icmpTypes } from './layers/icmp';
export { icmpv6Types } from './layers/icmpv6';
export { payload as payloadLayer } from './layers/payload';
export { tcpFlags } from './layers/tcp';
export { encodeTcpOptions, type TcpOption } from './options';
export * from './pcapng';
export * from './protocols';
export * from './registry';
export * from './summary';
