// Streams with variable fields: two echo requests built in the editor, one with its sequence
// incremented over 5 packets, added to a stream, sent to 127.0.0.1, answered counters per
// packet; the stream survives a reload; no serious axe violation in light or dark. And a
// repeated echo request varies its sequence by default: 50 distinct sequences in the log.
import type { Page } from '@playwright/test';
import * as path from 'node:path';
import { seriousViolations } from './axe-violations';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

/** Beside the screenshots spec's, for review. */
const SCREENSHOTS = path.resolve(__dirname, '..', 'test-results', 'screenshots');

/** Closes every socket this host has open, so none keeps filling the log after the test. */
async function closeAllSockets(app: Page) {
  await app.getByRole('tab', { name: 'Sockets' }).click();
  await app.getByRole('button', { name: /^Close all \d+ sockets?$/ }).click();
  await expect(app.getByRole('button', { name: /^Close all/ })).toHaveCount(0);
}

async function loadEcho(app: Page, identifier: number) {
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(identifier));
}

for (const viewport of [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
]) {
  test(`a stream of two echo requests, one with a variable sequence, is answered packet by packet (${viewport.width}x${viewport.height})`, async ({ app }) => {
    await app.setViewportSize(viewport);
    const [first, second] = [uniqueIdentifier(), uniqueIdentifier()];
    await app.getByRole('tab', { name: 'Build & send' }).click();
    const send = app.getByRole('region', { name: 'Send', exact: true });

    // Packet 1: five echo requests, sequence +1 per packet over 5 values.
    await loadEcho(app, first);
    await send.getByRole('radio', { name: 'Count' }).check();
    await send.getByLabel('Packet count').fill('5');
    await send.getByLabel('Interval (ms)').fill('0');
    await send.getByRole('button', { name: 'Add variable field' }).click();
    const row = send.getByRole('group', { name: 'Variable field 1' });
    await expect(row.getByLabel('Field of variable field 1')).toHaveValue(/\/sequence$/);
    await row.getByLabel('Count of variable field 1').fill('5');
    await expect(row).toContainText('ICMP Sequence number +1 per packet, 5 values');
    await send.getByRole('button', { name: 'Add to stream' }).click();

    // Packet 2: one echo request of its own identifier; no variable field.
    await loadEcho(app, second);
    await send.getByRole('button', { name: 'Remove variable field 1' }).click();
    await send.getByRole('radio', { name: 'Once' }).check();
    await send.getByRole('button', { name: 'Add to stream' }).click();

    const stream = send.getByRole('table', { name: 'Stream packets' });
    await expect(stream.getByRole('row')).toHaveCount(3);
    await expect(stream.getByRole('row').nth(1)).toContainText(`Echo request id=${hex4(first)} seq=1`);
    await expect(stream.getByRole('row').nth(1)).toContainText('ICMP Sequence number +1 per packet, 5 values');
    await expect(stream.getByRole('row').nth(1).getByRole('cell').nth(2)).toHaveText('5');
    await expect(stream.getByRole('row').nth(2)).toContainText(`id=${hex4(second)}`);
    // Move the single packet first, then back.
    await send.getByRole('button', { name: 'Move packet 2 up' }).click();
    await expect(stream.getByRole('row').nth(1)).toContainText(`id=${hex4(second)}`);
    await send.getByRole('button', { name: 'Move packet 1 down' }).click();
    await expect(stream.getByRole('row').nth(1)).toContainText(`id=${hex4(first)}`);
    await send.getByRole('radio', { name: 'Interleaved' }).check();

    // It survives a reload.
    await app.reload();
    await app.getByRole('tab', { name: 'Build & send' }).click();
    await expect(stream.getByRole('row')).toHaveCount(3);

    await send.getByLabel('Target address').fill('127.0.0.1');
    await send.getByRole('button', { name: 'Send stream' }).click();
    const job = send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1);
    await expect(job).toContainText('6 / 6 sent');
    await expect(job).toContainText('6 answered', { timeout: 15_000 });
    await expect(job).toContainText(/job-\d+/);
    const jobId = /job-\d+/.exec((await job.textContent()) ?? '')![0];
    await job.getByRole('button', { name: `Counters of ${jobId}` }).click();
    const counters = send.getByRole('table', { name: `Per-packet counters of ${jobId}` });
    const packet1 = counters.getByRole('row').nth(1).getByRole('cell');
    await expect(packet1.nth(1)).toHaveText('5 / 5');
    await expect(packet1.nth(2)).toHaveText('5');
    await expect(packet1.nth(3)).toHaveText('0');
    await expect(packet1.nth(4)).toHaveText(/^[\d.]+ \/ [\d.]+ \/ [\d.]+ ms$/);
    await expect(counters.getByRole('row').nth(2).getByRole('cell').nth(2)).toHaveText('1');
    // The job table and its counters fit the send column: nothing to scroll sideways.
    const jobsRegion = send.getByRole('region', { name: 'Send jobs, scrollable' });
    expect(await jobsRegion.evaluate((region) => region.scrollWidth - region.clientWidth)).toBeLessThanOrEqual(0);

    // Interleaved: packet 1 (seq=1), packet 2, then packet 1's other four, seq=2 to 5 (the
    // response pane lists the job's requests newest first).
    const sent = app.getByRole('table', { name: 'Request and answer' }).getByRole('row');
    await expect(sent).toHaveCount(7);
    const requests = await sent.evaluateAll((rows) => rows.slice(1).map((row) => /Echo request id=\S+ seq=\d+/.exec(row.querySelector('td')?.textContent ?? '')?.[0]));
    expect(requests.reverse()).toEqual([1, 0, 2, 3, 4, 5].map((sequence) => (sequence === 0 ? `Echo request id=${hex4(second)} seq=1` : `Echo request id=${hex4(first)} seq=${sequence}`)));

    const found: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      await app.getByLabel('Theme').selectOption(theme);
      await app.screenshot({ path: path.join(SCREENSHOTS, `9-stream-${viewport.width}x${viewport.height}-${theme}.png`) });
      found.push(...(await seriousViolations(app, `Build & send with a stream, ${theme}, ${viewport.width}x${viewport.height}`)));
    }
    expect(found, found.join('\n')).toEqual([]);
    await send.getByRole('button', { name: 'Clear stream' }).click();
    await expect(send.getByRole('button', { name: 'Send', exact: true })).toBeVisible();
    await closeAllSockets(app);
  });
}

