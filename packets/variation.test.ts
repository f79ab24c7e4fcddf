import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseIpAddress, parseIpv6 } from './address';
import { build, type BuildOptions } from './build';
import { decode } from './decode';
import { readBits } from './fields';
import type { DecodedLayer, LayerSpec, PacketStack } from './layer';
import { layerKinds } from './registry';
import { defaultVariations, planVariations, variableFieldNames, VariationError, writeVariant, type VariationSpec } from './variation';

const udp4: PacketStack = [
  { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.2', ttl: 3, identification: 0x1234 } },
  { kind: 'udp', fields: { srcPort: 40000, dstPort: 33434 } },
  { kind: 'payload', data: '01 02 03' },
];
const echo4: PacketStack = [
  { kind: 'ipv4', fields: { src: '127.0.0.1', dst: '127.0.0.1' } },
  { kind: 'icmp', fields: { identifier: 0x4242, sequence: 65530 } },
  { kind: 'payload', data: '61 62 63 64 65' },
];
const tcp6: PacketStack = [
  { kind: 'ipv6', fields: { src: 'fd42::1:ffff:fffe', dst: 'fd42::2', hopLimit: 9 } },
  { kind: 'tcp', fields: { srcPort: 1025, seq: 0xfffffff0 } },
];
const echo6: PacketStack = [{ kind: 'ipv6', fields: { src: 'fd42::1', dst: 'fd42::2' } }, { kind: 'icmpv6', fields: { identifier: 7 } }];
/** An ICMP error quoting an IPv4/UDP probe: varying the quoted port updates the quoted UDP checksum, then the ICMP one. */
const quoting: PacketStack = [
  { kind: 'ipv4', fields: { src: '198.18.0.9', dst: '198.18.0.1' } },
  { kind: 'icmp', fields: { type: 3, code: 3 } },
  { kind: 'ipv4', fields: { src: '198.18.0.1', dst: '198.18.0.9', ttl: 1 } },
  { kind: 'udp', fields: { srcPort: 5000, dstPort: 33434 } },
  { kind: 'payload', data: 'aa bb cc' },
];

/** Where a field sits: the layer's byte offset from the built template's decode. */
function fieldOf(stack: PacketStack, layer: number, name: string, options: BuildOptions = {}) {
  const bytes = build(stack, options);
  const kind = stack[0].kind;
  const layers = flatten(decode(bytes, kind === 'ipv4' || kind === 'ipv6' ? {} : { first: kind as 'udp' }));
  const decoded = layers[layer];
  if (decoded.kind !== stack[layer].kind || decoded.kind === 'payload' || decoded.kind === 'malformed') throw new Error(`layer ${layer} decoded as ${decoded.kind}`);
  const description = layerKinds[decoded.kind].fields.find((field) => field.name === name)!;
  const found = decoded.fields.find((field) => field.name === name)!;
  return { description, byte: found.range.start, bytes };
}

function flatten(layers: readonly DecodedLayer[]): DecodedLayer[] {
  const out: DecodedLayer[] = [];
  for (const layer of layers) {
    out.push(layer);
    if (layer.kind !== 'payload' && layer.kind !== 'malformed' && layer.quoted) out.push(...flatten(layer.quoted));
  }
  return out;
}

/** The value a variation must give packet k, computed independently with BigInt (random: undefined). */
function expectedValue(variation: VariationSpec, own: bigint, width: number, k: number): bigint | undefined {
  const size = 1n << BigInt(width);
  const step = BigInt(variation.step ?? 1);
  const n = BigInt(variation.count ? k % variation.count : k);
  if (variation.mode === 'increment') return (own + step * n) % size;
  if (variation.mode === 'decrement') return (((own - step * n) % size) + size) % size;
  if (variation.mode === 'list') {
    const value = variation.values![k % variation.values!.length];
    if (typeof value === 'number') return BigInt(value);
    const bytes = parseIpAddress(value).subarray(-4);
    return BigInt(new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0));
  }
  return undefined;
}

