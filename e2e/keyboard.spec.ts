// Every action without the mouse, and a name on every control a screen reader or a test
// would look for.
import type { Locator, Page } from '@playwright/test';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

/** Presses Tab (or Shift+Tab) until `target` has focus; fails after `max` presses. */
async function tabTo(page: Page, target: Locator, { back = false, max = 150 } = {}): Promise<number> {
  for (let presses = 0; presses <= max; presses++) {
    if (await target.evaluate((element) => element === document.activeElement)) return presses;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  const focused = await page.evaluate(() => {
    const element = document.activeElement;
    return element ? `${element.tagName} ${element.getAttribute('aria-label') ?? element.textContent?.slice(0, 40)}` : 'nothing';
  });
  throw new Error(`${max} presses of ${back ? 'Shift+Tab' : 'Tab'} never reached ${target}; focus is on ${focused}`);
}

/** Replaces the text of the focused input with the keyboard. */
async function typeOver(page: Page, text: string) {
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}

test('keyboard only: load the echo template, set the target, send, open the newest log row and walk its decode tree', async ({ app }) => {
  const id = uniqueIdentifier();
  // Panels by their shortcut; the tab itself takes focus.
  await app.keyboard.press('Alt+2');
  await expect(app.getByRole('tab', { name: 'Log' })).toBeFocused();
  await app.keyboard.press('Alt+1');
  const editorTab = app.getByRole('tab', { name: 'Build & send' });
  await expect(editorTab).toBeFocused();
  await expect(editorTab).toHaveAttribute('aria-selected', 'true');

  // Template: a different one first, then ICMP echo, chosen with the arrow keys.
  const template = app.getByLabel('Template', { exact: true });
  await tabTo(app, template);
  await app.keyboard.press('End');
  await expect(template).toHaveValue('bad-checksum');
  await app.keyboard.press('Home');
  await expect(template).toHaveValue('icmp-echo');
  await app.keyboard.press('Tab');
  await expect(app.getByRole('button', { name: 'Load template' })).toBeFocused();
  await app.keyboard.press('Enter');

  // The identifier, so this test's packets can be told from others in the log.
  await tabTo(app, app.getByLabel('ICMP Identifier', { exact: true }));
  await typeOver(app, hex4(id));
  // The ICMP type through its name list (arrow keys), then back to Echo Request.
  const typeName = app.getByLabel('ICMP Type name');
  await tabTo(app, typeName, { back: true });
  await app.keyboard.press('ArrowUp');
  await expect(app.getByLabel('ICMP Type', { exact: true })).not.toHaveValue('8');
  await app.keyboard.press('ArrowDown');
  await expect(app.getByLabel('ICMP Type', { exact: true })).toHaveValue('8');
  // An automatic field switched by hand and back with Space.
  const auto = app.getByLabel('ICMP Checksum automatic');
  await tabTo(app, auto);
  await app.keyboard.press('Space');
  await expect(auto).not.toBeChecked();
  await app.keyboard.press('Space');
  await expect(auto).toBeChecked();

  // Target, then Enter sends (the form's submit).
  await tabTo(app, app.getByLabel('Target address'));
  await typeOver(app, '127.0.0.1');
  await app.keyboard.press('Enter');
  const job = app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1);
  await expect(job).toContainText('127.0.0.1');
  await expect(job).toContainText('done');

  // The log: narrow it to this identifier, then End selects the newest row.
  await app.keyboard.press('Alt+2');
  await expect(app.getByRole('tab', { name: 'Log' })).toHaveAttribute('aria-selected', 'true');
  await tabTo(app, app.getByLabel('Search log'));
  await app.keyboard.type(`id=${hex4(id)}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('row', { name: /received .*Echo reply/ }).first()).toBeVisible();
  await tabTo(app, grid);
  await app.keyboard.press('End');
  const rows = grid.getByRole('row');
  const newest = rows.last();
  await expect(newest).toHaveAttribute('aria-selected', 'true');
  await expect(newest).toContainText(hex4(id));
  await expect(grid).toHaveAttribute('aria-activedescendant', (await newest.getAttribute('id')) ?? 'none');
  // Up and down move the selection; End comes back to the newest.
  await app.keyboard.press('ArrowUp');
  await expect(newest).toHaveAttribute('aria-selected', 'false');
  await app.keyboard.press('End');
  await expect(newest).toHaveAttribute('aria-selected', 'true');

  // Into the decode tree: its first item, then arrows walk and fold it.
  const tree = app.getByRole('tree', { name: 'Decoded packet' });
  const ipv4 = tree.getByRole('treeitem', { name: /^Internet Protocol Version 4/ });
  await tabTo(app, ipv4);
  await expect(tree.getByRole('treeitem', { name: `Identifier: ${hex4(id)}` })).toBeVisible();
  await app.keyboard.press('ArrowDown');
  const version = tree.getByRole('treeitem', { name: 'Version: 4' });
  await expect(version).toBeFocused();
  await expect(version).toHaveAttribute('aria-selected', 'true');
  // The selected field's bytes light up in the hex view beside the tree.
  await expect(app.getByRole('grid', { name: 'Packet hex' }).getByRole('gridcell', { name: /^Byte 0: / })).toHaveAttribute('aria-selected', 'true');
  await app.keyboard.press('ArrowLeft');
  await expect(ipv4).toBeFocused();
  await app.keyboard.press('ArrowLeft');
  await expect(ipv4).toHaveAttribute('aria-expanded', 'false');
  await expect(version).toHaveCount(0);
  await app.keyboard.press('ArrowRight');
  await expect(ipv4).toHaveAttribute('aria-expanded', 'true');

  // "Send again" from the keyboard puts the packet back into the editor.
  await tabTo(app, app.getByRole('button', { name: 'Send again…' }), { back: true });
  await app.keyboard.press('Enter');
  await expect(editorTab).toHaveAttribute('aria-selected', 'true');
  await expect(app.getByLabel('Target address')).toHaveValue('127.0.0.1');
});

/** Every control in view has a non-empty accessible name; returns how many were checked. */
async function expectNamedControls(page: Page, panel: string): Promise<number> {
  const controls = page.locator(
    'button, input:not([type=hidden]), select, textarea, [role=tab], [role=grid], [role=tree], [role=switch], [tabindex]:not([tabindex="-1"])',
  );
  const count = await controls.count();
  for (let i = 0; i < count; i++) {
    const control = controls.nth(i);
    const what = await control.evaluate((element) => element.outerHTML.slice(0, 120));
    await expect.soft(control, `${panel}: ${what}`).toHaveAccessibleName(/\S/);
  }
  return count;
}

test('every button, input, select and focusable widget in every panel has an accessible name', async ({ app }) => {
  // Some state first, so the conditional controls exist: a job, a socket with options, a selected packet, a run.
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
  let total = await expectNamedControls(app, 'Build & send');

  await app.keyboard.press('Alt+2');
  await app.getByRole('grid', { name: 'Packets' }).getByRole('row', { name: /Echo/ }).last().click();
  await expect(app.getByRole('tree', { name: 'Decoded packet' })).toBeVisible();
  total += await expectNamedControls(app, 'Log');

  await app.keyboard.press('Alt+3');
  await app.getByRole('button', { name: 'Open socket' }).click();
  await expect(app.getByRole('region', { name: /^Options of / })).toBeVisible();
  total += await expectNamedControls(app, 'Sockets');

  await app.keyboard.press('Alt+4');
  await app.getByLabel('Ping count').fill('2');
  await app.getByLabel('Interval').fill('20');
  await app.getByRole('button', { name: 'Start ping' }).click();
  await expect(app.getByLabel('Transmitted', { exact: true })).toHaveText('2');
  total += await expectNamedControls(app, 'Experiments');
  expect(total).toBeGreaterThan(150);
});