test('50 echo requests in bursts carry 50 distinct sequence numbers by default, seen in the log', async ({ app }) => {
  const id = uniqueIdentifier();
  await app.getByRole('tab', { name: 'Build & send' }).click();
  const send = app.getByRole('region', { name: 'Send', exact: true });
  await loadEcho(app, id);
  await send.getByRole('radio', { name: 'Count' }).check();
  await send.getByLabel('Packet count').fill('50');
  // Paced in bursts: 10 back to back, then 20 ms.
  await send.getByRole('radio', { name: 'Bursts' }).check();
  await send.getByLabel('Burst size (packets)').fill('10');
  await send.getByLabel('Burst gap (ms)').fill('20');
  await expect(send).toContainText('The echo sequence number increments by default: +1 per packet.');
  await expect(send.getByLabel('Identical packets')).not.toBeChecked();
  await send.getByLabel('Target address').fill('127.0.0.1');
  await send.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('50 / 50 sent');

  // Every request of the job, from the response pane: 50 different sequences, 1 to 50.
  const requests = app.getByRole('table', { name: 'Request and answer' }).getByRole('row');
  await expect(requests).toHaveCount(51);
  const texts = await requests.evaluateAll((rows) => rows.slice(1).map((row) => row.querySelector('td')?.textContent ?? ''));
  const sequences = new Set(texts.map((text) => Number(/seq=(\d+)/.exec(text)?.[1])));
  expect([...sequences].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

  // The log has them: the last and the first, each sent and answered (looked up at once: other
  // traffic on this host may fill the log's ring).
  await app.getByRole('tab', { name: 'Log' }).click();
  const grid = app.getByRole('grid', { name: 'Packets' });
  const filter = app.getByRole('combobox', { name: 'Display filter' });
  for (const sequence of [50, 1]) {
    // Exactly this packet and its reply (a search for "seq=1" would also match seq=10-19).
    await filter.fill(`icmp.ident == ${hex4(id)} && icmp.seq == ${sequence}`);
    await filter.press('Enter');
    await expect(grid.getByRole('row', { name: new RegExp(`sent .*Echo request id=${hex4(id)} seq=${sequence}\\b`) })).toHaveCount(1);
    await expect(grid.getByRole('row', { name: new RegExp(`received .*Echo reply id=${hex4(id)} seq=${sequence}\\b`) }).first()).toBeVisible();
  }
  await closeAllSockets(app);
});
