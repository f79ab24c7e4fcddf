// createChecksum / writeChecksum and the byte-order stubs, against known vectors
// and a naive reference implementation (fast-check random inputs).
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binding } from '../lib/binding';
import * as raw from '../lib/index';
import { readmeEchoRequest } from './helpers';

/** RFC 1071, the obvious way: 16-bit big-endian words over one buffer, end-around carry. */
function reference(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

describe('createChecksum', () => {
  it("the README's ping buffer: checksum 0x4352, and 0 over the finished packet", () => {
    const packet = readmeEchoRequest();
    expect(raw.createChecksum(packet)).toBe(0); // already holds its checksum
    packet.writeUInt16BE(0, 2);
    expect(raw.createChecksum(packet)).toBe(0x4352);
  });

  it('the RFC 1071 example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, checksum 220d', () => {
    const bytes = Buffer.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(raw.createChecksum(bytes)).toBe(0x220d);
    expect(reference(bytes)).toBe(0x220d);
  });

  it('an IPv4 header vector (the classic 4500 0073 ... example): b861', () => {
    const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
    expect(raw.createChecksum(header)).toBe(0xb861);
  });

  it('empty input: no arguments, an empty buffer, a zero-length range all give 0xffff', () => {
    expect(raw.createChecksum()).toBe(0xffff);
    expect(raw.createChecksum(Buffer.alloc(0))).toBe(0xffff);
    expect(raw.createChecksum({ buffer: Buffer.from([1, 2, 3]), offset: 1, length: 0 })).toBe(0xffff);
  });

  it('all-zero and all-ones data', () => {
    expect(raw.createChecksum(Buffer.alloc(1000))).toBe(0xffff);
    expect(raw.createChecksum(Buffer.alloc(1000, 0xff))).toBe(0);
  });

  it('an odd-length buffer pads with a zero byte', () => {
    expect(raw.createChecksum(Buffer.from([0x12]))).toBe(~0x1200 & 0xffff);
    expect(raw.createChecksum(Buffer.from([0x12, 0x34, 0x56]))).toBe(~(0x1234 + 0x5600) & 0xffff);
  });

  it('{buffer, offset, length} objects use only that range', () => {
    const packet = readmeEchoRequest();
    packet.writeUInt16BE(0, 2);
    const framed = Buffer.concat([Buffer.alloc(7, 0xee), packet, Buffer.alloc(5, 0xdd)]);
    expect(raw.createChecksum({ buffer: framed, offset: 7, length: packet.length })).toBe(0x4352);
  });

  it('several parts are one buffer, odd-length parts included (known split)', () => {
    const packet = readmeEchoRequest();
    packet.writeUInt16BE(0, 2);
    expect(raw.createChecksum(packet.subarray(0, 3), packet.subarray(3, 10), packet.subarray(10))).toBe(0x4352);
    expect(raw.createChecksum(packet.subarray(0, 1), { buffer: packet, offset: 1, length: 39 })).toBe(0x4352);
  });

  it('a pseudo header plus a UDP packet (the README TCP/UDP use)', () => {
    const pseudo = Buffer.from('7f0000017f00000100110010', 'hex'); // 127.0.0.1 -> 127.0.0.1, UDP, length 16
    const udp = Buffer.from('d431003500100000' + '68656c6c6f21210a', 'hex');
    const sum = raw.createChecksum(pseudo, udp);
    expect(sum).toBe(reference(Buffer.concat([pseudo, udp])));
    raw.writeChecksum(udp, 6, sum);
    expect(raw.createChecksum(pseudo, udp)).toBe(0);
  });

  it('random parts (Buffers and ranges, odd and even, small and large) equal the reference over the concatenation', () => {
    const part = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 300 }).map((bytes) => ({ kind: 'buffer' as const, bytes, offset: 0, length: bytes.length })),
      fc
        .tuple(fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.nat(), fc.nat())
        .map(([bytes, a, b]) => {
          const offset = bytes.length === 0 ? 0 : a % (bytes.length + 1);
          const length = (bytes.length - offset === 0 ? 0 : b % (bytes.length - offset + 1));
          return { kind: 'range' as const, bytes, offset, length };
        }),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const args = parts.map((p) =>
          p.kind === 'buffer' ? Buffer.from(p.bytes) : { buffer: Buffer.from(p.bytes), offset: p.offset, length: p.length },
        );
        const joined = Buffer.concat(parts.map((p) => Buffer.from(p.bytes.subarray(p.offset, p.offset + p.length))));
        expect(raw.createChecksum(...args)).toBe(reference(joined));
      }),
      { numRuns: 500 },
    );
  });

  it('large buffers (the native path) agree with the reference, at every alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 128, maxLength: 70_000 }), fc.nat(7), (bytes, shift) => {
        const buffer = Buffer.from(bytes);
        const offset = Math.min(shift, buffer.length);
        const view = buffer.subarray(offset);
        expect(raw.createChecksum({ buffer, offset, length: view.length })).toBe(reference(view));
      }),
      { numRuns: 60 },
    );
  });

  it('every shape, mixed in one process (odd offsets and lengths, 0-9 parts, both sides of the JS/addon threshold), equals the addon and the reference', () => {
    // The addon's own sum (C++ OnesComplementSum over the joined bytes) is a second, independent reference.
    const native = (bytes: Uint8Array): number => ~binding.checksumSum(bytes, 0, bytes.length) & 0xffff;
    const part = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ shape: 'buffer' as const, bytes, offset: 0, length: bytes.length })),
      fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ shape: 'uint8array' as const, bytes, offset: 0, length: bytes.length })),
      fc.tuple(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(), fc.constantFrom('range', 'range-without-length', 'range-without-offset')).map(
        ([bytes, a, b, shape]) => {
          const offset = shape === 'range-without-offset' ? 0 : a % (bytes.length + 1);
          const length = shape === 'range-without-length' ? bytes.length - offset : b % (bytes.length - offset + 1);
          return { shape, bytes, offset, length };
        },
      ),
    );
    const argument = (p: { shape: string; bytes: Uint8Array; offset: number; length: number }): raw.ChecksumPart => {
      if (p.shape === 'buffer') return Buffer.from(p.bytes);
      if (p.shape === 'uint8array') return new Uint8Array(p.bytes);
      const buffer = Buffer.from(p.bytes);
      if (p.shape === 'range-without-length') return { buffer, offset: p.offset } as raw.ChecksumRange;
      if (p.shape === 'range-without-offset') return { buffer, length: p.length } as raw.ChecksumRange;
      return { buffer, offset: p.offset, length: p.length };
    };
    fc.assert(
      fc.property(fc.array(part, { maxLength: 9 }), (parts) => {
        const joined = Buffer.concat(parts.map((p) => p.bytes.subarray(p.offset, p.offset + p.length)));
        const value = raw.createChecksum(...parts.map(argument));
        expect(value).toBe(reference(joined));
        expect(value).toBe(native(joined));
      }),
      { numRuns: 2000 },
    );
  });

  it('the JS sum and the addon agree at every length around the threshold, at odd and even starts', () => {
    const bytes = Buffer.alloc(300);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + 7) & 0xff;
    for (let offset = 0; offset < 3; offset++) {
      for (let length = 0; length + offset <= 260; length++) {
        const view = bytes.subarray(offset, offset + length);
        expect(raw.createChecksum(view), `offset ${offset} length ${length}`).toBe(reference(view));
        expect(raw.createChecksum({ buffer: bytes, offset, length })).toBe(reference(view));
        expect(raw.createChecksum(Buffer.alloc(0), view)).toBe(reference(view));
      }
    }
  });

  it('a Uint8Array works like a Buffer', () => {
    const packet = new Uint8Array(readmeEchoRequest());
    packet[2] = 0;
    packet[3] = 0;
    expect(raw.createChecksum(packet)).toBe(0x4352);
  });

  it('many parts (more than 65,536) are still summed as one buffer', () => {
    // Each part is ff fe; the running sum passes 2^32 after 65,538 parts.
    const parts = Array.from({ length: 70_000 }, () => Buffer.from([0xff, 0xfe]));
    expect(raw.createChecksum(...parts)).toBe(reference(Buffer.concat(parts)));
  });
});

