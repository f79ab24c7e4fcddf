// Socket lifecycle: with the default "Automatic" socket, three sends go through one socket (the
// panel says which and that it was reused), the Sockets panel lists it as opened by Send, and
// "Close all" closes every open socket.
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

test('three sends reuse one socket, and Close all closes it', async ({ app }) => {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(uniqueIdentifier()));
  await app.getByLabel('Target address').fill('127.0.0.1');
  const socket = app.getByLabel('Socket', { exact: true });
  await expect(socket).toHaveValue('');
  await expect(socket.getByRole('option', { name: 'Automatic (reuse or open)' })).toHaveJSProperty('selected', true);
  await expect(app.getByRole('region', { name: 'Send', exact: true })).toContainText(
    "Reuses a socket Send opened for ipv4, protocol 1 (IP header included), else opens one; Send's sockets close after 60 s without a send.",
  );

  const used = app.getByRole('status', { name: 'Socket used' });
  const socketIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    await app.getByRole('button', { name: 'Send', exact: true }).click();
    await expect(used).toHaveText(new RegExp(`^job-\\d+ via socket-\\d+ \\(${i === 0 ? 'opened for it' : 'reused'}\\)$`));
    await expect(app.getByRole('region', { name: 'Responses' }).getByRole('status')).toContainText('1 sent · 1 answered');
    socketIds.push(/via (socket-\d+)/.exec((await used.textContent()) ?? '')![1]);
  }
  expect(new Set(socketIds).size).toBe(1);
  const [socketId] = socketIds;

  await app.getByRole('tab', { name: 'Sockets' }).click();
  const panel = app.getByRole('region', { name: 'Sockets', exact: true });
  await expect(panel).toContainText(new RegExp(`Opened by Send, closing after 60 s without a send: .*${socketId}`));
  const table = panel.getByRole('table', { name: 'Open sockets' });
  await expect(table.getByRole('row', { name: new RegExp(`^${socketId} `) }).getByRole('button', { name: `Close ${socketId}` })).toBeVisible();
  const closeAll = panel.getByRole('button', { name: /^Close all \d+ sockets?$/ });
  await closeAll.click();
  await expect(closeAll).toBeHidden();
  await expect(table.getByRole('row', { name: new RegExp(`^${socketId} `) })).toContainText('closed');
  await expect(table.getByRole('button', { name: /^Close socket-\d+$/ })).toHaveCount(0);
  await expect(panel).not.toContainText('Opened by Send');

  // The next send opens a new socket for itself.
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(used).toHaveText(/^job-\d+ via socket-\d+ \(opened for it\)$/);
  expect(/via (socket-\d+)/.exec((await used.textContent()) ?? '')![1]).not.toBe(socketId);
});
