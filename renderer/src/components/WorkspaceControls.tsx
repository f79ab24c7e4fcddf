// The header's Workspace button: it shows Save workspace… and Open workspace… (the whole
// session in one file) and what the last save or open did, in words (an error says why and
// that nothing changed). One button in the header: the header has no room for two more at 1024 px.
import { useState } from 'react';
import { useWorkbench } from '../store';

export function WorkspaceControls() {
  const [open, setOpen] = useState(false);
  const busy = useWorkbench((s) => s.workspace.busy);
  const message = useWorkbench((s) => s.workspace.message);
  const save = useWorkbench((s) => s.workspace.save);
  const openFile = useWorkbench((s) => s.workspace.open);
  const reopen = useWorkbench((s) => s.workspace.reopen);
  const reopenSockets = useWorkbench((s) => s.workspace.reopenSockets);
  return (
    <div className="workspace-controls">
      <button type="button" aria-expanded={open} aria-controls={open ? 'workspace-panel' : undefined} title="Save or open the whole session in one file" onClick={() => setOpen(!open)}>
        Workspace
      </button>
      {open ? (
        <div id="workspace-panel" className="workspace-panel" role="group" aria-label="Workspace" onKeyDown={(event) => event.key === 'Escape' && setOpen(false)}>
          <button type="button" disabled={busy} title="Save the editor, saved packets, sockets, experiments, lab and lesson and the log in one file (pcapng)" onClick={() => void save()}>
            Save workspace…
          </button>
          <button type="button" disabled={busy} title="Open a saved workspace: it replaces the session only if the whole file is readable" onClick={() => chooseWorkspace((file) => void openFile(file))}>
            Open workspace…
          </button>
          {message ? (
            <p role={message.kind === 'error' ? 'alert' : 'status'} className={`workspace-message ${message.kind}`}>
              {message.text}
            </p>
          ) : null}
          {reopen.length > 0 ? (
            <button
              type="button"
              disabled={busy}
              title={`Open the workspace's sockets again as they were set up: ${reopen.map((s) => `${s.family} protocol ${s.protocol} ${s.mode}${s.filter ? ` filter '${s.filter}'` : ''}${s.host ? ` in ${s.host}` : ''}`).join('; ')}`}
              onClick={() => void reopenSockets()}
            >
              Reopen {reopen.length} socket{reopen.length === 1 ? '' : 's'}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** The file chooser exists only for that moment, so the button stays the one control. */
function chooseWorkspace(onFile: (file: { name: string; bytes: Uint8Array }) => void) {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = '.pcapng';
  input.addEventListener(
    'change',
    async () => {
      const file = input.files?.[0];
      if (file) onFile({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    },
    { once: true },
  );
  input.click();
}
