// The contract over Electron IPC. One handler per contract method, derived from
// the contract's method list: each checks that the call comes from our window's
// top frame, validates the parameters, and answers with an outcome rather than a
// thrown error, because Electron reduces an error crossing IPC (and the context
// bridge) to its message and the renderer needs the code and the field.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { methodNames, type EventBatch } from '../../common/contract';
import { serializeError, WorkbenchError } from '../../common/validate';
import { DEFAULT_CALL_LIMITS, type CallLimits } from '../engine/call-gate';
import { ClientCalls, type EngineLike } from '../engine/dispatch';
import { framesOf } from '../engine/event-frames';
import { RowBudget, withinBudget } from '../engine/row-budget';
import { EVENTS_CHANNEL, methodChannel, type IpcOutcome } from '../../preload/channels';
import { isTrustedSender, type TrustedWindow } from './security';

export { EVENTS_CHANNEL, methodChannel, type IpcOutcome };

export interface IpcWindow extends TrustedWindow {
  webContents: TrustedWindow['webContents'] & { send(channel: string, ...args: unknown[]): void };
  once(event: 'closed', listener: () => void): unknown;
}

export interface IpcOptions {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  engine: EngineLike;
  window: IpcWindow;
  /** file:// URL of the renderer's index.html (see rendererUrl). */
  expectedUrl: string;
  /** Calls in flight and heavy calls of the window at once (default DEFAULT_CALL_LIMITS, as a browser client). */
  limits?: CallLimits;
}

/** Registers the handlers and the event forwarding; returns a function that removes both. */
export function registerIpc({ ipcMain, engine, window, expectedUrl, limits = DEFAULT_CALL_LIMITS }: IpcOptions): () => void {
  // The window's calls, bounded like a browser client's: BUSY beyond its limits, never queued.
  const calls = new ClientCalls(engine, limits);
  for (const name of methodNames) {
    ipcMain.handle(methodChannel(name), async (event: IpcMainInvokeEvent, params: unknown): Promise<IpcOutcome> => {
      if (!isTrustedSender(event, window, expectedUrl)) {
        const error = new WorkbenchError(
          'FORBIDDEN',
          `Refused '${name}': only the workbench window's own page may call the workbench`,
        );
        return { ok: false, error: serializeError(error) };
      }
      try {
        const result = await calls.call(name, params);
        return { ok: true, result: result === undefined ? null : result };
      } catch (error) {
        return { ok: false, error: serializeError(error) };
      }
    });
  }

  // A flood beyond what a GUI can show goes as 'logSkipped' (engine/row-budget.ts).
  const budget = new RowBudget();
  const unsubscribe = engine.subscribe((batch: EventBatch) => {
    if (window.isDestroyed()) return;
    // Each IPC message is one task in the renderer: at most FRAME_ROWS log rows each.
    for (const frame of framesOf(withinBudget(batch, budget))) window.webContents.send(EVENTS_CHANNEL, frame);
  });
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    unsubscribe();
    calls.close();
    for (const name of methodNames) ipcMain.removeHandler(methodChannel(name));
  };
  window.once('closed', dispose);
  return dispose;
}
