// Save workspace… and Open workspace… in the header: a session (a saved packet, a logged
// exchange) saved to one file that tshark reads, then changed (the saved packet deleted,
// the log cleared); a broken file is refused in words with nothing changed; the saved
// workspace brings the saved packet and the logged packets back, and offers its sockets again.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { seriousViolations } from './axe-violations';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

test('save a workspace, refuse a broken one, reopen the saved one', async ({ app }, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'downloads are a browser feature; Electron saves through its own dialog');
  const id = uniqueIdentifier();
  const name = `workspace ${id}`;
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  await app.getByLabel('Save as').fill(name);
  await app.getByRole('button', { name: 'Save packet' }).click();
  const saved = app.getByLabel('Saved', { exact: true });
  await expect(saved.getByRole('option', { name })).toHaveCount(1);
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();

  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${hex4(id)}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('row', { name: /received .*Echo reply/ })).toHaveCount(1);
  const rows = await grid.getAttribute('aria-rowcount');

  await app.getByRole('button', { name: 'Workspace', exact: true }).click();
  const workspace = app.getByRole('group', { name: 'Workspace' });
  const [download] = await Promise.all([app.waitForEvent('download'), workspace.getByRole('button', { name: 'Save workspace…' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^workspace-.*\.pcapng$/);
  const file = testInfo.outputPath('session.pcapng');
  await download.saveAs(file);
  await expect(workspace.getByRole('status')).toHaveText(/^Workspace saved with \d+ logged packets?$/);
  // Wireshark's tools read the log in it (the session rides in a pcapng custom block).
  const idents = execFileSync('tshark', ['-r', file, '-Y', `icmp.ident == ${id}`, '-T', 'fields', '-e', 'icmp.type'], { encoding: 'utf8' }).trim().split('\n');
  expect(idents.length).toBeGreaterThanOrEqual(2);

  // Change the session: the saved packet deleted, the log cleared.
  await app.getByRole('toolbar', { name: 'Log actions' }).getByRole('button', { name: 'Clear log' }).click();
  await expect(grid.getByRole('row', { name: /Echo reply/ })).toHaveCount(0);
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await saved.selectOption(name);
  await app.getByRole('button', { name: 'Delete saved' }).click();
  await expect(saved.getByRole('option', { name })).toHaveCount(0);

  // A broken file: refused in words, nothing changed.
  const broken = testInfo.outputPath('broken.pcapng');
  writeFileSync(broken, Buffer.concat([Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]), Buffer.from('not really a workspace')]));
  let chooser = app.waitForEvent('filechooser');
  await workspace.getByRole('button', { name: 'Open workspace…' }).click();
  await (await chooser).setFiles(broken);
  await expect(workspace.getByRole('alert')).toHaveText(/^Cannot open broken\.pcapng: Workspace refused, nothing changed: .+/);
  await expect(saved.getByRole('option', { name })).toHaveCount(0);
  // The open Workspace panel with its error: nothing serious or critical for axe.
  expect(await seriousViolations(app, 'Workspace panel with an error')).toEqual([]);

  // The saved workspace: the saved packet and the logged exchange are back.
  const openSockets = async () => Number(/^Sockets: (\d+)$/.exec((await app.getByRole('contentinfo', { name: 'Status' }).getByText(/^Sockets: \d+$/).textContent()) ?? '')?.[1]);
  const before = await openSockets();
  chooser = app.waitForEvent('filechooser');
  await workspace.getByRole('button', { name: 'Open workspace…' }).click();
  await (await chooser).setFiles(file);
  await expect(workspace.getByRole('status')).toHaveText(/^Opened session\.pcapng: \d+ logged packets?, \d+ experiments?, \d+ saved packet\(s\)/);
  await expect(saved.getByRole('option', { name })).toHaveCount(1);
  await expect(app.getByLabel('ICMP Identifier', { exact: true })).toHaveValue(hex4(id));
  // Its sockets (Send's, open when it was saved) are offered, not opened by themselves; the button opens them.
  const reopen = workspace.getByRole('button', { name: /^Reopen \d+ sockets?$/ });
  const offered = Number(/\d+/.exec((await reopen.textContent()) ?? '')?.[0]);
  expect(offered).toBeGreaterThanOrEqual(1);
  expect(await openSockets()).toBe(before);
  await reopen.click();
  await expect(workspace.getByRole('status')).toHaveText(`Reopened ${offered} socket${offered === 1 ? '' : 's'}`);
  await expect(reopen).toHaveCount(0);
  await expect.poll(openSockets).toBe(before + offered);
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${hex4(id)}`);
  await expect(grid.getByRole('row', { name: /Echo reply/ })).toHaveCount(1);
  expect(Number(await grid.getAttribute('aria-rowcount'))).toBe(Number(rows));
});
