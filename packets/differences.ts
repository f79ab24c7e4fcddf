// "What the kernel changed": the packet a socket was handed next to the copy that crossed
// the first link, field by field, with the kernel's usual rewrites said in words.
import { decode, type DecodeOptions } from './decode';
import type { ByteRange, DecodedField, DecodedHeaderLayer, DecodedLayer, HeaderKind } from './layer';

export interface FieldDifference {
  /** The layer's short name ('IPv4', 'ICMP'…). */
  layer: string;
  /** The field's name in the decoder ('src', 'identification'…); 'header' for a whole header, 'payload' for the data. */
  field: string;
  label: string;
  /** As displayed; '(none)' where the sent packet had no such header. */
  sent: string;
  wire: string;
  /** Bytes of the field in each packet (absent where the packet has no such field). */
  sentRange?: ByteRange;
  wireRange?: ByteRange;
  /** What the kernel did, in words. */
  why: string;
}

export interface PacketDifferences {
  differences: FieldDifference[];
  /** True things worth saying that are no difference (the TTL on arrival). */
  notes: string[];
}

export interface DifferenceOptions {
  /** How the sent bytes start: 'auto' (an IP header) or the header a datagram socket was given. */
  sentFirst?: HeaderKind | 'auto';
  /** The sent packet's addresses, for its checksum verdicts when it starts below IP. */
  sentSource?: string;
  sentDestination?: string;
}

type Header = DecodedHeaderLayer;

/**
 * Decodes both packets and lists every field that differs, outermost layer first. A sent
 * packet without an IP header (a datagram socket's) is lined up with the wire copy's
 * header of the same kind, and the IP header is named as written by the kernel.
 */
export function packetDifferences(sentBytes: Uint8Array, wireBytes: Uint8Array, options: DifferenceOptions = {}): PacketDifferences {
  if (!(sentBytes instanceof Uint8Array)) throw new TypeError('packetDifferences: sentBytes must be a Uint8Array');
  if (!(wireBytes instanceof Uint8Array)) throw new TypeError('packetDifferences: wireBytes must be a Uint8Array');
  const sentOptions: DecodeOptions = { first: options.sentFirst ?? 'auto' };
  if (options.sentSource && options.sentDestination) Object.assign(sentOptions, { source: options.sentSource, destination: options.sentDestination });
  const sent = decode(sentBytes, sentOptions);
  const wire = decode(wireBytes);
  const differences: FieldDifference[] = [];
  const notes: string[] = [];
  // Line the sent layers up with the wire's: a datagram socket's packet starts at the wire's second header.
  let offset = 0;
  const firstSent = sent[0];
  if (firstSent && isHeader(firstSent) && isHeader(wire[0]) && firstSent.kind !== wire[0].kind) {
    offset = wire.findIndex((layer) => layer.kind === firstSent.kind);
    if (offset < 0) offset = 0;
    for (const kernelHeader of wire.slice(0, offset).filter(isHeader)) differences.push(writtenHeader(kernelHeader));
  }
  for (let index = 0; index < Math.max(sent.length, wire.length - offset); index++) {
    const a = sent[index];
    const b = wire[index + offset];
    if (a === undefined || b === undefined || a.kind !== b.kind) {
      if (a === undefined && b === undefined) continue;
      differences.push({
        layer: layerName(b ?? a!),
        field: 'header',
        label: 'Layer',
        sent: a ? layerName(a) : '(none)',
        wire: b ? layerName(b) : '(none)',
        ...(a ? { sentRange: a.range } : {}),
        ...(b ? { wireRange: b.range } : {}),
        why: 'the packet that crossed the link is built differently from the one sent',
      });
      break;
    }
    if (isHeader(a) && isHeader(b)) compareHeaders(a, b, differences, notes);
    else if (a.kind === 'payload' && b.kind === 'payload' && !sameBytes(a.data, b.data)) {
      differences.push({ layer: 'Payload', field: 'payload', label: 'Data', sent: `${a.data.length} bytes`, wire: `${b.data.length} bytes`, sentRange: a.range, wireRange: b.range, why: 'the data changed on the way to the link' });
    }
  }
  return { differences, notes };
}

