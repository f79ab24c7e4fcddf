// @packet-workbench/raw-socket: raw-socket's documented API on Node-API, plus a
// Promise API, typed errors, batched I/O and unprivileged ICMP.
export { AddressFamily, Protocol, SocketLevel, SocketOption } from './constants';
export { createChecksum, writeChecksum, htonl, htons, ntohl, ntohs } from './checksum';
export type { ChecksumPart, ChecksumRange } from './checksum';
export { Socket, createSocket } from './socket';
export type { SocketOptions, SocketMode, Message, MessageInfo, BeforeSend, AfterSend } from './socket';
export { RawSocketError, SocketClosedError, permissionRemedy, readPingGroupRange } from './errors';
