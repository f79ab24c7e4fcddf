// Settings and the app frame: theme, the panel on screen, what this process may do, connection state.
import type { Capabilities } from '../../../common/contract';
import { errorText } from '../api/client';
import type { ConnectionState } from '../api/connection';
import { isSplitSizes, readPersisted, writePersisted } from './persisted';
import type { SliceFactory } from './types';

export type PanelId = 'editor' | 'log' | 'sockets' | 'experiments' | 'lab';
export const panelIds: readonly PanelId[] = ['editor', 'log', 'sockets', 'experiments', 'lab'];
export type Theme = 'system' | 'light' | 'dark';

export interface SettingsSlice {
  settings: {
    theme: Theme;
    panel: PanelId;
    /** Where the user put each resizable split (fraction given to the first pane); absent: the default. */
    splits: Record<string, number>;
    capabilities: Capabilities | null;
    capabilitiesError: string | null;
    /** The link to the workbench: sending and starting runs are disabled unless 'open'. */
    connection: ConnectionState;
    /** Why it closed, or why the last reconnect failed. */
    connectionError: string | null;
    setTheme(theme: Theme): void;
    showPanel(panel: PanelId): void;
    /** Keeps a split's position across reloads; null returns it to its default. */
    setSplit(id: string, fraction: number | null): void;
    /** Reads what works now; calls while one is in flight are folded into one more read after it. */
    loadCapabilities(): Promise<void>;
    setConnection(state: ConnectionState, reason?: string | null): void;
    /** Opens the connection again; on success re-reads capabilities, sockets, jobs, runs and the log. */
    reconnect(): Promise<boolean>;
  };
}

const THEME_KEY = 'workbench.theme';
const PANEL_KEY = 'workbench.panel';
const SPLITS_KEY = 'workbench.splits';
const isPanel = (value: unknown): value is PanelId => panelIds.includes(value as PanelId);

export const createSettingsSlice: SliceFactory<SettingsSlice> = ({ client, storage, connection: link }) => (set, get) => {
  const patch = (part: Partial<SettingsSlice['settings']>) => set((state) => ({ settings: { ...state.settings, ...part } }));
  const stored = storage?.getItem(THEME_KEY);
  let loading: Promise<void> | null = null;
  let again = false;
  const readCapabilities = async () => {
    do {
      again = false;
      try {
        const capabilities = await client.capabilities({});
        patch({ capabilities, capabilitiesError: null });
        // An engine from before the socket helper sends no helper state: none is shown then.
        if (capabilities?.helper) get().helper.applyStatus(capabilities.helper, { refresh: false });
        else if (get().helper.status) set((state) => ({ helper: { ...state.helper, status: null } }));
      } catch (error) {
        patch({ capabilitiesError: errorText(error) });
      }
    } while (again);
  };
  return {
    settings: {
      theme: stored === 'light' || stored === 'dark' ? stored : 'system',
      panel: readPersisted(storage, PANEL_KEY, isPanel) ?? 'editor',
      splits: readPersisted(storage, SPLITS_KEY, isSplitSizes) ?? {},
      capabilities: null,
      capabilitiesError: null,
      connection: link?.state ?? 'open',
      connectionError: null,
      setTheme(theme) {
        storage?.setItem(THEME_KEY, theme);
        patch({ theme });
      },
      showPanel(panel) {
        if (get().settings.panel === panel) return;
        writePersisted(storage, PANEL_KEY, panel);
        patch({ panel });
      },
      setSplit(id, fraction) {
        const { [id]: _old, ...others } = get().settings.splits;
        const splits = fraction === null ? others : { ...others, [id]: Math.min(0.95, Math.max(0.05, fraction)) };
        writePersisted(storage, SPLITS_KEY, splits);
        patch({ splits });
      },
      loadCapabilities() {
        if (loading) {
          // A helper event came while a read was on its way: its answer may predate the change.
          again = true;
          return loading;
        }
        loading = readCapabilities().finally(() => {
          loading = null;
        });
        return loading;
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
