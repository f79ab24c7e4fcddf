// Export the log to pcapng from the browser and read the file back with tshark.
import { execFileSync } from 'node:child_process';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

test('export the log to pcapng and read it back with tshark', async ({ app }, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'downloads are a browser feature; Electron saves through its own dialog');
  const id = uniqueIdentifier();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();

  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${hex4(id)}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('row', { name: /Echo reply/ }).first()).toBeVisible();
  const shown = await grid.locator('[data-id]').count();

  const [download] = await Promise.all([app.waitForEvent('download'), app.getByRole('button', { name: 'Export shown' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^workbench-.*\.pcapng$/);
  const file = testInfo.outputPath('shown.pcapng');
  await download.saveAs(file);
  await expect(app.getByRole('status').filter({ hasText: `Exported ${shown} packets to pcapng` })).toBeVisible();

  const lines = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type', '-e', 'icmp.ident'], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n');
  expect(lines).toHaveLength(shown);
  const types = lines.map((line) => line.split('\t'));
  for (const [src, dst, , ident] of types) {
    expect([src, dst]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(Number(ident)).toBe(id);
  }
  expect(types.map((fields) => fields[2])).toContain('8');
  expect(types.map((fields) => fields[2])).toContain('0');

  // The whole log exports too, and tshark reads every packet of it.
  const [all] = await Promise.all([app.waitForEvent('download'), app.getByRole('button', { name: 'Export all' }).click()]);
  const allFile = testInfo.outputPath('all.pcapng');
  await all.saveAs(allFile);
  const count = execFileSync('tshark', ['-r', allFile, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n').length;
  expect(count).toBeGreaterThanOrEqual(shown);
});
