// "What the kernel changed" (packetOnWire): a packet as it crossed the first link, next to
// the one the socket was handed. Before a lab host first acts (a socket, ping, traceroute,
// mtr, pmtu from it), a packet socket opens at the far end of each of its links, in the
// neighbour's namespace on the interface facing it, and keeps the last packets that
// arrived there in memory (never in the log: lessons count the log's rows). packetOnWire
// finds a sent row's copy among them.
import * as raw from '@packet-workbench/raw-socket';
import type { MessageInfo, Socket } from '@packet-workbench/raw-socket';
import type { DecodedEntry, LabInfo, PacketOnWire, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpv4, formatIpv6 } from '../../packets/address';
import { packetDifferences } from '../../packets/differences';
import { formatHex, parseHex } from '../../packets/hex';
import type { HeaderKind } from '../../packets/layer';
import { nowMs, nsToMs } from './experiment';
import type { LabHost } from './labs';
import type { Lifetime } from './lifetime';

/** Arrivals kept per watched link end: the copies of the last sends, also under a ping flood's pace. */
export const FIRST_LINK_KEPT = 512;
/** A copy arrives within this long after its sent row's time (a lab link's delay is well below it). */
const ARRIVAL_WINDOW_MS = 3_000;
/** How long packetOnWire waits for a copy of a packet sent just now. */
const ARRIVAL_WAIT_MS = 500;

export interface FirstLinkLab {
  status(): Promise<LabInfo>;
  host(host: string): LabHost;
}

export interface FirstLinkLog {
  decodeEntry(params: Params<'decodeLogEntry'>): Promise<DecodedEntry>;
}

interface Arrival {
  time: number;
  bytes: Uint8Array;
}

/** The far end of one link of the sending host, watched. */
interface LinkEnd {
  host: string;
  interface: string;
  socket: Socket<'packet'>;
  arrivals: Arrival[];
}

/** The watches of one sending host. */
interface Watch {
  since: number;
  ends: LinkEnd[];
  /** Why a link end could not be watched (no root…), for packetOnWire's answer. */
  failures: string[];
}

