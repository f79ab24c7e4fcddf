// Shown when the link to the workbench is gone: what happened, what is disabled, and the
// way back (reconnect to the same host, or reload the page).
import { useEffect, useRef } from 'react';
import { useWorkbench } from '../store';

export function ConnectionBanner() {
  const connection = useWorkbench((s) => s.settings.connection);
  const reason = useWorkbench((s) => s.settings.connectionError);
  const reconnect = useWorkbench((s) => s.settings.reconnect);
  const button = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(true);
  // Put the keyboard on Reconnect when the link drops, unless the user is typing somewhere.
  useEffect(() => {
    if (connection === 'closed' && wasOpen.current) {
      const active = document.activeElement;
      if (!active || active === document.body || !active.matches('input, textarea, select')) button.current?.focus();
    }
    wasOpen.current = connection === 'open';
  }, [connection]);
  if (connection === 'open') return null;
  const connecting = connection === 'connecting';
  return (
    <div className="banner banner-error banner-connection" role="alert" aria-label="Connection">
      <span className="banner-summary">{connecting ? 'Reconnecting to the workbench…' : 'Disconnected from the workbench'}</span>
      <span className="banner-facts">
        {connecting ? 'Trying the same address again.' : `${reason ?? 'The connection closed'}. Sending and new runs are disabled; what is shown is kept.`}
      </span>
      <span className="banner-actions">
        <button ref={button} type="button" className="primary" disabled={connecting} onClick={() => void reconnect()}>
          {connecting ? 'Reconnecting…' : 'Reconnect'}
        </button>
        <button type="button" onClick={() => window.location.reload()}>
          Reload page
        </button>
      </span>
    </div>
  );
}
