// The status bar counts packets: a marker standing for rows the host did not push in a flood is
// no packet; how many rows it stands for is said separately, in words.
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import type { LogRow } from '../../common/contract';
import type { WorkbenchClient } from './api/client';
import { StatusBar } from './App';
import { logGap } from './model/log-gap';
import { createWorkbenchStore, WorkbenchProvider } from './store';

const row = (id: number): LogRow => ({
  id, time: id, direction: 'received', socketId: 's1', family: 'ipv4',
  source: '127.0.0.1', destination: '127.0.0.1', protocol: 'ICMP', length: 44, info: `Echo reply seq=${id}`,
});

function statusText(rows: LogRow[], filter?: { direction: 'received' | 'sent' }) {
  const client = { onEvents: () => () => undefined } as unknown as WorkbenchClient;
  const store = createWorkbenchStore({ client, storage: null, saveFile: vi.fn(), nextFrame: (callback) => callback() });
  store.getState().log.append(rows);
  if (filter) store.getState().log.setFilter(filter);
  const html = renderToStaticMarkup(
    <WorkbenchProvider store={store}>
      <StatusBar />
    </WorkbenchProvider>,
  );
  return /Log: [^<]*/.exec(html.replace(/<!-- -->/g, ''))?.[0];
}

describe('status bar', () => {
  it('counts the packets shown and kept, not the markers; the rows not shown in words beside', () => {
    const rows = [row(0), row(1), row(2), logGap(3, 52, 50), row(53), row(54), logGap(55, 99, 45), row(100)];
    expect(statusText(rows)).toBe('Log: 6 shown / 6 kept (ring of 100,000) · 95 rows not shown (flood)');
    expect(statusText(rows, { direction: 'sent' })).toBe('Log: 0 shown / 6 kept (ring of 100,000) · 95 rows not shown (flood)');
    expect(statusText([row(0), logGap(1, 1, 1)])).toBe('Log: 1 shown / 1 kept (ring of 100,000) · 1 row not shown (flood)');
  });

  it('says nothing about rows not shown when there are none', () => {
    expect(statusText([row(0), row(1)])).toBe('Log: 2 shown / 2 kept (ring of 100,000)');
  });
});
