// A reload keeps the editor's packet, the saved packets, the panel on screen and the theme;
// stored data that is not ours is ignored.
import { E2E_TOKEN } from '../playwright.config';
import { expect, test } from './fixtures';

test('the edited packet, saved packets, panel and theme survive a reload', async ({ app }) => {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMPv6 echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMPv6 Sequence number', { exact: true }).fill('4242');
  await app.getByLabel('Save as').fill('kept-v6');
  await app.getByLabel('Save as').press('Enter');
  await app.getByLabel('Theme').selectOption('dark');
  await app.getByRole('tab', { name: 'Experiments' }).click();

  await app.reload();
  await expect(app.getByRole('tab', { name: 'Experiments' })).toHaveAttribute('aria-selected', 'true');
  await expect(app.getByLabel('Theme')).toHaveValue('dark');
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await expect(app.getByLabel('ICMPv6 Sequence number', { exact: true })).toHaveValue('4242');
  await expect(app.getByLabel('Saved').getByRole('option', { name: 'kept-v6' })).toHaveCount(1);
});

test('stored data that is not ours is ignored: the app starts as new', async ({ app }) => {
  await app.evaluate(() => {
    localStorage.setItem('workbench.editor.draft', '{"v":1,"data":[{"kind":"nonsense"}]}');
    localStorage.setItem('workbench.panel', 'not json');
  });
  await app.goto(`/?token=${E2E_TOKEN}`);
  await expect(app.getByRole('tab', { name: 'Build & send' })).toHaveAttribute('aria-selected', 'true');
  await expect(app.getByLabel('IPv4 Time to live', { exact: true })).toBeVisible();
});

test('"Clear log" can be undone until the next clear', async ({ app }) => {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
  await app.getByRole('tab', { name: 'Log' }).click();
  const grid = app.getByRole('grid', { name: 'Packets' });
  const sent = grid.getByRole('row', { name: /sent .*Echo request/ });
  await expect(sent.first()).toBeVisible();
  const before = await sent.count();

  await app.getByRole('button', { name: 'Clear log' }).click();
  await expect(sent).toHaveCount(0);
  const notice = app.getByRole('status', { name: 'Log cleared' });
  await notice.getByRole('button', { name: 'Undo clear' }).click();
  await expect(notice).toHaveCount(0);
  await expect(sent).toHaveCount(before);
  // The row decodes again: the engine kept its bytes.
  await sent.first().click();
  await expect(app.getByRole('tree', { name: 'Decoded packet' }).getByRole('treeitem', { name: /^Type: Echo .*\(8\)$/ })).toBeVisible();
  // Once undone there is nothing more to undo until the next clear.
  await app.getByRole('button', { name: 'Clear log' }).click();
  await expect(notice.getByRole('button', { name: 'Undo clear' })).toBeVisible();
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toHaveCount(0);
});
