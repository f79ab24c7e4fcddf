// Save workspace… / Open workspace… in the header: the whole session in one file, and what
// the last save or open did, in words (an error says why and that nothing changed).
import { useWorkbench } from '../store';

export function WorkspaceControls() {
  const busy = useWorkbench((s) => s.workspace.busy);
  const message = useWorkbench((s) => s.workspace.message);
  const save = useWorkbench((s) => s.workspace.save);
  const open = useWorkbench((s) => s.workspace.open);
  return (
    <div className="workspace-controls" role="group" aria-label="Workspace">
      <button type="button" disabled={busy} title="Save the editor, saved packets, sockets, experiments, lab and lesson and the log in one file (pcapng)" onClick={() => void save()}>
        Save workspace…
      </button>
      <button type="button" disabled={busy} title="Open a saved workspace: it replaces the session only if the whole file is readable" onClick={() => chooseWorkspace((file) => void open(file))}>
        Open workspace…
      </button>
      {message ? (
        <span role={message.kind === 'error' ? 'alert' : 'status'} className={`workspace-message ${message.kind}`}>
          {message.text}
        </span>
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
