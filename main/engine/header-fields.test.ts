// kernelHeaderFields: what a datagram socket can carry of a layer stack's IP header
// (hop limit and traffic class, as ancillary data), and a refusal naming every other
// field that differs from what the kernel writes.
import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../common/validate';
import { build } from '../../packets/build';
import type { LayerSpec } from '../../packets/layer';
import { kernelHeaderFields } from './header-fields';

const v6 = (fields: Record<string, number | string> = {}): Uint8Array =>
  build([{ kind: 'ipv6', fields: { src: '::1', dst: '::1', ...fields } }, { kind: 'icmpv6', fields: { type: 128 } }, { kind: 'payload', data: '6869' }] as LayerSpec[]);
const v4 = (fields: Record<string, number | string> = {}, extra: LayerSpec[] = []): Uint8Array =>
  build([{ kind: 'ipv4', fields: { src: '127.0.0.1', dst: '127.0.0.1', ...fields } }, ...extra, { kind: 'icmp', fields: { type: 8 } }] as LayerSpec[]);
const V6 = { protocol: 58, destination: '::1', source: '::1' };
const V4 = { protocol: 1, destination: '127.0.0.1', source: '127.0.0.1' };

function refusal(run: () => unknown): WorkbenchError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkbenchError);
    return error as WorkbenchError;
  }
  throw new Error('expected a refusal');
}

describe('IPv6', () => {
  it('hop limit and traffic class become ancillary data', () => {
    expect(kernelHeaderFields(v6({ hopLimit: 7, trafficClass: 0x20 }), V6)).toEqual({ hopLimit: 7, trafficClass: 0x20 });
    expect(kernelHeaderFields(v6(), V6)).toEqual({ hopLimit: 64, trafficClass: 0 });
  });

  it('an unset source (::) and the source the kernel picks are fine; "::1" written as "0::1" too', () => {
    expect(kernelHeaderFields(v6({ src: '::' }), V6).hopLimit).toBe(64);
    expect(kernelHeaderFields(v6({ src: '0::1' }), V6).hopLimit).toBe(64);
  });

  it.each([
    [{ flowLabel: 0x12345 }, 'packet.layers.0.flowLabel', /flow label/],
    [{ src: 'fd42::9' }, 'packet.layers.0.src', /kernel picks the source \(::1/],
    [{ dst: 'fd42::9' }, 'packet.layers.0.dst', /send target ::1; got fd42::9/],
    [{ nextHeader: 17 }, 'packet.layers.0.nextHeader', /always 58.*got 17/],
    [{ payloadLength: 99 }, 'packet.layers.0.payloadLength', /real length 10; got 99/],
  ])('%o is refused, naming the field', (fields, prefix, why) => {
    const error = refusal(() => kernelHeaderFields(v6(fields), V6));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(prefix)).toBe(true);
    expect(error.message).toMatch(why);
  });
});

describe('IPv4', () => {
  it('TTL and TOS (DSCP and ECN) become ancillary data; DF is the kernel’s to decide', () => {
    expect(kernelHeaderFields(v4({ ttl: 9, dscp: 8, ecn: 1 }), V4)).toEqual({ hopLimit: 9, trafficClass: (8 << 2) | 1 });
    expect(kernelHeaderFields(v4({ flags: 2 }), V4)).toEqual({ hopLimit: 64, trafficClass: 0 });
  });

  it.each([
    [{ identification: 0x1234 }, 'packet.layers.0.identification'],
    [{ flags: 1 }, 'packet.layers.0.flags'],
    [{ fragmentOffset: 3 }, 'packet.layers.0.fragmentOffset'],
    [{ ttl: 0 }, 'packet.layers.0.ttl'],
    [{ src: '127.0.0.2' }, 'packet.layers.0.src'],
    [{ protocol: 17 }, 'packet.layers.0.protocol'],
    [{ totalLength: 100 }, 'packet.layers.0.totalLength'],
  ])('%o is refused, naming the field', (fields, prefix) => {
    expect(refusal(() => kernelHeaderFields(v4(fields), V4)).message.startsWith(prefix)).toBe(true);
  });

  it('a header length other than 20 bytes (options) is refused', () => {
    const packet = v4();
    const longer = new Uint8Array(packet.length + 4);
    longer.set(packet.subarray(0, 20));
    longer.set(packet.subarray(20), 24);
    longer[0] = 0x46;
    longer[3] = longer.length;
    expect(refusal(() => kernelHeaderFields(longer, V4)).message).toMatch(/^packet\.layers\.0\.options: .*IPv4 options/);
  });
});
