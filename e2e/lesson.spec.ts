// A student follows lessons in the pane beside the workbench, on the real engine in a real lab:
// "Ping and round-trip time" (start its lab from the pane, act from client, load each prepared
// ping, run it, every check passes with evidence that opens its log row; the lesson and step
// survive a reload) and "Checksums: the silent drop" (load the prepared packet with its wrong
// checksum, send it: "nothing answered within 2 s" stays "not yet" until 2 s have passed, then
// the fixed packet is answered). Labs need root (network namespaces): the browser host runs as
// root here. Saves docs/lesson.png (a lesson in progress).
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import * as path from 'node:path';
import { isLabSupported, labSupport } from '../main/lab';
import { expect, test } from './fixtures';

const screenshot = path.resolve(__dirname, '..', 'docs', 'lesson.png');

/** A check in the pane, by its text. */
const checkOf = (pane: Locator, text: string) => pane.getByRole('listitem', { name: text, exact: true });

async function stopAnyLab(app: Page) {
  await app.getByRole('tab', { name: 'Lab' }).click();
  const state = app.getByRole('status', { name: 'Lab state', exact: true });
  // A lab an earlier run left up would be judged too: this engine's lab is stopped first.
  await expect(state).toHaveText(/^(down|up since .*|failed)$/, { timeout: 30_000 });
  if ((await state.textContent())?.startsWith('up')) await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(state).toHaveText(/^(down|failed)$/, { timeout: 30_000 });
}

async function clearLog(app: Page) {
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByRole('toolbar', { name: 'Log actions' }).getByRole('button', { name: 'Clear log' }).click();
}

