import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, isIpv4, isIpv6, parseIpv4, parseIpv6 } from './address';
import { internetChecksum } from './checksum';
import { formatHex, parseHex } from './hex';

describe('hex', () => {
  it('parses spaced, colon and 0x forms', () => {
    expect([...parseHex('08 00 f7 ff')]).toEqual([8, 0, 0xf7, 0xff]);
    expect([...parseHex('0x0800F7FF')]).toEqual([8, 0, 0xf7, 0xff]);
    expect([...parseHex('08:00\n f7-ff')]).toEqual([8, 0, 0xf7, 0xff]);
    expect(parseHex('').length).toBe(0);
  });
  it('names the position of a bad digit', () => {
    expect(() => parseHex('08 0g')).toThrow(/'g' at position 5/);
  });
  it('rejects an odd number of digits, naming the lone digit', () => {
    expect(() => parseHex('08 0')).toThrow(/Odd number of hex digits \(3\).*position 4/);
  });
  it('round-trips any bytes', () => {
    fc.assert(fc.property(fc.uint8Array(), (bytes) => {
      expect(parseHex(formatHex(bytes))).toEqual(bytes);
    }));
  });
});

describe('addresses', () => {
  it('parses and formats IPv4', () => {
    expect([...parseIpv4('198.18.0.1')]).toEqual([198, 18, 0, 1]);
    expect(formatIpv4(Uint8Array.of(10, 0, 0, 255))).toBe('10.0.0.255');
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', 'a.b.c.d', '', '1..2.3']) expect(isIpv4(bad)).toBe(false);
    expect(() => parseIpv4('1.2.3.256')).toThrow(/above 255/);
  });
  it('formats IPv6 per RFC 5952', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['2001:DB8::AbCd', '2001:db8::abcd'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['fd42::1.2.3.4', 'fd42::102:304'],
    ];
    for (const [input, expected] of cases) expect(formatIpv6(parseIpv6(input))).toBe(expected);
  });
  it('rejects bad IPv6', () => {
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', ':1:2:3:4:5:6:7', 'fe80::1%eth0', '1.2.3.4::', '1:2:3:4:5:6:7::8'])
      expect(isIpv6(bad), bad).toBe(false);
    expect(() => parseIpv6('1::2::3')).toThrow(/only once/);
  });
  it('round-trips any 16 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIpv6(bytes);
        expect(parseIpv6(text)).toEqual(bytes);
        expect(text).toBe(text.toLowerCase());
      }),
    );
  });
});

describe('internet checksum', () => {
  it('matches the RFC 1071 example', () => {
    // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d.
    expect(internetChecksum(parseHex('00 01 f2 03 f4 f5 f6 f7'))).toBe(0x220d);
  });
  it('gives the IPv4 header checksum of a known header', () => {
    const header = parseHex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
    expect(internetChecksum(header)).toBe(0xb861);
  });
  it('pads an odd final byte with zero', () => {
    expect(internetChecksum(Uint8Array.of(0x01))).toBe(~0x0100 & 0xffff);
  });
  it('treats chunks as one buffer, odd lengths included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 5 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let previous = 0;
        for (const point of [...points, bytes.length]) {
          chunks.push(bytes.subarray(previous, point));
          previous = point;
        }
        expect(internetChecksum(...chunks)).toBe(internetChecksum(bytes));
      }),
    );
  });
  it('verifies to zero once the checksum is inserted', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 100 }).map((b) => b.subarray(0, b.length & ~1)), (bytes) => {
        const copy = bytes.slice();
        copy[0] = 0;
        copy[1] = 0;
        const checksum = internetChecksum(copy);
        copy[0] = checksum >> 8;
        copy[1] = checksum & 0xff;
        expect(internetChecksum(copy)).toBe(0);
      }),
    );
  });
});
