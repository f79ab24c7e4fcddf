// Build an echo request in the editor, send it over loopback, find request and reply in the
// log, and read the reply's fields in the decode tree.
import { expect, hex4, test, uniqueIdentifier } from './fixtures';
import type { Page } from '@playwright/test';

async function sendEcho(app: Page, template: 'ICMP echo request' | 'ICMPv6 echo request', layer: 'ICMP' | 'ICMPv6', target: string) {
  const id = uniqueIdentifier();
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: template });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel(`${layer} Identifier`, { exact: true }).fill(hex4(id));
  await app.getByLabel(`${layer} Sequence number`, { exact: true }).fill('7');
  await app.getByLabel('Target address').fill(target);
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
  return id;
}

async function openReply(app: Page, id: number, reply: RegExp) {
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${hex4(id)}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  // Every raw socket open for the protocol logs its own copy of what arrives, so count
  // the one sent row exactly and the replies as "at least one".
  await expect(grid.getByRole('row', { name: /sent .*Echo request/ })).toHaveCount(1);
  const replyRow = grid.getByRole('row', { name: reply }).first();
  await expect(replyRow).toBeVisible();
  // Those copies are told apart by the Socket column: one copy per socket, each named.
  await expect(grid.getByRole('columnheader', { name: 'Socket' })).toHaveAttribute('title', /one arrival can appear once per socket/);
  const socketColumn = (await grid.getByRole('columnheader').allTextContents()).indexOf('Socket');
  expect(socketColumn).toBeGreaterThanOrEqual(0);
  const replyRows = await grid.getByRole('row', { name: reply }).all();
  const sockets = await Promise.all(replyRows.map((row) => row.getByRole('gridcell').nth(socketColumn).innerText()));
  expect(sockets.length).toBeGreaterThan(0);
  for (const socket of sockets) expect(socket).toMatch(/^socket-\d+$/);
  expect(new Set(sockets).size).toBe(sockets.length);
  await expect(grid.getByRole('row', { name: /sent .*Echo request/ }).getByRole('gridcell').nth(socketColumn)).toHaveText(/^socket-\d+$/);
  await replyRow.click();
  return app.getByRole('tree', { name: 'Decoded packet' });
}

test('ICMP echo to 127.0.0.1: request and reply in the log, reply decoded', async ({ app }) => {
  const id = await sendEcho(app, 'ICMP echo request', 'ICMP', '127.0.0.1');
  const tree = await openReply(app, id, /received .*Echo reply/);
  await expect(tree.getByRole('treeitem', { name: /^Internet Protocol Version 4, Src: 127\.0\.0\.1, Dst: 127\.0\.0\.1/ })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: 'Type: Echo Reply (0)' })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: `Identifier: ${hex4(id)}` })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: 'Sequence number: 7' })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: /^Checksum: 0x[0-9a-f]{4} \[correct\]$/ })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: 'Data (16 bytes)' })).toBeVisible();
  // Tree and hex are linked: selecting the type lights up byte 20.
  await tree.getByRole('treeitem', { name: 'Type: Echo Reply (0)' }).click();
  await expect(app.getByRole('grid', { name: 'Packet hex' }).getByRole('gridcell', { name: 'Byte 20: 00' })).toHaveAttribute('aria-selected', 'true');
});

test('ICMPv6 echo to ::1: request and reply in the log, reply decoded', async ({ app }) => {
  const id = await sendEcho(app, 'ICMPv6 echo request', 'ICMPv6', '::1');
  const tree = await openReply(app, id, /received .*Echo reply/);
  await expect(tree.getByRole('treeitem', { name: /Type: Echo Reply \(129\)/ })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: `Identifier: ${hex4(id)}` })).toBeVisible();
  await expect(tree.getByRole('treeitem', { name: 'Sequence number: 7' })).toBeVisible();
});
