// The bad-input table: every public function with wrong types, bad numbers,
// non-Buffer data, closed sockets and bad addresses must throw (or report) a
// TypeError / RangeError / typed Error naming what was wrong, and never crash the
// process. The nastiest calls also go straight to the internal binding.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import { FIXTURES, NATIVE_DIR, SocketJar, echoRequest, ipv4Socket, ipv6Socket, runNode, sendCb, uniqueId } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

type Fn = (...args: unknown[]) => unknown;
const BAD_NUMBERS: Array<[string, unknown]> = [
  ['negative', -1],
  ['fractional', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['huge', 2 ** 53],
];

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('createSocket options', () => {
  const cases: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ['options a string', 'icmp', TypeError, /options/],
    ['addressFamily a string', { addressFamily: 'IPv4', protocol: 1 }, TypeError, /addressFamily/],
    ['addressFamily 3', { addressFamily: 3, protocol: 1 }, RangeError, /addressFamily/],
    ['addressFamily 0', { addressFamily: 0, protocol: 1 }, RangeError, /addressFamily/],
    ['protocol 256', { protocol: 256 }, RangeError, /protocol/],
    ['protocol -1', { protocol: -1 }, RangeError, /protocol/],
    ['protocol 1.5', { protocol: 1.5 }, RangeError, /protocol/],
    ['protocol NaN', { protocol: NaN }, RangeError, /protocol/],
    ['protocol "1"', { protocol: '1' }, TypeError, /protocol/],
    ['bufferSize 0', { protocol: 1, bufferSize: 0 }, RangeError, /bufferSize/],
    ['bufferSize huge', { protocol: 1, bufferSize: 2 ** 40 }, RangeError, /bufferSize/],
    ['bufferSize "4096"', { protocol: 1, bufferSize: '4096' }, TypeError, /bufferSize/],
    ['generateChecksums "yes"', { protocol: 1, generateChecksums: 'yes' }, TypeError, /generateChecksums/],
    ['checksumOffset -2', { protocol: 1, generateChecksums: true, checksumOffset: -2 }, RangeError, /checksumOffset/],
    ['checksumOffset 1e9', { protocol: 1, generateChecksums: true, checksumOffset: 1e9 }, RangeError, /checksumOffset/],
    ['timestamps 1', { protocol: 1, timestamps: 1 }, TypeError, /timestamps/],
    ['mode "fast"', { protocol: 1, mode: 'fast' }, RangeError, /mode/],
    ['mode "toString"', { protocol: 1, mode: 'toString' }, RangeError, /mode/],
    ['datagram mode for TCP', { protocol: 6, mode: 'datagram' }, RangeError, /datagram mode exists only for ICMP.*ICMPv6.*UDP/],
    ['receiveErrors 1', { protocol: 1, receiveErrors: 1 }, TypeError, /receiveErrors/],
    ['receiveErrors "yes"', { protocol: 17, mode: 'datagram', receiveErrors: 'yes' }, TypeError, /receiveErrors/],
    ['descriptor "3"', { descriptor: '3' }, TypeError, /descriptor/],
    ['descriptor -1', { descriptor: -1 }, RangeError, /descriptor/],
    ['descriptor 1.5', { descriptor: 1.5 }, RangeError, /descriptor/],
    ['descriptor NaN', { descriptor: NaN }, RangeError, /descriptor/],
    ['descriptor 2^31', { descriptor: 2 ** 31 }, RangeError, /descriptor/],
    ['icmpTypes a string', { protocol: 1, icmpTypes: '0' }, TypeError, /types/],
    ['icmpTypes [32] on IPv4 raw', { protocol: 1, icmpTypes: [32] }, RangeError, /32/],
    ['icmpTypes ["0"]', { protocol: 1, icmpTypes: ['0'] }, TypeError, /ICMP types/],
    ['icmpTypes on UDP', { protocol: 17, icmpTypes: [0] }, RangeError, /ICMP/],
  ];
  it('options null or undefined mean the defaults (Protocol.None: Linux refuses it with EPROTONOSUPPORT)', () => {
    for (const options of [null, undefined]) {
      expect(thrown(() => jar.add(raw.createSocket(options as unknown as raw.SocketOptions)))).toMatchObject({ code: 'EPROTONOSUPPORT' });
    }
    // ... and says what to choose instead.
    expect(thrown(() => jar.add(raw.createSocket()))).toMatchObject({ message: expect.stringMatching(/Protocol\.None.*Protocol\.ICMP.*IPPROTO_RAW/) });
  });

  for (const [name, options, type, message] of cases) {
    it(`${name} → ${type.name}`, () => {
      const error = thrown(() => jar.add(raw.createSocket(options as raw.SocketOptions)));
      expect(error).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
    });
  }
});

