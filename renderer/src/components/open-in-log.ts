// Opening a logged packet from elsewhere (response and result rows): select it, show the Log panel.
import { useCallback } from 'react';
import { useWorkbench } from '../store';

export function useOpenInLog(): (id: number) => void {
  const select = useWorkbench((s) => s.log.select);
  const showPanel = useWorkbench((s) => s.settings.showPanel);
  return useCallback(
    (id: number) => {
      void select(id);
      showPanel('log');
    },
    [select, showPanel],
  );
}
