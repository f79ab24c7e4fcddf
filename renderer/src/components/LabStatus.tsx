// The lab in the status bar, on every panel: its state and the host the workbench acts
// from, so a send from inside a lab is never a surprise. Reads the lab once connected.
import { useEffect } from 'react';
import { useWorkbench } from '../store';

export function LabStatus() {
  const info = useWorkbench((s) => s.lab.info);
  const host = useWorkbench((s) => s.lab.host);
  const load = useWorkbench((s) => s.lab.load);
  const connection = useWorkbench((s) => s.settings.connection);
  useEffect(() => {
    if (connection === 'open') void load();
  }, [connection, load]);
  if (info.state === 'down' && !host) return null;
  return (
    <span role="status" aria-label="Lab summary">
      Lab: {info.topology ?? ''} {info.state}
      {host ? <strong> · acting from {host}</strong> : null}
    </span>
  );
}
