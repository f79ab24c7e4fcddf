// mtr and path-MTU discovery in the Experiments panel, on loopback: mtr's live table
// (Loss%, Snt, Last, Avg, Best, Wrst, StDev) fills while cycles run and stops on demand;
// path MTU discovery shows each line and the path MTU; both land in the history; both
// fit a 1024x700 window without sideways scrolling.
import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';

const loMtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));

async function openView(app: Page, tab: 'mtr' | 'Path MTU'): Promise<void> {
  await app.getByRole('tab', { name: 'Experiments' }).click();
  await app.getByRole('tablist', { name: 'Route experiment' }).getByRole('tab', { name: tab, exact: true }).click();
}

/** Neither the page nor this region needs sideways scrolling. */
async function expectFits(app: Page, region: Locator, where: string): Promise<void> {
  const overflow = await region.evaluate((element) => element.scrollWidth - element.clientWidth);
  expect(overflow, `${where} needs sideways scrolling`).toBeLessThanOrEqual(1);
  const page = await app.evaluate(() => ({ width: document.scrollingElement!.scrollWidth, innerWidth }));
  expect(page.width, `${where}: the page scrolls sideways`).toBeLessThanOrEqual(page.innerWidth);
}

test('mtr: a live table with mtr columns, 5 cycles to 127.0.0.1 without loss', async ({ app }) => {
  await app.setViewportSize({ width: 1024, height: 700 });
  await openView(app, 'mtr');
  const mtr = app.getByRole('region', { name: 'mtr', exact: true });
  await mtr.getByLabel('mtr target').fill('127.0.0.1');
  await mtr.getByLabel('Cycles').fill('5');
  await mtr.getByLabel('Cycle interval').fill('200');
  await mtr.getByRole('button', { name: 'Start mtr' }).click();
  const table = mtr.getByRole('table', { name: 'mtr hops' });
  await expect(table.getByRole('columnheader')).toHaveText(['Hop', 'Host', 'Loss%', 'Snt', 'Last', 'Avg', 'Best', 'Wrst', 'StDev']);
  const row = table.getByRole('row').nth(1);
  // Live: the count climbs cycle by cycle before the run ends.
  await expect(row.getByRole('cell').nth(3)).toHaveText(/^[1-4]$/, { timeout: 10_000 });
  await expect(mtr.getByText(/ · done · 5 cycles, target 1: 0\.0% loss, avg [\d.]+ ms$/)).toBeVisible({ timeout: 15_000 });
  await expect(table.getByRole('row')).toHaveCount(2);
  const cells = row.getByRole('cell');
  await expect(cells.nth(0)).toHaveText('1');
  await expect(cells.nth(1)).toHaveText('127.0.0.1');
  await expect(cells.nth(2)).toHaveText('0.0');
  await expect(cells.nth(3)).toHaveText('5');
  for (let i = 4; i <= 8; i++) await expect(cells.nth(i)).toHaveText(/^\d+\.\d+$/);
  await expect(mtr.getByRole('progressbar', { name: 'mtr cycles done' })).toHaveAttribute('value', '5');
  await expectFits(app, mtr.getByRole('region', { name: 'mtr hops, scrollable' }), 'mtr at 1024x700');
  const latest = app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1);
  await expect(latest.getByRole('cell').nth(1)).toHaveText('mtr');
  await expect(latest.getByRole('cell').nth(7)).toHaveText(/^5 cycles, target 1: 0\.0% loss/);
});

test('mtr: Stop ends a long run, and its counts stay whole', async ({ app }) => {
  await openView(app, 'mtr');
  const mtr = app.getByRole('region', { name: 'mtr', exact: true });
  await mtr.getByLabel('mtr target').fill('::1');
  await mtr.getByLabel('Cycles').fill('1000');
  await mtr.getByLabel('Cycle interval').fill('100');
  await mtr.getByRole('button', { name: 'Start mtr' }).click();
  const sent = mtr.getByRole('table', { name: 'mtr hops' }).getByRole('row').nth(1).getByRole('cell').nth(3);
  await expect(sent).toHaveText(/^([3-9]|\d\d+)$/, { timeout: 15_000 });
  await mtr.getByRole('button', { name: 'Stop mtr' }).click();
  await expect(mtr.getByText(/ · stopped · \d+ cycles, target 1: 0\.0% loss/)).toBeVisible();
  await expect(mtr.getByRole('button', { name: 'Start mtr' })).toBeEnabled();
});

test('path MTU discovery to ::1 shows the local MTU, the hop, and the path MTU', async ({ app }) => {
  await app.setViewportSize({ width: 1024, height: 700 });
  await openView(app, 'Path MTU');
  const pmtu = app.getByRole('region', { name: 'Path MTU', exact: true });
  await pmtu.getByLabel('Path MTU target').fill('::1');
  await pmtu.getByRole('button', { name: 'Start path MTU discovery' }).click();
  await expect(pmtu.getByLabel('Path MTU', { exact: true })).toHaveText(`${loMtu} bytes`, { timeout: 15_000 });
  await expect(pmtu.getByLabel('Target', { exact: true })).toHaveText('reached');
  const rows = pmtu.getByRole('table', { name: 'Path MTU hops' }).getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1).getByRole('cell')).toHaveText(['1', '[this host]', String(loMtu), '', 'local interface MTU']);
  await expect(rows.nth(2).getByRole('cell').nth(1)).toHaveText('::1');
  await expect(rows.nth(2).getByRole('cell').nth(4)).toHaveText('reached');
  await expectFits(app, pmtu.getByRole('region', { name: 'Path MTU hops, scrollable' }), 'path MTU at 1024x700');
  const latest = app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1);
  await expect(latest.getByRole('cell').nth(1)).toHaveText('pmtu');
  await expect(latest.getByRole('cell').nth(7)).toHaveText(`reached after 1 hop, path MTU ${loMtu}`);
  // Bad input names the field, and nothing starts.
  await pmtu.getByLabel('Max hops').fill('99');
  await pmtu.getByRole('button', { name: 'Start path MTU discovery' }).click();
  await expect(pmtu.getByRole('alert')).toHaveText('Max hops must be from 1 to 64, not 99');
  await expect(pmtu.getByLabel('Max hops')).toHaveAttribute('aria-invalid', 'true');
});
