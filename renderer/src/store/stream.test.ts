// The stream's pure parts: order, the one socket it needs, the send parameters, what a stored
// stream must look like; and the Send form's pacing, answer window and engine error places.
import { describe, expect, it } from 'vitest';
import { resultsCsv, RESULTS_CSV_HEADER } from '../model/results-csv';
import { engineFieldPlace, parseAnswerTimeout, parsePacing } from './send-params';
import { isStreamEntries, moveEntry, streamNeeds, streamPackets, streamTotal, type StreamEntry } from './stream';

const entry = (id: string, change: Partial<StreamEntry> = {}): StreamEntry => ({
  id,
  layers: [{ kind: 'icmp', fields: { type: 8 } }],
  summary: 'Echo request',
  needs: { family: 'ipv4', protocol: 1, headerIncluded: true },
  echoRequest: true,
  count: 1,
  variations: null,
  variationWords: [],
  ...change,
});

describe('stream', () => {
  it('moves a packet up and down, and not past either end', () => {
    const list = [entry('a'), entry('b'), entry('c')];
    expect(moveEntry(list, 'c', -1).map((e) => e.id)).toEqual(['a', 'c', 'b']);
    expect(moveEntry(list, 'a', 1).map((e) => e.id)).toEqual(['b', 'a', 'c']);
    expect(moveEntry(list, 'a', -1).map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(moveEntry(list, 'c', 1).map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(list.map((e) => e.id)).toEqual(['a', 'b', 'c']);
  });

  it('sends each packet with its count, and its variations only when given ([] included)', () => {
    const variation = { layer: 1, field: 'sequence', mode: 'increment' as const };
    const packets = streamPackets([entry('a', { count: 3 }), entry('b', { variations: [] }), entry('c', { variations: [variation], count: 2 })]);
    expect(packets).toEqual([
      { packet: { layers: [{ kind: 'icmp', fields: { type: 8 } }] }, count: 3 },
      { packet: { layers: [{ kind: 'icmp', fields: { type: 8 } }] }, variations: [], count: 1 },
      { packet: { layers: [{ kind: 'icmp', fields: { type: 8 } }] }, variations: [variation], count: 2 },
    ]);
    expect(streamTotal([entry('a', { count: 3 }), entry('b', { count: 4 })])).toBe(7);
  });

  it('goes through one socket: one family, mixed protocols only with their own IPv4 headers', () => {
    const udp = entry('u', { needs: { family: 'ipv4', protocol: 17, headerIncluded: true } });
    expect(streamNeeds([entry('a'), udp])).toEqual({ needs: { family: 'ipv4', protocol: 1, headerIncluded: true } });
    expect(streamNeeds([entry('a'), entry('b', { needs: { family: 'ipv6', protocol: 58, headerIncluded: true } })])).toEqual({ error: expect.stringMatching(/mixes IPv4 and IPv6/) });
    const bareUdp = entry('u', { needs: { family: 'ipv4', protocol: 17, headerIncluded: false } });
    expect(streamNeeds([entry('a'), bareUdp])).toEqual({ error: expect.stringMatching(/own IPv4 header/) });
    expect(streamNeeds([])).toEqual({ error: 'The stream is empty' });
  });

  it('takes back a stored stream of this shape only', () => {
    const good = [entry('a', { variations: [{ layer: 1, field: 'sequence', mode: 'list', values: [1, '2'] }], variationWords: ['x'] })];
    expect(isStreamEntries(JSON.parse(JSON.stringify(good)))).toBe(true);
    expect(isStreamEntries([])).toBe(true);
    expect(isStreamEntries({})).toBe(false);
    expect(isStreamEntries([{ ...good[0], count: 0 }])).toBe(false);
    expect(isStreamEntries([{ ...good[0], layers: [] }])).toBe(false);
    expect(isStreamEntries([{ ...good[0], needs: { family: 'ipx', protocol: 1, headerIncluded: true } }])).toBe(false);
    expect(isStreamEntries([{ ...good[0], variations: [{ layer: 1, field: 'sequence', mode: 'sideways' }] }])).toBe(false);
    expect(isStreamEntries(Array.from({ length: 65 }, (_, i) => entry(String(i))))).toBe(false);
  });
});

describe('send form numbers', () => {
  const form = { pacing: 'interval' as const, interval: '100', rate: '1000', burstSize: '10', burstGap: '50' };
  it('reads interval, rate or bursts, and says what is wrong', () => {
    expect(parsePacing(form)).toEqual({ pacing: { intervalMs: 100 } });
    expect(parsePacing({ ...form, pacing: 'rate' })).toEqual({ pacing: { rate: 1000 } });
    expect(parsePacing({ ...form, pacing: 'burst' })).toEqual({ pacing: { burst: { size: 10, gapMs: 50 } } });
    expect(parsePacing({ ...form, interval: '' })).toEqual({ error: expect.stringMatching(/^Interval/) });
    expect(parsePacing({ ...form, pacing: 'rate', rate: '0' })).toEqual({ error: expect.stringMatching(/^Rate/) });
    expect(parsePacing({ ...form, pacing: 'burst', burstSize: '1.5' })).toEqual({ error: expect.stringMatching(/^Burst size/) });
    expect(parsePacing({ ...form, pacing: 'burst', burstGap: '-1' })).toEqual({ error: expect.stringMatching(/^Burst gap/) });
    expect(parseAnswerTimeout('1500')).toBe(1500);
    expect(parseAnswerTimeout('60001')).toMatch(/^Answer timeout/);
    expect(parseAnswerTimeout('')).toMatch(/^Answer timeout/);
  });

  it('places the engine’s field errors on the variable-field row or stream packet', () => {
    expect(engineFieldPlace('variations.2.field')).toEqual({ row: 2 });
    expect(engineFieldPlace('packets.1.variations.0.values')).toEqual({ entry: 1, variation: 0 });
    expect(engineFieldPlace('packets.3.packet.layers.1')).toEqual({ entry: 3 });
    expect(engineFieldPlace('address')).toBeNull();
    expect(engineFieldPlace(undefined)).toBeNull();
  });
});

describe('results CSV', () => {
  it('has one line per request in send order, quoted where needed', () => {
    const csv = resultsCsv(
      [{ packetIndex: 0, requestId: 10, replyId: 12, rttMs: 0.0421, summary: 'Echo request id=0x1234 seq=1' }],
      [{ packetIndex: 1, requestId: 11, summary: 'UDP 49152 → 9, "hi", 2 bytes' }],
    );
    expect(csv).toBe(
      [RESULTS_CSV_HEADER, 'answered,1,10,12,0.042,Echo request id=0x1234 seq=1', 'unanswered,2,11,,,"UDP 49152 → 9, ""hi"", 2 bytes"', ''].join('\r\n'),
    );
  });
});
