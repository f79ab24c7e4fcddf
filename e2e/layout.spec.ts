// Layout at the smallest supported window (1024x700) and a common one (1440x900), light and
// dark: no sideways page scroll, no region drawn over another (the run history holds 30 runs
// or more), every named control fully on screen once scrolled to inside its own region, and the
// resizable splits: dragged, moved with the keyboard, kept across a reload.
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';

const sizes = [
  { width: 1024, height: 700 },
  { width: 1440, height: 900 },
];

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** An element's box, and the part of it left once every clipping ancestor and the viewport cut it. */
function boxes(locator: Locator): Promise<{ full: Box; visible: Box; overflowX: number }> {
  return locator.evaluate((element) => {
    const r = element.getBoundingClientRect();
    const full = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    const visible = { ...full };
    const cut = (c: Box) => {
      visible.left = Math.max(visible.left, c.left);
      visible.top = Math.max(visible.top, c.top);
      visible.right = Math.min(visible.right, c.right);
      visible.bottom = Math.min(visible.bottom, c.bottom);
    };
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      const style = getComputedStyle(parent);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const p = parent.getBoundingClientRect();
      const left = p.left + parent.clientLeft;
      const top = p.top + parent.clientTop;
      cut({ left, top, right: left + parent.clientWidth, bottom: top + parent.clientHeight });
    }
    cut({ left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight });
    // Text wider than its own box (cut off by an ellipsis, or running into the next one).
    return { full, visible, overflowX: element.scrollWidth - element.clientWidth };
  });
}

async function expectNoPageScroll(app: Page, where: string) {
  const page = await app.evaluate(() => ({ width: document.scrollingElement!.scrollWidth, height: document.scrollingElement!.scrollHeight, innerWidth, innerHeight }));
  expect(page.width, `${where}: the page scrolls sideways`).toBeLessThanOrEqual(page.innerWidth);
  expect(page.height, `${where}: the page scrolls down`).toBeLessThanOrEqual(page.innerHeight);
}

/** Each control, scrolled into view inside its region, is whole: not cut by a pane, a scroll box or the window. */
async function expectWhole(controls: Record<string, Locator>, where: string) {
  for (const [name, control] of Object.entries(controls)) {
    await control.scrollIntoViewIfNeeded();
    const { full, visible, overflowX } = await boxes(control);
    const what = `${where}: ${name}`;
    expect(full.right - full.left, `${what} has no width`).toBeGreaterThan(0);
    expect(visible.left, `${what} is cut on the left`).toBeLessThanOrEqual(full.left + 1);
    expect(visible.right, `${what} is cut on the right`).toBeGreaterThanOrEqual(full.right - 1);
    expect(visible.top, `${what} is cut at the top`).toBeLessThanOrEqual(full.top + 1);
    expect(visible.bottom, `${what} is cut at the bottom`).toBeGreaterThanOrEqual(full.bottom - 1);
    expect(overflowX, `${what}: its text is wider than its box`).toBeLessThanOrEqual(1);
  }
}

/** No two of these regions share a pixel as drawn (nested ones are not compared). */
async function expectApart(app: Page, regions: Record<string, Locator>, where: string) {
  const entries = Object.entries(regions);
  const drawn = await Promise.all(entries.map(async ([, region]) => (await boxes(region)).visible));
  const handles = await Promise.all(entries.map(([, region]) => region.elementHandle()));
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const nested = await app.evaluate(([a, b]) => a!.contains(b!) || b!.contains(a!), [handles[i], handles[j]] as const);
      if (nested) continue;
      const a = drawn[i];
      const b = drawn[j];
      const width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      expect(width > 1 && height > 1, `${where}: ${entries[i][0]} overlaps ${entries[j][0]} (${Math.round(width)}x${Math.round(height)} px)`).toBe(false);
    }
  }
}

/** A table that must fit its region at every supported size: no sideways scrolling needed. */
async function expectFits(region: Locator, where: string) {
  const { overflowX } = await boxes(region);
  expect(overflowX, `${where} needs sideways scrolling`).toBeLessThanOrEqual(1);
}

