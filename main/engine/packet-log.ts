// The log: every packet the engine sent, received, captured or imported, in one ring
// (ring.ts), once each (dedup.ts), with request/response links (matching.ts). It answers
// the log's contract methods, feeds event batches their rows, and keeps the log status
// (overflowed rows, kernel drops per socket and capture).
import type { DecodedEntry, DecodedLayerJson, DisplayFilterPage, LogPage, LogRow, LogStatus, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { formatIpAddress, isIpv4, isIpv6, parseIpAddress } from '../../packets/address';
import { decode } from '../../packets/decode';
import type { DisplayFilter, FilterPacket } from '../../packets/display-filter';
import { formatHex } from '../../packets/hex';
import type { DecodedLayer } from '../../packets/layer';
import { ipHeaderOffset, type Capture, type CaptureEncoder } from '../../packets/pcapng';
import { layerKindForProtocol } from '../../packets/protocols';
import { summarize } from '../../packets/summary';
import { hostPhrase, LogCaptureWriter, readSocketOf } from './capture-export';
import type { ExportSelection } from './capture-transfers';
import { DuplicateFilter } from './dedup';
import type { EventHub } from './events';
import type { Lifetime } from './lifetime';
import { compileLogFilter, filterRing, RingRowPacket } from './log-display-filter';
import { RequestMatcher } from './matching';
import { protocolLabel } from './peek';
import { DIRECTION_IMPORTED, DIRECTION_RECEIVED, DIRECTION_SENT, PacketRing, type PacketFacts } from './ring';

/** Rows one 'log' event carries at most; the rest follow in the next batches (while the ring still has them). */
export const MAX_LOG_ROWS_PER_BATCH = 10_000;

export class PacketLog {
  private readonly ring: PacketRing;
  private readonly duplicates = new DuplicateFilter();
  /** Request/response links between log rows (LogRow.match). */
  private readonly matcher: RequestMatcher;
  /** The first id no event batch has carried yet. */
  private cursor = 0;
  /** Called with each new log id, at once (recordCapture). */
  private readonly listeners = new Set<(id: number) => void>();
  /** What each socket and capture was, for capture files' interface blocks (kept after it closes). */
  private readonly descriptions = new Map<string, string>();
  /** The lab host of each socket, capture or run that acted inside one (LogRow.host), by its id. */
  private readonly hosts = new Map<string, string>();
  /** Kernel drops per socket and capture id, kept after they close. */
  private readonly kernelDrops = new Map<string, number>();
  /** Log rows overwritten before any client received them. */
  private overflowed = 0;
  /** The first id since the log was last cleared: rows before it are hidden, not dropped. */
  private firstIdSinceClear = 0;
  /** Where the log began before the last clear, while that clear can still be undone. */
  private firstIdBeforeClear: number | null = null;

  constructor(
    capacity: number,
    private readonly events: EventHub,
    private readonly lifetime: Lifetime,
  ) {
    this.ring = new PacketRing({ capacity });
    this.matcher = new RequestMatcher(this.ring.capacity, (id) => this.ring.has(id));
    this.matcher.onAnswer = (requestId, replyId, rttMs) => {
      for (const listener of this.answerListeners) listener(requestId, replyId, rttMs);
    };
  }

  /** Send jobs waiting for answers: told when a logged request gets its answer (the matcher's link). */
  private readonly answerListeners = new Set<(requestId: number, replyId: number, rttMs: number) => void>();

  /** Calls listener(requestId, replyId, rttMs) for each request answered from now on; returns the function that stops it. */
  onAnswered(listener: (requestId: number, replyId: number, rttMs: number) => void): () => void {
    this.answerListeners.add(listener);
    return () => {
      this.answerListeners.delete(listener);
    };
  }

  /** The Info column of a logged row ('Echo request id=0x1a2b seq=3'); null when the log no longer holds it. */
  infoOf(id: number): string | null {
    return this.row(id)?.info ?? null;
  }

  // ---- adding packets ---------------------------------------------------------------

  /** Logs a packet (bytes[offset, offset + length)) as it is (sent, captured: no other socket's copy hides it); returns its id. */
  append(bytes: Uint8Array, facts: PacketFacts, offset = 0, length = bytes.length - offset): number {
    const id = this.ring.append(bytes, offset, offset + length, facts);
    this.logged(id);
    return id;
  }

  /**
   * Logs a received packet, unless another of the engine's sockets already logged this very
   * packet (same bytes, same kernel receive stamp): each raw socket gets its own copy of
   * every packet of its protocol, the log shows it once, under the socket that logged it first.
   */
  appendReceived(bytes: Uint8Array, facts: PacketFacts, stampNs: bigint | undefined): void {
    if (this.duplicates.find(bytes, facts.family, stampNs, facts.time, this.ring) >= 0) return;
    const id = this.ring.append(bytes, 0, bytes.length, facts);
    this.duplicates.remember(id);
    this.logged(id);
  }

  /** A packet was appended to the log: tell the next batch, and every listener at once. */
  private logged(id: number): void {
    this.matcher.observeLogged(this.ring, id);
    this.events.logAppended();
    if (this.listeners.size > 0) for (const listener of this.listeners) listener(id);
  }

  /** Calls listener with each new log id as it is logged; returns the function that stops it. */
  onLogged(listener: (id: number) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The kernel writes the echo identifier of this socket's packets (an ICMP datagram socket): match its echoes by socket. */
  kernelChoosesEchoIds(socketIndex: number): void {
    this.matcher.kernelChoosesEchoIds(socketIndex);
  }

  /** A capture's rows pair requests and replies only among themselves. */
  matchWithin(socketIndex: number): void {
    this.matcher.matchWithin(socketIndex);
  }

  /** The ring's index for a socket or capture id (PacketFacts.socket). */
  socketIndex(socketId: string | null): number {
    return this.ring.socketIndex(socketId);
  }

  /** The ring's socket index of a logged row. */
  socketOf(id: number): number {
    return this.ring.socketOf(id);
  }

  /** Names a socket or capture in capture files' interface blocks; with a lab host, its rows say so (LogRow.host). */
  describe(socketId: string, description: string, host?: string): void {
    this.descriptions.set(socketId, host === undefined ? description : `${description} ${hostPhrase(host)}`);
    if (host !== undefined) this.hosts.set(socketId, host);
  }

  /** A capture file writer over this log's rows. */
  captureWriter(encoder: CaptureEncoder): LogCaptureWriter {
    return new LogCaptureWriter(this.ring, encoder, this.describeSocket);
  }

  private readonly describeSocket = (socketId: string): string => this.descriptions.get(socketId) ?? 'socket';

  /** Stops the listeners (close()). */
  close(): void {
    this.listeners.clear();
  }

  // ---- event batches ------------------------------------------------------------------

  /** The rows the next 'log' event carries. */
  collectRows(): LogRow[] {
    const ring = this.ring;
    // Rows the ring has already overwritten are gone; clients see the gap in the ids, the status bar the count.
    if (this.cursor < ring.oldestId) {
      this.overflowed += ring.oldestId - this.cursor;
      this.announceStatus();
    }
    const from = Math.max(this.cursor, ring.oldestId);
    const to = Math.min(ring.nextId, from + MAX_LOG_ROWS_PER_BATCH);
    const rows: LogRow[] = [];
    for (let id = from; id < to; id++) rows.push(this.row(id) as LogRow);
    this.cursor = to;
    if (to < ring.nextId) this.events.logAppended(); // the rest follow in the next batch
    return rows;
  }

  /** No one listens: the rows logged so far are never sent. */
  discardRows(): void {
    this.cursor = this.ring.nextId;
  }

  // ---- status ---------------------------------------------------------------------------

  countKernelDrops(socketId: string, drops: number): void {
    if (this.kernelDrops.get(socketId) === drops) return;
    this.kernelDrops.set(socketId, drops);
    this.announceStatus();
  }

  async status(): Promise<LogStatus> {
    this.lifetime.alive();
    return this.currentStatus();
  }

  private currentStatus(): LogStatus {
    let kernelDrops = 0;
    for (const drops of this.kernelDrops.values()) kernelDrops += drops;
    return {
      capacity: this.ring.capacity,
      kept: this.ring.nextId - this.firstVisibleId,
      logged: this.ring.nextId - this.firstIdSinceClear,
      overflowed: this.overflowed,
      kernelDrops,
    };
  }

  /** The oldest row shown: the ring may have overwritten older ones, a clear hides them. */
  private get firstVisibleId(): number {
    return Math.max(this.ring.oldestId, this.firstIdSinceClear);
  }

  private announceStatus(): void {
    this.events.coalesce('logStatus', () => ({ type: 'logStatus', status: this.currentStatus() }));
  }

  // ---- the contract's log methods ------------------------------------------------------------

  async query(params: Params<'queryLog'>): Promise<LogPage> {
    this.lifetime.alive();
    const ring = this.ring;
    const filter = params.filter;
    const active = filter && (filter.protocol || filter.address || filter.direction || filter.text || filter.display?.trim());
    const rows: LogRow[] = [];
    if (!active) {
      const first = this.firstVisibleId + params.start;
      for (let id = first; id < ring.nextId && rows.length < params.limit; id++) rows.push(this.row(id) as LogRow);
      return { total: ring.nextId - this.firstVisibleId, rows, capacity: ring.capacity };
    }
    const protocol = filter.protocol?.toLowerCase();
    const address = filter.address ? canonicalOrText(filter.address) : undefined;
    const text = filter.text?.toLowerCase();
    const display = filter.display?.trim() ? compileLogFilter(filter.display, 'filter.display') : null;
    const packet = display ? new RingRowPacket(ring, (id) => this.matcher.linkOf(id)) : null;
    const directionCode = filter.direction === 'sent' ? DIRECTION_SENT : filter.direction === 'received' ? DIRECTION_RECEIVED : DIRECTION_IMPORTED;
    let total = 0;
    for (let id = this.firstVisibleId; id < ring.nextId; id++) {
      // Imported rows whose file gave a direction match 'imported' and their direction.
      if (filter.direction && ring.directionOf(id) !== directionCode && !(directionCode === DIRECTION_IMPORTED && ring.isImported(id))) continue;
      if (protocol) {
        const number = ring.protocolOf(id);
        if (protocolLabel(number).toLowerCase() !== protocol && String(number) !== protocol) continue;
      }
      if (address) {
        const { source, destination } = ring.addresses(id);
        if (source !== address && destination !== address) continue;
      }
      if (display && !(packet!.at(id) && display.test(packet!))) continue;
      let row: LogRow | null = null;
      if (text) {
        row = this.row(id) as LogRow;
        const haystack = `${row.direction} ${row.socketId ?? ''} ${row.source} ${row.destination} ${row.protocol} ${row.info}`.toLowerCase();
        if (!haystack.includes(text)) continue;
      }
      if (total >= params.start && rows.length < params.limit) rows.push(row ?? (this.row(id) as LogRow));
      total++;
    }
    return { total, rows, capacity: ring.capacity };
  }

  async filter(params: Params<'filterLog'>): Promise<DisplayFilterPage> {
    this.lifetime.alive();
    const filter = compileLogFilter(params.expression, 'expression');
    return filterRing(this.ring, (id) => this.matcher.linkOf(id), filter, Math.max(params.fromId, this.firstIdSinceClear), params.limit);
  }

  /** A compiled display filter's verdict on one logged row (false once the ring dropped it). */
  passesDisplayFilter(filter: DisplayFilter, id: number): boolean {
    return filterRing(this.ring, (other) => this.matcher.linkOf(other), filter, id, 1).ids.length === 1;
  }

  /**
   * Every shown row with its bytes as a display filter reads them (lessons evaluate their checks
   * over these). The bytes are views into the ring: read them before the next packet is logged.
   */
  rowsWithBytes(): Array<FilterPacket & { row: LogRow }> {
    const rows: Array<FilterPacket & { row: LogRow }> = [];
    for (let id = this.firstVisibleId; id < this.ring.nextId; id++) {
      const row = this.row(id);
      const bytes = this.ring.bytes(id);
      if (!row || !bytes) continue;
      const first = this.ring.startsWithIpHeader(id) ? 'auto' : layerKindForProtocol(this.ring.protocolOf(id));
      rows.push({ row, bytes, first, family: row.family === 'ipv6' ? 6 : 4, source: row.source, destination: row.destination, number: id, direction: row.direction, socket: row.socketId, match: row.match });
    }
    return rows;
  }

  /** A log row with its request/response link. */
  private row(id: number): LogRow | null {
    if (id < this.firstIdSinceClear) return null;
    const row = this.ring.row(id);
    const match = row ? this.matcher.linkOf(id) : undefined;
    if (match) row!.match = match;
    const host = row?.socketId ? this.hosts.get(row.socketId) : undefined;
    if (host !== undefined) row!.host = host;
    return row;
  }

  async decodeEntry(params: Params<'decodeLogEntry'>): Promise<DecodedEntry> {
    this.lifetime.alive();
    const row = this.row(params.id);
    const bytes = this.ring.bytes(params.id);
    if (!row || !bytes) throw new WorkbenchError('NOT_FOUND', `Log entry ${params.id} is not in the log (the oldest kept is ${this.firstVisibleId})`, 'id');
    let layers: DecodedLayer[];
    if (this.ring.startsWithIpHeader(params.id)) {
      layers = decode(bytes);
    } else {
      const kind = layerKindForProtocol(this.ring.protocolOf(params.id));
      const addresses = row.source && row.destination ? { source: row.source, destination: row.destination } : {};
      layers =
        kind === 'payload' || bytes.length === 0
          ? [{ kind: 'payload', range: { start: 0, end: bytes.length }, data: bytes.slice() }]
          : decode(bytes, { first: kind, ...addresses });
    }
    return { row, hex: formatHex(bytes), summary: summarize(layers), layers: layers.map(layerToJson) };
  }

  async clear(): Promise<null> {
    this.lifetime.alive();
    // The rows stay in the ring, hidden, so this clear can be undone until the next one.
    this.firstIdBeforeClear = this.firstIdSinceClear;
    this.matcher.clear();
    this.cursor = this.ring.nextId;
    this.firstIdSinceClear = this.ring.nextId;
    this.overflowed = 0;
    this.events.logWasCleared();
    this.announceStatus();
    return null;
  }

  /** Shows again the rows the last clear hid (those the ring has not overwritten since). */
  async undoClear(): Promise<{ restored: number }> {
    this.lifetime.alive();
    if (this.firstIdBeforeClear === null) throw new WorkbenchError('NOT_FOUND', 'There is no clear to undo: the log was not cleared since it started or since the last undo', 'log');
    const hiddenUntil = this.firstIdSinceClear;
    this.firstIdSinceClear = this.firstIdBeforeClear;
    this.firstIdBeforeClear = null;
    const restored = Math.max(0, hiddenUntil - this.firstVisibleId);
    // The caller reads the log again (queryLog); no event, so no client's reload races a 'logCleared'.
    this.announceStatus();
    return { restored };
  }

  async configure(params: Params<'configureLog'>): Promise<{ capacity: number }> {
    this.lifetime.alive();
    this.ring.resize(params.capacity);
    this.matcher.resize(this.ring.capacity, this.ring.oldestId, this.ring.nextId);
    return { capacity: this.ring.capacity };
  }

  /** The ids an export covers: `ids`, or every row shown now (transfers read them later). */
  exportSelection(ids: readonly number[] | undefined): ExportSelection {
    this.lifetime.alive();
    return ids ?? { from: this.firstVisibleId, to: this.ring.nextId };
  }

  /** Not hidden by a clear (the ring may still have overwritten it: the writer skips those). */
  isShown(id: number): boolean {
    return id >= this.firstIdSinceClear;
  }

  /** Appends a capture file's packets (capture-transfers.ts reads the file); returns how many were logged. */
  appendCapture(capture: Capture): number {
    this.lifetime.alive();
    let imported = 0;
    const facts: PacketFacts = { time: 0, direction: DIRECTION_IMPORTED, socket: -1, family: 4, withIpHeader: true, protocol: 0, peer: null, local: null };
    // The socket and network interface each of the file's interface blocks names (ours carry the socket id).
    const origins = capture.interfaces.map((iface) => {
      const { socketId, networkInterface, host } = readSocketOf(iface);
      if (socketId !== null && host !== undefined) this.hosts.set(socketId, host);
      return { socket: this.ring.socketIndex(socketId), networkInterface };
    });
    for (const packet of capture.packets) {
      const offset = ipHeaderOffset(packet.data, packet.linkType);
      if (offset === undefined) continue;
      const origin = origins[packet.interfaceId];
      facts.time = Number(packet.timestampNs / 1000n) / 1000;
      facts.family = packet.data[offset] >> 4 === 6 ? 6 : 4;
      facts.direction = packet.direction === 'inbound' ? DIRECTION_RECEIVED : packet.direction === 'outbound' ? DIRECTION_SENT : DIRECTION_IMPORTED;
      facts.imported = packet.direction !== undefined;
      facts.socket = origin?.socket ?? -1;
      facts.interface = origin?.networkInterface ?? null;
      this.logged(this.ring.append(packet.data, offset, packet.data.length, facts));
      imported++;
    }
    if (imported > 0) this.events.logAppended();
    return imported;
  }
}

function canonicalOrText(address: string): string {
  return isIpv4(address) || isIpv6(address) ? formatIpAddress(parseIpAddress(address)) : address;
}

function layerToJson(layer: DecodedLayer): DecodedLayerJson {
  const base = { kind: layer.kind, range: { start: layer.range.start, end: layer.range.end } };
  if (layer.kind === 'payload') return { ...base, data: formatHex(layer.data), ...(layer.note ? { note: layer.note } : {}) };
  if (layer.kind === 'malformed') return { ...base, reason: layer.reason, data: formatHex(layer.data) };
  return {
    ...base,
    name: layer.name,
    fields: layer.fields.map((field) => ({
      name: field.name,
      label: field.label,
      type: field.type,
      value: field.value instanceof Uint8Array ? formatHex(field.value) : field.value,
      display: field.display,
      range: { start: field.range.start, end: field.range.end },
      ...(field.bits ? { bits: { start: field.bits.start, end: field.bits.end } } : {}),
    })),
    ...(layer.checksum
      ? {
          checksum: {
            status: layer.checksum.status,
            value: layer.checksum.value,
            ...(layer.checksum.status === 'wrong' ? { expected: layer.checksum.expected } : {}),
            ...(layer.checksum.status === 'unverified' ? { reason: layer.checksum.reason } : {}),
          },
        }
      : {}),
    ...(layer.problems.length > 0 ? { problems: [...layer.problems] } : {}),
    ...(layer.quoted ? { quoted: layer.quoted.map(layerToJson) } : {}),
  };
}