describe('createChecksum bad input (each argument count takes its own path)', () => {
  const create = raw.createChecksum as (...parts: unknown[]) => number;
  const thrown = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (error) {
      return error as Error;
    }
    throw new Error('did not throw');
  };

  it('a part that is neither bytes nor a range → TypeError naming its position, with 1, 2 and 5 parts', () => {
    const ok = Buffer.alloc(4);
    for (const bad of [undefined, null, 'abc', 7, [1, 2], {}, { buffer: [1, 2] }, new Uint16Array(2), new ArrayBuffer(2), new DataView(new ArrayBuffer(2))]) {
      for (const [args, index] of [
        [[bad], 0],
        [[ok, bad], 1],
        [[bad, ok], 0],
        [[ok, ok, ok, bad, ok], 3],
      ] as Array<[unknown[], number]>) {
        const error = thrown(() => create(...args));
        expect(error, `${String(bad)} at ${index}`).toBeInstanceOf(TypeError);
        expect(error.message).toContain(`arguments[${index}]`);
      }
    }
  });

  it('offsets and lengths: not numbers → TypeError, fractions, negatives, NaN, past the end → RangeError, named', () => {
    const buffer = Buffer.alloc(8);
    const cases: Array<[object, typeof TypeError | typeof RangeError, RegExp]> = [
      [{ buffer, offset: '1', length: 1 }, TypeError, /arguments\[2\]\.offset/],
      [{ buffer, offset: 1, length: 2n }, TypeError, /arguments\[2\]\.length/],
      [{ buffer, offset: 1.5, length: 1 }, RangeError, /arguments\[2\]\.offset/],
      [{ buffer, offset: -1, length: 1 }, RangeError, /arguments\[2\]\.offset/],
      [{ buffer, offset: NaN, length: 1 }, RangeError, /arguments\[2\]\.offset/],
      [{ buffer, offset: 0, length: Infinity }, RangeError, /arguments\[2\]\.length/],
      [{ buffer, offset: 9 }, RangeError, /arguments\[2\]\.offset/],
      [{ buffer, length: 9 }, RangeError, /arguments\[2\]\.length/],
      [{ buffer, offset: 5, length: 4 }, RangeError, /arguments\[2\]: offset 5 plus length 4 is past the end of the 8-byte buffer/],
    ];
    for (const [range, type, message] of cases) {
      const error = thrown(() => create(buffer, buffer, range));
      expect(error, JSON.stringify(range, (_, v) => (typeof v === 'bigint' ? String(v) : v))).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
      // The same range alone is refused the same way, under its own position.
      expect(thrown(() => create(range))).toBeInstanceOf(type);
    }
  });
});

