// axe-core over every panel with real content in it (a logged echo and its reply, an open
// socket, a finished ping, a lab up), in light and dark, at 1440x900 and 1024x700: no serious or
// critical violation. Also what axe does not judge: one level-one heading, one control per
// name (the pcapng file input behind "Import pcapng…" is not a second button).
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { isLabSupported } from '../main/lab';
import { expect, hex4, test, uniqueIdentifier } from './fixtures';

const viewports = [
  { width: 1440, height: 900 },
  { width: 1024, height: 700 },
];
const themes = ['light', 'dark'] as const;
const panels = ['Build & send', 'Log', 'Sockets', 'Experiments', 'Lab'] as const;

/** Serious and critical violations on the page as it is now, one readable line per node. */
async function seriousViolations(app: Page, where: string): Promise<string[]> {
  const results = await new AxeBuilder({ page: app }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) =>
      violation.nodes.map((node) => `${where}: [${violation.impact}] ${violation.id} (${violation.help}) at ${node.target.join(' ')}: ${node.failureSummary?.replace(/\s+/g, ' ') ?? ''}`),
    );
}

/** Loads a template, sets the target and sends it; waits for the job to finish. */
async function send(app: Page, template: string, target: string, fields: Record<string, string> = {}) {
  await app.getByRole('tab', { name: 'Build & send' }).click();
  await app.getByLabel('Template').selectOption({ label: template });
  await app.getByRole('button', { name: 'Load template' }).click();
  for (const [label, value] of Object.entries(fields)) await app.getByLabel(label, { exact: true }).fill(value);
  await app.getByLabel('Target address').fill(target);
  await app.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
}

/**
 * Fill every panel with the states its colours must hold up in: a raw ICMP socket open (then
 * its receive paused), echoes over IPv4 and IPv6, a UDP datagram to a closed port (its ICMP
 * error row), a ping run, one log row selected and one marked. Returns the socket to close.
 */
async function fillPanels(app: Page): Promise<string> {
  await app.getByRole('tab', { name: 'Sockets' }).click();
  await app.getByLabel('Family').selectOption('ipv4');
  await app.getByLabel('Protocol', { exact: true }).fill('1');
  await app.getByRole('button', { name: 'Open socket' }).click();
  const options = app.getByRole('region', { name: /^Options of socket-\d+$/ });
  await expect(options).toBeVisible();
  const socketId = (await options.getAttribute('aria-label'))!.replace('Options of ', '');

  await app.getByRole('tab', { name: 'Experiments' }).click();
  const ping = app.getByRole('region', { name: 'Ping' });
  await ping.getByLabel('Ping target').fill('127.0.0.1');
  await ping.getByLabel('Ping count').fill('3');
  await ping.getByLabel('Interval').fill('100');
  await ping.getByRole('button', { name: 'Start ping' }).click();
  await expect(ping.getByLabel('Received', { exact: true })).toHaveText('3');

  await send(app, 'ICMPv6 echo request', '::1', { 'ICMPv6 Identifier': hex4(uniqueIdentifier()) });
  const echoId = hex4(uniqueIdentifier());
  await send(app, 'ICMP echo request', '127.0.0.1', { 'ICMP Identifier': echoId });
  // Nothing listens on UDP 33434: the kernel answers with port unreachable, an error row.
  await send(app, 'UDP datagram', '127.0.0.1');

  await app.getByRole('tab', { name: 'Sockets' }).click();
  await app.getByRole('button', { name: `Pause receive on ${socketId}` }).click();
  await expect(app.getByRole('button', { name: `Resume receive on ${socketId}` })).toBeVisible();

  // A selected reply fills the decode tree and the hex view; a marked row has its own look.
  // The sockets Send opened log other traffic on this host too: find the echo by its identifier.
  await app.getByRole('tab', { name: 'Log' }).click();
  await app.getByLabel('Search log').fill(`id=${echoId}`);
  const grid = app.getByRole('grid', { name: 'Packets' });
  await grid.getByRole('row', { name: /received .*Echo reply/ }).first().click();
  await grid.getByRole('row', { name: /sent .*Echo request/ }).first().click({ modifiers: ['ControlOrMeta'] });
  await expect(app.getByRole('tree', { name: 'Decoded packet' })).toBeVisible();
  // Then the newest ICMP rows, the error row among them.
  await app.getByLabel('Search log').fill('');
  await app.getByLabel('Protocol filter').selectOption('ICMP');
  await app.getByLabel('Follow newest').check();
  await expect(grid.getByRole('row', { name: /unreachable/i }).last()).toBeVisible();
  return socketId;
}

