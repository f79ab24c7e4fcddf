// "What the kernel changed" end to end: in the shipped `line` lab, act from client, send an
// echo request whose IPv4 source is 0.0.0.0 from Build & send, open "What the kernel changed"
// under its Responses and read the source address the client's kernel filled in, as captured
// on r1; then the same view from the Log's details for that sent row. Labs need root (network namespaces): the browser host runs as root here.
// Saves docs/kernel-changes.png.
import * as path from 'node:path';
import { isLabSupported, labSupport } from '../main/lab';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

const screenshot = path.resolve(__dirname, '..', 'docs', 'kernel-changes.png');

test('a packet sent from client with source 0.0.0.0: the first link shows the source the kernel filled in', async ({ app }, testInfo) => {
  test.skip(!isLabSupported(), `namespace labs unavailable: ${labSupport().reason}`);
  test.skip(testInfo.project.name === 'electron', 'labs need root: the Electron app runs as a test user, the browser host as root');
  test.setTimeout(150_000);
  await app.setViewportSize({ width: 1440, height: 900 });
  await app.getByRole('tab', { name: 'Lab' }).click();
  const state = app.getByRole('status', { name: 'Lab state', exact: true });
  if ((await state.textContent())?.startsWith('up')) await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText('down', { timeout: 30_000 });
  await app.getByLabel('Topology', { exact: true }).selectOption('line');
  await app.getByRole('button', { name: 'Start lab' }).click();
  await expect(state).toHaveText(/^up since \d\d:\d\d:\d\d$/, { timeout: 90_000 });
  await app.getByLabel('Act from host').selectOption('client');

  // The line topology: client 198.18.1.1 — r1 — r2 — r3 — target 198.18.4.2.
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await expect(app.getByRole('group', { name: 'From' })).toContainText('lab host client (line)');
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('IPv4 Source', { exact: true }).fill('0.0.0.0');
  await app.getByLabel('IPv4 Destination', { exact: true }).fill('198.18.4.2');
  const identifier = uniqueIdentifier();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(identifier));
  await app.getByLabel('Target address').fill('198.18.4.2');
  await app.getByRole('button', { name: 'Send', exact: true }).click();

  const pane = app.getByRole('region', { name: 'Responses' });
  await expect(pane.getByRole('status')).toContainText('1 sent', { timeout: 15_000 });
  const toggle = pane.getByRole('button', { name: 'What the kernel changed' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const view = pane.getByRole('region', { name: /^What the kernel changed in #\d+$/ });
  await expect(view).toContainText('captured on r1 (interface client)', { timeout: 10_000 });
  const fields = view.getByRole('table', { name: 'Fields the kernel changed' });
  const source = fields.getByRole('row', { name: /IPv4 Source/ });
  await expect(source.getByRole('cell').nth(0)).toHaveText('0.0.0.0');
  await expect(source.getByRole('cell').nth(1)).toHaveText('198.18.1.1');
  await expect(source.getByRole('cell').nth(2)).toContainText('source address filled in by the kernel');
  await expect(fields.getByRole('row', { name: /IPv4 Header checksum/ })).toContainText('checksum computed by the kernel');
  await expect(view).toContainText('Time to live 64 on arrival, as sent');
  // Both packets' bytes, the changed ones marked.
  await expect(view.getByRole('figure', { name: "Sent (the editor's packet)" })).toContainText('changed bytes marked');
  await expect(view.getByRole('figure', { name: 'Crossed the first link (on r1)' })).toContainText('c6 12 01 01');
  await view.scrollIntoViewIfNeeded();
  await app.screenshot({ path: screenshot });
  await testInfo.attach('what the kernel changed', { path: screenshot, contentType: 'image/png' });

  // The same view from the Log's details, for the sent row; a received row offers none.
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${hex4(identifier)}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  const details = app.getByRole('region', { name: 'Packet details' });
  await grid.getByRole('row', { name: /received .*Echo reply/ }).first().click();
  await expect(details).toContainText('Echo reply');
  await expect(details.getByRole('button', { name: 'What the kernel changed' })).toHaveCount(0);
  await grid.getByRole('row', { name: /sent .*Echo request/ }).click();
  const logToggle = details.getByRole('button', { name: 'What the kernel changed' });
  await logToggle.click();
  const logView = details.getByRole('region', { name: /^What the kernel changed in #\d+$/ });
  await expect(logView).toContainText('captured on r1 (interface client)', { timeout: 10_000 });
  const logSource = logView.getByRole('table', { name: 'Fields the kernel changed' }).getByRole('row', { name: /IPv4 Source/ });
  await expect(logSource.getByRole('cell').nth(1)).toHaveText('198.18.1.1');

  await app.getByRole('tab', { name: 'Lab' }).click();
  await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText('down', { timeout: 30_000 });
});
