// Display filters over the engine's log: each row is read in place from the ring (bytes in the
// arena, facts from the typed arrays, addresses formatted only when a filter asks for them).
import type { DisplayFilterPage } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { compileDisplayFilter, DisplayFilterError, type DisplayFilter, type FilterPacket } from '../../packets/display-filter';
import type { HeaderKind } from '../../packets/layer';
import { layerKindForProtocol } from '../../packets/protocols';
import type { MatchLink } from './matching';
import { DIRECTION_RECEIVED, DIRECTION_SENT, type PacketRing } from './ring';

const kindOfProtocol = Array.from({ length: 256 }, (_, protocol) => layerKindForProtocol(protocol));

/** Compiles a filter given to the engine; a bad one is an INVALID_ARGUMENT naming the position. */
export function compileLogFilter(expression: string, field: string): DisplayFilter {
  try {
    return compileDisplayFilter(expression);
  } catch (error) {
    if (error instanceof DisplayFilterError) throw new WorkbenchError('INVALID_ARGUMENT', `Display filter: ${error.message}`, field);
    throw error;
  }
}

/** One ring row as a FilterPacket; point it at another row with `at(id)`. */
export class RingRowPacket implements FilterPacket {
  private id = 0;
  private addresses: { source: string; destination: string } | null = null;
  bytes: Uint8Array = new Uint8Array(0);
  first: HeaderKind | 'payload' | 'auto' = 'auto';
  family: 4 | 6 = 4;

  constructor(
    private readonly ring: PacketRing,
    private readonly links: (id: number) => MatchLink | undefined,
  ) {}

  /** False when the ring no longer holds the row. */
  at(id: number): boolean {
    const bytes = this.ring.bytes(id);
    if (!bytes) return false;
    this.id = id;
    this.bytes = bytes;
    this.addresses = null;
    this.family = this.ring.familyOf(id);
    this.first = this.ring.startsWithIpHeader(id) ? 'auto' : kindOfProtocol[this.ring.protocolOf(id)];
    return true;
  }

  get source(): string {
    return (this.addresses ??= this.ring.addresses(this.id)).source;
  }

  get destination(): string {
    return (this.addresses ??= this.ring.addresses(this.id)).destination;
  }

  get number(): number {
    return this.id;
  }

  get direction(): string {
    const direction = this.ring.directionOf(this.id);
    return direction === DIRECTION_SENT ? 'sent' : direction === DIRECTION_RECEIVED ? 'received' : 'imported';
  }

  get socket(): string | null {
    return this.ring.socketIdOf(this.ring.socketOf(this.id));
  }

  get match(): MatchLink | undefined {
    return this.links(this.id);
  }
}

/** Scans up to `limit` rows from `fromId` (or the oldest kept) and returns the ids that pass. */
export function filterRing(ring: PacketRing, links: (id: number) => MatchLink | undefined, filter: DisplayFilter, fromId: number, limit: number): DisplayFilterPage {
  const first = Math.max(fromId, ring.oldestId);
  const end = Math.min(ring.nextId, first + limit);
  const packet = new RingRowPacket(ring, links);
  const ids: number[] = [];
  for (let id = first; id < end; id++) if (packet.at(id) && filter.test(packet)) ids.push(id);
  return { ids, nextId: Math.max(end, fromId) };
}
