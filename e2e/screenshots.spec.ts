// A screenshot of each panel with real data in it, light and dark: the product's face.
// Saved under test-results/screenshots/ (kept after the run for review and the README).
import * as path from 'node:path';
import { expect, test } from './fixtures';

const dir = path.resolve(__dirname, '..', 'test-results', 'screenshots');

test('screenshots of every panel', async ({ app }, testInfo) => {
  const shot = (name: string) => app.screenshot({ path: path.join(dir, `${name}-${testInfo.project.name}.png`) });
  // Some traffic first: an echo to each loopback, a short ping, a traceroute to 127.0.0.1.
  for (const [template, target] of [
    ['ICMPv6 echo request', '::1'],
    ['ICMP echo request', '127.0.0.1'],
  ] as const) {
    await app.getByLabel('Template').selectOption({ label: template });
    await app.getByRole('button', { name: 'Load template' }).click();
    await app.getByLabel('Target address').fill(target);
    await app.getByRole('button', { name: 'Send', exact: true }).click();
  }
  await app.getByRole('radio', { name: 'Count' }).check();
  await app.getByLabel('Packet count').fill('20');
  await app.getByLabel('Interval (ms)').fill('20');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  // The newest job is the 20-packet one (not the previous single send) and it has finished.
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('20 / 20');
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
  await app.getByLabel('ICMP Type', { exact: true }).click();
  await shot('1-build-and-send');

  await app.getByRole('tab', { name: 'Log' }).click();
  const grid = app.getByRole('grid', { name: 'Packets' });
  await grid.getByRole('row', { name: /received .*Echo reply/ }).last().click();
  await app.getByRole('tree', { name: 'Decoded packet' }).getByRole('treeitem', { name: /^Type: Echo Reply/ }).click();
  await shot('2-log');

  await app.getByRole('tab', { name: 'Sockets' }).click();
  await app.getByRole('button', { name: 'Open socket' }).click();
  await expect(app.getByRole('region', { name: /^Options of / })).toBeVisible();
  await shot('3-sockets');

  await app.getByRole('tab', { name: 'Experiments' }).click();
  await app.getByLabel('Ping count').fill('10');
  await app.getByLabel('Interval').fill('50');
  await app.getByRole('button', { name: 'Start ping' }).click();
  await app.getByLabel('Traceroute target').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Start traceroute' }).click();
  await expect(app.getByLabel('Transmitted', { exact: true })).toHaveText('10');
  // The history's newest row (it lists newest first; other specs' runs may be below) says it.
  const newest = app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1);
  await expect(newest.getByRole('cell', { name: /^destination reached after 1 hop$/ })).toBeVisible();
  await shot('4-experiments');

  await app.getByLabel('Theme').selectOption('dark');
  await shot('5-experiments-dark');
  await app.getByRole('tab', { name: 'Log' }).click();
  await shot('6-log-dark');
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await shot('7-build-and-send-dark');
  // An empty result says why and offers the way out.
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill('no such packet');
  await expect(app.getByText('No packets match the filter.')).toBeVisible();
  await shot('8-log-no-match-dark');
  await app.getByRole('button', { name: 'Clear the filter' }).click();
  await expect(app.getByLabel('Search log')).toHaveValue('');
  await app.getByLabel('Theme').selectOption('system');
});
