// getOption / setOption on real sockets, read back through getsockopt.
import { afterEach, describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import { SocketJar, ipv4Socket, ipv6Socket, parseIcmp, nextMessage, echoRequest, uniqueId, pingUntilReply } from './helpers';

const jar = new SocketJar();
afterEach(() => jar.closeAll());

const { SOL_SOCKET, IPPROTO_IP, IPPROTO_IPV6 } = raw.SocketLevel;
const O = raw.SocketOption;

function readInt(socket: raw.Socket, level: number, option: number): number {
  const buffer = Buffer.alloc(4);
  const written = socket.getOption(level, option, buffer, buffer.length);
  expect(written).toBe(4);
  return buffer.readInt32LE(0);
}

describe('getOption / setOption', () => {
  it('IP_TTL: three-argument form, read back', () => {
    const socket = jar.add(ipv4Socket());
    expect(readInt(socket, IPPROTO_IP, O.IP_TTL)).toBe(64); // Linux default
    expect(socket.setOption(IPPROTO_IP, O.IP_TTL, 1)).toBe(socket);
    expect(readInt(socket, IPPROTO_IP, O.IP_TTL)).toBe(1);
    socket.setOption(IPPROTO_IP, O.IP_TTL, 255);
    expect(readInt(socket, IPPROTO_IP, O.IP_TTL)).toBe(255);
  });

  it("IP_TTL: four-argument Buffer form (the README's little-endian bytes)", () => {
    const socket = jar.add(ipv4Socket());
    const value = Buffer.from([0x01, 0x00, 0x00, 0x00]);
    socket.setOption(IPPROTO_IP, O.IP_TTL, value, value.length);
    expect(readInt(socket, IPPROTO_IP, O.IP_TTL)).toBe(1);
    const buffer = Buffer.alloc(4);
    expect(socket.getOption(IPPROTO_IP, O.IP_TTL, buffer, buffer.length)).toBe(4);
    expect(buffer.toString('hex')).toBe('01000000');
  });

  it('getOption returns the bytes written, which can be fewer than the space given', () => {
    const socket = jar.add(ipv4Socket());
    const big = Buffer.alloc(16, 0xaa);
    expect(socket.getOption(IPPROTO_IP, O.IP_TTL, big, big.length)).toBe(4);
    expect(big.subarray(4)).toEqual(Buffer.alloc(12, 0xaa)); // untouched past what was written
    // IP_OPTIONS with none set writes nothing.
    expect(socket.getOption(IPPROTO_IP, O.IP_OPTIONS, Buffer.alloc(40), 40)).toBe(0);
    // A length smaller than the buffer bounds what the kernel may write.
    const small = Buffer.alloc(8, 0xbb);
    expect(socket.getOption(SOL_SOCKET, O.SO_RCVBUF, small, 4)).toBe(4);
    expect(small.subarray(4)).toEqual(Buffer.alloc(4, 0xbb));
  });

  it('IP_TOS set and read back; the TOS shows in sent packets', async () => {
    const socket = jar.add(ipv4Socket());
    const watcher = jar.add(ipv4Socket({ icmpTypes: [8] }));
    socket.setOption(IPPROTO_IP, O.IP_TOS, 0x10);
    expect(readInt(socket, IPPROTO_IP, O.IP_TOS)).toBe(0x10);
    const id = uniqueId();
    const seen = nextMessage(watcher, (b) => parseIcmp(b)?.id === id);
    await socket.send(echoRequest({ id, seq: 1 }), 0, 24, '127.0.0.1');
    expect((await seen).buffer[1]).toBe(0x10);
  });

  it('SO_RCVBUF and SO_SNDBUF: Linux stores double the value asked for', () => {
    const socket = jar.add(ipv4Socket());
    socket.setOption(SOL_SOCKET, O.SO_RCVBUF, 65536);
    expect(readInt(socket, SOL_SOCKET, O.SO_RCVBUF)).toBe(131072);
    socket.setOption(SOL_SOCKET, O.SO_SNDBUF, 32768);
    expect(readInt(socket, SOL_SOCKET, O.SO_SNDBUF)).toBe(65536);
  });

  it('SO_RCVTIMEO / SO_SNDTIMEO read back as a struct timeval (16 bytes here)', () => {
    const socket = jar.add(ipv4Socket());
    const timeval = Buffer.alloc(16);
    timeval.writeBigInt64LE(2n, 0);
    timeval.writeBigInt64LE(500000n, 8);
    socket.setOption(SOL_SOCKET, O.SO_RCVTIMEO, timeval, 16);
    const out = Buffer.alloc(16);
    expect(socket.getOption(SOL_SOCKET, O.SO_RCVTIMEO, out, 16)).toBe(16);
    expect(out.readBigInt64LE(0)).toBe(2n);
    expect(out.readBigInt64LE(8)).toBe(500000n);
  });

  it('IPV6_UNICAST_HOPS and IPV6_TTL (its synonym) on an IPv6 socket; -1 restores the default', () => {
    const socket = jar.add(ipv6Socket());
    socket.setOption(IPPROTO_IPV6, O.IPV6_UNICAST_HOPS, 3);
    expect(readInt(socket, IPPROTO_IPV6, O.IPV6_UNICAST_HOPS)).toBe(3);
    socket.setOption(IPPROTO_IPV6, O.IPV6_TTL, 9);
    expect(readInt(socket, IPPROTO_IPV6, O.IPV6_UNICAST_HOPS)).toBe(9);
    expect(readInt(socket, IPPROTO_IPV6, O.IPV6_TTL)).toBe(9);
    socket.setOption(IPPROTO_IPV6, O.IPV6_UNICAST_HOPS, -1);
    expect(readInt(socket, IPPROTO_IPV6, O.IPV6_UNICAST_HOPS)).toBe(64);
  });

  it('IPV6_V6ONLY reads back; Linux refuses to set it on a raw socket (EINVAL), as a typed error', () => {
    const socket = jar.add(ipv6Socket());
    expect(readInt(socket, IPPROTO_IPV6, O.IPV6_V6ONLY)).toBe(0);
    expect(() => socket.setOption(IPPROTO_IPV6, O.IPV6_V6ONLY, 1)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: 22 }));
  });

  it("SO_BINDTODEVICE 'lo': set, read back, and echo to 127.0.0.1 still works", async () => {
    const socket = jar.add(ipv4Socket());
    const name = Buffer.from('lo\0');
    socket.setOption(SOL_SOCKET, O.SO_BINDTODEVICE!, name, name.length);
    const out = Buffer.alloc(16);
    const written = socket.getOption(SOL_SOCKET, O.SO_BINDTODEVICE!, out, out.length);
    expect(out.subarray(0, written).toString().replace(/\0+$/, '')).toBe('lo');
    // Resent only after a drop the kernel reports (loopback is shared with floods); logs its requests.
    const { address } = await pingUntilReply(socket, { id: uniqueId() });
    expect(address).toBe('127.0.0.1');
  });

  it('SO_BINDTODEVICE to an interface that does not exist: ENODEV', () => {
    const socket = jar.add(ipv4Socket());
    const name = Buffer.from('nosuchif0\0');
    expect(() => socket.setOption(SOL_SOCKET, O.SO_BINDTODEVICE!, name, name.length)).toThrow(
      expect.objectContaining({ code: 'ENODEV', errno: 19, syscall: 'setsockopt' }),
    );
  });

  it('IP_HDRINCL set and read back', () => {
    const socket = jar.add(ipv4Socket());
    expect(readInt(socket, IPPROTO_IP, O.IP_HDRINCL)).toBe(0);
    socket.setOption(IPPROTO_IP, O.IP_HDRINCL, 1);
    expect(readInt(socket, IPPROTO_IP, O.IP_HDRINCL)).toBe(1);
  });

  it('errors are thrown as Error with code, errno and syscall', () => {
    const socket = jar.add(ipv4Socket());
    const check = (fn: () => unknown, code: string, errno: number, syscall: string): void => {
      let caught: unknown;
      try {
        fn();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(raw.RawSocketError);
      expect(caught).toBeInstanceOf(Error);
      expect(caught).toMatchObject({ code, errno, syscall });
      expect((caught as Error).message).toMatch(new RegExp(syscall));
    };
    check(() => socket.getOption(IPPROTO_IP, 9999, Buffer.alloc(4), 4), 'ENOPROTOOPT', 92, 'getsockopt');
    check(() => socket.setOption(IPPROTO_IP, 9999, 1), 'ENOPROTOOPT', 92, 'setsockopt');
    check(() => socket.getOption(12345, O.IP_TTL, Buffer.alloc(4), 4), 'EOPNOTSUPP', 95, 'getsockopt');
    // IP_TTL outside 1-255 (the kernel's own range check).
    check(() => socket.setOption(IPPROTO_IP, O.IP_TTL, 256), 'EINVAL', 22, 'setsockopt');
    check(() => socket.setOption(IPPROTO_IP, O.IP_TTL, Buffer.alloc(1), 0), 'EINVAL', 22, 'setsockopt');
    // An IPv6 option on an IPv4 socket.
    check(() => socket.setOption(IPPROTO_IPV6, O.IPV6_UNICAST_HOPS, 3), 'ENOPROTOOPT', 92, 'setsockopt');
  });
});
