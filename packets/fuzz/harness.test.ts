// The fuzz properties can fail: a decoder broken in each way they check is caught within
// a few thousand inputs (the real decode, wrapped; the wrapper's fault switched per test).
import { describe, expect, it, vi } from 'vitest';
import type { DecodedLayer } from '../layer';
import { checkDecode, decodeInput } from './packets';
import { Random } from './random';

let fault: ((layers: DecodedLayer[], bytes: Uint8Array) => DecodedLayer[]) | null = null;
vi.mock('../decode', async (importOriginal) => {
  const real = await importOriginal<typeof import('../decode')>();
  return { ...real, decode: (bytes: Uint8Array, options?: object) => (fault ? fault(real.decode(bytes, options), bytes) : real.decode(bytes, options)) };
});

function firstFailure(): string | null {
  for (let i = 0; i < 3000; i++) {
    try {
      checkDecode(decodeInput(new Random(7, i)));
    } catch (error) {
      return (error as Error).message;
    }
  }
  return null;
}

describe('the decode properties catch', () => {
  it('nothing in the real decoder', () => {
    fault = null;
    expect(firstFailure()).toBeNull();
  });
  it('a range past the end of the input', () => {
    fault = (layers, bytes) => layers.map((l, i) => (i === 0 ? { ...l, range: { start: 0, end: bytes.length + 1 } } : l));
    expect(firstFailure()).toMatch(/outside the \d+-unit input/);
  });
  it('a checksum verdict the reference sums disagree with', () => {
    fault = (layers) => layers.map((l) => (l.kind !== 'payload' && l.kind !== 'malformed' && l.checksum?.status === 'correct' ? { ...l, checksum: { status: 'wrong', value: l.checksum.value, expected: 1 } } : l));
    expect(firstFailure()).toMatch(/checksum judged wrong, reference sum gives 0/);
  });
  it('a field value that does not rebuild the bytes', () => {
    fault = (layers) => layers.map((l) => (l.kind === 'ipv4' ? { ...l, values: { ...l.values, ttl: ((l.values.ttl as number) + 1) & 0xff } } : l));
    expect(firstFailure()).toMatch(/build\(decode\(x\)\) differs from x/);
  });
  it('an exception, thrown or caught inside decode', () => {
    fault = (layers, bytes) => {
      if (bytes.length > 50) throw new Error('boom');
      return layers;
    };
    expect(firstFailure()).toMatch(/decode threw: Error: boom/);
    fault = (layers) => [{ kind: 'malformed', range: { start: 0, end: 0 }, reason: 'internal decoder error: x', data: new Uint8Array(0) }, ...layers];
    expect(firstFailure()).toMatch(/decoder caught its own exception/);
  });
});
