// The shapes shared by every layer: the stack a user builds, the layers decode returns,
// and the definition each protocol file provides.

import type { IpEndpoints } from './checksum';
import type { FieldDescription, FieldValue, FieldValues } from './fields';

export type HeaderKind = 'ipv4' | 'ipv6' | 'icmp' | 'icmpv6' | 'udp' | 'tcp';
export type LayerKindName = HeaderKind | 'payload';

/** A header in a stack to build; fields left out take their default or automatic value. */
export interface HeaderLayerSpec {
  readonly kind: HeaderKind;
  readonly fields?: Readonly<Record<string, FieldValue>>;
}

/** Raw bytes in a stack to build, as a Uint8Array or hex text. */
export interface PayloadLayerSpec {
  readonly kind: 'payload';
  readonly data: Uint8Array | string;
}

export type LayerSpec = HeaderLayerSpec | PayloadLayerSpec;
/** Outermost layer first: e.g. IPv4, ICMP, payload. Layers after an ICMP error are its quoted packet. */
export type PacketStack = readonly LayerSpec[];

/** Byte offsets into the decoded buffer, end exclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** One option inside an options field (IPv4 or TCP). */
export interface DecodedOption {
  readonly name: string;
  readonly display: string;
  readonly range: ByteRange;
}

export interface DecodedField {
  readonly name: string;
  readonly label: string;
  readonly type: FieldDescription['type'];
  readonly value: FieldValue;
  readonly display: string;
  /** Bytes the field touches. */
  readonly range: ByteRange;
  /** Exact bit offsets into the buffer (end exclusive), for fields that do not fill whole bytes. */
  readonly bits?: ByteRange;
  readonly options?: readonly DecodedOption[];
}

export type ChecksumVerdict =
  | { readonly status: 'correct'; readonly value: number }
  | { readonly status: 'wrong'; readonly value: number; readonly expected: number }
  | { readonly status: 'unverified'; readonly value: number; readonly reason: string };

export interface DecodedHeaderLayer {
  readonly kind: HeaderKind;
  /** Short protocol name: 'IPv4', 'ICMPv6', 'TCP'. */
  readonly name: string;
  /** The header's bytes (options included, payload excluded). */
  readonly range: ByteRange;
  readonly fields: readonly DecodedField[];
  readonly values: Readonly<FieldValues>;
  readonly checksum?: ChecksumVerdict;
  /** Things wrong that did not stop decoding, like a length field that disagrees with the bytes. */
  readonly problems: readonly string[];
  /** ICMP errors: the packet they quote, decoded. */
  readonly quoted?: readonly DecodedLayer[];
}

export interface DecodedPayloadLayer {
  readonly kind: 'payload';
  readonly range: ByteRange;
  readonly data: Uint8Array;
  /** Set for bytes past what a length field covers. */
  readonly note?: string;
}

export interface MalformedLayer {
  readonly kind: 'malformed';
  readonly range: ByteRange;
  readonly reason: string;
  readonly data: Uint8Array;
}

export type DecodedLayer = DecodedHeaderLayer | DecodedPayloadLayer | MalformedLayer;

/** What follows a header when decoding. */
export interface NextLayer {
  readonly kind: HeaderKind | 'payload';
  /** The rest is a packet quoted by an ICMP error: decoded into `quoted`, and it may be cut short. */
  readonly quoted?: boolean;
  /** The payload is a fragment: transport checksums cannot be verified. */
  readonly fragment?: boolean;
}

export interface ChecksumRule {
  /** 'header': the IPv4 header checksum; 'packet': header and payload. */
  readonly covers: 'header' | 'packet';
  /** Protocol number for the pseudo header; absent when there is none (ICMPv4, IPv4). */
  readonly pseudoHeaderProtocol?: number;
  /** UDP over IPv4: 0 means "no checksum", and a computed 0 is sent as 0xffff. */
  readonly zeroMeansNone?: boolean;
}

export interface AutomaticContext {
  readonly headerLength: number;
  readonly payloadLength: number;
  /** Kind of the layer after this one in the stack, if any. */
  readonly next?: LayerKindName;
}

/** Everything the generic build and decode need to know about one protocol. */
export interface LayerDefinition {
  readonly kind: HeaderKind;
  readonly name: string;
  readonly title: string;
  /** Fixed fields in wire order, then the variable 'options' field if the header has one. */
  readonly fields: readonly FieldDescription[];
  /** Length of the fixed part, in bytes. */
  readonly minHeaderLength: number;
  /** Header length claimed by the decoded values (IHL, data offset); fixed headers omit this. */
  declaredHeaderLength?(values: Readonly<FieldValues>): number;
  /** Header plus payload length claimed by a length field, if the header has one. */
  declaredTotalLength?(values: Readonly<FieldValues>): number;
  /** Values of the automatic fields (lengths, next protocol); checksums are computed separately. */
  automaticValues(context: AutomaticContext): FieldValues;
  readonly checksum?: ChecksumRule;
  /** The IP addresses this header gives to the layers inside it (IP layers only). */
  endpoints?(values: Readonly<FieldValues>): IpEndpoints;
  next(values: Readonly<FieldValues>): NextLayer;
  /** Names the options inside the options field (IPv4, TCP). */
  describeOptions?(options: Uint8Array, start: number): { options: DecodedOption[]; problems: string[] };
  /** One line, like Wireshark's Info column. */
  summarize(layer: DecodedHeaderLayer, inner: readonly DecodedLayer[]): string;
}
