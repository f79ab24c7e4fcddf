// Bad input is caught where it is typed, explained there, and nothing is sent: judged on
// loopback (a raw socket counts the packet's echo requests) and by the engine (no send
// job), with a good send of the same packet last as the control: had a refused one left,
// it would be on the wire before it.
import type { Page } from '@playwright/test';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';
import { engineClient, watchEchoRequests, type EchoWatch } from './wire';

/** Loads the echo template with an identifier of its own; returns it. */
async function freshEcho(app: Page): Promise<number> {
  const id = uniqueIdentifier();
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  return id;
}

/**
 * Runs the refusals, then the control send; checks that only the control left. The job
 * count is the browser host's engine, so 'web' only (Electron's engine is in the app).
 */
async function nothingSentBy(app: Page, id: number, refusals: () => Promise<void>, control: () => Promise<void>): Promise<void> {
  const engine = test.info().project.name === 'web' ? await engineClient() : null;
  const wire: EchoWatch = watchEchoRequests(id);
  try {
    const jobsBefore = new Set((await engine?.listSendJobs({}))?.map((job) => job.jobId));
    const newJobs = async () => (await engine?.listSendJobs({}))?.filter((job) => !jobsBefore.has(job.jobId)).length ?? 0;
    await refusals();
    if (engine) expect(await newJobs()).toBe(0);
    await control();
    await app.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => wire.requests).toBe(1);
    if (engine) expect(await newJobs()).toBe(1);
    expect(wire.requests).toBe(1);
  } finally {
    wire.close();
    engine?.close();
  }
}

test('a bad target address is explained and nothing is sent', async ({ app }) => {
  const id = await freshEcho(app);
  const target = app.getByLabel('Target address');
  await nothingSentBy(
    app,
    id,
    async () => {
      await target.fill('300.1.1.1');
      await app.getByRole('button', { name: 'Send', exact: true }).click();
      await expect(target).toHaveAccessibleDescription("'300.1.1.1' is not an IPv4 or IPv6 address");
      await expect(target).toHaveAttribute('aria-invalid', 'true');
      await target.fill('::1');
      await app.getByRole('button', { name: 'Send', exact: true }).click();
      await expect(target).toHaveAccessibleDescription("The packet is IPv4 but '::1' is an IPv6 address");
    },
    () => target.fill('127.0.0.1'),
  );
});

test('an out-of-range field is shown in red with the reason and blocks sending', async ({ app }) => {
  const id = await freshEcho(app);
  const ttl = app.getByLabel('IPv4 Time to live', { exact: true });
  await nothingSentBy(
    app,
    id,
    async () => {
      await ttl.fill('256');
      await expect(ttl).toHaveAttribute('aria-invalid', 'true');
      await expect(ttl).toHaveAccessibleDescription('Out of range: 256 is not within 0–255 (8 bits)');
      await expect(app.getByRole('alert', { name: 'Packet problems' })).toContainText('Layer 1 (IPv4) Time to live: Out of range');
      await app.getByLabel('Target address').fill('127.0.0.1');
      await app.getByRole('button', { name: 'Send', exact: true }).click();
      await expect(app.getByRole('alert').filter({ hasText: 'The packet is not valid: Layer 1 (IPv4) Time to live: Out of range' })).toBeVisible();
    },
    () => ttl.fill('64'),
  );
});

test('a malformed hex string is refused with the position of the bad digit and nothing is sent', async ({ app }) => {
  const id = await freshEcho(app);
  const payload = app.getByLabel('Payload hex', { exact: true });
  await nothingSentBy(
    app,
    id,
    async () => {
      const hex = app.getByLabel('Packet as hex (paste a whole packet)');
      const original = await hex.inputValue();
      await hex.fill('45 00 0g 1c');
      await app.getByRole('button', { name: 'Apply hex' }).click();
      await expect(hex).toHaveAccessibleDescription("Invalid hex digit 'g' at position 8: use 0-9 and a-f");
      // The packet itself is unchanged: it still builds to the template's bytes.
      await expect(app.getByRole('grid', { name: 'Packet hex' }).getByRole('gridcell', { name: 'Byte 0: 45' })).toBeVisible();
      await hex.fill(original);

      // The same in the payload, typed as hex.
      await app.getByRole('radio', { name: 'Hex' }).check();
      await payload.fill('de ad b');
      await expect(app.getByRole('alert').filter({ hasText: 'Odd number of hex digits (5)' }).first()).toBeVisible();
      await app.getByLabel('Target address').fill('127.0.0.1');
      await app.getByRole('button', { name: 'Send', exact: true }).click();
      await expect(app.getByRole('alert').filter({ hasText: 'Layer 3 (Payload): Odd number of hex digits' }).first()).toBeVisible();
    },
    () => payload.fill('de ad be ef'),
  );
});