/** At least `wanted` runs in the history: quick pings to 127.0.0.1 started through the engine API. */
async function fillHistory(app: Page, wanted: number) {
  await app.evaluate(async (wanted) => {
    const store = (window as unknown as { __workbench: { getState(): any } }).__workbench;
    const experiments = () => store.getState().experiments;
    await experiments().load();
    experiments().setPingForm({ target: '127.0.0.1', count: '1', interval: '10', timeout: '1000' });
    for (let runs = experiments().runs.length; runs < wanted; runs++) await experiments().startPing();
  }, wanted);
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const runs = app.getByRole('table', { name: 'Runs' }).getByRole('row');
  await expect.poll(() => runs.count()).toBeGreaterThan(wanted);
  await expect(app.getByRole('table', { name: 'Runs' }).getByRole('cell', { name: 'running', exact: true })).toHaveCount(0);
}

for (const size of sizes) {
  for (const theme of ['light', 'dark'] as const) {
    test(`every panel fits ${size.width}x${size.height} (${theme}) with 30 runs in the history`, async ({ app }) => {
      await app.setViewportSize(size);
      await app.getByLabel('Theme').selectOption(theme);
      const at = (panel: string) => `${panel} at ${size.width}x${size.height} ${theme}`;
      const status = app.getByRole('contentinfo', { name: 'Status' });

      // Experiments: 30+ runs, a 10-packet ping on show and a traceroute with its hop table.
      await fillHistory(app, 30);
      await app.getByLabel('Ping target').fill('127.0.0.1');
      await app.getByLabel('Ping count').fill('10');
      await app.getByLabel('Interval').fill('20');
      await app.getByRole('button', { name: 'Start ping' }).click();
      await app.getByLabel('Traceroute target').fill('127.0.0.1');
      await app.getByRole('button', { name: 'Start traceroute' }).click();
      await expect(app.getByLabel('Transmitted', { exact: true })).toHaveText('10');
      await expect(app.getByRole('table', { name: 'Hops' }).getByRole('row')).toHaveCount(2);
      await expectNoPageScroll(app, at('Experiments'));
      await expectApart(
        app,
        {
          Ping: app.getByRole('region', { name: 'Ping', exact: true }),
          Traceroute: app.getByRole('region', { name: 'Traceroute', exact: true }),
          'ping replies': app.getByRole('region', { name: 'Ping replies, scrollable' }),
          'RTT chart': app.getByRole('img', { name: /^Round-trip times of / }),
          hops: app.getByRole('table', { name: 'Hops' }),
          'run history': app.getByRole('region', { name: 'Run history' }),
          runs: app.getByRole('region', { name: 'Runs, scrollable' }),
          divider: app.getByRole('separator', { name: 'Resize runs and history' }),
          status,
        },
        at('Experiments'),
      );
      const terms = Object.fromEntries(['Transmitted', 'Received', 'Loss', 'Min', 'Avg', 'Max', 'Mdev'].map((name) => [`statistic ${name}`, app.getByRole('term').filter({ hasText: new RegExp(`^${name}$`) })]));
      await expectWhole(
        {
          ...terms,
          'Ping target': app.getByLabel('Ping target'),
          'Ping mode': app.getByLabel('Ping mode'),
          'Start ping': app.getByRole('button', { name: 'Start ping' }),
          'Traceroute target': app.getByLabel('Traceroute target'),
          'Probe kind': app.getByLabel('Probe kind'),
          'Traceroute mode': app.getByLabel('Traceroute mode'),
          'Start traceroute': app.getByRole('button', { name: 'Start traceroute' }),
          'Answer column': app.getByRole('table', { name: 'Hops' }).getByRole('columnheader', { name: 'Answer' }),
          'Export history': app.getByRole('button', { name: 'Export history (JSON)' }),
          'Actions column': app.getByRole('table', { name: 'Runs' }).getByRole('columnheader', { name: 'Actions' }),
          'oldest Export': app.getByRole('table', { name: 'Runs' }).getByRole('button', { name: /^Export run-/ }).last(),
          divider: app.getByRole('separator', { name: 'Resize runs and history' }),
        },
        at('Experiments'),
      );
      await expectFits(app.getByRole('region', { name: 'Hops, scrollable' }), at('the hop table'));
      await expectFits(app.getByRole('region', { name: 'Runs, scrollable' }), at('the run history'));

      // Build & send, after a send so the response pane and the job table are filled.
      await app.getByRole('tab', { name: 'Build & send' }).click();
      await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
      await app.getByRole('button', { name: 'Load template' }).click();
      await app.getByLabel('Target address').fill('127.0.0.1');
      await app.getByRole('button', { name: 'Send', exact: true }).click();
      await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
      await expectNoPageScroll(app, at('Build & send'));
      await expectApart(
        app,
        {
          tools: app.getByRole('toolbar', { name: 'Packet editor tools' }),
          layers: app.getByLabel('Layers', { exact: true }),
          bytes: app.getByRole('region', { name: 'Packet bytes' }),
          send: app.getByRole('region', { name: 'Send', exact: true }),
          divider: app.getByRole('separator', { name: 'Resize editor and send panes' }),
          status,
        },
        at('Build & send'),
      );
      await expectWhole(
        {
          Template: app.getByLabel('Template'),
          'Load template': app.getByRole('button', { name: 'Load template' }),
          'Add layer': app.getByRole('button', { name: 'Add layer' }),
          Saved: app.getByLabel('Saved'),
          'Delete saved': app.getByRole('button', { name: 'Delete saved' }),
          'IPv4 Time to live': app.getByLabel('IPv4 Time to live', { exact: true }),
          'ICMP Sequence number': app.getByLabel('ICMP Sequence number', { exact: true }),
          'packet hex': app.getByRole('grid', { name: 'Packet hex' }),
          'packet as hex': app.getByLabel('Packet as hex (paste a whole packet)'),
          'Target address': app.getByLabel('Target address'),
          'socket selector': app.getByLabel('Socket', { exact: true }),
          Send: app.getByRole('button', { name: 'Send', exact: true }),
          divider: app.getByRole('separator', { name: 'Resize editor and send panes' }),
        },
        at('Build & send'),
      );
      await expectFits(app.getByRole('grid', { name: 'Packet hex' }), at('the editor hex view (offset, bytes and ASCII)'));

      // Log, with a packet decoded below the list.
      await app.getByRole('tab', { name: 'Log' }).click();
      const grid = app.getByRole('grid', { name: 'Packets' });
      // The newest row: under other traffic on this host an older one may have left the ring.
      await expect(async () => {
        await grid.getByRole('row').last().click();
        await expect(app.getByRole('tree', { name: 'Decoded packet' })).toBeVisible({ timeout: 2000 });
      }).toPass({ timeout: 15_000 });
      await expectNoPageScroll(app, at('Log'));
      await expectApart(
        app,
        {
          'display filter': app.getByRole('search', { name: 'Display filter' }),
          'log filter': app.getByRole('toolbar', { name: 'Log filter' }),
          'log actions': app.getByRole('toolbar', { name: 'Log actions' }),
          packets: grid,
          details: app.getByRole('region', { name: 'Packet details' }),
          bytes: app.getByRole('region', { name: 'Packet bytes' }),
          divider: app.getByRole('separator', { name: 'Resize packet list and details' }),
          status,
        },
        at('Log'),
      );
      await expectWhole(
        {
          'Display filter': app.getByRole('combobox', { name: 'Display filter' }),
          'Search log': app.getByLabel('Search log'),
          'Clear log': app.getByRole('button', { name: 'Clear log' }),
          'Import pcapng': app.getByRole('button', { name: 'Import pcapng…' }),
          'Info column': grid.getByRole('columnheader', { name: 'Info' }),
          'Send again': app.getByRole('button', { name: 'Send again…' }),
          'packet hex': app.getByRole('grid', { name: 'Packet hex' }),
          divider: app.getByRole('separator', { name: 'Resize packet list and details' }),
        },
        at('Log'),
      );
      await expectFits(grid, at('the packet list'));
      await expectFits(app.getByRole('grid', { name: 'Packet hex' }), at('the log hex view (offset, bytes and ASCII)'));

      // Sockets, with a socket's options open.
      await app.getByRole('tab', { name: 'Sockets' }).click();
      await app.getByRole('button', { name: 'Open socket' }).click();
      const sockets = app.getByRole('table', { name: 'Open sockets' });
      const options = sockets.getByRole('button', { name: /^Options of / }).last();
      await options.click();
      await expect(app.getByRole('region', { name: /^Options of / })).toBeVisible();
      await expectNoPageScroll(app, at('Sockets'));
      await expectApart(
        app,
        {
          'open form': app.getByRole('form', { name: 'Open a socket' }),
          sockets: app.getByRole('region', { name: 'Open sockets, scrollable' }),
          options: app.getByRole('region', { name: /^Options of / }),
          status,
        },
        at('Sockets'),
      );
      await expectWhole(
        {
          Family: app.getByLabel('Family'),
          'Socket mode': app.getByLabel('Socket mode'),
          'Capture filter': app.getByLabel('Capture filter', { exact: true }),
          'Open socket': app.getByRole('button', { name: 'Open socket' }),
          'Close all': app.getByRole('button', { name: /^Close all / }),
          'Actions column': sockets.getByRole('columnheader', { name: 'Actions' }),
          Options: options,
          'Pause receive': sockets.getByRole('button', { name: /^(Pause|Resume) receive on / }).last(),
          Close: sockets.getByRole('button', { name: /^Close socket-/ }).last(),
        },
        at('Sockets'),
      );
      await expectFits(app.getByRole('region', { name: 'Open sockets, scrollable' }), at('the socket table'));
      await app.getByRole('button', { name: `Close ${(await options.getAttribute('aria-label'))!.replace('Options of ', '')}` }).click();
    });
  }
}

