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
  // Exactly three rows with this identifier: the request as sent, the request as it came in
  // on loopback, and the reply (each packet once, however many sockets received it). Waiting
  // for all three means the export below is of a settled log, not of a count read mid-way.
  await expect(grid.getByRole('row', { name: /sent .*Echo request/ })).toHaveCount(1);
  await expect(grid.getByRole('row', { name: /received .*Echo request/ })).toHaveCount(1);
  await expect(grid.getByRole('row', { name: /received .*Echo reply/ })).toHaveCount(1);
  const shown = 3;
  await expect(grid).toHaveAttribute('aria-rowcount', String(shown + 1)); // and the header row

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
  expect(types.map((fields) => fields[2]).sort()).toEqual(['0', '8', '8']);

  // The whole log exports too, and tshark reads every packet of it.
  // The whole log keeps growing with other loopback traffic, so compare with the count the
  // export itself reports, not with a count read before it.
  const [all] = await Promise.all([app.waitForEvent('download'), app.getByRole('button', { name: 'Export all' }).click()]);
  const allFile = testInfo.outputPath('all.pcapng');
  await all.saveAs(allFile);
  const frames = execFileSync('tshark', ['-r', allFile, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' }).trim().split('\n');
  expect(frames.length).toBeGreaterThanOrEqual(shown);
  await expect(app.getByRole('status').filter({ hasText: new RegExp(`^Exported ${frames.length} packets? to pcapng$`) })).toBeVisible();
});
