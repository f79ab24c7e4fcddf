// Bad input is caught where it is typed, explained there, and nothing is sent.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** Packets sent so far, as the renderer's log and job list know them. */
async function sentSoFar(app: Page): Promise<{ rows: number; jobs: number }> {
  return app.evaluate(() => {
    const store = (window as unknown as { __workbench: { getState(): any } }).__workbench;
    const state = store.getState();
    let rows = 0;
    for (let i = 0; i < state.log.buffer.all.length; i++) if (state.log.buffer.all.at(i).direction === 'sent') rows++;
    return { rows, jobs: state.send.jobs.length };
  });
}

async function freshEcho(app: Page) {
  // Count only once the log the engine already held has been read in.
  await expect(app.getByRole('contentinfo', { name: 'Status' })).not.toContainText('reading the log');
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
}

test('a bad target address is explained and nothing is sent', async ({ app }) => {
  await freshEcho(app);
  const before = await sentSoFar(app);
  await app.getByLabel('Target address').fill('300.1.1.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.locator('#send-target-error')).toHaveText("'300.1.1.1' is not an IPv4 or IPv6 address");
  await expect(app.getByLabel('Target address')).toHaveAttribute('aria-invalid', 'true');
  await app.getByLabel('Target address').fill('::1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.locator('#send-target-error')).toHaveText("The packet is IPv4 but '::1' is an IPv6 address");
  await app.waitForTimeout(300);
  expect(await sentSoFar(app)).toEqual(before);
});

test('an out-of-range field is shown in red with the reason and blocks sending', async ({ app }) => {
  await freshEcho(app);
  const before = await sentSoFar(app);
  const ttl = app.getByLabel('IPv4 Time to live', { exact: true });
  await ttl.fill('256');
  await expect(ttl).toHaveAttribute('aria-invalid', 'true');
  await expect(ttl).toHaveAccessibleDescription('Out of range: 256 is not within 0–255 (8 bits)');
  await expect(app.getByRole('alert', { name: 'Packet problems' })).toContainText('Layer 1 (IPv4) Time to live: Out of range');
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.locator('#send-packet-error')).toContainText('The packet is not valid: Layer 1 (IPv4) Time to live: Out of range');
  await app.waitForTimeout(300);
  expect(await sentSoFar(app)).toEqual(before);
});

test('a malformed hex string is refused with the position of the bad digit and nothing is sent', async ({ app }) => {
  await freshEcho(app);
  const before = await sentSoFar(app);
  const hex = app.getByLabel('Packet as hex (paste a whole packet)');
  const original = await hex.inputValue();
  await hex.fill('45 00 0g 1c');
  await app.getByRole('button', { name: 'Apply hex' }).click();
  await expect(app.locator('#packet-hex-error')).toHaveText("Invalid hex digit 'g' at position 8: use 0-9 and a-f");
  // The packet itself is unchanged: it still builds to the template's bytes.
  await expect(app.getByRole('grid', { name: 'Packet hex' }).getByRole('gridcell', { name: 'Byte 0: 45' })).toBeVisible();
  await hex.fill(original);

  // The same in the payload, typed as hex.
  await app.getByRole('radio', { name: 'Hex' }).check();
  await app.getByLabel('Payload hex', { exact: true }).fill('de ad b');
  await expect(app.getByRole('alert').filter({ hasText: 'Odd number of hex digits (5)' }).first()).toBeVisible();
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.locator('#send-packet-error')).toContainText('Layer 3 (Payload): Odd number of hex digits');
  await app.waitForTimeout(300);
  expect(await sentSoFar(app)).toEqual(before);
});
