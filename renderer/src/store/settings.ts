// Settings and the app frame: theme, the panel on screen, what this process may do, connection state.
import type { Capabilities } from '../../../common/contract';
import { errorText } from '../api/client';
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
    connection: 'open' | 'closed';
    setTheme(theme: Theme): void;
    showPanel(panel: PanelId): void;
    loadCapabilities(): Promise<void>;
    setConnection(state: 'open' | 'closed'): void;
  };
}

const THEME_KEY = 'workbench.theme';

export const createSettingsSlice: SliceFactory<SettingsSlice> = ({ client, storage }) => (set, get) => {
  const patch = (part: Partial<SettingsSlice['settings']>) => set((state) => ({ settings: { ...state.settings, ...part } }));
  const stored = storage?.getItem(THEME_KEY);
  return {
    settings: {
      theme: stored === 'light' || stored === 'dark' ? stored : 'system',
      panel: 'editor',
      capabilities: null,
      capabilitiesError: null,
      connection: 'open',
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
      setConnection(connection) {
        patch({ connection });
      },
    },
  };
};
