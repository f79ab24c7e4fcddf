// The response pane under the Send form: an echo request to 127.0.0.1 and its reply side by
// side with the round trip, each a link into the Log panel; at both window sizes.
import { expect, hex4, test, uniqueIdentifier } from './fixtures';
import { engineClient } from './wire';

for (const viewport of [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
]) {
  test(`the reply to a ping shows under the Send form with its RTT and opens in the log (${viewport.width}x${viewport.height})`, async ({ app }) => {
    await app.setViewportSize(viewport);
    const id = uniqueIdentifier();
    await app.getByRole('tab', { name: 'Build & send' }).click();
    await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
    await app.getByRole('button', { name: 'Load template' }).click();
    await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
    await app.getByLabel('ICMP Sequence number', { exact: true }).fill('3');
    await app.getByLabel('Target address').fill('127.0.0.1');
    await app.getByRole('button', { name: 'Send', exact: true }).click();

    const pane = app.getByRole('region', { name: 'Responses' });
    await expect(pane.getByRole('status')).toContainText('1 sent · 1 answered · 0 ');
    const pairs = pane.getByRole('table', { name: 'Request and answer' });
    const pair = pairs.getByRole('row').nth(1);
    await expect(pair.getByRole('cell').nth(0)).toContainText(`Echo request id=${hex4(id)} seq=3`);
    await expect(pair.getByRole('cell').nth(1)).toContainText(`Echo reply id=${hex4(id)} seq=3`);
    const rtt = (await pair.getByRole('cell').nth(2).textContent()) ?? '';
    expect(rtt).toMatch(/^\d+\.\d+ ms$/);
    expect(Number.parseFloat(rtt)).toBeGreaterThan(0);
    expect(Number.parseFloat(rtt)).toBeLessThan(1000);
    await expect(pair.getByRole('button', { name: /^Open #\d+ in the log$/ }).first()).toBeInViewport();

    // The reply's link opens it in the Log panel, where it names its request.
    const replyLink = pair.getByRole('cell').nth(1).getByRole('button', { name: /^Open #\d+ in the log$/ });
    const replyNumber = ((await replyLink.textContent()) ?? '').replace(/\D/g, '');
    const requestNumber = ((await pair.getByRole('cell').nth(0).getByRole('button').textContent()) ?? '').replace(/\D/g, '');
    await replyLink.click();
    await expect(app.getByRole('tab', { name: 'Log' })).toHaveAttribute('aria-selected', 'true');
    const details = app.getByRole('region', { name: 'Packet details' });
    await expect(details).toContainText(`Packet ${replyNumber}:`);
    // The engine may link the reply to the socket's loopback copy of the request (a received row
    // logged just after the sent one): the pane pairs it with the sent row all the same.
    const toRequest = details.getByRole('button', { name: /^Request in #\d+$/ });
    await expect(toRequest).toBeVisible();
    expect(Number(((await toRequest.textContent()) ?? '').replace(/\D/g, ''))).toBeGreaterThanOrEqual(Number(requestNumber));
  });
}

test('a packet nothing answers is marked unanswered (an echo request with a wrong checksum, which the kernel drops)', async ({ app }) => {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  // 127.0.0.1 answers every good echo request; one with a wrong checksum it drops unanswered.
  // Its own identifier: an unanswered request stays pending in the engine's matcher for a minute.
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(uniqueIdentifier()));
  await app.getByLabel('ICMP Checksum automatic').uncheck();
  await app.getByLabel('ICMP Checksum', { exact: true }).fill('0x0001');
  await app.getByLabel('Target address').fill('127.0.0.1');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  const pane = app.getByRole('region', { name: 'Responses' });
  const pair = pane.getByRole('table', { name: 'Request and answer' }).getByRole('row').nth(1);
  await expect(pair.getByRole('cell').nth(1)).toHaveText('no answer', { timeout: 15_000 });
  await expect(pane.getByRole('status')).toContainText('1 sent · 0 answered · 1 unanswered');
});

test('20,000 echoes at full speed, beyond the row budget: the pane says the job\'s counts and its newest pairs carry their answers', async ({ app }) => {
  test.setTimeout(120_000);
  const id = uniqueIdentifier();
  await app.getByRole('tab', { name: 'Build & send' }).click();
  const send = app.getByRole('region', { name: 'Send', exact: true });
  await app.getByLabel('Template').selectOption({ label: 'ICMP echo request' });
  await app.getByRole('button', { name: 'Load template' }).click();
  await app.getByLabel('ICMP Identifier', { exact: true }).fill(hex4(id));
  await send.getByRole('radio', { name: 'Count' }).check();
  await send.getByLabel('Packet count').fill('20000');
  await send.getByRole('radio', { name: 'Interval' }).check();
  await send.getByLabel('Interval (ms)').fill('0');
  await send.getByLabel('Target address').fill('127.0.0.1');
  await send.getByRole('button', { name: 'Send', exact: true }).click();
  const pane = app.getByRole('region', { name: 'Responses' });
  const jobId = /Responses to (\S+)/.exec((await pane.getByRole('heading').textContent()) ?? '')?.[1] ?? '';
  // The engine's counts once every request is answered or past its 2 s window.
  const engine = await engineClient();
  let answered = -1;
  try {
    await expect
      .poll(async () => {
        const job = (await engine.listSendJobs({})).find((candidate) => candidate.jobId === jobId);
        if (job?.state !== 'done' || (job.answered ?? 0) + (job.lost ?? 0) !== job.sent) return false;
        answered = job.answered ?? 0;
        return true;
      }, { timeout: 60_000 })
      .toBe(true);
  } finally {
    engine.close();
  }
  await expect(pane.getByRole('status')).toContainText(`20,000 sent (newest 100 shown) · ${answered.toLocaleString('en')} answered · ${(20_000 - answered).toLocaleString('en')} unanswered`, { timeout: 30_000 });
  const pairs = pane.getByRole('table', { name: 'Request and answer' }).getByRole('row');
  await expect(pairs).toHaveCount(101);
  // The newest requests' answers were among the rows not pushed: paged in, not "no answer"
  // (a busy machine may drop a few replies: no more than the engine counts unanswered).
  const noAnswer = await pane.getByText('no answer').count();
  expect(noAnswer).toBeLessThanOrEqual(20_000 - answered);
  if (answered === 20_000) await expect(pairs.nth(1).getByRole('cell').nth(1)).toContainText(`Echo reply id=${hex4(id)}`);
});