test('follow "Ping and round-trip time" from the lesson pane to the end, then "Checksums" with its prepared packets', async ({ app }, testInfo) => {
  test.skip(testInfo.project.name !== 'web', 'labs need root: the browser host runs as root, the Electron app as a test user');
  test.skip(!isLabSupported(), `namespace labs unavailable: ${labSupport().reason}`);
  test.setTimeout(240_000);
  await app.setViewportSize({ width: 1440, height: 900 });
  await stopAnyLab(app);
  await clearLog(app);

  // Open the pane and pick the lesson.
  const toggle = app.getByRole('button', { name: 'Lesson', exact: true });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const pane = app.getByRole('complementary', { name: 'Lesson' });
  await pane.getByLabel('Lesson', { exact: true }).selectOption({ label: 'Ping and round-trip time' });
  const progress = pane.getByRole('status', { name: 'Lesson progress' });
  await expect(progress).toHaveText('0 of 6 checks passed');

  // Before anything was sent: not yet, and why.
  const requests = checkOf(pane, 'At least 3 echo requests went from the client to the target');
  await expect(requests).toContainText('Not yet');
  await expect(requests).toContainText('no packets match, at least 3 needed');
  await expect(requests).not.toContainText('Passed');

  // Start the lesson's lab from the pane, then act from client.
  const labGroup = pane.getByRole('group', { name: 'Lesson lab' });
  await expect(labGroup).toContainText('This lesson runs in the line lab');
  await labGroup.getByRole('button', { name: 'Start the lab' }).click();
  // Namespaces, veths, routes and a readiness ping: seconds, more on a loaded machine.
  await expect(labGroup).toContainText('The line lab is up', { timeout: 90_000 });
  await labGroup.getByRole('button', { name: 'Act from client' }).click();
  await expect(labGroup).toContainText('acting from client');
  await expect(app.getByRole('status', { name: 'Lab summary' })).toHaveText(/line up · acting from client/);

  // Step 1: the prepared ping lands in the Experiments panel's form; the student starts it.
  const step1 = pane.getByRole('region', { name: 'Step 1 of 2: Ping the target' });
  await step1.getByRole('button', { name: 'Load the ping' }).click();
  await expect(app.getByRole('tab', { name: 'Experiments' })).toHaveAttribute('aria-selected', 'true');
  await expect(step1.getByRole('status', { name: 'Loaded' })).toHaveText('Ping to 198.18.4.2 loaded into Experiments, acting from client');
  const ping = app.getByRole('region', { name: 'Ping' });
  await expect(ping.getByLabel('Ping target')).toHaveValue('198.18.4.2');
  await expect(ping.getByLabel('Ping count')).toHaveValue('4');
  await ping.getByRole('button', { name: 'Start ping' }).click();
  await expect(ping.getByLabel('Received', { exact: true })).toHaveText('4', { timeout: 20_000 });
  for (const text of [
    'At least 3 echo requests went from the client to the target',
    'At least 3 echo replies came back from the target',
    'A request went out before its reply came back',
    'At least 3 replies were matched to their requests, so their round trip is known (match.rtt)',
  ]) {
    await expect(checkOf(pane, text)).toContainText('Passed', { timeout: 10_000 });
  }
  await expect(progress).toHaveText('4 of 6 checks passed');
  await expect(pane.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: /^Ping the target \(4\/4\)\W*done$/ })).toBeVisible();
  await app.screenshot({ path: screenshot });
  await testInfo.attach('lesson in progress', { path: screenshot, contentType: 'image/png' });

  // Evidence opens its row in the Log panel.
  const evidence = requests.getByRole('button', { name: /^Open #\d+ in the log$/ }).first();
  const row = ((await evidence.textContent()) ?? '').replace(/\D/g, '');
  await evidence.click();
  await expect(app.getByRole('tab', { name: 'Log' })).toHaveAttribute('aria-selected', 'true');
  await expect(app.getByRole('region', { name: 'Packet details' })).toContainText(new RegExp(`Packet ${row}: .*Echo request`));

  // Step 2 over IPv6, to the end.
  await pane.getByRole('button', { name: 'Next step' }).click();
  const step2 = pane.getByRole('region', { name: 'Step 2 of 2: The same over IPv6' });
  await expect(checkOf(step2, 'An ICMPv6 echo request from the client was answered')).toContainText('Not yet');
  await step2.getByRole('button', { name: 'Load the ping' }).click();
  await expect(ping.getByLabel('Ping target')).toHaveValue('fd42:0:0:4::2');
  await ping.getByRole('button', { name: 'Start ping' }).click();
  await expect(ping.getByLabel('Received', { exact: true })).toHaveText('4', { timeout: 20_000 });
  await expect(progress).toHaveText('6 of 6 checks passed: lesson complete', { timeout: 10_000 });
  const answered = checkOf(step2, 'An ICMPv6 echo request from the client was answered');
  await answered.getByRole('button', { name: /^Open #\d+ in the log$/ }).first().click();
  await expect(app.getByRole('region', { name: 'Packet details' })).toContainText(/Packet \d+: .*Echo request/);

  // A reload keeps the pane, the lesson and its step; the checks are judged again.
  await app.reload();
  await expect(pane.getByLabel('Lesson', { exact: true })).toHaveValue('ping-rtt');
  await expect(pane.getByRole('region', { name: 'Step 2 of 2: The same over IPv6' })).toBeVisible();
  await expect(progress).toHaveText('6 of 6 checks passed: lesson complete');

  // No serious or critical axe violation with the pane open and checks passed, light and dark.
  for (const theme of ['light', 'dark']) {
    await app.getByLabel('Theme').selectOption(theme);
    const results = await new AxeBuilder({ page: app }).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${theme}: ${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(serious).toEqual([]);
  }
  await app.getByLabel('Theme').selectOption('system');

  // Checksums: the prepared packet (a wrong checksum) into the editor, sent from client.
  await clearLog(app);
  await pane.getByLabel('Lesson', { exact: true }).selectOption({ label: 'Checksums: the silent drop' });
  const bad = pane.getByRole('region', { name: 'Step 1 of 2: Send a wrong checksum' });
  await bad.getByRole('button', { name: 'Load the packet' }).click();
  await expect(app.getByRole('tab', { name: 'Build & send' })).toHaveAttribute('aria-selected', 'true');
  await expect(app.getByLabel('ICMP Checksum', { exact: true })).toHaveValue('0x1234');
  await expect(app.getByLabel('Target address')).toHaveValue('198.18.4.2');
  await expect(app.getByRole('group', { name: 'From' })).toContainText('lab host client (line)');
  const silent = checkOf(bad, 'Nothing answered it within 2 seconds');
  await expect(silent).toContainText('Not yet');
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(checkOf(bad, 'An echo request with a wrong checksum went to the target')).toContainText('Passed', { timeout: 10_000 });
  // The request is younger than 2 s when it is first seen: the silence is not judged yet.
  await expect(silent).toContainText(/Not yet.*has no reply yet, but 2 s have not passed since/);
  await expect(silent).toContainText('Passed', { timeout: 10_000 });

  await pane.getByRole('button', { name: 'Next step' }).click();
  const good = pane.getByRole('region', { name: 'Step 2 of 2: Fix the checksum' });
  await good.getByRole('button', { name: 'Load the packet' }).click();
  await expect(app.getByLabel('ICMP Checksum automatic')).toBeChecked();
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(pane.getByRole('status', { name: 'Lesson progress' })).toHaveText('4 of 4 checks passed: lesson complete', { timeout: 15_000 });

  await stopAnyLab(app);
  await expect(pane.getByRole('group', { name: 'Lesson lab' })).toContainText('This lesson runs in the line lab');
});

test('the pane fits beside the workbench at 1024x700 and closes without losing the lesson', async ({ app }) => {
  await app.setViewportSize({ width: 1024, height: 700 });
  await app.getByRole('button', { name: 'Lesson', exact: true }).click();
  const pane = app.getByRole('complementary', { name: 'Lesson' });
  await pane.getByLabel('Lesson', { exact: true }).selectOption({ label: 'Ping and round-trip time' });
  const step = pane.getByRole('region', { name: 'Step 1 of 2: Ping the target' });
  await expect(step.getByRole('button', { name: 'Load the ping' })).toBeVisible();
  // Nothing sticks out sideways; the pane scrolls down on its own.
  const overflow = await pane.evaluate((element) => element.scrollWidth - element.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const box = await pane.boundingBox();
  expect(box!.width).toBeGreaterThanOrEqual(255);
  expect(box!.x + box!.width).toBeLessThanOrEqual(1024);
  await expect(app.getByRole('separator', { name: 'Resize workbench and lesson panes' })).toBeVisible();
  await pane.getByRole('button', { name: 'Close the lesson pane' }).click();
  await expect(pane).toHaveCount(0);
  await app.getByRole('button', { name: 'Lesson', exact: true }).click();
  await expect(pane.getByLabel('Lesson', { exact: true })).toHaveValue('ping-rtt');
});
