// Settings and the app frame: theme, the panel on screen, what this process may do, connection state.
import type { Capabilities } from '../../../common/contract';
import { errorText } from '../api/client';
import type { ConnectionState } from '../api/connection';
import type { SliceFactory } from './types';

export type PanelId = 'editor' | 'log' | 'sockets' | 'experiments';
export const panelIds: readonly PanelId[] = ['editor', 'log', 'sockets', 'experiments'];
export type Theme = 'system' | 'light' | 'dark';

export interface SettingsSlice {
  settings: {
    theme: Theme;
    panel: PanelId;
    capabilities: Capabilities | null;
    capabilitiesError: string | null;
    /** The link to the workbench: sending and starting runs are disabled unless 'open'. */
    connection: ConnectionState;
    /** Why it closed, or why the last reconnect failed. */
    connectionError: string | null;
    setTheme(theme: Theme): void;
    showPanel(panel: PanelId): void;
    loadCapabilities(): Promise<void>;
    setConnection(state: ConnectionState, reason?: string | null): void;
    /** Opens the connection again; on success re-reads capabilities, sockets, jobs, runs and the log. */
    reconnect(): Promise<boolean>;
  };
}

const THEME_KEY = 'workbench.theme';

export const createSettingsSlice: SliceFactory<SettingsSlice> = ({ client, storage, connection: link }) => (set, get) => {
  const patch = (part: Partial<SettingsSlice['settings']>) => set((state) => ({ settings: { ...state.settings, ...part } }));
  const stored = storage?.getItem(THEME_KEY);
  return {
    settings: {
      theme: stored === 'light' || stored === 'dark' ? stored : 'system',
      panel: 'editor',
      capabilities: null,
      capabilitiesError: null,
      connection: link?.state ?? 'open',
      connectionError: null,
      setTheme(theme) {
        storage?.setItem(THEME_KEY, theme);
        patch({ theme });
      },
      showPanel(panel) {
        if (get().settings.panel !== panel) patch({ panel });
      },
      async loadCapabilities() {
        try {
          patch({ capabilities: await client.capabilities({}), capabilitiesError: null });
        } catch (error) {
          patch({ capabilitiesError: errorText(error) });
        }
      },
      setConnection(connection, reason = null) {
        patch({ connection, connectionError: connection === 'closed' ? reason : null });
      },
      async reconnect() {
        if (!link) return true;
        patch({ connection: 'connecting', connectionError: null });
        const ok = await link.reconnect();
        patch({ connection: link.state, connectionError: ok ? null : link.reason });
        if (!ok) return false;
        // The host may be a new process: everything shown is re-read from it.
        const state = get();
        state.log.cleared();
        await Promise.all([
          state.settings.loadCapabilities(),
          state.sockets.load(),
          state.send.loadJobs(),
          state.experiments.load(),
          state.log.loadFromEngine(),
        ]);
        return true;
      },
    },
  };
};
