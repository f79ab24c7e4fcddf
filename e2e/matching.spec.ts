// Request/response matching in the log: the RTT column on replies, and "Request in #M" /
// "Reply in #N" in the decode pane, each a link to the other packet.
import { expect, test } from './fixtures';

test('a ping reply shows its RTT and links to its request, and back', async ({ app }) => {
  await app.getByRole('tab', { name: 'Experiments' }).click();
  const panel = app.getByRole('region', { name: 'Ping' });
  await panel.getByLabel('Ping target').fill('::1');
  await panel.getByLabel('Ping count').fill('3');
  await panel.getByLabel('Interval').fill('50');
  await panel.getByRole('button', { name: 'Start ping' }).click();
  await expect(panel.getByLabel('Received', { exact: true })).toHaveText('3');

  await app.getByRole('tab', { name: 'Log' }).click();
  const box = app.getByRole('combobox', { name: 'Display filter' });
  await box.fill('icmpv6.type in {128 129} && ipv6.addr == ::1');
  await box.press('Enter');
  const grid = app.getByRole('grid', { name: 'Packets' });
  await expect(grid.getByRole('columnheader', { name: 'RTT' })).toBeVisible();
  const reply = grid.getByRole('row', { name: /received .*Echo reply/ }).last();
  await expect(reply).toBeVisible();
  // The RTT cell by its column (a Host column appears once any row has a lab host).
  const headers = await grid.getByRole('columnheader').allTextContents();
  const rttColumn = headers.findIndex((text) => text.trim() === 'RTT');
  expect(rttColumn).toBeGreaterThan(0);
  const rtt = await reply.getByRole('gridcell').nth(rttColumn).textContent();
  expect(Number(rtt)).toBeGreaterThan(0);
  expect(Number(rtt)).toBeLessThan(1000);

  await reply.click();
  const details = app.getByRole('region', { name: 'Packet details' });
  const toRequest = details.getByRole('button', { name: /^Request in #\d+$/ });
  await expect(toRequest).toBeVisible();
  await expect(details).toContainText(`round trip ${rtt} ms`);
  const replyNumber = (await reply.getByRole('gridcell').first().textContent())!.trim();
  const requestNumber = (await toRequest.textContent())!.replace(/\D/g, '');
  await toRequest.click();
  await expect(details).toContainText(`Packet ${requestNumber}:`);
  const request = grid.getByRole('row', { name: new RegExp(`^${requestNumber} .*Echo request`) });
  await expect(request).toHaveAttribute('aria-selected', 'true');
  const toReply = details.getByRole('button', { name: `Reply in #${replyNumber}` });
  await expect(toReply).toBeVisible();
  await toReply.click();
  await expect(details).toContainText(`Packet ${replyNumber}:`);
  await box.fill('');
  await box.press('Enter');
});
