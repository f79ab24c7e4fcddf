// The workbench at its smallest supported window (1024x700) with a lab up: the status bar
// stays one line (its longer parts cut with an ellipsis, the whole text in their description),
// the Lab diagram says the filtered lab's rules in words, and with the lesson pane open the
// editor's field table (about 760 px) reflows instead of running over its headings.
import type { Locator } from '@playwright/test';
import { isLabSupported, labSupport } from '../main/lab';
import { expect, test } from './fixtures';

/** Boxes of an element's children that take room (top, bottom, left, right). */
function childBoxes(locator: Locator) {
  return locator.evaluate((element) =>
    [...element.children]
      .map((child) => child.getBoundingClientRect())
      .filter((r) => r.width > 0 && r.height > 0)
      .map((r) => ({ top: r.top, bottom: r.bottom, left: r.left, right: r.right })),
  );
}

test('1024x700, filtered lab up, acting from client: one-line status bar, rules in words', async ({ app }, testInfo) => {
  test.skip(!isLabSupported(), `namespace labs unavailable: ${labSupport().reason}`);
  test.skip(testInfo.project.name === 'electron', 'labs need root: the Electron app runs as a test user, the browser host as root');
  test.setTimeout(150_000);
  await app.setViewportSize({ width: 1024, height: 700 });
  await app.getByRole('tab', { name: 'Lab' }).click();
  const state = app.getByRole('status', { name: 'Lab state', exact: true });
  if ((await state.textContent())?.startsWith('up')) await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText('down', { timeout: 30_000 });
  await app.getByLabel('Topology', { exact: true }).selectOption('filtered');
  await app.getByRole('button', { name: 'Start lab' }).click();
  await expect(state).toHaveText(/^up since \d\d:\d\d:\d\d$/, { timeout: 90_000 });
  const diagram = app.getByRole('group', { name: 'Diagram of lab filtered' });
  await diagram.getByRole('button', { name: 'client host', exact: true }).click();

  // The rules, in the drawing and in the table beside the links.
  await expect(diagram.getByText('r1: Time Exceeded dropped (silent hop)', { exact: true })).toBeVisible();
  await expect(diagram.getByText('r2: rejects UDP with admin-prohibited (!X)', { exact: true })).toBeVisible();
  const rules = app.getByRole('table', { name: 'Host rules of lab filtered' });
  await expect(rules.getByRole('row', { name: /^r1 / })).toHaveText(/Time Exceeded dropped \(silent hop\)/);
  await expect(rules.getByRole('row', { name: /^r2 / })).toHaveText(/rejects UDP with admin-prohibited \(!X\)/);

  // The status bar: every part on one line, the lab's summary said whole to assistive technology.
  const status = app.getByRole('contentinfo', { name: 'Status' });
  const summary = status.getByRole('status', { name: 'Lab summary' });
  await expect(summary).toHaveAccessibleDescription(/filtered up · acting from client/);
  const parts = await childBoxes(status);
  const bar = (await status.boundingBox())!;
  expect(parts.length).toBeGreaterThan(4);
  for (const part of parts) {
    expect(part.top, `a status part on a second line: ${JSON.stringify(part)}`).toBeLessThan(parts[0].bottom);
    expect(part.right, 'a status part past the window').toBeLessThanOrEqual(1024);
  }
  expect(bar.height, 'the status bar is one line').toBeLessThan(32);

  // Rows seen on a lab host bring the Log's Host column: the packet list still fits 1024 px.
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const ping = app.getByRole('region', { name: 'Ping' });
  await ping.getByLabel('Ping target').fill('127.0.0.1');
  await ping.getByLabel('Ping count').fill('2');
  await ping.getByLabel('Interval').fill('50');
  await ping.getByRole('button', { name: 'Start ping' }).click();
  await expect(ping.getByLabel('Received', { exact: true })).toHaveText('2');
  await app.getByRole('tab', { name: 'Log' }).click();
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('columnheader', { name: 'Host' })).toBeVisible();
  const { scrollWidth, clientWidth } = await grid.evaluate((element) => ({ scrollWidth: element.scrollWidth, clientWidth: element.clientWidth }));
  expect(scrollWidth - clientWidth, 'the packet list needs sideways scrolling with the Host column').toBeLessThanOrEqual(1);

  await app.getByRole('tab', { name: 'Lab' }).click();
  await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText('down', { timeout: 30_000 });
});

test('1024x700 with the lesson pane open: the editor field tables keep every value, switch and bit range inside its column', async ({ app }) => {
  await app.setViewportSize({ width: 1024, height: 700 });
  await app.getByRole('tab', { name: 'Build & send' }).click();
  const toggle = app.getByRole('button', { name: 'Lesson', exact: true });
  if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click();
  await expect(app.getByRole('complementary', { name: 'Lesson' })).toBeVisible();
  await app.getByLabel('Template').selectOption({ index: 1 });
  const layers = app.getByLabel('Layers').getByRole('table');
  expect(await layers.count()).toBeGreaterThan(0);
  for (const table of await layers.all()) {
    // Every heading whole, and every cell's content (inputs, helpers, switches, words) inside its cell's box.
    const problems = await table.evaluate((element) => {
      const found: string[] = [];
      for (const cell of element.querySelectorAll('th, td')) {
        // A narrow layer folds its Decoded column into the value cell: that column is not shown at all.
        if (getComputedStyle(cell).display === 'none') continue;
        const box = cell.getBoundingClientRect();
        if (cell.closest('thead') && cell.scrollWidth > cell.clientWidth + 1) found.push(`heading "${cell.textContent}" cut (${cell.scrollWidth} > ${cell.clientWidth})`);
        for (const child of cell.querySelectorAll('input, select, button, label, span')) {
          const r = child.getBoundingClientRect();
          if (r.width === 0) continue;
          if (r.right > box.right + 1 || r.left < box.left - 1) found.push(`${child.tagName.toLowerCase()} "${child.getAttribute('aria-label') ?? child.textContent}" runs out of its cell (${r.left}..${r.right} not in ${box.left}..${box.right})`);
        }
      }
      return found;
    });
    expect(problems, (await table.locator('xpath=..').getAttribute('aria-label')) ?? 'a layer').toEqual([]);
  }
  // The Field, Value, Auto and Bits headings are there and whole; decoded words still read beside each value.
  const first = layers.first();
  for (const name of ['Field', 'Value', 'Auto', 'Bits']) await expect(first.getByRole('columnheader', { name, exact: true })).toBeVisible();
  await expect(first.getByRole('row', { name: /Time to live/ })).toContainText('64');
  await app.screenshot({ path: '/tmp/pw10-h14/editor-1024-lesson.png' });
});
