// Log entries as capture-file blocks: what the kernel delivered, as it delivered it.
// One interface block per socket (and per network interface for packet sockets), so
// the socket travels with each packet; direction in the EPB flags; a header
// synthesized only where the socket delivered none, with the real addresses and
// TTL / hop limit, and a comment saying so. Re-import (readSocketOf) gets the socket
// back from the interface block.
import type { CaptureEncoder, CaptureInterface, CapturedInterface, PacketToWrite } from '../../packets/pcapng';
import { concatBytes, msToNs, synthesizeIpHeader, UNKNOWN_HOP_LIMIT } from './pcap';
import { DIRECTION_RECEIVED, DIRECTION_SENT, type PacketRing } from './ring';

const WORKBENCH = 'Packet Workbench';
/** The interface of packets no socket of the user logged (ping and traceroute runs). */
const EXPERIMENTS_INTERFACE: CaptureInterface = { name: 'workbench', description: `${WORKBENCH}: ping and traceroute sockets` };

/** What kind of socket an id names, for people: 'IPv4 raw socket, protocol 1 (ICMP)'. */
export type SocketDescriber = (socketId: string) => string;

/** The interface block for a socket, seen on a network interface (packet sockets) or not. */
export function interfaceFor(socketId: string | null, networkInterface: string | null, describe: SocketDescriber): CaptureInterface {
  if (socketId === null) return networkInterface ? { name: networkInterface } : EXPERIMENTS_INTERFACE;
  const what = describe(socketId);
  return networkInterface
    ? { name: networkInterface, description: `${WORKBENCH} socket ${socketId}: ${what} on ${networkInterface}` }
    : { name: socketId, description: `${WORKBENCH} socket ${socketId}: ${what}` };
}

/** How an interface block's description names the lab host a socket acted in (LogRow.host). */
export function hostPhrase(host: string): string {
  return `in lab host ${host}`;
}

/** The socket, network interface and lab host a file's interface block names (ours or another tool's). */
export function readSocketOf(iface: CapturedInterface | undefined): { socketId: string | null; networkInterface: string | null; host?: string } {
  const name = iface?.name ?? null;
  const description = iface?.description ?? '';
  if (!description.startsWith(WORKBENCH)) return { socketId: null, networkInterface: name };
  const socketId = /^Packet Workbench socket (\S+): /.exec(description)?.[1] ?? null;
  const networkInterface = name !== null && name !== socketId && name !== EXPERIMENTS_INTERFACE.name ? name : null;
  const host = / in lab host ([a-z][a-z0-9-]{0,30})(?: on |$)/.exec(description)?.[1];
  return { socketId, networkInterface, ...(host !== undefined ? { host } : {}) };
}

/** Adds log entries to a capture encoder, describing each socket's interface the first time it appears. */
export class LogCaptureWriter {
  private readonly interfaceIds = new Map<number, Map<string | null, number>>();
  private countValue = 0;

  constructor(
    private readonly ring: PacketRing,
    private readonly encoder: CaptureEncoder,
    private readonly describe: SocketDescriber,
  ) {}

  /** Packets added. */
  get count(): number {
    return this.countValue;
  }

  /** Adds the entry; false when it is no longer in the log. */
  add(id: number): boolean {
    const ring = this.ring;
    const bytes = ring.bytes(id);
    if (!bytes) return false;
    // One packet object, refilled: this runs per packet of a flood.
    const packet = this.packet;
    if (ring.startsWithIpHeader(id)) {
      packet.data = bytes;
      packet.comment = undefined;
    } else {
      this.synthesize(id, bytes, packet);
    }
    const direction = ring.directionOf(id);
    packet.direction = direction === DIRECTION_SENT ? 'outbound' : direction === DIRECTION_RECEIVED ? 'inbound' : undefined;
    packet.timestampNs = msToNs(ring.timeOf(id));
    packet.interfaceId = this.interfaceId(ring.socketOf(id), ring.interfaceOf(id));
    this.encoder.addPacket(packet);
    this.countValue++;
    return true;
  }

  private readonly packet: { -readonly [K in keyof PacketToWrite]: PacketToWrite[K] } = { data: new Uint8Array(0), timestampNs: 0n };

  private synthesize(id: number, bytes: Uint8Array, packet: { data: Uint8Array; comment?: string }): void {
    const ring = this.ring;
    const family = ring.familyOf(id);
    const { source, destination } = ring.addresses(id);
    const hopLimit = ring.hopLimitOf(id);
    const header = synthesizeIpHeader(family, ring.protocolOf(id), source, destination, bytes.length, hopLimit ?? UNKNOWN_HOP_LIMIT);
    const unknown = [
      hopLimit === undefined ? `${family === 4 ? 'TTL' : 'hop limit'} (${UNKNOWN_HOP_LIMIT} written)` : '',
      source === '' ? 'source address' : '',
      destination === '' ? 'destination address' : '',
    ].filter(Boolean);
    packet.data = concatBytes(header, bytes);
    packet.comment = `IP header synthesized: the socket delivers none${unknown.length > 0 ? `; not known: ${unknown.join(', ')}` : ''}`;
  }

  private interfaceId(socketIndex: number, networkInterface: string | null): number {
    let bySocket = this.interfaceIds.get(socketIndex);
    if (!bySocket) {
      bySocket = new Map();
      this.interfaceIds.set(socketIndex, bySocket);
    }
    let id = bySocket.get(networkInterface);
    if (id === undefined) {
      id = this.encoder.addInterface(interfaceFor(this.ring.socketIdOf(socketIndex), networkInterface, this.describe));
      bySocket.set(networkInterface, id);
    }
    return id;
  }
}