/** The stack with this layer's field set by hand, as build() takes it. */
function withField(stack: PacketStack, layer: number, name: string, value: number | string): PacketStack {
  return stack.map((spec, index): LayerSpec => (index === layer && spec.kind !== 'payload' ? { kind: spec.kind, fields: { ...spec.fields, [name]: value } } : spec));
}

/**
 * Writes packets 0..n-1 and checks each against build() of the same stack with every varied field set by
 * hand to the value it must have (increment/decrement/list) or the value written, in its range (random).
 */
function checkVariants(stack: PacketStack, variations: VariationSpec[], ks: number[], options: BuildOptions = {}): Uint8Array[] {
  const plan = planVariations(stack, variations, options, 12345);
  expect(plan.template).toEqual(build(stack, options));
  const out: Uint8Array[] = [];
  for (const k of ks) {
    const target = plan.template.slice();
    writeVariant(plan, k, target);
    let expected = stack;
    for (const variation of variations) {
      const { description, byte, bytes } = fieldOf(stack, variation.layer, variation.field, options);
      const address = description.type === 'ipv4' || description.type === 'ipv6';
      const width = description.type === 'ipv6' ? 32 : description.bitWidth;
      const bitOffset = byte * 8 + (description.bitOffset % 8) + (description.type === 'ipv6' ? 96 : 0);
      const own = BigInt(readBits(bytes, bitOffset, width));
      const written = BigInt(readBits(target, bitOffset, width));
      let value = expectedValue(variation, own, width, k);
      if (value === undefined) {
        const span = BigInt(Math.min(variation.count ?? 2 ** width, 2 ** width));
        const size = 1n << BigInt(width);
        expect((((written - own) % size) + size) % size).toBeLessThan(span);
        value = written;
      }
      let shown: number | string = Number(value);
      if (description.type === 'ipv4') shown = formatIpv4(Uint8Array.of(Number(value >> 24n), Number((value >> 16n) & 255n), Number((value >> 8n) & 255n), Number(value & 255n)));
      if (description.type === 'ipv6') {
        const full = bytes.slice(byte, byte + 16);
        new DataView(full.buffer).setUint32(12, Number(value));
        shown = formatIpv6(full);
      }
      expect(address || typeof shown === 'number').toBe(true);
      expected = withField(expected, variation.layer, variation.field, shown);
    }
    expect(target, `packet ${k}`).toEqual(build(expected, options));
    out.push(target);
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, k) => k);

