// Forms say everything that is wrong in one try, forget each mistake as it is fixed, and
// take host names (resolved by the engine; only localhost here, never another name).
import { expect, test } from './fixtures';

for (const viewport of [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
]) {
  test(`ping form at ${viewport.width}x${viewport.height}: all errors at once, cleared when fixed; localhost resolved`, async ({ app }) => {
    await app.setViewportSize(viewport);
    await app.getByRole('tab', { name: 'Experiments' }).click();
    const ping = app.getByRole('region', { name: 'Ping' });
    await ping.getByLabel('Ping target').fill('');
    await ping.getByLabel('Ping count').fill('x');
    await ping.getByLabel('TTL').fill('300');
    await ping.getByRole('button', { name: 'Start ping' }).click();
    const problems = ping.getByRole('list', { name: 'Fields to fix' });
    await expect(problems.getByRole('listitem')).toHaveText([
      'Ping target is required: an address or a host name such as localhost',
      'Count must be a whole number from 1 to 100000',
      'TTL must be from 1 to 255, not 300',
    ]);
    for (const label of ['Ping target', 'Ping count', 'TTL']) await expect(ping.getByLabel(label)).toHaveAttribute('aria-invalid', 'true');

    await ping.getByLabel('Ping count').fill('2');
    await expect(ping.getByLabel('Ping count')).not.toHaveAttribute('aria-invalid');
    await expect(problems.getByRole('listitem')).toHaveCount(2);
    await ping.getByLabel('TTL').fill('64');
    await expect(ping.getByRole('alert')).toHaveText('Ping target is required: an address or a host name such as localhost');
    await ping.getByLabel('Ping target').fill('localhost');
    await expect(ping.getByRole('alert')).toHaveCount(0);

    await ping.getByRole('button', { name: 'Start ping' }).click();
    await expect(ping.getByRole('status', { name: 'Resolved target' })).toHaveText(/^localhost is (127\.0\.0\.1|::1)$/);
    const latest = app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1);
    await expect(latest.getByRole('cell').nth(3)).toHaveText(/^(127\.0\.0\.1|::1)$/);
    await expect(latest).toContainText('2 sent, 2 received', { timeout: 15_000 });
  });
}

test('a name that is not a host name is refused on the traceroute target, and the message goes once it is fixed', async ({ app }) => {
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const trace = app.getByRole('region', { name: 'Traceroute' });
  await trace.getByLabel('Traceroute target').fill('not a host');
  await trace.getByLabel('Max hops').fill('0');
  await trace.getByRole('button', { name: 'Start traceroute' }).click();
  await expect(trace.getByRole('list', { name: 'Fields to fix' }).getByRole('listitem')).toHaveText([
    "Traceroute target 'not a host' has a space: type one address or host name",
    'Max hops must be from 1 to 255, not 0',
  ]);
  await trace.getByLabel('Traceroute target').fill('localhost');
  await trace.getByLabel('Max hops').fill('3');
  await expect(trace.getByRole('alert')).toHaveCount(0);
});

test('the Send error about an invalid packet goes once the packet is fixed', async ({ app }) => {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  const ttl = app.getByLabel('IPv4 Time to live', { exact: true });
  await ttl.fill('256');
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  const sendError = app.getByText(/^The packet is not valid: Layer 1 \(IPv4\) Time to live/);
  await expect(sendError).toBeVisible();
  await ttl.fill('64');
  await expect(sendError).toHaveCount(0);
});