describe('send', () => {
  const buffer = echoRequest({ id: 1, seq: 1 });
  it('non-Buffer data → TypeError, synchronously', () => {
    const socket = jar.add(ipv4Socket());
    const send = socket.send.bind(socket) as Fn;
    for (const data of [undefined, null, 'abc', 42, [8, 0], {}, new ArrayBuffer(8), new Uint16Array(4), new DataView(new ArrayBuffer(8))]) {
      const error = thrown(() => send(data, 0, 4, '127.0.0.1', () => {}));
      expect(error, String(data)).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/buffer/);
    }
  });

  for (const [name, value] of BAD_NUMBERS) {
    it(`offset ${name} → RangeError to afterCallback`, async () => {
      const socket = jar.add(ipv4Socket());
      const [error] = await sendCb(socket, buffer, '127.0.0.1', value as number, 8);
      expect(error).toBeInstanceOf(RangeError);
      expect(error?.message).toMatch(/offset/);
    });
    it(`length ${name} → RangeError to afterCallback`, async () => {
      const socket = jar.add(ipv4Socket());
      const [error] = await sendCb(socket, buffer, '127.0.0.1', 0, value as number);
      expect(error).toBeInstanceOf(RangeError);
      expect(error?.message).toMatch(/length/);
    });
  }

  for (const address of ['256.1.1.1', '::g', '', '1.2.3.4.5', '127.1', '0x7f.0.0.1', '\u0000', 'x'.repeat(10_000)]) {
    it(`IPv4 address ${JSON.stringify(address.slice(0, 20))} → Error naming the address`, async () => {
      const socket = jar.add(ipv4Socket());
      const [error] = await sendCb(socket, buffer, address);
      expect(error).toBeInstanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).toBe('ERR_INVALID_IP_ADDRESS');
      expect(error?.message).toMatch(/Invalid IPv4 address/);
    });
  }

  it('address undefined / number / object → TypeError naming the address', () => {
    const socket = jar.add(ipv4Socket());
    const send = socket.send.bind(socket) as Fn;
    for (const address of [undefined, null, 2130706433, { toString: () => '127.0.0.1' }, { address: 2130706433 }, { address: '127.0.0.1', port: '53' }, { address: '127.0.0.1', port: null }]) {
      const error = thrown(() => send(buffer, 0, 24, address, () => {}));
      expect(error, JSON.stringify(address)).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/address/);
    }
  });

  it('a destination port on a socket other than UDP datagram → RangeError ERR_SOCKET_BAD_PORT to afterCallback', async () => {
    const socket = jar.add(ipv4Socket());
    for (const port of [53, -1, 1.5, NaN]) {
      const [error] = await sendCb(socket, buffer, { address: '127.0.0.1', port } as unknown as string);
      expect(error, String(port)).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
    }
    // undefined and 0 mean "no port".
    for (const port of [undefined, 0]) {
      const [error] = await sendCb(socket, echoRequest({ id: uniqueId(), seq: 1 }), { address: '127.0.0.1', port } as unknown as string);
      expect(error).toBeNull();
    }
  });

  it('a UDP datagram socket without a valid port → RangeError ERR_SOCKET_BAD_PORT to afterCallback', async () => {
    const socket = jar.add(raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'datagram' }));
    for (const destination of ['127.0.0.1', { address: '127.0.0.1' }, { address: '127.0.0.1', port: 0 }, { address: '127.0.0.1', port: 65536 }, { address: '127.0.0.1', port: -5 }, { address: '127.0.0.1', port: 2.5 }, { address: '127.0.0.1', port: Infinity }]) {
      const [error] = await sendCb(socket, Buffer.from('x'), destination as unknown as string);
      expect(error, JSON.stringify(destination)).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
    }
    const [error] = await sendCb(socket, Buffer.from('x'), { address: '999.0.0.1', port: 9 } as unknown as string);
    expect(error).toMatchObject({ code: 'ERR_INVALID_IP_ADDRESS' });
  });

  it('IPv6 socket with IPv4, garbage and scope-less link-local addresses', async () => {
    const socket = jar.add(ipv6Socket());
    for (const address of ['127.0.0.1', '::g', '', ':::', 'fe80::1%nosuchif0']) {
      const [error] = await sendCb(socket, echoRequest({ id: 1, seq: 1, family: 6 }), address);
      expect(error, address).toBeInstanceOf(Error);
    }
  });

  it('a send whose buffer is detached while queued fails that request only, and does not crash', async () => {
    const socket = jar.add(ipv4Socket());
    const storage = new ArrayBuffer(24);
    const bytes = new Uint8Array(storage);
    bytes.set(echoRequest({ id: uniqueId(), seq: 1 }));
    const detached = sendCb(socket, bytes, '127.0.0.1');
    structuredClone(storage, { transfer: [storage] }); // detaches bytes before the flush
    const [error] = await detached;
    expect(error).toBeInstanceOf(Error);
    await expect(socket.send(echoRequest({ id: uniqueId(), seq: 2 }), 0, 24, '127.0.0.1')).resolves.toBe(24);
  });

  it('requests queued beside a detached buffer: each afterCallback tells the truth about its own request', async () => {
    // 70 good requests (more than one 64-message sendmmsg chunk) and a detached one last.
    const socket = jar.add(ipv4Socket());
    const id = uniqueId();
    const results: Array<Error | null> = [];
    for (let seq = 0; seq < 70; seq++) socket.send(echoRequest({ id, seq }), 0, 24, '127.0.0.1', (e) => results.push(e));
    const storage = new ArrayBuffer(24);
    socket.send(new Uint8Array(storage), 0, 24, '127.0.0.1', (e) => results.push(e));
    structuredClone(storage, { transfer: [storage] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(results.length).toBe(71);
    expect(results[70]).toBeInstanceOf(Error);
    // The 70 good ones were valid; none of them may be reported as failed.
    const falselyFailed = results.slice(0, 70).filter((e) => e !== null);
    expect(falselyFailed.length, `valid requests reported failed, e.g. "${falselyFailed[0]?.message}"`).toBe(0);
  });
});

