// The socket helper: the small privileged program the engine starts on demand for raw
// sockets. Its state comes from the engine (capabilities, 'helper' events, the answers to
// start/stop); every change re-reads the capabilities, since what works follows it.
import type { HelperStatus } from '../../../common/contract';
import { errorText } from '../api/client';
import type { SliceFactory } from './types';

export type HelperHow = 'auto' | 'installed' | 'elevated';

export interface HelperSlice {
  helper: {
    /** The engine's last word on the helper; null until capabilities were read (or from an engine without one). */
    status: HelperStatus | null;
    /** A start or stop asked for here whose answer has not come yet. */
    pending: 'start' | 'stop' | null;
    /** Why the last start/stop request itself failed (disconnected, refused by the host); the helper's own reasons are in status.reason. */
    error: string | null;
    /** Asks the engine to start the helper; resolves with its state once it runs, was refused or failed. */
    start(how?: HelperHow): Promise<HelperStatus | null>;
    /** Stops the helper; the sockets it opened close. */
    stop(): Promise<HelperStatus | null>;
    /** A status from an event or an answer. `refresh` (default true) re-reads the capabilities. */
    applyStatus(status: HelperStatus, options?: { refresh?: boolean }): void;
  };
}

export const createHelperSlice: SliceFactory<HelperSlice> = ({ client }) => (set, get) => {
  const patch = (part: Partial<HelperSlice['helper']>) => set((state) => ({ helper: { ...state.helper, ...part } }));
  return {
    helper: {
      status: null,
      pending: null,
      error: null,
      async start(how = 'auto') {
        if (get().helper.pending) return null;
        patch({ pending: 'start', error: null });
        try {
          const status = await client.startHelper({ how });
          patch({ pending: null });
          get().helper.applyStatus(status);
          return status;
        } catch (error) {
          patch({ pending: null, error: `Cannot start the socket helper: ${errorText(error)}` });
          return null;
        }
      },
      async stop() {
        if (get().helper.pending) return null;
        patch({ pending: 'stop', error: null });
        try {
          const status = await client.stopHelper({});
          patch({ pending: null });
          get().helper.applyStatus(status);
          return status;
        } catch (error) {
          patch({ pending: null, error: `Cannot stop the socket helper: ${errorText(error)}` });
          return null;
        }
      },
      applyStatus(status, { refresh = true } = {}) {
        patch({ status });
        if (refresh) void get().settings.loadCapabilities();
      },
    },
  };
};
