// The capture slice: start on an interface with a filter, stop, refusals shown, the status
// bar's losses from 'logStatus' events, and the log exported as classic pcap.
import { describe, expect, it, vi } from 'vitest';
import type { CaptureInfo, EventBatch, LogStatus } from '../../../common/contract';
import { WorkbenchError } from '../../../common/validate';
import type { WorkbenchClient } from '../api/client';
import { pumpEvents } from '../api/events';
import { createWorkbenchStore } from './index';

const running: CaptureInfo = {
  captureId: 'capture-1',
  interface: 'lo',
  protocol: 'ip',
  filter: 'icmp',
  state: 'running',
  counters: { received: 0, sent: 0, bytes: 0, kernelDrops: 0 },
  startedAt: 1,
};

function makeStore(overrides: Partial<WorkbenchClient>) {
  const saveFile = vi.fn();
  const client = { onEvents: () => () => undefined, ...overrides } as unknown as WorkbenchClient;
  return { saveFile, store: createWorkbenchStore({ client, storage: null, saveFile, nextFrame: (callback) => callback() }) };
}

describe('capture slice', () => {
  it('starts a capture on the interface with the filter given, stops it, and shows a refusal', async () => {
    const startCapture = vi
      .fn()
      .mockRejectedValueOnce(new WorkbenchError('ENODEV', 'No interface eth9', 'interface'))
      .mockResolvedValueOnce(running);
    const stopCapture = vi.fn().mockResolvedValue({ ...running, state: 'stopped' });
    const { store } = makeStore({ startCapture, stopCapture });
    const capture = () => store.getState().capture;
    capture().setInterface('eth9');
    await capture().start();
    expect(startCapture).toHaveBeenLastCalledWith({ interface: 'eth9' });
    expect(capture().error).toMatch(/No interface eth9/);
    capture().setInterface(' lo ');
    capture().setFilter('icmp');
    expect(capture().error).toBeNull();
    await capture().start();
    expect(startCapture).toHaveBeenLastCalledWith({ interface: 'lo', filter: 'icmp' });
    expect(capture().list).toEqual([running]);
    await capture().stop('capture-1');
    expect(capture().list.map((c) => c.state)).toEqual(['stopped']);
    capture().setInterface('');
    capture().setFilter('');
    await capture().start();
    expect(startCapture).toHaveBeenLastCalledWith({});
  });

  it("takes 'capture' and 'logStatus' events from the pump", () => {
    const { store } = makeStore({});
    let listener: (batch: EventBatch) => void = () => undefined;
    const status: LogStatus = { capacity: 100, kept: 100, logged: 150, overflowed: 20, kernelDrops: 7 };
    const pump = pumpEvents(
      (l) => {
        listener = l;
        return () => undefined;
      },
      store,
      (callback) => callback(),
    );
    listener([
      { type: 'capture', capture: running },
      { type: 'logStatus', status },
      { type: 'capture', capture: { ...running, counters: { ...running.counters, received: 5, kernelDrops: 7 } } },
    ]);
    pump.flush();
    expect(store.getState().capture.status).toEqual(status);
    expect(store.getState().capture.list.map((c) => [c.counters.received, c.counters.kernelDrops])).toEqual([[5, 7]]);
    pump.stop();
  });

  it('exports the log as classic pcap', async () => {
    // Read in pieces: openExport, then readExport until done.
    const openExport = vi.fn().mockResolvedValue({ exportId: 'export-1', packets: 0 });
    const readExport = vi
      .fn()
      .mockResolvedValueOnce({ data: btoa('\x4d\x3c'), done: false, count: 0 })
      .mockResolvedValueOnce({ data: btoa('\xb2\xa1'), done: true, count: 0 });
    const { store, saveFile } = makeStore({ openExport, readExport });
    await store.getState().capture.exportPcap();
    expect(openExport).toHaveBeenCalledWith({ format: 'pcap' });
    expect(readExport).toHaveBeenCalledWith({ exportId: 'export-1' });
    expect(saveFile).toHaveBeenCalledWith(expect.stringMatching(/^workbench-.*\.pcap$/), 'application/vnd.tcpdump.pcap', Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1));
  });
});
