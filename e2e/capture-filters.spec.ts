// Capture filters in the GUI: one per socket, in the open form and on an open socket;
// libpcap's refusal is shown at the field with the position; the kernel then delivers
// only what the filter matches; a raw TCP socket says the workbench's own connection is
// filtered out, and its log does not fill with it.
import { createSocket } from 'node:dgram';
import type { Page } from '@playwright/test';
import { E2E_PORT } from '../playwright.config';
import { expect, test } from './fixtures';

/** Datagrams from this test process to 127.0.0.1:port. */
async function sendUdp(port: number, count: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (let i = 0; i < count; i++) await new Promise<void>((resolve, reject) => socket.send(`e2e ${i}`, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  } finally {
    socket.close();
  }
}

/** The socket the last Open selected: its id, from its panel's name. */
async function openedSocketId(app: Page): Promise<string> {
  const panel = app.getByRole('region', { name: /^Options of socket-\d+$/ });
  await expect(panel).toBeVisible();
  return ((await panel.getAttribute('aria-label')) ?? '').replace('Options of ', '');
}

function receivedCell(app: Page, socketId: string) {
  // Socket, Family, Protocol, Mode, Via, Receive, Capture filter, Sent, Received…
  return app.getByRole('table', { name: 'Open sockets' }).getByRole('row').filter({ hasText: socketId }).getByRole('cell').nth(8);
}

test('a raw UDP socket with a capture filter: refused with the position at the field, then only matching datagrams arrive; the filter is changed on the open socket', async ({ app }) => {
  const wanted = 41000 + Math.floor(Math.random() * 9000);
  const other = wanted + 1;
  await app.getByRole('tab', { name: 'Sockets' }).click();
  const form = app.getByRole('form', { name: 'Open a socket' });
  await form.getByLabel('Protocol', { exact: true }).fill('17');
  await form.getByLabel('Socket mode').selectOption('raw');
  const filter = form.getByLabel('Capture filter');
  await filter.fill(`udp dst port ${wanted} and and`);
  await form.getByRole('button', { name: 'Open socket' }).click();
  const position = `udp dst port ${wanted} and `.length;
  await expect(form.getByRole('alert')).toHaveText(`capture filter: syntax error at position ${position} ("and"): udp dst port ${wanted} and and`);
  await expect(filter).toHaveAttribute('aria-invalid', 'true');

  await filter.fill(`udp dst port ${wanted}`);
  await expect(filter).not.toHaveAttribute('aria-invalid');
  await form.getByRole('button', { name: 'Open socket' }).click();
  const socketId = await openedSocketId(app);
  await expect(app.getByLabel(`Capture filter of ${socketId} in the table`)).toHaveText(`udp dst port ${wanted}`);

  await sendUdp(other, 3);
  await sendUdp(wanted, 3);
  await expect(receivedCell(app, socketId)).toHaveText('3');

  // Edited on the open socket: a mistake is refused at that field, the old filter stays.
  const panel = app.getByRole('region', { name: `Options of ${socketId}` });
  const edit = panel.getByLabel(`Capture filter of ${socketId}`, { exact: true });
  await expect(edit).toHaveValue(`udp dst port ${wanted}`);
  await edit.fill('(udp');
  await panel.getByRole('button', { name: 'Apply filter' }).click();
  await expect(panel.getByRole('alert')).toHaveText('capture filter: syntax error at position 4 (end of expression, which is incomplete): (udp');
  await expect(edit).toHaveAttribute('aria-invalid', 'true');
  await expect(app.getByLabel(`Capture filter of ${socketId} in the table`)).toHaveText(`udp dst port ${wanted}`);

  await edit.fill(`udp dst port ${other}`);
  await panel.getByRole('button', { name: 'Apply filter' }).click();
  await expect(app.getByLabel(`Capture filter of ${socketId} in the table`)).toHaveText(`udp dst port ${other}`);
  await sendUdp(wanted, 2);
  await sendUdp(other, 2);
  await expect(receivedCell(app, socketId)).toHaveText('5');

  // Emptied, the filter is removed: everything UDP arrives again.
  await edit.fill('');
  await panel.getByRole('button', { name: 'Remove filter' }).click();
  await expect(app.getByLabel(`Capture filter of ${socketId} in the table`)).toHaveText('all');
  await sendUdp(wanted, 1);
  await expect(receivedCell(app, socketId)).toHaveText('6');
  await app.getByRole('button', { name: `Close ${socketId}` }).click();
});

test("a raw TCP socket says the workbench's own connection is filtered out, and does not log it", async ({ app }) => {
  await app.getByRole('tab', { name: 'Sockets' }).click();
  const form = app.getByRole('form', { name: 'Open a socket' });
  await form.getByLabel('Protocol', { exact: true }).fill('6');
  await form.getByLabel('Socket mode').selectOption('raw');
  await form.getByLabel('Capture filter').fill('');
  await form.getByRole('button', { name: 'Open socket' }).click();
  const socketId = await openedSocketId(app);
  const panel = app.getByRole('region', { name: `Options of ${socketId}` });
  await expect(panel.getByText(`the workbench's own connection (tcp port ${E2E_PORT} and host 127.0.0.1)`)).toBeVisible();
  // The page keeps talking to the host (events, these clicks): before the exclusion each logged
  // packet made more traffic, ~90 rows a second. Now only other TCP on this machine is counted.
  const start = Number(await receivedCell(app, socketId).textContent());
  for (let i = 0; i < 4; i++) {
    await panel.getByRole('button', { name: 'Read all again' }).click();
    await app.waitForTimeout(500);
  }
  const grown = Number((await receivedCell(app, socketId).textContent())?.replace(/\D/g, '')) - start;
  expect(grown).toBeLessThan(60);
  await app.getByRole('button', { name: `Close ${socketId}` }).click();
});
