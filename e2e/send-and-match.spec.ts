// Send and match (Scapy's sr()): a stream of one echo request (127.0.0.1 answers it) and one
// UDP datagram to a port this test binds and never answers; the results list one answered
// pair and one unanswered request, open in the log, and export as CSV and pcapng.
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';
import { seriousViolations } from './axe-violations';

/** A UDP port on 127.0.0.1 that receives and never answers (so no ICMP port unreachable either). */
async function silentPort(): Promise<{ port: number; socket: Socket; received: () => number }> {
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket, received: () => count };
}

/** Closes every socket this host has open, so none keeps filling the log after the test. */
async function closeAllSockets(app: Page) {
  await app.getByRole('tab', { name: 'Sockets' }).click();
  await app.getByRole('button', { name: /^Close all \d+ sockets?$/ }).click();
  await expect(app.getByRole('button', { name: /^Close all/ })).toHaveCount(0);
}

async function buildStream(app: Page, id: number, port: number) {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  const send = app.getByRole('region', { name: 'Send', exact: true });
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  await send.getByRole('button', { name: 'Add to stream' }).click();
  await app.getByLabel('Template').selectOption({ label: 'UDP datagram' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('UDP Destination port', { exact: true }).fill(String(port));
  await send.getByRole('button', { name: 'Add to stream' }).click();
  await expect(send.getByRole('table', { name: 'Stream packets' }).getByRole('row')).toHaveCount(3);
  return send;
}

for (const [viewport, theme] of [
  [{ width: 1440, height: 900 }, 'dark'],
  [{ width: 1024, height: 700 }, 'light'],
] as const) {
  test(`send and match: one answered echo, one unanswered UDP datagram, exported as CSV and pcapng (${viewport.width}x${viewport.height}, ${theme})`, async ({ app }, testInfo) => {
    await app.setViewportSize(viewport);
    await app.getByLabel('Theme').selectOption(theme);
    const udp = await silentPort();
    try {
      const id = uniqueIdentifier();
      const send = await buildStream(app, id, udp.port);
      await send.getByLabel('Send and match').check();
      await send.getByLabel('Answer timeout (ms)').fill('500');
      await send.getByLabel('Target address').fill('127.0.0.1');
      await send.getByRole('button', { name: 'Send stream' }).click();

      const results = app.getByRole('region', { name: 'Send and match results' });
      await expect(results.getByRole('status')).toHaveText('1 answered · 1 unanswered', { timeout: 15_000 });
      expect(udp.received()).toBe(1);
      const answered = results.getByRole('table', { name: 'Answered requests', exact: true }).getByRole('row');
      await expect(answered).toHaveCount(2);
      await expect(answered.nth(1)).toContainText(`Echo request id=${hex4(id)} seq=1`);
      await expect(answered.nth(1)).toContainText(`Echo reply id=${hex4(id)} seq=1`);
      await expect(answered.nth(1).getByRole('cell').nth(2)).toHaveText(/^\d+\.\d+ ms$/);
      const unanswered = results.getByRole('table', { name: 'Unanswered requests', exact: true }).getByRole('row');
      await expect(unanswered).toHaveCount(2);
      await expect(unanswered.nth(1)).toContainText(`→ ${udp.port}`);
      const job = send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1);
      await expect(job).toContainText('done');
      await expect(job).toContainText('1 answered · 1 lost');

      // A request opens in the log (first: other traffic on this host may overwrite the log's ring).
      const requestLink = answered.nth(1).getByRole('button', { name: /^Open request #\d+ in the log$/ });
      const requestNumber = ((await requestLink.textContent()) ?? '').replace(/\D/g, '');
      await requestLink.click();
      await expect(app.getByRole('tab', { name: 'Log' })).toHaveAttribute('aria-selected', 'true');
      await expect(app.getByRole('region', { name: 'Packet details' })).toContainText(`Packet ${requestNumber}:`);
      await app.getByRole('tab', { name: 'Build & send' }).click();

      // CSV: one line per request, answered with its reply and RTT, unanswered without.
      const csvDownload = app.waitForEvent('download');
      await results.getByRole('button', { name: 'Export CSV' }).click();
      const csvFile = testInfo.outputPath('results.csv');
      await (await csvDownload).saveAs(csvFile);
      const lines = (await readFile(csvFile, 'utf8')).trim().split('\r\n');
      expect(lines[0]).toBe('status,packet,request_id,reply_id,rtt_ms,summary');
      expect(lines).toHaveLength(3);
      const [answer, silent] = lines.slice(1).map((line) => line.split(','));
      expect(answer.slice(0, 2)).toEqual(['answered', '1']);
      expect(Number(answer[3])).toBeGreaterThan(Number(answer[2]));
      expect(Number(answer[4])).toBeGreaterThan(0);
      expect(lines[1]).toContain(`id=${hex4(id)}`);
      expect(silent.slice(0, 2)).toEqual(['unanswered', '2']);
      expect(silent.slice(3, 5)).toEqual(['', '']);
      expect(lines[2]).toContain(`→ ${udp.port}`);

      // pcapng: the two requests and the reply.
      const pcapDownload = app.waitForEvent('download');
      await results.getByRole('button', { name: 'Export pcapng' }).click();
      const pcapFile = testInfo.outputPath('results.pcapng');
      await (await pcapDownload).saveAs(pcapFile);
      expect((await readFile(pcapFile)).readUInt32LE(0)).toBe(0x0a0d0d0a);
      await expect(results.getByText('Exported 3 packets to pcapng')).toBeVisible();

      // axe after the exports (they read the log, which other traffic on this host may overwrite
      // meanwhile), in both themes.
      const found: string[] = [];
      for (const shown of [theme, theme === 'dark' ? 'light' : 'dark']) {
        await app.getByLabel('Theme').selectOption(shown);
        await results.screenshot({ path: path.resolve(__dirname, '..', 'test-results', 'screenshots', `10-send-and-match-${viewport.width}x${viewport.height}-${shown}.png`) });
        found.push(...(await seriousViolations(app, `send-and-match results, ${shown}, ${viewport.width}x${viewport.height}`)));
      }
      expect(found, found.join('\n')).toEqual([]);

      await closeAllSockets(app);
    } finally {
      udp.socket.close();
    }
  });
}

test('a long send and match waits for answers, then pages its results 100 at a time', async ({ app }) => {
  const id = uniqueIdentifier();
  await app.getByRole('tab', { name: 'Build & send' }).click();
  const send = app.getByRole('region', { name: 'Send', exact: true });
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  await send.getByRole('radio', { name: 'Count' }).check();
  await send.getByLabel('Packet count').fill('150');
  await send.getByLabel('Interval (ms)').fill('0');
  await send.getByLabel('Send and match').check();
  await send.getByLabel('Answer timeout (ms)').fill('1500');
  await send.getByLabel('Target address').fill('127.0.0.1');
  await send.getByRole('button', { name: 'Send', exact: true }).click();

  const job = send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1);
  await expect(job).toContainText('waiting for answers');
  const results = app.getByRole('region', { name: 'Send and match results' });
  await expect(results.getByRole('status')).toHaveText('waiting for answers…');
  await expect(job).toContainText('done', { timeout: 15_000 });
  await expect(results.getByRole('status')).toHaveText('150 answered · 0 unanswered');
  const answered = results.getByRole('table', { name: 'Answered requests', exact: true }).getByRole('row');
  await expect(answered).toHaveCount(101);
  await expect(answered.nth(1)).toContainText(`Echo request id=${hex4(id)} seq=1 `);
  const pages = results.getByRole('group', { name: 'Result pages' });
  await expect(pages).toContainText('Rows 1–100 of 150');
  await expect(pages.getByRole('button', { name: 'Previous page' })).toBeDisabled();
  await pages.getByRole('button', { name: 'Next page' }).click();
  await expect(pages).toContainText('Rows 101–150 of 150');
  await expect(answered).toHaveCount(51);
  await expect(answered.nth(1)).toContainText(`Echo request id=${hex4(id)} seq=101 `);
  await expect(answered.nth(50)).toContainText(`Echo request id=${hex4(id)} seq=150 `);
  await expect(pages.getByRole('button', { name: 'Next page' })).toBeDisabled();
  await closeAllSockets(app);
});
