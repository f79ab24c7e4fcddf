// window.workbench: one narrow function per contract method, derived from the
// contract's method list, plus onEvents. Never a generic send, never ipcRenderer.
import type { IpcRenderer, IpcRendererEvent } from 'electron';
import type { EventListener, WorkbenchClient } from '../common/client';
import { methodNames, type EventBatch } from '../common/contract';
import { EVENTS_CHANNEL, methodChannel, type IpcOutcome } from './channels';

export type IpcRendererLike = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

/**
 * Builds the object the preload exposes. A failed call rejects with a plain
 * { name, code, message, field } object, not an Error: the context bridge copies
 * only an Error's message, while a plain object arrives whole. The renderer turns
 * it back into a WorkbenchError with deserializeError (common/validate).
 */
export function createBridge(ipcRenderer: IpcRendererLike): WorkbenchClient {
  const bridge: Record<string, unknown> = {};
  for (const name of methodNames) {
    const channel = methodChannel(name);
    bridge[name] = async (params: unknown) => {
      const outcome = (await ipcRenderer.invoke(channel, params ?? {})) as IpcOutcome;
      if (outcome.ok) return outcome.result;
      throw { ...outcome.error };
    };
  }
  bridge.onEvents = (listener: EventListener) => {
    if (typeof listener !== 'function') throw new TypeError('onEvents needs a function');
    // The IPC event (with its sender) never reaches the page: only the batch does.
    const forward = (_event: IpcRendererEvent, batch: EventBatch) => {
      if (Array.isArray(batch)) listener(batch);
    };
    ipcRenderer.on(EVENTS_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENTS_CHANNEL, forward);
    };
  };
  return Object.freeze(bridge) as unknown as WorkbenchClient;
}