describe('writeChecksum', () => {
  it('writes big-endian at offset and offset + 1 and returns the same buffer', () => {
    const buffer = Buffer.alloc(6, 0xaa);
    const returned = raw.writeChecksum(buffer, 2, 0x4352);
    expect(returned).toBe(buffer);
    expect(buffer.toString('hex')).toBe('aaaa4352aaaa');
    raw.writeChecksum(buffer, 4, 0x00ff);
    expect(buffer.toString('hex')).toBe('aaaa435200ff');
    raw.writeChecksum(buffer, 0, 0);
    expect(buffer.toString('hex')).toBe('0000435200ff');
  });

  it("the README idiom: writeChecksum(buffer, 2, createChecksum(buffer))", () => {
    const packet = readmeEchoRequest();
    packet.writeUInt16BE(0, 2);
    raw.writeChecksum(packet, 2, raw.createChecksum(packet));
    expect(packet).toEqual(readmeEchoRequest());
  });
});

describe('byte order (little-endian host)', () => {
  it('htons / ntohs', () => {
    expect(raw.htons(0x1234)).toBe(0x3412);
    expect(raw.ntohs(0x3412)).toBe(0x1234);
    expect(raw.htons(0)).toBe(0);
    expect(raw.htons(0xffff)).toBe(0xffff);
    expect(raw.htons(1)).toBe(0x0100);
    expect(raw.ntohs(raw.htons(0xabcd))).toBe(0xabcd);
  });

  it('htonl / ntohl (unsigned results)', () => {
    expect(raw.htonl(1)).toBe(0x01000000);
    expect(raw.htonl(0x12345678)).toBe(0x78563412);
    expect(raw.ntohl(0x78563412)).toBe(0x12345678);
    expect(raw.htonl(0xff)).toBe(0xff000000); // not negative
    expect(raw.htonl(0xffffffff)).toBe(0xffffffff);
    expect(raw.htonl(0)).toBe(0);
  });

  it('matches what Buffer reads and writes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffff }), (l, s) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(l);
        expect(raw.htonl(l)).toBe(b.readUInt32LE(0));
        expect(raw.ntohl(b.readUInt32LE(0))).toBe(l);
        b.writeUInt16BE(s);
        expect(raw.htons(s)).toBe(b.readUInt16LE(0));
        expect(raw.ntohs(b.readUInt16LE(0))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });
});
