// The log's display filter: field names completed from the packet model, the filter applied to
// the virtualized log by the engine, and a bad filter explained in red with its position.
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';

async function ping(app: Page, target: string, count: number) {
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const panel = app.getByRole('region', { name: 'Ping' });
  await panel.getByLabel('Ping target').fill(target);
  await panel.getByLabel('Ping count').fill(String(count));
  await panel.getByLabel('Interval').fill('50');
  await panel.getByRole('button', { name: 'Start ping' }).click();
  await expect(panel.getByLabel('Received', { exact: true })).toHaveText(String(count));
}

test('icmp.type == 0 shows only the echo replies of a ping to 127.0.0.1', async ({ app }) => {
  await ping(app, '127.0.0.1', 4);
  await app.getByRole('tab', { name: 'Log' }).click();
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('row', { name: /Echo request/ }).first()).toBeVisible();
  const box = app.getByRole('combobox', { name: 'Display filter' });
  await box.fill('icmp.type == 0');
  await expect(box).toHaveAttribute('aria-invalid', 'false');
  await expect(grid.getByRole('row', { name: /Echo request/ })).toHaveCount(0);
  const replies = grid.getByRole('row', { name: /received .*Echo reply/ });
  await expect(replies.first()).toBeVisible();
  expect(await replies.count()).toBeGreaterThanOrEqual(4);
  // Every row shown is a reply: the header row plus the replies, nothing else.
  const shown = await grid.getByRole('row').count();
  expect(shown).toBe((await replies.count()) + 1);
  // And back: clearing the filter shows the requests again.
  await box.fill('');
  await box.press('Enter');
  await expect(grid.getByRole('row', { name: /Echo request/ }).first()).toBeVisible();
});

test('a bad filter is explained in red with its position, and the log keeps the last good one', async ({ app }) => {
  await ping(app, '127.0.0.1', 2);
  await app.getByRole('tab', { name: 'Log' }).click();
  const grid = app.getByRole('grid', { name: 'Packets' });
  const box = app.getByRole('combobox', { name: 'Display filter' });
  await box.fill('icmp.type == 8');
  await box.press('Enter');
  await expect(grid.getByRole('row', { name: /Echo reply/ })).toHaveCount(0);
  await box.fill('icmp.tpye == 0');
  const error = app.getByRole('alert').filter({ hasText: 'Unknown field' });
  await expect(error).toContainText("Unknown field 'icmp.tpye'; did you mean icmp.type? (column 1");
  await expect(error.locator('mark')).toHaveText('icmp.tpye');
  await expect(box).toHaveAttribute('aria-invalid', 'true');
  await expect(error).toHaveCSS('color', /rgb\((198, 40, 40|255, 123, 114)\)/);
  // Still the requests-only view of the last filter that compiled.
  await expect(grid.getByRole('row', { name: /Echo request/ }).first()).toBeVisible();
  await expect(grid.getByRole('row', { name: /Echo reply/ })).toHaveCount(0);
  await box.fill('ip.src == 300.1.1.1');
  await expect(app.getByRole('alert').filter({ hasText: 'above 255' })).toContainText('column 11');
  await box.fill('');
  await box.press('Enter');
  await expect(app.getByRole('alert').filter({ hasText: 'display filter' })).toHaveCount(0);
  await expect(box).toHaveAttribute('aria-invalid', 'false');
});

test('field names complete from the packet model in a listbox', async ({ app }) => {
  await app.getByRole('tab', { name: 'Log' }).click();
  const box = app.getByRole('combobox', { name: 'Display filter' });
  await box.fill('');
  await box.pressSequentially('ipv6.hl');
  const list = app.getByRole('listbox', { name: 'Display filter fields' });
  await expect(list.getByRole('option', { name: /^ipv6\.hlim/ })).toBeVisible();
  await expect(box).toHaveAttribute('aria-expanded', 'true');
  await box.press('Enter');
  await expect(box).toHaveValue('ipv6.hlim');
  await expect(list).toHaveCount(0);
  await box.fill('');
  await box.pressSequentially('tcp.flags.s');
  await box.press('ArrowDown');
  await expect(list.getByRole('option', { selected: true })).toBeVisible();
  await box.press('Escape');
  await expect(list).toHaveCount(0);
  await box.fill('');
  await box.press('Enter');
});