function compareHeaders(sent: Header, wire: Header, differences: FieldDifference[], notes: string[]): void {
  const wireFields = new Map(wire.fields.map((field) => [field.name, field]));
  for (const field of sent.fields) {
    const other = wireFields.get(field.name);
    if (other === undefined) continue;
    const isTtl = (sent.kind === 'ipv4' && field.name === 'ttl') || (sent.kind === 'ipv6' && field.name === 'hopLimit');
    if (field.display === other.display && sameRangeBytes(field, other)) {
      if (isTtl) notes.push(`${field.label} ${field.display} on arrival, as sent: captured on the first link, so no router has decremented it yet (0 hops).`);
      continue;
    }
    differences.push({ layer: sent.name, field: field.name, label: field.label, sent: field.display, wire: other.display, sentRange: field.range, wireRange: other.range, why: explain(sent.kind, field, other) });
  }
}

/** The kernel's known rewrites, said for what the two values show. */
function explain(kind: HeaderKind, sent: DecodedField, wire: DecodedField): string {
  const wasZero = sent.value === 0 || sent.value === '0.0.0.0' || sent.value === '::';
  const ip = kind === 'ipv4' || kind === 'ipv6';
  switch (sent.name) {
    case 'src':
      return wasZero ? 'source address filled in by the kernel (an unspecified source asks it to choose one by the route)' : 'source address replaced by the kernel';
    case 'identification':
      return wasZero ? 'IP identification set by the kernel (0 asks it to choose one)' : 'IP identification changed by the kernel';
    case 'checksum':
      return wasZero ? 'checksum computed by the kernel (it was left 0)' : 'checksum computed by the kernel (it replaced the one sent)';
    case 'totalLength':
    case 'payloadLength':
      return 'length filled in by the kernel';
    case 'identifier':
      if (kind === 'icmp' || kind === 'icmpv6') return "ICMP identifier replaced by the ping socket's (its local port, by which the kernel hands it the replies)";
      break;
    case 'ttl':
    case 'hopLimit':
      return `${sent.label} set by the kernel (the socket's own); captured on the first link, so no router has decremented it yet (0 hops)`;
    case 'flowLabel':
      return 'flow label set by the kernel (automatic flow labels)';
    case 'flags':
      return 'flags set by the kernel (DF: path-MTU discovery)';
  }
  return ip ? `${sent.label} changed by the kernel` : `${sent.label} changed between the socket and the first link`;
}

function writtenHeader(header: Header): FieldDifference {
  const value = (name: string): string | undefined => header.fields.find((field) => field.name === name)?.display;
  const ttl = value(header.kind === 'ipv6' ? 'hopLimit' : 'ttl');
  const id = header.kind === 'ipv4' ? `, identification ${value('identification')}` : '';
  return {
    layer: header.name,
    field: 'header',
    label: `${header.name} header`,
    sent: '(none)',
    wire: `${header.range.end - header.range.start} bytes`,
    wireRange: header.range,
    why: `written by the kernel: the socket takes no IP header (source ${value('src')}, ${header.kind === 'ipv6' ? 'hop limit' : 'TTL'} ${ttl} on arrival${id})`,
  };
}

function isHeader(layer: DecodedLayer | undefined): layer is Header {
  return layer !== undefined && layer.kind !== 'payload' && layer.kind !== 'malformed';
}

function layerName(layer: DecodedLayer): string {
  return isHeader(layer) ? layer.name : layer.kind === 'payload' ? 'Payload' : 'Malformed';
}

/** Displays can hide bytes (an option list); two fields are the same when their values are. */
function sameRangeBytes(a: DecodedField, b: DecodedField): boolean {
  return JSON.stringify(a.value, bytesAsArray) === JSON.stringify(b.value, bytesAsArray);
}

function bytesAsArray(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Array.from(value) : value;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