describe('getOption / setOption', () => {
  const IP = raw.SocketLevel.IPPROTO_IP;
  const TTL = raw.SocketOption.IP_TTL;
  it('wrong types → TypeError naming the argument', () => {
    const socket = jar.add(ipv4Socket());
    const get = socket.getOption.bind(socket) as Fn;
    const set = socket.setOption.bind(socket) as Fn;
    expect(thrown(() => get('0', TTL, Buffer.alloc(4), 4)).message).toMatch(/level/);
    expect(thrown(() => get(IP, undefined, Buffer.alloc(4), 4)).message).toMatch(/option/);
    expect(thrown(() => get(IP, TTL, [0, 0, 0, 0], 4)).message).toMatch(/buffer/);
    expect(thrown(() => get(IP, TTL, Buffer.alloc(4), '4')).message).toMatch(/length/);
    expect(thrown(() => get(IP, TTL))).toBeInstanceOf(TypeError);
    expect(thrown(() => set(IP, TTL, '5'))).toBeInstanceOf(TypeError);
    expect(thrown(() => set(IP, TTL, Buffer.alloc(4)))).toBeInstanceOf(TypeError);
    expect(thrown(() => set(IP, TTL, 'abcd', 4)).message).toMatch(/buffer/);
    expect(thrown(() => set(IP, TTL, Buffer.alloc(4), null)).message).toMatch(/length/);
  });

  for (const [name, value] of BAD_NUMBERS.filter(([n]) => n !== 'negative')) {
    it(`${name} numbers → RangeError`, () => {
      const socket = jar.add(ipv4Socket());
      expect(thrown(() => socket.getOption(value as number, TTL, Buffer.alloc(4), 4))).toBeInstanceOf(RangeError);
      expect(thrown(() => socket.getOption(IP, value as number, Buffer.alloc(4), 4))).toBeInstanceOf(RangeError);
      expect(thrown(() => socket.setOption(IP, TTL, value as number))).toBeInstanceOf(RangeError);
    });
  }

  it('negative levels and options are C ints: the kernel refuses them with a typed error', () => {
    const socket = jar.add(ipv4Socket());
    expect(thrown(() => socket.getOption(-1, TTL, Buffer.alloc(4), 4))).toMatchObject({ code: 'EOPNOTSUPP', syscall: 'getsockopt' });
    expect(thrown(() => socket.getOption(IP, -1, Buffer.alloc(4), 4))).toMatchObject({ code: 'ENOPROTOOPT', syscall: 'getsockopt' });
    // -1 is the 3-argument form's two's complement value: IP_TTL -1 means "the default".
    socket.setOption(IP, TTL, -1);
    const out = Buffer.alloc(4);
    socket.getOption(IP, TTL, out, 4);
    expect(out.readInt32LE(0)).toBe(64);
  });

  it('length past the buffer → RangeError (never an out-of-bounds read or write)', () => {
    const socket = jar.add(ipv4Socket());
    expect(thrown(() => socket.getOption(IP, TTL, Buffer.alloc(4), 5))).toBeInstanceOf(RangeError);
    expect(thrown(() => socket.getOption(IP, TTL, Buffer.alloc(4), -1))).toBeInstanceOf(RangeError);
    expect(thrown(() => socket.setOption(IP, TTL, Buffer.alloc(4), 1 << 30))).toBeInstanceOf(RangeError);
    expect(thrown(() => socket.setOption(IP, TTL, 2 ** 32))).toBeInstanceOf(RangeError);
  });

  it('closed socket → ERR_SOCKET_CLOSED', () => {
    const socket = ipv4Socket();
    socket.close();
    expect(thrown(() => socket.getOption(IP, TTL, Buffer.alloc(4), 4))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    expect(thrown(() => socket.setOption(IP, TTL, 1))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
  });
});

describe('generateChecksums, setIcmpFilter, receive', () => {
  it('generateChecksums: wrong types and bad offsets', () => {
    const socket = jar.add(ipv4Socket());
    const generate = socket.generateChecksums.bind(socket) as Fn;
    expect(thrown(() => generate('yes', 2))).toBeInstanceOf(TypeError);
    expect(thrown(() => generate(1))).toBeInstanceOf(TypeError);
    expect(thrown(() => generate(true, '2'))).toBeInstanceOf(TypeError);
    for (const [, value] of BAD_NUMBERS) expect(thrown(() => generate(true, value))).toBeInstanceOf(RangeError);
  });

  it('setIcmpFilter: wrong types and bad types', () => {
    const socket = jar.add(ipv4Socket());
    const filter = socket.setIcmpFilter.bind(socket) as Fn;
    expect(thrown(() => filter('0'))).toBeInstanceOf(TypeError);
    expect(thrown(() => filter(0))).toBeInstanceOf(TypeError);
    expect(thrown(() => filter(['0']))).toBeInstanceOf(TypeError);
    expect(thrown(() => filter([{}]))).toBeInstanceOf(TypeError);
    for (const [, value] of BAD_NUMBERS) expect(thrown(() => filter([value]))).toBeInstanceOf(RangeError);
  });

  it('receive: bad timeouts reject with RangeError', async () => {
    const socket = jar.add(ipv4Socket());
    for (const timeout of [-1, NaN, '100', null]) {
      await expect(socket.receive({ timeout: timeout as number })).rejects.toBeInstanceOf(RangeError);
    }
  });
});

describe('probeConnect', () => {
  const good = { address: '127.0.0.1', port: 9, ttl: 64, timeout: 500 };
  const cases: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ['options undefined', undefined, TypeError, /options/],
    ['options a string', '127.0.0.1:80', TypeError, /options/],
    ['address missing', { ...good, address: undefined }, TypeError, /"address"/],
    ['address a number', { ...good, address: 2130706433 }, TypeError, /"address"/],
    ['address a host name', { ...good, address: 'localhost' }, RangeError, /"address"/],
    ['address with a NUL', { ...good, address: '127.0.0.1\u0000' }, RangeError, /"address"/],
    ['port missing', { ...good, port: undefined }, TypeError, /"port"/],
    ['port "80"', { ...good, port: '80' }, TypeError, /"port"/],
    ['port 0', { ...good, port: 0 }, RangeError, /"port"/],
    ['port 65536', { ...good, port: 65536 }, RangeError, /"port"/],
    ['port 1.5', { ...good, port: 1.5 }, RangeError, /"port"/],
    ['ttl missing', { ...good, ttl: undefined }, TypeError, /"ttl"/],
    ['ttl 0', { ...good, ttl: 0 }, RangeError, /"ttl"/],
    ['ttl 256', { ...good, ttl: 256 }, RangeError, /"ttl"/],
    ['ttl NaN', { ...good, ttl: NaN }, RangeError, /"ttl"/],
    ['timeout missing', { ...good, timeout: undefined }, TypeError, /"timeout"/],
    ['timeout 0', { ...good, timeout: 0 }, RangeError, /"timeout"/],
    ['timeout -1', { ...good, timeout: -1 }, RangeError, /"timeout"/],
    ['timeout 60001', { ...good, timeout: 60_001 }, RangeError, /"timeout"/],
    ['timeout Infinity', { ...good, timeout: Infinity }, RangeError, /"timeout"/],
    ['timeout NaN', { ...good, timeout: NaN }, RangeError, /"timeout"/],
    ['timestamps 1', { ...good, timestamps: 1 }, TypeError, /"timestamps"/],
  ];
  for (const [name, options, type, message] of cases) {
    it(`${name} → rejects with ${type.name}`, async () => {
      const error = await raw.probeConnect(options as raw.ConnectProbeOptions).then(
        () => new Error('resolved'),
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(type);
      expect(error.message).toMatch(message);
    });
  }
});

describe('checksum and byte-order functions', () => {
  it('createChecksum: non-Buffer parts → TypeError naming the argument', () => {
    const create = raw.createChecksum as Fn;
    for (const part of [undefined, null, 'abc', 42, [1, 2], {}, { buffer: 'abc' }, new Uint16Array(2), new ArrayBuffer(4)]) {
      const error = thrown(() => create(Buffer.alloc(2), part));
      expect(error, String(part)).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/arguments\[1\]/);
    }
  });

  it('createChecksum: bad offsets and lengths → RangeError naming them', () => {
    const buffer = Buffer.alloc(8);
    for (const [, value] of BAD_NUMBERS) {
      expect(thrown(() => raw.createChecksum({ buffer, offset: value as number, length: 1 }))).toBeInstanceOf(RangeError);
      expect(thrown(() => raw.createChecksum({ buffer, offset: 0, length: value as number }))).toBeInstanceOf(RangeError);
    }
    expect(thrown(() => raw.createChecksum({ buffer, offset: 4, length: 5 })).message).toMatch(/past the end/);
    expect(thrown(() => raw.createChecksum({ buffer, offset: '1' as unknown as number, length: 1 }))).toBeInstanceOf(TypeError);
  });

  it('writeChecksum: bad buffer, offset and checksum', () => {
    const write = raw.writeChecksum as Fn;
    expect(thrown(() => write('ab', 0, 1))).toBeInstanceOf(TypeError);
    expect(thrown(() => write([0, 0], 0, 1))).toBeInstanceOf(TypeError);
    expect(thrown(() => write(Buffer.alloc(4), 3, 1))).toBeInstanceOf(RangeError);
    expect(thrown(() => write(Buffer.alloc(1), 0, 1))).toBeInstanceOf(RangeError);
    expect(thrown(() => write(Buffer.alloc(4), 0, 0x10000))).toBeInstanceOf(RangeError);
    expect(thrown(() => write(Buffer.alloc(4), 0, -1))).toBeInstanceOf(RangeError);
    expect(thrown(() => write(Buffer.alloc(4), '0', 1))).toBeInstanceOf(TypeError);
    for (const [, value] of BAD_NUMBERS) expect(thrown(() => write(Buffer.alloc(4), value, 1))).toBeInstanceOf(RangeError);
  });

  it('htonl/htons/ntohl/ntohs: wrong types → TypeError, out of range → RangeError', () => {
    for (const [fn, max] of [
      [raw.htonl, 0xffffffff],
      [raw.ntohl, 0xffffffff],
      [raw.htons, 0xffff],
      [raw.ntohs, 0xffff],
    ] as Array<[Fn, number]>) {
      expect(thrown(() => fn('1'))).toBeInstanceOf(TypeError);
      expect(thrown(() => fn())).toBeInstanceOf(TypeError);
      expect(thrown(() => fn(1n))).toBeInstanceOf(TypeError);
      expect(thrown(() => fn(max + 1))).toBeInstanceOf(RangeError);
      for (const [, value] of BAD_NUMBERS) expect(thrown(() => fn(value))).toBeInstanceOf(RangeError);
    }
  });
});

describe('the internal binding with garbage arguments (child process: a crash must not take vitest down)', () => {
  it('every call throws a JS error; the process survives to the end', async () => {
    const result = await runNode([path.join(FIXTURES, 'binding-garbage.js'), NATIVE_DIR], { timeout: 15_000 });
    expect(result.stderr).not.toMatch(/FATAL|Assertion|terminate called|Segmentation/);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(/^done \d+ calls, 0 returned without throwing$/);
    // Refused adoptions closed nothing: the socket and the file offered are still open.
    expect(lines).toContain('after the refused adoptions: send ok');
    expect(lines).toContain('after the refused adoptions: file descriptor open');
  });
});