describe('planVariations and writeVariant: every packet equals build() with the field set by hand', () => {
  it('increments an echo sequence and wraps at 16 bits (IPv4 header and ICMP checksums)', () => {
    const packets = checkVariants(echo4, [{ layer: 1, field: 'sequence', mode: 'increment' }], range(12));
    expect(readBits(packets[6], (20 + 6) * 8, 16)).toBe(0); // 65530 + 6 wraps
  });

  it('steps and starts over after count values', () => {
    checkVariants(echo4, [{ layer: 1, field: 'sequence', mode: 'increment', step: 1000, count: 5 }], range(11));
    checkVariants(echo4, [{ layer: 1, field: 'identifier', mode: 'increment', step: 4294967295 }], range(5));
  });

  it('decrements a TTL through 0 to 255', () => {
    checkVariants(udp4, [{ layer: 0, field: 'ttl', mode: 'decrement' }], range(6));
    checkVariants(udp4, [{ layer: 0, field: 'ttl', mode: 'decrement', step: 7, count: 3 }], range(7));
  });

  it('draws random values from [own, own + count), different ones', () => {
    const packets = checkVariants(echo4, [{ layer: 1, field: 'identifier', mode: 'random', count: 100 }], range(40));
    expect(new Set(packets.map((p) => readBits(p, (20 + 4) * 8, 16))).size).toBeGreaterThan(10);
    checkVariants(udp4, [{ layer: 1, field: 'srcPort', mode: 'random' }], range(20));
  });

  it('takes list values in turn, numbers and addresses', () => {
    checkVariants(udp4, [{ layer: 1, field: 'dstPort', mode: 'list', values: [7, 9, 65535] }], range(7));
    const plan = planVariations(udp4, [{ layer: 0, field: 'dst', mode: 'list', values: ['198.18.0.7', '198.18.1.0'] }]);
    const target = plan.template.slice();
    writeVariant(plan, 1, target);
    expect(target).toEqual(build(withField(udp4, 0, 'dst', '198.18.1.0')));
    expect(plan.destination).toEqual({ at: 16, family: 4 });
  });

  it('varies IPv4 addresses across octets: header checksum and the UDP pseudo header', () => {
    checkVariants(udp4, [{ layer: 0, field: 'src', mode: 'increment', step: 255 }], range(6));
    checkVariants(udp4, [{ layer: 0, field: 'dst', mode: 'decrement', step: 65536 }], range(4));
    checkVariants(udp4, [{ layer: 0, field: 'src', mode: 'random', count: 1000 }], range(10));
  });

  it('varies the low 32 bits of IPv6 addresses: TCP and ICMPv6 pseudo-header checksums', () => {
    checkVariants(tcp6, [{ layer: 0, field: 'src', mode: 'increment' }], range(5)); // …:fffffffe wraps to …:0
    checkVariants(echo6, [{ layer: 0, field: 'dst', mode: 'list', values: ['fd42::3', 'fd42::1:2'] }, { layer: 1, field: 'sequence', mode: 'increment' }], range(4));
    checkVariants(tcp6, [{ layer: 1, field: 'seq', mode: 'increment', step: 7 }, { layer: 0, field: 'flowLabel', mode: 'random' }], range(6));
  });

  it('varies several fields at once, bit fields included', () => {
    checkVariants(
      udp4,
      [
        { layer: 0, field: 'ttl', mode: 'increment' },
        { layer: 0, field: 'flags', mode: 'list', values: [0, 2, 4] },
        { layer: 0, field: 'fragmentOffset', mode: 'increment', step: 3 },
        { layer: 0, field: 'src', mode: 'increment' },
        { layer: 1, field: 'srcPort', mode: 'decrement' },
        { layer: 0, field: 'dscp', mode: 'random' },
      ],
      range(9),
    );
  });

  it('updates a quoted UDP checksum and then the ICMP checksum that covers it', () => {
    checkVariants(quoting, [{ layer: 3, field: 'srcPort', mode: 'increment' }, { layer: 2, field: 'src', mode: 'increment' }], range(5));
  });

  it('keeps a checksum set by hand, and updates the others', () => {
    const stack = withField(udp4, 1, 'checksum', 0x1234);
    const packets = checkVariants(stack, [{ layer: 1, field: 'srcPort', mode: 'increment' }, { layer: 0, field: 'ttl', mode: 'increment' }], range(4));
    for (const packet of packets) expect(readBits(packet, (20 + 6) * 8, 16)).toBe(0x1234);
  });

  it('below IP: the pseudo header comes from the build options', () => {
    checkVariants([{ kind: 'udp', fields: { srcPort: 1 } }], [{ layer: 0, field: 'srcPort', mode: 'increment' }], range(3), { source: '127.0.0.1', destination: '127.0.0.1' });
    checkVariants([{ kind: 'icmpv6' }], [{ layer: 0, field: 'sequence', mode: 'increment' }], range(3), { source: '::1', destination: '::1' });
    // Without addresses the UDP checksum is 0 ("none") and stays so.
    const plan = planVariations([{ kind: 'udp' }], [{ layer: 0, field: 'srcPort', mode: 'increment' }]);
    const target = plan.template.slice();
    writeVariant(plan, 3, target);
    expect(readBits(target, 48, 16)).toBe(0);
  });

  it('property: random increments, decrements and random values of any variable field of IPv4/UDP, IPv6/TCP, ICMP and ICMPv6 echoes equal build()', () => {
    const stacks = [udp4, tcp6, echo4, echo6];
    const variation = (stack: PacketStack) =>
      fc
        .record({
          layer: fc.constant(0),
          pick: fc.nat(),
          mode: fc.constantFrom('increment' as const, 'decrement' as const, 'random' as const),
          step: fc.integer({ min: 1, max: 0xffffffff }),
          count: fc.option(fc.integer({ min: 1, max: 2 ** 20 }), { nil: undefined }),
          layerPick: fc.nat(),
        })
        .map(({ pick, layerPick, ...rest }) => {
          const layer = layerPick % 2;
          const names = variableFieldNames(stack, layer).filter((name) => name !== 'version');
          const step = rest.mode === 'random' ? undefined : rest.step;
          return { ...rest, layer, field: names[pick % names.length], ...(step === undefined ? { step: undefined } : { step }) };
        });
    fc.assert(
      fc.property(
        fc.nat(3).chain((s) => fc.tuple(fc.constant(s), fc.uniqueArray(variation(stacks[s]), { minLength: 1, maxLength: 4, selector: (v) => `${v.layer}.${v.field}` }), fc.nat(1_000_000))),
        ([s, variations, k]) => {
          const clean = variations.map(({ step, count, ...rest }) => ({ ...rest, ...(step !== undefined ? { step } : {}), ...(count !== undefined ? { count } : {}) }));
          checkVariants(stacks[s], clean, [k, k + 1]);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('planVariations refuses what cannot vary, naming the variation', () => {
  const refuse = (stack: PacketStack, variation: VariationSpec, path: string, message: RegExp) => {
    let error: unknown;
    try {
      planVariations(stack, [{ layer: 0, field: 'ttl', mode: 'increment' }, variation].slice(stack[0].kind === 'ipv4' ? 0 : 1));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VariationError);
    expect((error as VariationError).path).toBe(path);
    expect((error as Error).message).toMatch(message);
  };
  it('an unknown field, listing the layer variable fields', () => {
    refuse(echo4, { layer: 1, field: 'seq', mode: 'increment' }, 'variations.1.field', /layer 1 \(ICMP\) has no variable field 'seq'; ICMP has: code, checksum, identifier, sequence/);
  });
  it('the ICMP type (it decides the header) and payloads', () => {
    refuse(echo4, { layer: 1, field: 'type', mode: 'list', values: [8, 0] }, 'variations.1.field', /decides which fields/);
    refuse(echo4, { layer: 2, field: 'data', mode: 'increment' }, 'variations.1.layer', /payload/);
    refuse(echo4, { layer: 5, field: 'ttl', mode: 'increment' }, 'variations.1.layer', /layers 0 to 2/);
  });
  it('list values out of range or of the wrong kind; IPv6 outside the low 32 bits', () => {
    refuse(echo4, { layer: 1, field: 'sequence', mode: 'list', values: [1, 65536] }, 'variations.1.values.1', /0 to 65535, got 65536/);
    refuse(echo4, { layer: 0, field: 'src', mode: 'list', values: ['300.1.1.1'] }, 'variations.1.values.0', /Invalid IPv4/);
    refuse(echo6, { layer: 0, field: 'dst', mode: 'list', values: ['fd43::2'] }, 'variations.0.values.0', /low 32 bits.*fd42::/);
    refuse(echo4, { layer: 0, field: 'ttl', mode: 'increment' }, 'variations.1.field', /varies twice/);
  });
});

describe('defaultVariations', () => {
  it('an echo request increments its sequence; other packets do not vary', () => {
    expect(defaultVariations(echo4)).toEqual([{ layer: 1, field: 'sequence', mode: 'increment' }]);
    expect(defaultVariations([{ kind: 'icmpv6' }])).toEqual([{ layer: 0, field: 'sequence', mode: 'increment' }]);
    expect(defaultVariations([{ kind: 'icmp', fields: { type: 0 } }])).toEqual([]);
    expect(defaultVariations(udp4)).toEqual([]);
    expect(parseIpv6('fd42::1')).toHaveLength(16);
  });
});
