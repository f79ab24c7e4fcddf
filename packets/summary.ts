// One line per packet for the log table, like Wireshark's Info column, and the columns beside it.

import { fieldApplies } from './fields';
import type { DecodedHeaderLayer, DecodedLayer } from './layer';
import { layerKinds } from './registry';

export interface PacketInfo {
  /** Outermost IP source and destination, when there is an IP header. */
  readonly source?: string;
  readonly destination?: string;
  /** Short name of the innermost header: 'ICMP', 'UDP', 'IPv6', or 'Malformed'. */
  readonly protocol: string;
  readonly summary: string;
}

export function summarize(layers: readonly DecodedLayer[]): string {
  const index = findLastIndex(layers, (layer) => layer.kind !== 'payload' && layer.kind !== 'malformed');
  const broken = layers.find((layer) => layer.kind === 'malformed');
  const suffix = broken?.kind === 'malformed' ? ` [Malformed: ${broken.reason}]` : '';
  if (index < 0) {
    if (broken?.kind === 'malformed') return `Malformed: ${broken.reason}`;
    const bytes = layers.reduce((sum, layer) => sum + (layer.range.end - layer.range.start), 0);
    return `Payload ${bytes} bytes`;
  }
  const layer = layers[index] as DecodedHeaderLayer;
  const definition = layerKinds[layer.kind];
  const complete = definition.fields.every((field) => field.bitWidth === 0 || !fieldApplies(field, layer.values) || field.name in layer.values);
  if (!complete) return `${definition.name} header cut short${suffix}`;
  return definition.summarize(layer, layers.slice(index + 1)) + suffix;
}

export function describePacket(layers: readonly DecodedLayer[]): PacketInfo {
  const ip = layers.find((layer): layer is DecodedHeaderLayer => layer.kind === 'ipv4' || layer.kind === 'ipv6');
  const headers = layers.filter((layer): layer is DecodedHeaderLayer => layer.kind !== 'payload' && layer.kind !== 'malformed');
  const innermost = headers[headers.length - 1];
  return {
    ...(ip ? { source: String(ip.values.src), destination: String(ip.values.dst) } : {}),
    protocol: innermost ? innermost.name : layers.some((layer) => layer.kind === 'malformed') ? 'Malformed' : 'Payload',
    summary: summarize(layers),
  };
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i])) return i;
  return -1;
}
