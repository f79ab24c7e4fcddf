// A flood beyond what the window can show: the host sends the GUI its row budget, the log says
// how many rows it did not show, where they belong, and pages them in from the engine on Show.
import { expect, test } from './fixtures';
import { engineClient } from './wire';

const EXPERIMENTAL = 253; // RFC 3692: no stack answers it
const PACKETS = 40_000; // ~80,000 rows (sent + the socket's own copy) in a few seconds: far over the 5,000 rows/s budget

test('a loopback flood: "rows not shown" in the log, paged in on Show', async ({ app }) => {
  test.setTimeout(120_000);
  await app.getByRole('tab', { name: 'Log' }).click();
  const engine = await engineClient();
  const socket = await engine.openSocket({ family: 'ipv4', protocol: EXPERIMENTAL, mode: 'raw' });
  try {
    const job = await engine.send({ socketId: socket.socketId, address: '127.0.0.1', packet: { hex: '00'.repeat(16) }, count: PACKETS });
    await expect.poll(async () => (await engine.listSendJobs({})).find((j) => j.jobId === job.jobId)?.state, { timeout: 60_000 }).toBe('done');
  } finally {
    await engine.closeSocket({ socketId: socket.socketId });
    engine.close();
  }
  const actions = app.getByRole('toolbar', { name: 'Log actions' });
  const notice = actions.getByText(/^[\d,]+ rows not shown \(flood\)$/);
  await expect(notice).toBeVisible();
  const notShown = async () => Number((await notice.innerText()).split(' ')[0].replace(/,/g, ''));
  // The host's last frames of the flood may still be on their way: wait until the count holds.
  await expect
    .poll(async () => {
      const first = await notShown();
      await app.waitForTimeout(500);
      return first === (await notShown());
    }, { timeout: 30_000 })
    .toBe(true);
  const before = await notShown();
  expect(before).toBeGreaterThan(1000);

  // Where the rows belong: a row in the table names them and shows them.
  const grid = app.getByRole('grid', { name: 'Packets' });
  await app.getByLabel('Follow newest').uncheck();
  const gapButtons = grid.getByRole('button', { name: /^Show rows \d+–\d+$/ });
  // Scroll up from the newest rows, as a user would, until such a row is in view.
  await grid.focus();
  await app.keyboard.press('End');
  for (let i = 0; i < 200 && (await gapButtons.count()) === 0; i++) await app.keyboard.press('PageUp');
  const gapButton = gapButtons.first();
  await expect(gapButton).toBeVisible();
  const [, from, to] = /(\d+)–(\d+)/.exec((await gapButton.textContent()) ?? '') ?? [];
  await gapButton.click();
  const count = Number(to) - Number(from) + 1;
  await expect(actions.getByRole('status')).toHaveText(`${count.toLocaleString('en')} rows shown`);
  // The rows stand where the marker stood.
  await expect(grid.getByRole('row', { name: new RegExp(`^${from} `) })).toHaveCount(1);
  await expect(grid.getByRole('row', { name: new RegExp(`^${Number(from) + 1} `) })).toHaveCount(1);
  expect(await notShown()).toBe(before - count);

  // The toolbar's Show reads in the rest (at most 20,000 rows a click).
  for (let i = 0; i < 5 && (await notice.count()) > 0; i++) {
    await actions.getByRole('button', { name: /^Show (them|the newest [\d,]+)$/ }).click();
    await expect(actions.getByRole('button', { name: 'Reading…' })).toHaveCount(0, { timeout: 30_000 });
  }
  await expect(notice).toHaveCount(0);
  await expect(grid.getByRole('button', { name: /^Show rows/ })).toHaveCount(0);
});