export class FirstLinkWatch {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly lab: FirstLinkLab,
    private readonly log: FirstLinkLog,
    private readonly lifetime: Lifetime,
  ) {}

  /**
   * Watches the far ends of `host`'s links from now on (once per host while the lab is up).
   * Never throws: the call it precedes reports a bad host, and packetOnWire says why a link was not watched.
   */
  async watchFrom(host: string): Promise<void> {
    if (this.watches.has(host) || this.lifetime.closed) return;
    const info = await this.lab.status().catch(() => undefined);
    if (info?.state !== 'up' || !info.map || this.watches.has(host)) return;
    const watch: Watch = { since: nowMs(), ends: [], failures: [] };
    for (const link of info.map.links) {
      const near = link.ends.findIndex((end) => end.host === host);
      if (near < 0) continue;
      for (const far of link.ends.filter((_, index) => index !== near)) {
        try {
          watch.ends.push(this.watchEnd(far.host, far.interface));
        } catch (error) {
          watch.failures.push(`${far.host} ${far.interface}: ${(error as Error).message}`);
        }
      }
    }
    this.watches.set(host, watch);
  }

  async packetOnWire(params: Params<'packetOnWire'>): Promise<PacketOnWire> {
    this.lifetime.alive();
    const entry = await this.log.decodeEntry({ id: params.id });
    const row = entry.row;
    if (row.direction !== 'sent') throw notFound(`Row ${row.id} was ${row.direction}, not sent: only a sent packet has a first link to cross`);
    if (row.host === undefined) throw notFound(`Row ${row.id} was sent from the workbench's own namespace: the first link is watched only for packets sent from a lab host`);
    const watch = this.watches.get(row.host);
    if (watch === undefined) throw notFound(`The first link of lab host ${row.host} is not watched (the lab is down, or went down and came up since row ${row.id} was sent)`);
    if (watch.ends.length === 0) throw notFound(`The first link of lab host ${row.host} could not be watched: ${watch.failures.join('; ') || 'it has no links'}`);
    if (row.time < watch.since - 1) throw notFound(`Row ${row.id} was sent before the first link of ${row.host} was watched`);
    const sent = parseHex(entry.hex);
    // A datagram socket's row starts at its transport header: name it for the decoder.
    const first = entry.layers[0]?.kind;
    const sentFirst: HeaderKind | 'auto' = first === 'icmp' || first === 'icmpv6' || first === 'udp' || first === 'tcp' ? first : 'auto';
    const found = await this.findArrival(watch, row, sent, sentFirst);
    if (found === undefined) {
      const oldest = Math.min(...watch.ends.map((end) => end.arrivals[0]?.time ?? Infinity));
      const reason = row.time < oldest ? `it is older than the last ${FIRST_LINK_KEPT} packets kept there` : 'no copy arrived there: the kernel or the sending host may have dropped it';
      throw notFound(`Row ${row.id} was not seen crossing the first link of ${row.host} (${watch.ends.map((end) => `${end.host} ${end.interface}`).join(', ')}): ${reason}`);
    }
    const { end, arrival } = found;
    const options = sentFirst === 'auto' ? { sentFirst } : { sentFirst, sentSource: row.source, sentDestination: row.destination };
    const { differences, notes } = packetDifferences(sent, arrival.bytes, options);
    return { rowId: row.id, host: row.host, capturedOn: { host: end.host, interface: end.interface }, time: arrival.time, sentHex: entry.hex, wireHex: formatHex(arrival.bytes), differences, notes };
  }

  /** The lab is going down: every watch closes. */
  async stopAll(): Promise<void> {
    const ends = [...this.watches.values()].flatMap((watch) => watch.ends);
    this.watches.clear();
    await Promise.all(ends.map((end) => end.socket.closeAsync().catch(() => undefined)));
  }

  private watchEnd(host: string, name: string): LinkEnd {
    const socket = raw.createPacketSocket({ interface: name, protocol: 'ip', timestamps: true, bufferSize: 65535, namespace: this.lab.host(host).namespace });
    const end: LinkEnd = { host, interface: name, socket, arrivals: [] };
    socket.on('message', (buffer: Buffer, _address: string, info: MessageInfo) => {
      if (info.direction === 'outbound') return;
      end.arrivals.push({ time: nsToMs(info.timestamp), bytes: Uint8Array.from(buffer) });
      if (end.arrivals.length > FIRST_LINK_KEPT) end.arrivals.shift();
    });
    socket.on('error', () => undefined);
    return end;
  }

  private async findArrival(watch: Watch, row: { time: number; destination: string }, sent: Uint8Array, sentFirst: HeaderKind | 'auto') {
    const key = transportKey(sent, sentFirst === 'auto' ? undefined : sentFirst);
    const deadline = Math.min(row.time + ARRIVAL_WAIT_MS, nowMs() + ARRIVAL_WAIT_MS);
    for (;;) {
      let best: { end: LinkEnd; arrival: Arrival } | undefined;
      for (const end of watch.ends) {
        for (const arrival of end.arrivals) {
          if (arrival.time < row.time - ARRIVAL_WINDOW_MS || arrival.time > row.time + ARRIVAL_WINDOW_MS) continue;
          if (key === undefined || transportKey(arrival.bytes) !== key) continue;
          if (destinationOf(arrival.bytes) !== row.destination) continue;
          if (!best || Math.abs(arrival.time - row.time) < Math.abs(best.arrival.time - row.time)) best = { end, arrival };
        }
      }
      if (best || nowMs() >= deadline || this.lifetime.closed) return best;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

function notFound(message: string): WorkbenchError {
  return new WorkbenchError('NOT_FOUND', message, 'id');
}

const PROTOCOL_KINDS: Record<number, HeaderKind> = { 1: 'icmp', 58: 'icmpv6', 17: 'udp', 6: 'tcp' };
/** Bytes of a transport header the kernel may rewrite: its checksum, and an echo's identifier (ping sockets). */
const MUTABLE: Partial<Record<HeaderKind, Array<[number, number]>>> = { icmp: [[2, 6]], icmpv6: [[2, 6]], udp: [[6, 8]], tcp: [[16, 18]] };

/**
 * What identifies a packet across the kernel's rewrites: its protocol and its transport bytes
 * with the rewritable ones blanked. `first` names the header the bytes start with when there is no IP header.
 */
export function transportKey(bytes: Uint8Array, first?: HeaderKind): string | undefined {
  let kind = first;
  let start = 0;
  if (kind === undefined) {
    const version = bytes[0] >> 4;
    if (version === 4 && bytes.length >= 20) {
      start = (bytes[0] & 0x0f) * 4;
      kind = PROTOCOL_KINDS[bytes[9]];
    } else if (version === 6 && bytes.length >= 40) {
      start = 40;
      kind = PROTOCOL_KINDS[bytes[6]];
    }
  }
  if (kind === undefined || start > bytes.length) return undefined;
  const transport = bytes.slice(start);
  for (const [from, to] of MUTABLE[kind] ?? []) transport.fill(0, from, Math.min(to, transport.length));
  return `${kind} ${Buffer.from(transport).toString('hex')}`;
}

function destinationOf(bytes: Uint8Array): string | undefined {
  const version = bytes[0] >> 4;
  if (version === 4 && bytes.length >= 20) return formatIpv4(bytes.subarray(16, 20));
  if (version === 6 && bytes.length >= 40) return formatIpv6(bytes.subarray(24, 40));
  return undefined;
}
