// @packet-workbench/raw-socket: raw-socket's documented API on Node-API, plus a
// Promise API, typed errors, batched I/O and unprivileged ICMP.
export { AddressFamily, Protocol, SocketLevel, SocketOption } from './constants';
import * as checksum from './checksum';

// Plain properties, not the getters a re-export compiles to: these are called per packet.
export const createChecksum = checksum.createChecksum;
export const writeChecksum = checksum.writeChecksum;
export const htonl = checksum.htonl;
export const htons = checksum.htons;
export const ntohl = checksum.ntohl;
export const ntohs = checksum.ntohs;
export type { ChecksumPart, ChecksumRange } from './checksum';
export { Socket, createSocket } from './socket';
export type { SocketOptions, SocketMode, Message, MessageInfo, BeforeSend, AfterSend } from './socket';
export { RawSocketError, SocketClosedError, permissionRemedy, readPingGroupRange } from './errors';
