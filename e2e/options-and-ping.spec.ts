// Socket options read and written through the options panel; a ping run's statistics.
import { expect, test } from './fixtures';

test('set IP_TTL in the options panel and read it back', async ({ app }) => {
  await app.getByRole('tab', { name: 'Sockets' }).click();
  await app.getByLabel('Family').selectOption('ipv4');
  await app.getByLabel('Protocol', { exact: true }).fill('1');
  await app.getByRole('button', { name: 'Open socket' }).click();
  const options = app.getByRole('region', { name: /^Options of / });
  await expect(options).toBeVisible();
  // Every IPv4 option of the library is listed with its current value.
  for (const name of ['SO_RCVBUF', 'SO_SNDBUF', 'SO_RCVTIMEO', 'SO_BINDTODEVICE', 'IP_HDRINCL', 'IP_TTL', 'IP_TOS', 'IP_OPTIONS']) {
    await expect(options.getByRole('rowheader', { name: new RegExp(`^${name}`) })).toBeVisible();
  }
  await expect(options.getByLabel('IP_TTL current value')).toHaveText('64 hops');

  await options.getByLabel('IP_TTL', { exact: true }).fill('300');
  await options.getByRole('button', { name: 'Set IP_TTL' }).click();
  await expect(options.getByText('Out of range: 1 to 255 hops')).toBeVisible();

  await options.getByLabel('IP_TTL', { exact: true }).fill('42');
  await options.getByRole('button', { name: 'Set IP_TTL' }).click();
  await expect(options.getByLabel('IP_TTL current value')).toHaveText('42 hops');
  await options.getByRole('button', { name: 'Read all again' }).click();
  await expect(options.getByLabel('IP_TTL current value')).toHaveText('42 hops');
  await expect(options.getByLabel('IP_TTL', { exact: true })).toHaveValue('42');
});

test('ping with count 5 shows its statistics', async ({ app }) => {
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const ping = app.getByRole('region', { name: 'Ping' });
  await ping.getByLabel('Ping target').fill('127.0.0.1');
  await ping.getByLabel('Ping count').fill('5');
  await ping.getByLabel('Interval').fill('100');
  await ping.getByRole('button', { name: 'Start ping' }).click();
  const stats = ping.getByRole('definition');
  await expect(ping.getByLabel('Transmitted', { exact: true })).toHaveText('5');
  await expect(ping.getByLabel('Received', { exact: true })).toHaveText('5');
  await expect(ping.getByLabel('Loss', { exact: true })).toHaveText('0.0%');
  for (const name of ['Min', 'Avg', 'Max', 'Mdev']) await expect(ping.getByLabel(name, { exact: true })).toHaveText(/^\d+\.\d+ ms$/);
  await expect(stats).toHaveCount(7);
  await expect(ping.getByRole('table', { name: 'Ping replies' }).getByRole('row')).toHaveCount(6);
  await expect(ping.getByRole('img', { name: /Round-trip times/ })).toBeVisible();
  await expect(app.getByRole('table', { name: 'Runs' })).toContainText('5 sent, 5 received, 0.0% loss');
});
