// A capture file over 8 MiB (too large for one importPcapng or exportPcapng) through the GUI:
// imported and exported in pieces (common/capture-transfer.ts), every packet there.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { writePcapng } from '../packets/pcapng';
import { expect, test } from './fixtures';

const PACKETS = 9000;

test('imports and exports a 9 MiB capture in pieces', async ({ app }, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'downloads are a browser feature; Electron saves through its own dialog');
  test.setTimeout(120_000);
  const file = testInfo.outputPath('big.pcapng');
  const packets = Array.from({ length: PACKETS }, (_, i) => {
    const data = new Uint8Array(1000);
    data.set([0x45, 0, 0x03, 0xe8, i >> 8, i & 0xff, 0, 0, 64, 253], 0); // IPv4, protocol 253 (experiments)
    data.set([198, 18, 0, 1, 198, 18, 0, 2], 12);
    return { data, timestampNs: BigInt(1_700_000_000 + i) * 1_000_000_000n };
  });
  const bytes = writePcapng(packets);
  expect(bytes.length).toBeGreaterThan(8 * 1024 * 1024);
  writeFileSync(file, bytes);

  await app.getByRole('tab', { name: 'Log' }).click();
  const actions = app.getByRole('toolbar', { name: 'Log actions' });
  const chooser = app.waitForEvent('filechooser');
  await actions.getByRole('button', { name: 'Import pcapng…' }).click();
  await (await chooser).setFiles(file);
  await expect(actions.getByRole('status')).toHaveText(`Imported ${PACKETS} packets from big.pcapng`, { timeout: 60_000 });

  // The whole log (ours and whatever else the shared host logged): its count is the export's own.
  const [download] = await Promise.all([app.waitForEvent('download', { timeout: 60_000 }), actions.getByRole('button', { name: 'Export all' }).click()]);
  const exported = testInfo.outputPath('all.pcapng');
  await download.saveAs(exported);
  const sources = execFileSync('tshark', ['-r', exported, '-T', 'fields', '-e', 'ip.proto'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim().split('\n');
  expect(sources.filter((proto) => proto === '253').length).toBeGreaterThanOrEqual(PACKETS);
  await expect(actions.getByRole('status')).toHaveText(new RegExp(`^Exported ${sources.length} packets to pcapng$`));
});
