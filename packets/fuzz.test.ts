import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from './address';
import { build } from './build';
import { decode, type DecodeOptions } from './decode';
import { fieldApplies, type FieldValue, type FieldValues } from './fields';
import type { DecodedLayer, HeaderKind, LayerSpec } from './layer';
import { layerKinds } from './registry';
import { describePacket } from './summary';

/** Random values for the hand-editable fields of a layer, drawn from its field descriptions. */
function fieldsArbitrary(kind: HeaderKind, fixed: FieldValues = {}): fc.Arbitrary<FieldValues> {
  const shape: Record<string, fc.Arbitrary<FieldValue>> = {};
  for (const field of layerKinds[kind].fields) {
    if (field.automatic || field.name in fixed || field.name === 'version' || field.bitWidth === 0) continue;
    if (field.type === 'ipv4') shape[field.name] = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4);
    else if (field.type === 'ipv6') shape[field.name] = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIpv6);
    else if (field.range) shape[field.name] = fc.integer(field.range);
  }
  return fc.record(shape).map((values) => ({ ...values, ...fixed }));
}

const echoStack = fc.oneof(
  fc.tuple(fieldsArbitrary('ipv4', { flags: 0, fragmentOffset: 0 }), fieldsArbitrary('icmp', { type: 8 })).map(([ip, icmp]): LayerSpec[] => [
    { kind: 'ipv4', fields: ip },
    { kind: 'icmp', fields: icmp },
  ]),
  fc.tuple(fieldsArbitrary('ipv6'), fieldsArbitrary('icmpv6', { type: 128 })).map(([ip, icmp]): LayerSpec[] => [
    { kind: 'ipv6', fields: ip },
    { kind: 'icmpv6', fields: icmp },
  ]),
  fc.tuple(fc.boolean(), fieldsArbitrary('ipv4', { flags: 0, fragmentOffset: 0 }), fieldsArbitrary('ipv6'), fieldsArbitrary('udp')).map(
    ([v4, ip4, ip6, udp]): LayerSpec[] => [v4 ? { kind: 'ipv4', fields: ip4 } : { kind: 'ipv6', fields: ip6 }, { kind: 'udp', fields: udp }],
  ),
  fc.tuple(fieldsArbitrary('ipv4', { flags: 0, fragmentOffset: 0 }), fieldsArbitrary('tcp')).map(([ip, tcp]): LayerSpec[] => [
    { kind: 'ipv4', fields: ip },
    { kind: 'tcp', fields: tcp },
  ]),
);
const packetStack = fc.tuple(echoStack, fc.uint8Array({ maxLength: 64 })).map(([stack, data]): LayerSpec[] => [...stack, { kind: 'payload', data }]);

function assertSane(layers: readonly DecodedLayer[], length: number): void {
  for (const layer of layers) {
    expect(layer.range.start).toBeGreaterThanOrEqual(0);
    expect(layer.range.end).toBeLessThanOrEqual(length);
    expect(layer.range.start).toBeLessThanOrEqual(layer.range.end);
    if (layer.kind === 'malformed') expect(layer.reason).not.toMatch(/internal decoder error/);
    if (layer.kind !== 'payload' && layer.kind !== 'malformed' && layer.quoted) assertSane(layer.quoted, length);
  }
  expect(typeof describePacket(layers).summary).toBe('string');
}

describe('build → decode round trip', () => {
  it('gives back every field set, with correct checksums and consistent lengths', () => {
    fc.assert(
      fc.property(packetStack, (stack) => {
        const bytes = build(stack);
        const layers = decode(bytes);
        expect(layers.map((l) => l.kind)).toEqual(stack.map((l) => l.kind).filter((k, i) => k !== 'payload' || (stack[i].kind === 'payload' && (stack[i] as { data: Uint8Array }).data.length > 0)));
        stack.forEach((spec, i) => {
          const layer = layers[i];
          if (spec.kind === 'payload' || !layer || layer.kind === 'payload' || layer.kind === 'malformed') return;
          const given = spec.fields ?? {};
          const active = layerKinds[layer.kind].fields.filter((f) => f.name in given && fieldApplies(f, layer.values));
          expect(layer.values).toMatchObject(Object.fromEntries(active.map((f) => [f.name, given[f.name]])));
          expect(layer.problems).toEqual([]);
          const rule = layerKinds[layer.kind].checksum;
          if (rule) {
            const udpWithoutChecksum = layer.kind === 'udp' && layer.checksum?.status === 'unverified';
            expect(udpWithoutChecksum || layer.checksum?.status === 'correct').toBe(true);
          }
        });
        expect(build(stackFromDecoded(layers))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});

/** The values decode returns rebuild the same bytes (checksums then count as set by hand). */
function stackFromDecoded(layers: readonly DecodedLayer[]): LayerSpec[] {
  return layers.map((layer): LayerSpec => {
    if (layer.kind === 'payload' || layer.kind === 'malformed') return { kind: 'payload', data: layer.data };
    const values: FieldValues = {};
    for (const field of layerKinds[layer.kind].fields) if (fieldApplies(field, layer.values) && field.name in layer.values) values[field.name] = layer.values[field.name];
    return { kind: layer.kind, fields: values };
  });
}

describe('decode never throws', () => {
  const firsts: DecodeOptions['first'][] = ['auto', 'ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp'];

  it('on random bytes, for every starting layer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...firsts), (bytes, first) => {
        assertSane(decode(bytes, { first }), bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('on random bytes behind a plausible IP header start', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x45, 0x46, 0x4f, 0x60, 0x41), fc.uint8Array({ maxLength: 120 }), (first, rest) => {
        const bytes = Uint8Array.of(first, ...rest);
        assertSane(decode(bytes), bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  const errorPacket = fc.tuple(packetStack, fc.constantFrom(3, 11, 12)).map(([inner, type]) =>
    build([{ kind: inner[0].kind === 'ipv6' ? 'ipv6' : 'ipv4' }, { kind: inner[0].kind === 'ipv6' ? 'icmpv6' : 'icmp', fields: { type: inner[0].kind === 'ipv6' ? 3 : type } }, ...inner]),
  );

  it('on mutated and truncated valid packets', () => {
    fc.assert(
      fc.property(
        fc.oneof(packetStack.map((stack) => build(stack)), errorPacket),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
        fc.nat(),
        (packet, mutations, cut) => {
          const bytes = packet.slice(0, packet.length - (cut % (packet.length + 1)));
          for (const [position, value] of mutations) if (bytes.length > 0) bytes[position % bytes.length] = value;
          assertSane(decode(bytes), bytes.length);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
