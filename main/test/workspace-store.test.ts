// The GUI's workspace slice (renderer/src/store/workspace.ts) on a real engine; here, not beside the slice, because the renderer's typecheck has no Node types.
// The workspace slice against a real engine (in this process, through the contract's
// dispatch): Save gives one file with this side's part; after the session changed, a
// broken file is refused in words with nothing changed, and the saved one restores the
// saved packets, the editor's packet, the lesson and its step, and the layout.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SocketInfo } from '../../common/contract';
import type { WorkbenchClient } from '../../renderer/src/api/client';
import { dispatchCall } from '../engine/dispatch';
import { Workbench } from '../engine/workbench';
import { parseWorkspace } from '../engine/workspace';
import { createWorkbenchStore } from '../../renderer/src/store/index';

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
}

describe('workspace slice on a real engine', () => {
  const engine = new Workbench();
  afterAll(() => engine.close());
  const client = new Proxy({}, {
    get: (_target, method: string) => (method === 'onEvents' ? () => () => undefined : (params: unknown) => dispatchCall(engine, method, params ?? {})),
  }) as WorkbenchClient;
  const saveFile = vi.fn();
  const store = createWorkbenchStore({ client, storage: memoryStorage(), saveFile, nextFrame: (callback) => callback() });
  const state = () => store.getState();

  it('saves, refuses a broken file with nothing changed, and restores the saved session', async () => {
    state().editor.loadTemplate('icmp-echo');
    state().editor.savePacket('first echo');
    await state().lesson.choose('ping-rtt');
    state().lesson.setStep(1);
    state().settings.setSplit('main', 0.3);
    const layers = state().editor.layers.map(({ id: _id, ...layer }) => layer);

    await state().workspace.save();
    expect(state().workspace.message).toEqual({ kind: 'info', text: 'Workspace saved with 0 logged packets' });
    const [fileName, type, bytes] = saveFile.mock.calls[0] as [string, string, Uint8Array];
    expect(fileName).toMatch(/^workspace-.*\.pcapng$/);
    expect(type).toBe('application/x-pcapng');
    expect(parseWorkspace(bytes).workspace).toMatchObject({ lesson: { name: 'ping-rtt', step: 1 }, layout: { main: 0.3 }, editor: { saved: { 'first echo': expect.any(Array) } } });

    // The session changes.
    state().editor.deleteSaved('first echo');
    state().editor.loadTemplate('tcp-syn');
    await state().lesson.choose('checksums');
    state().settings.setSplit('main', 0.6);

    const broken = bytes.slice(0, bytes.length - 5);
    await state().workspace.open({ name: 'broken.pcapng', bytes: broken });
    expect(state().workspace.message?.kind).toBe('error');
    expect(state().workspace.message?.text).toMatch(/^Cannot open broken\.pcapng: Workspace refused, nothing changed: Truncated: /);
    expect(Object.keys(state().editor.saved)).toEqual([]);
    expect(state().lesson.name).toBe('checksums');
    expect(state().settings.splits.main).toBe(0.6);

    await state().workspace.open({ name: 'session.pcapng', bytes });
    expect(state().workspace.message).toEqual({ kind: 'info', text: expect.stringMatching(/^Opened session\.pcapng: 0 logged packets, 0 experiments, 1 saved packet\(s\)/) });
    expect(Object.keys(state().editor.saved)).toEqual(['first echo']);
    expect(state().editor.layers.map(({ id: _id, ...layer }) => layer)).toEqual(layers);
    expect(state().lesson).toMatchObject({ name: 'ping-rtt', step: 1 });
    expect(state().settings.splits.main).toBe(0.3);
  });

  it.runIf(process.getuid?.() === 0)('offers the saved sockets after opening, opens none by itself, and reopens them as they were set up', async () => {
    const filter = `icmp[4:2] = ${0x4a00 + (process.pid & 0xff)}`;
    const raw = (await client.openSocket({ family: 'ipv4', protocol: 1, mode: 'raw', filter })) as SocketInfo;
    const icmpv6 = (await client.openSocket({ family: 'ipv6', protocol: 58, mode: 'raw' })) as SocketInfo;
    saveFile.mockClear();
    await state().workspace.save();
    const bytes = (saveFile.mock.calls[0] as [string, string, Uint8Array])[2];
    await client.closeSocket({ socketId: raw.socketId });
    await client.closeSocket({ socketId: icmpv6.socketId });
    const open = async () => (await client.listSockets({})).filter((socket) => !socket.closed);
    expect(await open()).toEqual([]);

    await state().workspace.open({ name: 'sockets.pcapng', bytes });
    expect(state().workspace.reopen.map(({ family, protocol, mode, filter }) => ({ family, protocol, mode, filter }))).toEqual([
      { family: 'ipv4', protocol: 1, mode: 'raw', filter },
      { family: 'ipv6', protocol: 58, mode: 'raw', filter: null },
    ]);
    expect(await open(), 'opening a workspace opens no socket by itself').toEqual([]);

    await state().workspace.reopenSockets();
    expect(state().workspace.message).toEqual({ kind: 'info', text: 'Reopened 2 sockets' });
    expect(state().workspace.reopen).toEqual([]);
    const reopened = await open();
    expect(reopened.map(({ family, protocol, mode, filter }) => ({ family, protocol, mode, filter: filter ?? null }))).toEqual([
      { family: 'ipv4', protocol: 1, mode: 'raw', filter },
      { family: 'ipv6', protocol: 58, mode: 'raw', filter: null },
    ]);
    expect(reopened.map((socket) => socket.socketId)).not.toContain(raw.socketId);
    expect(state().sockets.list.filter((socket) => !socket.closed).map((socket) => socket.socketId)).toEqual(reopened.map((socket) => socket.socketId));
  });
});
