// The Lab panel end to end on the real engine: start the shipped `line` topology, read the
// target's address off the diagram's links, act from the client host, send an echo request
// from the Send panel into the lab and see its reply logged on host client, then stop the lab.
// Labs need root (network namespaces): the browser host runs as root here. Saves docs/lab.png.
import * as path from 'node:path';
import { isLabSupported, labSupport } from '../main/lab';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

const screenshot = path.resolve(__dirname, '..', 'docs', 'lab.png');

test('start line, act from client, send an echo to the target, see the reply on client, stop', async ({ app }, testInfo) => {
  test.skip(!isLabSupported(), `namespace labs unavailable: ${labSupport().reason}`);
  test.skip(testInfo.project.name === 'electron', 'labs need root: the Electron app runs as a test user, the browser host as root');
  test.setTimeout(150_000);
  await app.setViewportSize({ width: 1440, height: 900 });
  await app.getByRole('tab', { name: 'Lab' }).click();
  const state = app.getByRole('status', { name: 'Lab state', exact: true });
  // A lab some earlier run left up would make Start refuse: this engine's lab is stopped first.
  if ((await state.textContent())?.startsWith('up')) await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText('down', { timeout: 30_000 });

  await app.getByLabel('Topology', { exact: true }).selectOption('line');
  await expect(app.getByLabel('Act from host')).toBeDisabled();
  await app.getByRole('button', { name: 'Start lab' }).click();
  await expect(state).toHaveText(/^(starting…|up since )/);
  // Namespaces, veths, routes and a readiness ping: seconds, more on a loaded machine.
  await expect(state).toHaveText(/^up since \d\d:\d\d:\d\d$/, { timeout: 90_000 });
  await expect(app.getByRole('button', { name: 'Start lab' })).toBeDisabled();

  // The target's address, from the links table (the diagram in words), and the diagram shows it too.
  const diagram = app.getByRole('group', { name: 'Diagram of lab line' });
  await expect(diagram.getByRole('button')).toHaveCount(5);
  const links = app.getByRole('table', { name: 'Links of lab line' });
  const addressOf = async (link: RegExp, end: RegExp) => {
    const text = (await links.getByRole('row', { name: link }).getByRole('cell').first().textContent()) ?? '';
    const address = new RegExp(`${end.source}: (198\\.18\\.\\d+\\.\\d+)/`).exec(text)?.[1];
    expect(address, `${end.source}'s IPv4 address in "${text}"`).toBeTruthy();
    return address!;
  };
  const target = await addressOf(/^r3 — target/, /target \(r3\)/);
  const client = await addressOf(/^client — r1/, /client \(r1\)/);
  await expect(diagram.getByText(`${target}/24`, { exact: true })).toBeVisible();

  // A host picked from the keyboard, then client with the mouse: the picker and the status bar follow.
  await diagram.getByRole('button', { name: 'target host', exact: true }).focus();
  await app.keyboard.press('Enter');
  await expect(app.getByLabel('Act from host')).toHaveValue('target');
  await diagram.getByRole('button', { name: 'client host', exact: true }).click();
  await expect(diagram.getByRole('button', { name: 'client host', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect(app.getByLabel('Act from host')).toHaveValue('client');
  await expect(app.getByRole('status', { name: 'Lab summary' })).toHaveText(/line up · acting from client/);
  // The topology and the host survive a reload while the lab is up.
  await app.reload();
  await expect(app.getByRole('tab', { name: 'Lab' })).toHaveAttribute('aria-selected', 'true');
  await expect(state).toHaveText(/^up since/);
  await expect(app.getByLabel('Topology', { exact: true })).toHaveValue('line');
  await expect(app.getByLabel('Act from host')).toHaveValue('client');
  await app.screenshot({ path: screenshot });
  await testInfo.attach('lab panel', { path: screenshot, contentType: 'image/png' });

  // At 1024x700 the diagram and the links table stay inside the window.
  await app.setViewportSize({ width: 1024, height: 700 });
  for (const part of [diagram, links]) {
    const box = await part.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 1024, `${JSON.stringify(box)} within 1024 px`).toBe(true);
  }
  await app.setViewportSize({ width: 1440, height: 900 });

  // An echo request from the Send panel, into the lab.
  const id = hex4(uniqueIdentifier());
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await expect(app.getByRole('group', { name: 'From' })).toContainText('lab host client (line)');
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('IPv4 Source', { exact: true }).fill(client);
  await app.getByLabel('IPv4 Destination', { exact: true }).fill(target);
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(id);
  await app.getByLabel('Target address').fill(target);
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');

  // The socket Send opened lives in client; the reply came back to it there.
  await app.getByRole('tab', { name: 'Sockets' }).click();
  const socketRow = app.getByRole('table', { name: 'Open sockets' }).getByRole('row', { name: /client/ });
  await expect(socketRow.first()).toBeVisible();
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${id}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('row', { name: new RegExp(`received .*client.*${target.replace(/\./g, '\\.')}.*Echo reply`) }).first()).toBeVisible({ timeout: 15_000 });
  await expect(grid.getByRole('row', { name: /sent .*client.*Echo request/ }).first()).toBeVisible();

  // Stop: the lab goes down and nothing acts from a host any more.
  await app.getByRole('tab', { name: 'Lab' }).click();
  await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText('down', { timeout: 30_000 });
  await expect(app.getByLabel('Act from host')).toHaveValue('');
  await expect(app.getByRole('status', { name: 'Lab summary' })).toHaveCount(0);
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await expect(app.getByRole('group', { name: 'From' })).toContainText('this machine');
});
