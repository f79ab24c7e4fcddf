// Raw payload: bytes with no header of their own.

import { parseHex } from '../hex';
import type { PayloadLayerSpec } from '../layer';

export const payload = {
  kind: 'payload',
  name: 'Payload',
  title: 'Raw payload bytes',
} as const;

/** The bytes of a payload layer, given as a Uint8Array or hex text. */
export function payloadBytes(spec: PayloadLayerSpec): Uint8Array {
  if (spec.data instanceof Uint8Array) return spec.data;
  if (typeof spec.data === 'string') return parseHex(spec.data);
  throw new Error('payload data must be a Uint8Array or hex text');
}
