// Workspaces in the GUI: Save writes the whole session into one file (the engine adds its
// sockets, experiments and log to what this side holds: editor packets, saved packets, the
// lab and lesson chosen, the layout); Open sends a file to the engine, which checks it
// whole before replacing anything, and then restores this side's part. A refused file
// leaves everything as it was, and the message says why.
import { WHOLE_TRANSFER_BYTES } from '../../../common/contract';
import type { SocketSetup, WorkspaceClientPart } from '../../../common/workspace';
import { errorText } from '../api/client';
import { isDraftLayers } from './persisted';
import type { SliceFactory, WorkbenchState } from './types';

export interface WorkspaceSlice {
  workspace: {
    busy: boolean;
    message: { kind: 'info' | 'error'; text: string } | null;
    /** Saves the session as a workspace file (a download in a browser). */
    save(): Promise<void>;
    /** Opens a workspace file: all of it, or nothing changes. */
    open(file: { name: string; bytes: Uint8Array }): Promise<void>;
    /** The sockets the opened workspace had open: offered, never opened by themselves. */
    reopen: SocketSetup[];
    /** Opens them as they were set up (family, protocol, mode, filter, lab host); says how many opened and why any did not. */
    reopenSockets(): Promise<void>;
  };
}

/** What this side holds of the session, as the workspace file keeps it. */
export function clientPart(state: WorkbenchState): WorkspaceClientPart {
  return {
    editor: { layers: state.editor.layers, saved: state.editor.saved },
    lab: { topology: state.lab.topology, host: state.lab.host },
    lesson: { name: state.lesson.name, step: state.lesson.step },
    layout: state.settings.splits,
  };
}

export const createWorkspaceSlice: SliceFactory<WorkspaceSlice> = ({ client, saveFile }) => (set, get) => {
  const patch = (part: Partial<WorkspaceSlice['workspace']>) => set((state) => ({ workspace: { ...state.workspace, ...part } }));

  /** Puts back what this side held when the workspace was saved. */
  const restore = async (part: WorkspaceClientPart) => {
    const { editor, lab, lesson, settings } = get();
    // The engine checked the kinds already; the guard gives the editor's own type.
    for (const [name, layers] of Object.entries(part.editor.saved)) {
      if (!isDraftLayers(layers)) continue;
      editor.loadLayers(layers);
      get().editor.savePacket(name);
    }
    if (isDraftLayers(part.editor.layers)) get().editor.loadLayers(part.editor.layers);
    if (part.lab.topology) lab.setTopology(part.lab.topology);
    lab.setHost(part.lab.host);
    for (const [id, fraction] of Object.entries(part.layout)) settings.setSplit(id, fraction);
    if (part.lesson.name) {
      await lesson.choose(part.lesson.name);
      get().lesson.setStep(part.lesson.step);
    }
  };

  return {
    workspace: {
      busy: false,
      message: null,
      reopen: [],
      async reopenSockets() {
        const setups = get().workspace.reopen;
        patch({ busy: true, message: null });
        const failed: string[] = [];
        for (const setup of setups) {
          try {
            const { family, protocol, mode, filter, host } = setup;
            const socket = await client.openSocket({ family, protocol, mode, ...(filter ? { filter } : {}), ...(host ? { host } : {}) });
            get().sockets.applySocket(socket);
          } catch (error) {
            failed.push(`${setup.family} protocol ${setup.protocol}${setup.host ? ` in ${setup.host}` : ''}: ${errorText(error)}`);
          }
        }
        const opened = setups.length - failed.length;
        patch({
          busy: false,
          reopen: [],
          message:
            failed.length === 0
              ? { kind: 'info', text: `Reopened ${opened} socket${opened === 1 ? '' : 's'}` }
              : { kind: 'error', text: `Reopened ${opened} of ${setups.length} sockets; not opened: ${failed.join('; ')}` },
        });
      },
      async save() {
        patch({ busy: true, message: null });
        try {
          const { exportId } = await client.saveWorkspace(clientPart(get()));
          const pieces: Uint8Array[] = [];
          for (;;) {
            const piece = await client.readExport({ exportId });
            pieces.push(fromBase64(piece.data));
            if (piece.done) {
              const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
              saveFile(`workspace-${stamp}.pcapng`, 'application/x-pcapng', concat(pieces));
              patch({ message: { kind: 'info', text: `Workspace saved with ${piece.count} logged packet${piece.count === 1 ? '' : 's'}` } });
              return;
            }
          }
        } catch (error) {
          patch({ message: { kind: 'error', text: `Cannot save the workspace: ${errorText(error)}` } });
        } finally {
          patch({ busy: false });
        }
      },
      async open(file) {
        if (file.bytes.length > WHOLE_TRANSFER_BYTES) {
          patch({ message: { kind: 'error', text: `Cannot open ${file.name}: it is ${(file.bytes.length / 1024 / 1024).toFixed(1)} MiB, workspaces open up to ${WHOLE_TRANSFER_BYTES / 1024 / 1024} MiB here (nothing changed)` } });
          return;
        }
        if (file.bytes.length === 0) {
          patch({ message: { kind: 'error', text: `Cannot open ${file.name}: the file is empty (nothing changed)` } });
          return;
        }
        patch({ busy: true, message: null, reopen: [] });
        try {
          const { workspace, imported } = await client.loadWorkspace({ data: toBase64(file.bytes) });
          // The engine replaced its log and experiments: read them again.
          get().log.cleared();
          set((state) => ({ log: { ...state.log, canUndoClear: true } }));
          await get().log.loadFromEngine();
          await get().experiments.load();
          await restore(workspace);
          const runs = workspace.experiments.length;
          patch({ reopen: workspace.sockets, message: { kind: 'info', text: `Opened ${file.name}: ${imported} logged packet${imported === 1 ? '' : 's'}, ${runs} experiment${runs === 1 ? '' : 's'}, ${Object.keys(workspace.editor.saved).length} saved packet(s) (the previous log: Undo clear)` } });
        } catch (error) {
          patch({ message: { kind: 'error', text: `Cannot open ${file.name}: ${errorText(error)}` } });
        } finally {
          patch({ busy: false });
        }
      },
    },
  };
};

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