test('the splits move by drag and by keyboard, reset, and keep their place across a reload', async ({ app }) => {
  await app.setViewportSize(sizes[0]);
  await app.getByRole('tab', { name: 'Build & send' }).click();
  const divider = app.getByRole('separator', { name: 'Resize editor and send panes' });
  await expect(divider).toHaveAttribute('aria-orientation', 'vertical');
  const initial = Number(await divider.getAttribute('aria-valuenow'));
  const layers = app.getByLabel('Layers', { exact: true });
  const widthBefore = (await layers.boundingBox())!.width;

  // Drag 100 px to the left: the layers get about 100 px less, the send column more.
  const box = (await divider.boundingBox())!;
  await app.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await app.mouse.down();
  await app.mouse.move(box.x + box.width / 2 - 50, box.y + box.height / 2, { steps: 3 });
  await app.mouse.move(box.x + box.width / 2 - 100, box.y + box.height / 2, { steps: 3 });
  await app.mouse.up();
  const dragged = Number(await divider.getAttribute('aria-valuenow'));
  expect(dragged).toBeGreaterThanOrEqual(initial - 11);
  expect(dragged).toBeLessThanOrEqual(initial - 9);
  expect((await layers.boundingBox())!.width).toBeLessThan(widthBefore - 90);
  expect((await layers.boundingBox())!.width).toBeGreaterThan(widthBefore - 110);

  // Keyboard: each arrow is 2 %, End gives the layers the most room the send pane allows, Home resets.
  await divider.focus();
  await app.keyboard.press('ArrowRight');
  await app.keyboard.press('ArrowRight');
  await expect(divider).toHaveAttribute('aria-valuenow', String(dragged + 4));
  await app.keyboard.press('End');
  await expect(divider).toHaveAttribute('aria-valuenow', (await divider.getAttribute('aria-valuemax'))!);
  await divider.dblclick();
  await expect(divider).toHaveAttribute('aria-valuenow', String(initial));
  await app.keyboard.press('ArrowRight');
  await app.keyboard.press('Home');
  await expect(divider).toHaveAttribute('aria-valuenow', String(initial));
  await app.keyboard.press('ArrowLeft');
  await app.keyboard.press('Shift+ArrowLeft');
  const kept = initial - 12;
  await expect(divider).toHaveAttribute('aria-valuenow', String(kept));

  // The log's split is stacked: up and down arrows move it.
  await app.getByRole('tab', { name: 'Log' }).click();
  const logDivider = app.getByRole('separator', { name: 'Resize packet list and details' });
  await expect(logDivider).toHaveAttribute('aria-orientation', 'horizontal');
  const logInitial = Number(await logDivider.getAttribute('aria-valuenow'));
  await logDivider.focus();
  await app.keyboard.press('Shift+ArrowUp');
  await expect(logDivider).toHaveAttribute('aria-valuenow', String(logInitial - 10));
  // A pane never gets smaller than its minimum: the list keeps its 120 px.
  for (let i = 0; i < 10; i++) await app.keyboard.press('Shift+ArrowUp');
  expect((await app.getByRole('grid', { name: 'Packets' }).boundingBox())!.height).toBeGreaterThanOrEqual(119);

  await app.reload();
  await expect(app.getByRole('tab', { name: 'Log' })).toHaveAttribute('aria-selected', 'true');
  await expect(logDivider).toHaveAttribute('aria-valuenow', (await logDivider.getAttribute('aria-valuemin'))!);
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await expect(divider).toHaveAttribute('aria-valuenow', String(kept));
});
