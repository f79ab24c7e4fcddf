// A stream (Ostinato's): packets added from the editor, each with its count and variable
// fields, sent in one job in order or interleaved. Pure functions the send slice uses; the
// list survives a reload in localStorage.
import type { z } from 'zod';
import type { LayerSpec } from '../../../common/contract';
import type { SocketNeeds } from '../model/draft';
import { VARIATION_MODES, type VariationSpec } from '../model/variation-words';

/** The contract's limit on a stream's packets. */
export const MAX_STREAM_PACKETS = 64;
export const STREAM_KEY = 'workbench.send.stream';
export const STREAM_ORDER_KEY = 'workbench.send.streamOrder';

export interface StreamEntry {
  id: string;
  /** The built layer stack, as send takes it. */
  layers: z.input<typeof LayerSpec>[];
  /** One line, as the log's Info column says it. */
  summary: string;
  needs: SocketNeeds;
  destination?: string;
  echoRequest: boolean;
  count: number;
  /** null: the engine's default (an echo request's sequence increments); []: identical packets. */
  variations: VariationSpec[] | null;
  /** What each variation does, in words, from the field labels known when it was added. */
  variationWords: string[];
}

export interface StreamPacketParams {
  packet: { layers: z.input<typeof LayerSpec>[] };
  variations?: VariationSpec[];
  count: number;
}

let nextEntry = 1;
export const newEntryId = (): string => `S${Date.now().toString(36)}${(nextEntry++).toString(36)}`;

export function moveEntry(entries: readonly StreamEntry[], id: string, delta: -1 | 1): StreamEntry[] {
  const from = entries.findIndex((entry) => entry.id === id);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= entries.length) return [...entries];
  const next = [...entries];
  [next[from], next[to]] = [next[to], next[from]];
  return next;
}

/** The stream's packets as send takes them: each packet with its own count and variations. */
export function streamPackets(entries: readonly StreamEntry[]): StreamPacketParams[] {
  return entries.map((entry) => ({
    packet: { layers: entry.layers },
    ...(entry.variations ? { variations: entry.variations } : {}),
    count: entry.count,
  }));
}

/**
 * The one socket a stream goes through, or why there is none: one family, and one protocol
 * unless every packet carries its own IPv4 header (a raw IPv4 socket with IP_HDRINCL sends
 * any protocol as given).
 */
export function streamNeeds(entries: readonly StreamEntry[]): { needs: SocketNeeds } | { error: string } {
  const first = entries[0];
  if (!first) return { error: 'The stream is empty' };
  for (const entry of entries) {
    if (entry.needs.family !== first.needs.family) return { error: 'The stream mixes IPv4 and IPv6 packets: one job goes through one socket, so send them as two streams' };
  }
  const protocols = new Set(entries.map((entry) => entry.needs.protocol));
  const ownIpv4Header = entries.every((entry) => entry.needs.headerIncluded && entry.needs.family === 'ipv4');
  if (protocols.size > 1 && !ownIpv4Header) {
    return { error: 'Packets of different protocols share one socket only when each has its own IPv4 header: add an IPv4 layer to each, or send them as separate streams' };
  }
  return { needs: first.needs };
}

/** Packets the stream sends in all. */
export const streamTotal = (entries: readonly StreamEntry[]): number => entries.reduce((sum, entry) => sum + entry.count, 0);

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

function isVariationSpec(value: unknown): value is VariationSpec {
  if (!isObject(value)) return false;
  const { layer, field, mode, step, count, values } = value;
  return (
    Number.isInteger(layer) &&
    typeof field === 'string' &&
    VARIATION_MODES.includes(mode as VariationSpec['mode']) &&
    (step === undefined || Number.isInteger(step)) &&
    (count === undefined || Number.isInteger(count)) &&
    (values === undefined || (Array.isArray(values) && values.every((item) => typeof item === 'number' || typeof item === 'string')))
  );
}

/** A stored stream as this version keeps it; anything else (old format, hand-edited) is refused. */
export function isStreamEntries(value: unknown): value is StreamEntry[] {
  return (
    Array.isArray(value) &&
    value.length <= MAX_STREAM_PACKETS &&
    value.every((entry: unknown) => {
      if (!isObject(entry)) return false;
      const { id, layers, summary, needs, echoRequest, count, variations, variationWords } = entry;
      return (
        typeof id === 'string' &&
        Array.isArray(layers) &&
        layers.length > 0 &&
        layers.every(isObject) &&
        typeof summary === 'string' &&
        isObject(needs) &&
        (needs.family === 'ipv4' || needs.family === 'ipv6') &&
        Number.isInteger(needs.protocol) &&
        typeof needs.headerIncluded === 'boolean' &&
        typeof echoRequest === 'boolean' &&
        Number.isInteger(count) &&
        (count as number) >= 1 &&
        (variations === null || (Array.isArray(variations) && variations.every(isVariationSpec))) &&
        Array.isArray(variationWords) &&
        variationWords.every((words) => typeof words === 'string')
      );
    })
  );
}
