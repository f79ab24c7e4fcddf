// setIntOption (the engine's own TTL, IP_HDRINCL, SO_RCVBUF) encodes and checks
// its value exactly as setSocketOption does: one encoding, encodeValue.
import type { Socket } from '@packet-workbench/raw-socket';
import { describe, expect, it } from 'vitest';
import { findSocketOption } from '../../common/socket-options';
import { encodeValue, setIntOption } from './options';

function recordingSocket() {
  const calls: { level: number; name: number; bytes: Buffer; length: number }[] = [];
  const socket = {
    setOption(level: number, name: number, buffer: Uint8Array, length: number) {
      calls.push({ level, name, bytes: Buffer.from(buffer.subarray(0, length)), length });
      return socket;
    },
  } as unknown as Socket;
  return { socket, calls };
}

describe('setIntOption', () => {
  it('writes the bytes encodeValue gives', () => {
    const { socket, calls } = recordingSocket();
    setIntOption(socket, 'IP_TTL', 200);
    setIntOption(socket, 'IPV6_UNICAST_HOPS', -1);
    setIntOption(socket, 'IP_HDRINCL', 1);
    setIntOption(socket, 'SO_RCVBUF', 4 << 20);
    expect(calls.map((c) => [c.bytes, c.length])).toEqual([
      [encodeValue(findSocketOption('IP_TTL')!, 200), 4],
      [encodeValue(findSocketOption('IPV6_UNICAST_HOPS')!, -1), 4],
      [encodeValue(findSocketOption('IP_HDRINCL')!, 1), 4],
      [encodeValue(findSocketOption('SO_RCVBUF')!, 4 << 20), 4],
    ]);
  });

  it('checks the value against the option bounds, as setSocketOption does', () => {
    const { socket, calls } = recordingSocket();
    expect(() => setIntOption(socket, 'IP_TTL', 300)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => setIntOption(socket, 'IP_HDRINCL', 2)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(calls).toEqual([]);
  });
});
