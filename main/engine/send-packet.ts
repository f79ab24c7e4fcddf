// The packets of a send job, made ready to send: each built from hex or a layer stack, its
// variable fields planned (packets/variation.ts; an echo request sent more than once increments
// its sequence unless told otherwise), its description in words and whether the log can pair it
// with an answer. Errors name the part of the parameters at fault ('packets.1.variations.0.field').
import type { Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { build, type BuildOptions } from '../../packets/build';
import { decode } from '../../packets/decode';
import { parseHex } from '../../packets/hex';
import type { DecodedHeaderLayer, LayerSpec as PacketLayerSpec } from '../../packets/layer';
import { defaultVariations, describeVariation, planVariations, VariationError, type VariationPlan, type VariationSpec } from '../../packets/variation';
import { kernelHeaderFields, type KernelHeaderFields } from './header-fields';
import type { PreparedPacket } from './send-job';
import type { SocketEntry } from './sockets';

const MAX_PACKET = 65535;

type SendParams = Params<'send'>;
type PacketSpec = NonNullable<SendParams['packet']>;
type Variation = NonNullable<SendParams['variations']>[number];

/** One packet of the job as the parameters give it, with the path of its parts in them. */
export interface PacketRequest {
  readonly packet: PacketSpec;
  readonly variations: readonly Variation[] | undefined;
  readonly count: number;
  /** '' for `packet`, 'packets.1.' for the second packet of a stream. */
  readonly path: string;
}

export interface ReadyPacket extends PreparedPacket {
  readonly header: 'with' | 'without';
  readonly source: 'hex' | 'layers';
  readonly kernelFields?: KernelHeaderFields;
  /** 'ICMP echo request', 'UDP to port 33434'. */
  readonly kind: string;
  /** Its variations in words: 'sequence +1, ttl list of 3' ('' when none). */
  readonly words: string;
}

/** The packets of send's parameters: `packet` (with variations and count) or each of `packets`. */
export function packetRequests(params: SendParams): PacketRequest[] {
  if (params.packets) return params.packets.map((entry, index) => ({ packet: entry.packet, variations: entry.variations, count: entry.count ?? 1, path: `packets.${index}.` }));
  return [{ packet: params.packet!, variations: params.variations, count: params.count ?? 1, path: '' }];
}

/**
 * The bytes to send. Hex is sent as given. A layer stack is built; an IP header on a raw socket
 * goes out as built (IP_HDRINCL / IPV6_HDRINCL, see jobs.ts headerMode), so every field the user
 * set is sent as given. A datagram socket never takes a header: it is cut off after the inner
 * checksums were computed with its addresses, and its hop limit and traffic class go as
 * ancillary data (kernelFields); a field the kernel cannot honour is refused (header-fields.ts).
 * `local`: the source address the kernel picks toward the target (null when unknown).
 */
export function preparePacket(entry: SocketEntry, address: string, local: string | null, request: PacketRequest, userHeader: (bytes: Uint8Array) => boolean): ReadyPacket {
  const field = `${request.path}packet`;
  const invalid = (message: string, at = field): WorkbenchError => new WorkbenchError('INVALID_ARGUMENT', message, at);
  const tooLarge = (length: number) => invalid(`${field}: the packet is ${length} bytes, more than the ${MAX_PACKET} an IP packet can hold`);
  if ('hex' in request.packet) {
    if (request.variations && request.variations.length > 0) {
      throw invalid(`${request.path}variations: a hex packet is sent as given; variable fields need a layer stack (packet.layers)`, `${request.path}variations`);
    }
    let bytes: Uint8Array;
    try {
      bytes = parseHex(request.packet.hex);
    } catch (error) {
      throw invalid(`${field}.hex: ${(error as Error).message}`);
    }
    if (bytes.length > MAX_PACKET) throw tooLarge(bytes.length);
    // With IP_HDRINCL on by hand (or protocol 255) hex is taken to start with its IPv4 header, and must.
    const header = userHeader(bytes) ? 'with' : 'without';
    const kind = `${bytes.length}-byte packet (hex)`;
    const isIp = header === 'with';
    return { bytes, offset: 0, length: bytes.length, plan: null, count: request.count, destination: address, request: isRequest(bytes, isIp, entry.protocol), description: `${kind} to ${address}`, header, source: 'hex', kind, words: '' };
  }
  const specs = request.packet.layers;
  const stack: PacketLayerSpec[] = specs.map((spec, index) => {
    if (spec.kind === 'payload') {
      if (spec.fields && Object.keys(spec.fields).length > 0) throw invalid(`${field}.layers.${index}: a payload layer has data, not fields`);
      return { kind: 'payload', data: spec.data ?? '' };
    }
    if (spec.data !== undefined) throw invalid(`${field}.layers.${index}: only payload layers take data; add a payload layer after it`);
    return { kind: spec.kind, ...(spec.fields ? { fields: spec.fields } : {}) };
  });
  const first = stack[0].kind;
  const ipFamily = first === 'ipv4' ? 'ipv4' : first === 'ipv6' ? 'ipv6' : null;
  if (ipFamily && ipFamily !== entry.family) throw invalid(`${field}.layers.0: an ${first} header cannot go out of an ${entry.family} socket`);
  if (ipFamily) {
    const fields: Record<string, number | string> = { ...((stack[0] as { fields?: Record<string, number | string> }).fields ?? {}) };
    if (fields.dst === undefined) fields.dst = address;
    if (fields.src === undefined && local) fields.src = local;
    stack[0] = { kind: stack[0].kind as 'ipv4' | 'ipv6', fields };
  }
  const options: BuildOptions = ipFamily || !local ? {} : { source: local, destination: address };
  let bytes: Uint8Array;
  try {
    bytes = build(stack, options);
  } catch (error) {
    throw invalid(`${field}.layers: ${(error as Error).message}`);
  }
  if (bytes.length > MAX_PACKET) throw tooLarge(bytes.length);
  const keepHeader = ipFamily !== null && entry.mode === 'raw';
  let kernelFields: KernelHeaderFields | undefined;
  let offset = 0;
  if (ipFamily && !keepHeader) {
    kernelFields = kernelHeaderFields(bytes, { protocol: entry.protocol, destination: address, source: local });
    offset = ipFamily === 'ipv4' ? (bytes[0] & 0x0f) * 4 : 40;
  }
  // An echo request sent more than once increments its sequence, so that replies can be told apart.
  const variations: readonly VariationSpec[] = request.variations ?? (request.count > 1 ? defaultVariations(stack) : []);
  let plan: VariationPlan | null = null;
  if (variations.length > 0) {
    variations.forEach((variation, index) => {
      if (offset > 0 && variation.layer === 0) {
        throw invalid(
          `${request.path}variations.${index}: socket ${entry.id} is a datagram socket, whose IP header the kernel writes: its fields cannot vary (use a raw socket)`,
          `${request.path}variations.${index}.layer`,
        );
      }
    });
    try {
      plan = planVariations(stack, variations, options);
    } catch (error) {
      if (error instanceof VariationError) throw invalid(`${request.path}${error.path}: ${error.message}`, `${request.path}${error.path}`);
      throw invalid(`${field}.layers: ${(error as Error).message}`);
    }
  }
  const destination = kernelFields ? { address, hopLimit: kernelFields.hopLimit, trafficClass: kernelFields.trafficClass } : address;
  const words = variations.map(describeVariation).join(', ');
  const kind = packetKind(bytes, ipFamily !== null, entry.protocol);
  const description = `${kind} to ${address}${words ? ` (${words})` : ''}`;
  return {
    bytes,
    offset,
    length: bytes.length - offset,
    plan,
    count: request.count,
    destination,
    request: isRequest(bytes, ipFamily !== null, entry.protocol),
    description,
    header: keepHeader ? 'with' : 'without',
    source: 'layers',
    kind,
    words,
    ...(kernelFields ? { kernelFields } : {}),
  };
}

/** The job in words: 'ICMP echo request ×50 to 127.0.0.1, sequence +1' / 'stream of 3 packets (interleaved) to ::1'. */
export function describeJob(packets: readonly ReadyPacket[], address: string, order: string, stream: boolean): string {
  if (stream) return `stream of ${packets.length} packet${packets.length === 1 ? '' : 's'} (${order}) to ${address}`;
  const { kind, count, words } = packets[0];
  return `${kind}${count > 1 ? ` ×${count}` : ''} to ${address}${words ? `, ${words}` : ''}`;
}

/** The first header after IP (or the first of a headerless packet), decoded. */
function transportOf(bytes: Uint8Array, withIpHeader: boolean, protocol: number): DecodedHeaderLayer | null {
  try {
    const kind = protocol === 1 ? 'icmp' : protocol === 58 ? 'icmpv6' : protocol === 17 ? 'udp' : protocol === 6 ? 'tcp' : null;
    const layers = withIpHeader ? decode(bytes) : kind ? decode(bytes, { first: kind }) : [];
    const header = layers.find((layer) => layer.kind === 'icmp' || layer.kind === 'icmpv6' || layer.kind === 'udp' || layer.kind === 'tcp');
    return (header as DecodedHeaderLayer | undefined) ?? null;
  } catch {
    return null;
  }
}

const ICMP_WORDS: Record<number, string> = { 0: 'echo reply', 3: 'destination unreachable', 8: 'echo request', 11: 'time exceeded', 12: 'parameter problem' };
const ICMPV6_WORDS: Record<number, string> = { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem', 128: 'echo request', 129: 'echo reply' };

/** 'ICMP echo request', 'UDP to port 33434', 'TCP SYN to port 80', 'IPv4 packet'. */
function packetKind(bytes: Uint8Array, withIpHeader: boolean, protocol: number): string {
  const header = transportOf(bytes, withIpHeader, protocol);
  if (!header) return withIpHeader ? `${bytes[0] >> 4 === 6 ? 'IPv6' : 'IPv4'} packet` : `${bytes.length}-byte packet`;
  const values = header.values;
  if (header.kind === 'icmp' || header.kind === 'icmpv6') {
    const type = Number(values.type);
    return `${header.name} ${(header.kind === 'icmp' ? ICMP_WORDS : ICMPV6_WORDS)[type] ?? `type ${type}`}`;
  }
  if (header.kind === 'udp') return `UDP to port ${values.dstPort}`;
  const flags = Number(values.flags);
  const syn = (flags & 0x17) === 0x02 ? ' SYN' : '';
  return `TCP${syn} to port ${values.dstPort}`;
}

/** A kind the log's matching pairs with an answer: ICMP/ICMPv6 echo request, UDP datagram, TCP SYN. */
function isRequest(bytes: Uint8Array, withIpHeader: boolean, protocol: number): boolean {
  const header = transportOf(bytes, withIpHeader, protocol);
  if (!header) return false;
  const values = header.values;
  if (header.kind === 'icmp') return values.type === 8;
  if (header.kind === 'icmpv6') return values.type === 128;
  if (header.kind === 'udp') return true;
  return (Number(values.flags) & 0x17) === 0x02;
}
