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
  const whole = `Lab: ${info.topology ?? ''} ${info.state}${host ? ` · acting from ${host}` : ''}`;
  // May end in an ellipsis where the status bar is narrow: the whole text is its title and description.
  return (
    <span role="status" aria-label="Lab summary" aria-description={whole} title={whole} className="status-fit">
      Lab: {info.topology ?? ''} {info.state}
      {host ? <strong> · acting from {host}</strong> : null}
    </span>
  );
}
