// Words for people: rows carry both addresses, notes read as sentences, experiment history
// and send jobs say what they were.
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

test('a received ICMPv6 echo reply shows both addresses and a verified checksum', async ({ app }) => {
  const id = uniqueIdentifier();
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMPv6 echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMPv6 Identifier', { exact: true }).fill(hex4(id));
  await app.getByLabel('Target address').fill('::1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');

  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${hex4(id)}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  const reply = grid.getByRole('row', { name: /received .*Echo reply/ }).first();
  await expect(reply).toBeVisible();
  // Source and destination columns (the IPv6 header is not delivered: the kernel's IPV6_PKTINFO says where it arrived).
  await expect(reply.getByRole('gridcell').nth(4)).toHaveText('::1');
  await expect(reply.getByRole('gridcell').nth(5)).toHaveText('::1');
  await reply.click();
  const tree = app.getByRole('tree', { name: 'Decoded packet' });
  await expect(tree.getByRole('treeitem', { name: /^Checksum: 0x[0-9a-f]{4} \[correct\]$/ })).toBeVisible();
});

test('the run history names the probe and its port and says how the run ended', async ({ app }) => {
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const trace = app.getByRole('region', { name: 'Traceroute' });
  await trace.getByLabel('Traceroute target').fill('127.0.0.1');
  await trace.getByLabel('Probe kind').selectOption({ label: 'UDP' });
  await trace.getByLabel('Port').fill('33500');
  await trace.getByRole('button', { name: 'Start traceroute' }).click();
  await expect(trace.getByText(/destination reached after 1 hop$/)).toBeVisible({ timeout: 30_000 });
  const latest = app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1);
  await expect(latest.getByRole('cell').nth(1)).toHaveText('traceroute');
  await expect(latest.getByRole('cell').nth(2)).toHaveText('UDP to port 33500');
  await expect(latest.getByRole('cell').nth(7)).toHaveText('destination reached after 1 hop');
});
