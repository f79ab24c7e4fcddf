// After "Clear log": one line with the way back, until the next clear or until dismissed.
import { useEffect, useState } from 'react';
import { useWorkbench } from '../store';

export function UndoClearNotice() {
  const canUndo = useWorkbench((s) => s.log.canUndoClear);
  const undo = useWorkbench((s) => s.log.undoClear);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const [dismissed, setDismissed] = useState(false);
  // A new clear shows the notice again.
  useEffect(() => {
    if (canUndo) setDismissed(false);
  }, [canUndo]);
  if (!canUndo || dismissed || !online) return null;
  return (
    <div className="banner banner-ok" role="status" aria-label="Log cleared">
      <span className="banner-summary">Log cleared.</span>
      <span className="banner-actions">
        <button type="button" className="primary" onClick={() => void undo()}>
          Undo clear
        </button>
        <button type="button" onClick={() => setDismissed(true)}>
          Dismiss
        </button>
      </span>
    </div>
  );
}
