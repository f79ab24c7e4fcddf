// Variable fields: which fields of a packet may vary, every row checked at once, and the words.
import { describe, expect, it } from 'vitest';
import { analyzeDraft } from './draft';
import { templates } from './templates';
import { sequenceIncrementsByDefault, specWords, validateVariations, variableFields, variationWords, type VariationDraft } from './variation-words';

const echo = () => {
  const layers = templates.find((template) => template.id === 'icmp-echo')!.layers();
  return { layers, fields: variableFields(analyzeDraft(layers).layers) };
};
const row = (change: Partial<VariationDraft>): VariationDraft => ({ id: 'V1', layerId: '', field: '', mode: 'increment', step: '1', count: '', values: '', ...change });

describe('variableFields', () => {
  it('lists numeric and address fields by label, leaves out computed ones and payload', () => {
    const { layers, fields } = echo();
    const names = fields.map((field) => `${field.layerName} ${field.name}`);
    expect(names).toContain('ICMP sequence');
    expect(names).toContain('ICMP identifier');
    expect(names).toContain('IPv4 ttl');
    expect(names).toContain('IPv4 dst');
    // Checksums and lengths are computed unless set by hand.
    expect(names).not.toContain('ICMP checksum');
    expect(names).not.toContain('IPv4 totalLength');
    const sequence = fields.find((field) => field.name === 'sequence')!;
    expect(sequence).toMatchObject({ layerId: layers[1].id, layerIndex: 1, label: 'Sequence number', address: false });
    expect(fields.find((field) => field.name === 'dst')!.address).toBe(true);
  });

  it('offers a checksum once it is set by hand', () => {
    const layers = templates.find((template) => template.id === 'bad-checksum')!.layers();
    expect(variableFields(analyzeDraft(layers).layers).map((field) => field.name)).toContain('checksum');
  });
});

describe('validateVariations', () => {
  it('turns valid rows into the contract shape in row order', () => {
    const { layers, fields } = echo();
    const { specs, errors } = validateVariations(
      [
        row({ id: 'a', layerId: layers[1].id, field: 'sequence', count: '50' }),
        row({ id: 'b', layerId: layers[0].id, field: 'dst', mode: 'list', values: '127.0.0.1, 127.0.0.2' }),
        row({ id: 'c', layerId: layers[0].id, field: 'ttl', mode: 'decrement', step: '2' }),
        row({ id: 'd', layerId: layers[1].id, field: 'identifier', mode: 'random', step: '' }),
      ],
      fields,
    );
    expect(errors).toEqual({});
    expect(specs).toEqual([
      { layer: 1, field: 'sequence', mode: 'increment', count: 50 },
      { layer: 0, field: 'dst', mode: 'list', values: ['127.0.0.1', '127.0.0.2'] },
      { layer: 0, field: 'ttl', mode: 'decrement', step: 2 },
      { layer: 1, field: 'identifier', mode: 'random' },
    ]);
  });

  it('reports every problem of every row at once', () => {
    const { layers, fields } = echo();
    const { specs, errors } = validateVariations(
      [
        row({ id: 'a', field: '' }),
        row({ id: 'b', layerId: layers[1].id, field: 'sequence', step: '0', count: 'x' }),
        row({ id: 'c', layerId: layers[1].id, field: 'sequence', mode: 'list', values: '1, 70000' }),
        row({ id: 'd', layerId: layers[0].id, field: 'dst', mode: 'list', values: '127.0.0.1, ::1' }),
        row({ id: 'e', layerId: layers[1].id, field: 'type', mode: 'list', values: '' }),
      ],
      fields,
    );
    expect(specs).toBeNull();
    expect(errors.a).toEqual({ field: 'Choose a field' });
    expect(errors.b).toEqual({ step: expect.stringMatching(/^Step must be/), count: expect.stringMatching(/^Count must be/) });
    expect(errors.c).toEqual({ field: 'ICMP Sequence number already varies in another row', values: expect.stringMatching(/^'70000': Out of range/) });
    expect(errors.d?.values).toMatch(/^'::1': /);
    expect(errors.e).toEqual({ values: 'Enter the values in turn, separated by commas' });
  });

  it('names a row whose field left the packet', () => {
    const { fields } = echo();
    expect(validateVariations([row({ layerId: 'gone', field: 'sequence' })], fields).errors.V1?.field).toMatch(/no longer in the packet/);
  });
});

describe('words', () => {
  it('says what a variation does', () => {
    expect(variationWords({ mode: 'increment', count: 50 }, 'Sequence number')).toBe('Sequence number +1 per packet, 50 values');
    expect(variationWords({ mode: 'decrement', step: 2 }, 'Time to live')).toBe('Time to live −2 per packet (wraps at the field’s width)');
    expect(variationWords({ mode: 'random' }, 'Identifier')).toBe('Identifier random over its whole range');
    expect(variationWords({ mode: 'random', count: 1 }, 'Identifier')).toBe('Identifier random among 1 value from the packet’s own');
    expect(variationWords({ mode: 'list', values: [1, 2, 3, 4, 5] }, 'Port')).toBe('Port from a list: 1, 2, 3, 4, … (5 values)');
    const { fields } = echo();
    expect(specWords({ layer: 1, field: 'sequence', mode: 'increment' }, fields)).toBe('ICMP Sequence number +1 per packet (wraps at the field’s width)');
    expect(specWords({ layer: 7, field: 'x', mode: 'increment' }, fields)).toMatch(/^layer 8 x /);
  });

  it('knows when the engine increments an echo sequence by itself', () => {
    expect(sequenceIncrementsByDefault(true, 50, null)).toBe(true);
    expect(sequenceIncrementsByDefault(true, 50, [])).toBe(false);
    expect(sequenceIncrementsByDefault(true, 1, null)).toBe(false);
    expect(sequenceIncrementsByDefault(false, 50, null)).toBe(false);
  });
});