/**
 * The Lab panel with the `lossy` lab up (its diagram, an impaired link, the links table) and
 * client chosen to act from; where namespace labs cannot run, the panel as it is without one.
 */
async function startLab(app: Page, project: string): Promise<boolean> {
  // Labs need root: the browser host runs as root, the Electron app as a test user.
  if (!isLabSupported() || project !== 'web') return false;
  await app.getByRole('tab', { name: 'Lab' }).click();
  await app.getByLabel('Topology', { exact: true }).selectOption('lossy');
  await app.getByRole('button', { name: 'Start lab' }).click();
  await expect(app.getByRole('status', { name: 'Lab state', exact: true })).toHaveText(/^up since/, { timeout: 90_000 });
  await app.getByRole('group', { name: 'Diagram of lab lossy' }).getByRole('button', { name: 'client host', exact: true }).click();
  await expect(app.getByLabel('Act from host')).toHaveValue('client');
  return true;
}

async function stopLab(app: Page) {
  await app.getByRole('tab', { name: 'Lab' }).click();
  await app.getByRole('button', { name: 'Stop lab' }).click();
  await expect(app.getByRole('status', { name: 'Lab state', exact: true })).toHaveText('down', { timeout: 30_000 });
}

for (const viewport of viewports) {
  test(`no serious or critical axe violations on any panel, light and dark, at ${viewport.width}x${viewport.height}`, async ({ app }, testInfo) => {
    test.setTimeout(180_000);
    await app.setViewportSize(viewport);
    const socketId = await fillPanels(app);
    const lab = await startLab(app, testInfo.project.name);
    const found: string[] = [];
    for (const theme of themes) {
      await app.getByLabel('Theme').selectOption(theme);
      for (const panel of panels) {
        await app.getByRole('tab', { name: panel }).click();
        await expect(app.getByRole('tab', { name: panel })).toHaveAttribute('aria-selected', 'true');
        found.push(...(await seriousViolations(app, `${panel}, ${theme}, ${viewport.width}x${viewport.height}`)));
      }
    }
    await app.getByRole('tab', { name: 'Sockets' }).click();
    await app.getByRole('button', { name: `Close ${socketId}` }).click();
    if (lab) await stopLab(app);
    expect(found, `${found.length} serious or critical violations:\n${found.join('\n')}`).toEqual([]);
  });
}

test('one level-one heading, and one control behind "Import pcapng…"', async ({ app }, testInfo) => {
  await expect(app.getByRole('heading', { level: 1 })).toHaveText(/Packet Workbench/);
  await expect(app.getByRole('heading', { level: 1 })).toHaveCount(1);
  await app.getByRole('tab', { name: 'Log' }).click();
  const actions = app.getByRole('toolbar', { name: 'Log actions' });
  await expect(actions.getByRole('button', { name: /import pcapng/i })).toHaveCount(1);
  // The button alone still imports: the log exported, then read back through its chooser.
  const download = app.waitForEvent('download');
  await actions.getByRole('button', { name: 'Export all' }).click();
  const file = testInfo.outputPath('all.pcapng');
  await (await download).saveAs(file);
  const chooser = app.waitForEvent('filechooser');
  await actions.getByRole('button', { name: 'Import pcapng…' }).click();
  await (await chooser).setFiles(file);
  await expect(actions.getByRole('status')).toHaveText(/^Imported \d+ packets? from all\.pcapng$/);
});

test('the lesson pane beside the panels a student uses with it: no serious or critical axe violations, light and dark, 1440x900 and 1024x700', async ({ app }) => {
  test.setTimeout(240_000);
  await app.getByRole('button', { name: 'Lesson', exact: true }).click();
  const pane = app.getByRole('complementary', { name: 'Lesson' });
  // A lesson with checks not yet passed (their reasons shown) and its lab to start.
  await pane.getByLabel('Lesson', { exact: true }).selectOption({ label: 'Checksums: the silent drop' });
  await expect(pane.getByRole('status', { name: 'Lesson progress' })).toHaveText(/^\d+ of 4 checks passed/);
  const found: string[] = [];
  for (const viewport of viewports) {
    await app.setViewportSize(viewport);
    for (const theme of themes) {
      await app.getByLabel('Theme').selectOption(theme);
      for (const panel of ['Build & send', 'Experiments'] as const) {
        await app.getByRole('tab', { name: panel }).click();
        await expect(pane).toBeVisible();
        found.push(...(await seriousViolations(app, `lesson pane beside ${panel}, ${theme}, ${viewport.width}x${viewport.height}`)));
      }
    }
  }
  expect(found, `${found.length} serious or critical violations:\n${found.join('\n')}`).toEqual([]);
});
