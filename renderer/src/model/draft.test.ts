import { describe, expect, it } from 'vitest';
import { decode, formatHex } from '../../../packets';
import { analyzeDraft, draftFromBytes, fieldAtByte, newHeader, newPayload, parseFieldText, parseNumberText, withByte, type DraftHeader } from './draft';
import { templates } from './templates';
import { layerKinds } from '../../../packets';

const ipv4Field = (name: string) => layerKinds.ipv4.fields.find((field) => field.name === name)!;

describe('parseFieldText', () => {
  it('reads decimal, hex and binary numbers and explains the rest', () => {
    expect(parseNumberText('0x1f')).toBe(31);
    expect(parseNumberText('0b101')).toBe(5);
    expect(parseNumberText('12a')).toBeNull();
    expect(parseFieldText(ipv4Field('ttl'), '300')).toEqual({ error: 'Out of range: 300 is not within 0–255 (8 bits)' });
    expect(parseFieldText(ipv4Field('ttl'), 'x')).toMatchObject({ error: expect.stringContaining('not a number') });
    expect(parseFieldText(ipv4Field('dst'), '1.2.3')).toMatchObject({ error: expect.stringContaining('Invalid IPv4') });
    expect(parseFieldText(ipv4Field('options'), 'zz')).toMatchObject({ error: expect.stringContaining('Invalid hex digit') });
  });
});

describe('analyzeDraft', () => {
  it('builds every template into bytes that decode without problems', () => {
    for (const template of templates) {
      const analysis = analyzeDraft(template.layers());
      expect(analysis.errors, template.id).toEqual([]);
      expect(analysis.bytes!.length).toBeGreaterThan(20);
      expect(analysis.spec!.length).toBe(template.layers().length);
      // Decoded back: the same layers, none malformed, no header with a problem, every checksum
      // right (bad-checksum's ICMP one is wrong on purpose: the test below).
      const decoded = decode(analysis.bytes!);
      expect(decoded.map((layer) => layer.kind), template.id).toEqual(template.layers().map((layer) => layer.kind));
      for (const layer of decoded) {
        if (layer.kind === 'payload' || layer.kind === 'malformed') continue;
        expect(layer.problems, `${template.id} ${layer.name}`).toEqual([]);
        const wrongOnPurpose = template.id === 'bad-checksum' && layer.kind === 'icmp';
        if (layer.checksum) expect(layer.checksum.status, `${template.id} ${layer.name}`).toBe(wrongOnPurpose ? 'wrong' : 'correct');
      }
      expect(decoded.filter((layer) => layer.kind !== 'payload' && layer.kind !== 'malformed' && layer.checksum).length, template.id).toBeGreaterThan(0);
    }
  });

  it('fills automatic fields and shows their computed values with byte ranges', () => {
    const analysis = analyzeDraft(templates[0].layers());
    const ip = analysis.layers[0];
    const total = ip.fields.find((row) => row.field.name === 'totalLength')!;
    expect(total.auto).toBe(true);
    expect(total.text).toBe(String(analysis.bytes!.length));
    expect(total.range).toEqual({ start: 2, end: 4 });
    expect(analysis.needs).toEqual({ family: 'ipv4', protocol: 1, headerIncluded: true });
    expect(analysis.destination).toBe('127.0.0.1');
    // The ICMP type byte is at offset 20.
    expect(fieldAtByte(analysis, 20)).toEqual({ layerId: analysis.layers[1].layer.id, field: 'type' });
    expect(fieldAtByte(analysis, analysis.bytes!.length - 1)).toEqual({ layerId: analysis.layers[2].layer.id, field: '' });
  });

  it('keeps a checksum set by hand, wrong as it is', () => {
    const analysis = analyzeDraft(templates.find((t) => t.id === 'bad-checksum')!.layers());
    const layers = decode(analysis.bytes!);
    const icmp = layers[1];
    expect(icmp.kind === 'icmp' && icmp.checksum?.status).toBe('wrong');
  });

  it('reports each invalid field and builds nothing', () => {
    const layers = templates[0].layers();
    (layers[0] as DraftHeader).values.ttl = '256';
    const analysis = analyzeDraft([...layers, newPayload('zz', 'hex')]);
    expect(analysis.bytes).toBeNull();
    expect(analysis.spec).toBeNull();
    expect(analysis.errors).toHaveLength(2);
    expect(analysis.layers[0].fields.find((row) => row.field.name === 'ttl')!.error).toMatch(/Out of range/);
    expect(analysis.layers[3].error).toMatch(/Invalid hex digit/);
  });

  it('shows the fields that apply to the typed ICMP type', () => {
    const unreachable = analyzeDraft([newHeader('icmp', { type: 3, code: 3 })]);
    expect(unreachable.layers[0].fields.map((row) => row.field.name)).toEqual(['type', 'code', 'checksum', 'unused', 'nextHopMtu']);
  });
});

describe('draftFromBytes', () => {
  it('round-trips a template and marks only disagreeing automatic fields as set by hand', () => {
    const original = analyzeDraft(templates[0].layers()).bytes!;
    const again = analyzeDraft(draftFromBytes(original));
    expect(formatHex(again.bytes!)).toBe(formatHex(original));
    expect(again.layers[0].fields.every((row) => !row.automatic || row.auto)).toBe(true);
    // Corrupt the IPv4 checksum byte: it must survive as a hand-set value.
    const edited = withByte(original, 10, original[10] ^ 0xff);
    const draft = draftFromBytes(edited);
    expect((draft[0] as DraftHeader).manual.checksum).toBe(true);
    expect(formatHex(analyzeDraft(draft).bytes!)).toBe(formatHex(edited));
  });
});
