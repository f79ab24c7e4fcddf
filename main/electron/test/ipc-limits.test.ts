// The window's calls over IPC are bounded like a browser client's: BUSY beyond the calls
// in flight and the heavy calls it may run at once (nothing queued), the window served
// again once answers come, a second window unaffected, and the exports and imports a
// window left open closed with it. Echoed input is clipped here too (no frame limit on IPC).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CALL_LIMITS } from '../../engine/call-gate';
import { methodChannel, registerIpc, type IpcOutcome } from '../ipc';
import { rendererUrl } from '../security';
import { createFakeEngine } from '../../web/test/fake-engine';
import { FakeBrowserWindow, FakeIpcMain, FakeIpcRenderer } from './fake-electron';

const URL_OF_INDEX = rendererUrl('/opt/Packet Workbench/resources/app.asar/renderer/dist/index.html');

/** A window over an engine whose logStatus and queryLog wait until release(). */
function heldWindow() {
  const engine = createFakeEngine();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const record = engine as unknown as Record<string, unknown>;
  record.logStatus = async () => (await held, { capacity: 1 });
  record.queryLog = async () => (await held, { total: 0, rows: [], capacity: 1 });
  const window = (ipcMain: FakeIpcMain) => {
    const win = new FakeBrowserWindow(URL_OF_INDEX);
    registerIpc({ ipcMain, engine, window: win as never, expectedUrl: URL_OF_INDEX });
    return { win, renderer: new FakeIpcRenderer(ipcMain, win.webContents) };
  };
  return { engine, release, window };
}

const invoke = (renderer: FakeIpcRenderer, method: string, params: unknown = {}) => renderer.invoke(methodChannel(method as never), params) as Promise<IpcOutcome>;

describe('IPC limits per window', () => {
  it(`answers BUSY beyond ${DEFAULT_CALL_LIMITS.maxInFlight} calls in flight; served again once they are answered`, async () => {
    const { release, window } = heldWindow();
    const { renderer } = window(new FakeIpcMain());
    const calls = Array.from({ length: DEFAULT_CALL_LIMITS.maxInFlight + 3 }, () => invoke(renderer, 'logStatus'));
    const busy = await Promise.all(calls.slice(-3));
    for (const outcome of busy) expect(outcome).toMatchObject({ ok: false, error: { code: 'BUSY', message: expect.stringMatching(/32 calls of this client are in flight/) } });
    release();
    expect((await Promise.all(calls.slice(0, -3))).every((outcome) => outcome.ok)).toBe(true);
    expect(await invoke(renderer, 'logStatus')).toMatchObject({ ok: true });
  });

  it(`runs at most ${DEFAULT_CALL_LIMITS.maxHeavy} heavy calls per window; light calls and another window go on`, async () => {
    const { release, window } = heldWindow();
    const ipcMain = new FakeIpcMain();
    const { renderer } = window(ipcMain);
    const pages = [1, 2, 3].map(() => invoke(renderer, 'queryLog', { limit: 5000 }));
    expect(await pages[2]).toMatchObject({ ok: false, error: { code: 'BUSY', message: expect.stringMatching(/heavy call/) } });
    expect(await invoke(renderer, 'capabilities')).toMatchObject({ ok: true });
    // A second window of the same engine (its own handlers: a fresh ipcMain) is not held back.
    const other = window(new FakeIpcMain());
    const otherPage = invoke(other.renderer, 'queryLog', { limit: 5000 });
    release();
    expect(await otherPage).toMatchObject({ ok: true });
    expect(await Promise.all(pages.slice(0, 2))).toMatchObject([{ ok: true }, { ok: true }]);
  });

  it('clips an unknown 10 MiB parameter name in the answer', async () => {
    const { window } = heldWindow();
    const { renderer } = window(new FakeIpcMain());
    const outcome = await invoke(renderer, 'capabilities', { ['p'.repeat(10 * 1024 * 1024)]: 1 });
    expect(outcome).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: `${'p'.repeat(64)}…` } });
    expect(JSON.stringify(outcome).length).toBeLessThan(1000);
  });

  it('closes the exports and imports a window left open when it closes', async () => {
    const { engine, window } = heldWindow();
    const { win, renderer } = window(new FakeIpcMain());
    expect(await invoke(renderer, 'openExport')).toMatchObject({ ok: true, result: { exportId: 'export-1' } });
    win.close();
    await expect.poll(() => engine.calls.filter((call) => call.method === 'closeTransfer').map((call) => call.params)).toEqual([{ transferId: 'export-1' }]);
  });
});
