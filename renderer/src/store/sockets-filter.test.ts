// The sockets slice's capture filters: the open form's filter goes to openSocket, a refusal
// naming the field 'filter' is shown at the field (not as the form's error), and an open
// socket's filter is edited, applied, removed and refused per socket.
import { describe, expect, it, vi } from 'vitest';
import type { SocketInfo } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import type { WorkbenchClient } from '../api/client';
import { createWorkbenchStore } from './index';

const socket: SocketInfo = {
  socketId: 'socket-1',
  family: 'ipv4',
  protocol: 6,
  mode: 'raw',
  via: 'raw',
  receivePaused: false,
  closed: false,
  counters: { sent: 0, received: 0, sendErrors: 0, bytesSent: 0, bytesReceived: 0 },
  filter: 'tcp port 80',
};
const syntaxError = new WorkbenchError('INVALID_ARGUMENT', 'capture filter: syntax error at position 16 ("and"): tcp port 80 and and host x', 'filter');

function makeStore(overrides: Partial<WorkbenchClient>) {
  const client = { readSocketOptions: vi.fn(async () => []), onEvents: () => () => undefined, ...overrides } as unknown as WorkbenchClient;
  return { client, store: createWorkbenchStore({ client, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() }) };
}

describe('capture filters in the sockets slice', () => {
  it("passes the open form's filter, and shows a refusal of the field at the field", async () => {
    const openSocket = vi.fn().mockRejectedValueOnce(syntaxError).mockResolvedValueOnce(socket);
    const { store } = makeStore({ openSocket });
    const sockets = () => store.getState().sockets;
    sockets().setOpenForm({ protocol: '6', filter: 'tcp port 80 and and host x' });
    await sockets().open();
    expect(openSocket).toHaveBeenLastCalledWith({ family: 'ipv4', protocol: 6, mode: 'auto', filter: 'tcp port 80 and and host x' });
    expect(sockets().openFilterError).toBe(syntaxError.message);
    expect(sockets().error).toBeNull();
    // Editing the filter clears its error; a good one opens the socket.
    sockets().setOpenForm({ filter: 'tcp port 80' });
    expect(sockets().openFilterError).toBeNull();
    await sockets().open();
    expect(openSocket).toHaveBeenLastCalledWith({ family: 'ipv4', protocol: 6, mode: 'auto', filter: 'tcp port 80' });
    expect(sockets().list).toEqual([socket]);
  });

  it('an empty filter is not sent', async () => {
    const openSocket = vi.fn(async () => socket);
    const { store } = makeStore({ openSocket });
    store.getState().sockets.setOpenForm({ protocol: '6', filter: '   ' });
    await store.getState().sockets.open();
    expect(openSocket).toHaveBeenCalledWith({ family: 'ipv4', protocol: 6, mode: 'auto' });
  });

  it("applies an open socket's edited filter, removes it with '', and keeps the text with the error when refused", async () => {
    const setSocketFilter = vi.fn(async ({ filter }: { socketId: string; filter: string | null }) => {
      if (filter === '(tcp') throw new WorkbenchError('INVALID_ARGUMENT', 'capture filter: syntax error at position 4 (end of expression, which is incomplete): (tcp', 'filter');
      return { ...socket, filter };
    });
    const { store } = makeStore({ setSocketFilter });
    const sockets = () => store.getState().sockets;
    sockets().applySocket(socket);

    sockets().editFilter('socket-1', 'udp');
    expect(await sockets().setFilter('socket-1')).toBe(true);
    expect(setSocketFilter).toHaveBeenLastCalledWith({ socketId: 'socket-1', filter: 'udp' });
    expect(sockets().list[0].filter).toBe('udp');

    sockets().editFilter('socket-1', '(tcp');
    expect(await sockets().setFilter('socket-1')).toBe(false);
    expect(sockets().filters['socket-1']).toEqual({ text: '(tcp', error: expect.stringContaining('position 4'), saving: false });
    expect(sockets().list[0].filter).toBe('udp');

    sockets().editFilter('socket-1', '');
    expect(sockets().filters['socket-1'].error).toBeNull();
    expect(await sockets().setFilter('socket-1')).toBe(true);
    expect(setSocketFilter).toHaveBeenLastCalledWith({ socketId: 'socket-1', filter: null });
    expect(sockets().list[0].filter).toBeNull();
  });
});
