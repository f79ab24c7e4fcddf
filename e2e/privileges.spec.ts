// The GUI as a normal user (issue 7 part 3): the browser host runs as nobody (uid 65534) in
// the client namespace of a lab (client — router1 — router2 — target), from a copy of the
// built workbench that user can read; Chromium runs in the same namespace. Without raw
// sockets the banner says what works (UDP/TCP traceroute through the error queue) and a UDP
// traceroute crosses the lab; "Allow raw sockets" fails while no sudoers rule allows nobody,
// then with a NOPASSWD rule (pkexec is not installed: the engine falls through to `sudo -n`)
// it asks and runs; an ICMP traceroute and a crafted TCP SYN then go through the helper's
// raw sockets; "Stop helper" stops it and its socket shows closed.
// Screenshots of the banner in each state go to test-results/screenshots/helper-*.png. Two
// states are shown by injecting the helper's status into the page's WebSocket: 'asking' (with
// a NOPASSWD rule sudo starts the helper within milliseconds, too short to look at) and
// 'refused' (it needs a person dismissing pkexec or typing a wrong password).
import { chromium, type Browser, type Locator, type Page, type WebSocketRoute } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { HelperStatus } from '../common/contract';
import { createLab, isLabSupported, labSupport, NOBODY, readableCopy, sudoersRule, type Lab, type ReadableCopy } from '../main/lab';
import { chromiumArgs } from '../playwright.config';
import { expect, test } from './fixtures';

const PORT = 47821;
const TOKEN = 'privileges-token-0123456789abcdef';
const SCREENSHOTS = path.resolve(__dirname, '..', 'test-results', 'screenshots');

let lab: Lab | undefined;
let copy: ReadableCopy | undefined;
let server: ChildProcess | undefined;
let browser: Browser | undefined;
let removeRule: (() => void) | undefined;

/** Everything the test made, undone (after each run, so repeats and retries start clean; again after all). */
async function cleanUp(): Promise<void> {
  await browser?.close().catch(() => {});
  browser = undefined;
  const running = server;
  server = undefined;
  if (running && running.exitCode === null && running.signalCode === null) {
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM'); // the engine stops its helper on the way out
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }
  removeRule?.();
  removeRule = undefined;
  await lab?.destroy();
  lab = undefined;
  copy?.remove();
  copy = undefined;
}

test.afterEach(cleanUp);
test.afterAll(cleanUp);

/** Resolves when the host says it is ready; rejects with its output if it exits first. */
function hostReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the host (as nobody) did not start: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('e2e host ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the host (as nobody) exited (${code}): ${output}`));
    });
  });
}

/**
 * The page's WebSocket passes through here. `override`: a helper status shown instead of the
 * engine's, in events and capabilities answers alike; inject() sends one as an event.
 */
class SocketTap {
  override: HelperStatus | null = null;
  /** The engine's own last helper status. */
  lastHelper: HelperStatus | null = null;
  /** The states of the 'helper' events the host sent. */
  readonly helperEvents: string[] = [];
  private page: WebSocketRoute | null = null;
  private upstream: WebSocketRoute | null = null;

  async attach(app: Page): Promise<void> {
    await app.routeWebSocket(/\/api\?token=/, (ws) => {
      this.page = ws;
      const upstream = ws.connectToServer();
      this.upstream = upstream;
      upstream.onMessage((message) => ws.send(this.rewrite(String(message))));
    });
  }

  /** Cuts the link both ways, as when the host goes away. */
  async cut(): Promise<void> {
    await this.upstream?.close({ code: 1001, reason: 'host gone' });
    await this.page?.close({ code: 1001, reason: 'host gone' });
  }

  /** Shows `helper` as if the engine had said it, until restore(). */
  inject(helper: HelperStatus): void {
    this.override = helper;
    this.send(helper);
  }

  /** Back to the engine's own status. */
  restore(): void {
    this.override = null;
    if (this.lastHelper) this.send(this.lastHelper);
  }

  private send(helper: HelperStatus): void {
    this.page?.send(JSON.stringify({ events: [{ type: 'helper', helper }] }));
  }

  private rewrite(text: string): string {
    const frame = JSON.parse(text) as { events?: { type: string; helper?: HelperStatus }[]; result?: { helper?: HelperStatus; experiments?: unknown } };
    let changed = false;
    for (const event of frame.events ?? []) {
      if (event.type !== 'helper' || !event.helper) continue;
      this.helperEvents.push(event.helper.state);
      this.lastHelper = event.helper;
      if (this.override) {
        event.helper = this.override;
        changed = true;
      }
    }
    const result = frame.result;
    if (result && typeof result === 'object' && result.helper && result.experiments) {
      this.lastHelper = result.helper;
      if (this.override) {
        result.helper = this.override;
        changed = true;
      }
    }
    return changed ? JSON.stringify(frame) : text;
  }
}

/** The hop table shows `hops` in order, each with an RTT. */
async function expectHops(trace: Locator, hops: readonly string[]): Promise<void> {
  const rows = trace.getByRole('table', { name: 'Hops' }).getByRole('row');
  await expect(rows).toHaveCount(hops.length + 1);
  for (const [index, responder] of hops.entries()) {
    const cells = rows.nth(index + 1).getByRole('cell');
    await expect(cells.nth(0)).toHaveText(String(index + 1));
    await expect(cells.nth(1)).toHaveText(responder);
    await expect(cells.nth(2)).toHaveText(/^\d+\.\d+$/);
  }
}

test('as nobody: what works without privileges, Allow raw sockets through sudo, raw probes and packets through the helper, Stop helper', async ({}, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'the host must run as nobody inside the lab namespace: this spec starts its own browser host and Chromium there');
  test.skip(!isLabSupported(), `namespace labs unavailable: ${labSupport().reason}`);
  test.skip(!existsSync('/usr/bin/sudo') || !existsSync('/usr/sbin/visudo'), 'needs sudo and visudo (the elevated launch)');
  test.skip(existsSync('/usr/bin/pkexec'), 'pkexec is installed: the engine would ask polkit (no agent here) before sudo');
  test.setTimeout(240_000);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const shot = async (target: Locator | Page, name: string) => target.screenshot({ path: path.join(SCREENSHOTS, `helper-${name}-${testInfo.project.name}.png`) });

  // ---- the lab, the readable copy, the host as nobody, Chromium in the client namespace ----
  lab = await createLab({ routers: 2 });
  copy = readableCopy('pw-privileges');
  const target = lab.target.addresses.ipv4[0];
  const client = lab.client.addresses.ipv4[0];
  const hops = lab.expectedHops.ipv4;
  // env -i: nothing of root's environment reaches the host; sudo is /usr/bin/sudo.
  server = lab.spawn(
    'client',
    ['env', '-i', 'PATH=/usr/bin:/bin', 'LANG=C', `PACKET_WORKBENCH_HELPER=${copy.helper}`, process.execPath, path.join(copy.root, 'e2e', 'serve.mjs'), '--port', String(PORT), '--token', TOKEN],
    { user: NOBODY, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await hostReady(server);
  const wrapper = testInfo.outputPath('chromium-in-client-namespace.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.client.namespace} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  browser = await chromium.launch({ executablePath: wrapper, args: chromiumArgs });
  const app = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  app.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  app.on('console', (message) => {
    if (message.type() === 'error' && !/favicon|status of 404/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  const tap = new SocketTap();
  await tap.attach(app);
  await app.goto(`http://127.0.0.1:${PORT}/?token=${TOKEN}`);
  await app.getByLabel('Theme').selectOption('light');

  const banner = app.getByRole('status', { name: 'Capabilities' });
  const helper = banner.getByRole('group', { name: 'Socket helper' });
  const allow = helper.getByRole('button', { name: 'Allow raw sockets' });
  const trace = app.getByRole('region', { name: 'Traceroute' });

  await test.step('the banner says raw sockets are missing and what works without them', async () => {
    await expect(banner).toContainText('No raw sockets:');
    await expect(banner).toContainText('Works now: Traceroute (UDP), Traceroute (TCP) via error queue (no privileges).');
    await expect(banner).toContainText(/Needs raw sockets: .*Send a crafted packet/);
    await expect(helper).toContainText('Socket helper: not started');
    await expect(allow).toBeEnabled();
    await expect(allow).toHaveClass(/primary/);
    await shot(banner, '1-not-started');
    await banner.getByRole('button', { name: 'Details' }).click();
    const table = banner.getByRole('table', { name: 'What works now' });
    const udp = table.getByRole('row', { name: /^Traceroute \(UDP\)/ }).getByRole('cell');
    await expect(udp.nth(0)).toHaveText('yes');
    await expect(udp.nth(1)).toHaveText('error queue (no privileges)');
    const crafted = table.getByRole('row', { name: /^Send a crafted packet/ }).getByRole('cell');
    await expect(crafted.nth(0)).toHaveText('no');
    await expect(crafted.nth(2)).toContainText('Allow raw sockets');
    await expect(banner).toContainText('uid 65534');
    await shot(banner, '1-not-started-details');
    await banner.getByRole('button', { name: 'Hide details' }).click();
  });

  await test.step('panels that need raw sockets say so before anything is tried', async () => {
    await app.getByLabel('Template').selectOption({ label: 'TCP SYN' });
    await app.getByRole('button', { name: 'Load template' }).click();
    const send = app.getByRole('region', { name: 'Send', exact: true });
    const note = send.getByRole('note', { name: 'Not available now' });
    await expect(note).toContainText('Sending this TCP packet needs raw sockets');
    await expect(note.getByRole('button', { name: 'Allow raw sockets' })).toBeVisible();
    await app.getByRole('tab', { name: 'Experiments' }).click();
    await trace.getByLabel('Traceroute target').fill(target);
    await trace.getByLabel('Probe kind').selectOption({ label: 'ICMP echo' });
    await expect(trace.getByRole('note', { name: 'Not available now' })).toContainText('ICMP echo traceroute cannot run now: it needs raw sockets or a ping socket.');
    await expect(trace.getByRole('note', { name: 'Not available now' })).toContainText('Remedy:');
  });

  await test.step('a UDP traceroute without privileges lists every hop, through the error queue', async () => {
    await trace.getByLabel('Probe kind').selectOption({ label: 'UDP' });
    await expect(trace.getByRole('note')).toHaveCount(0);
    await expect(trace).toContainText('UDP probes will go via error queue (no privileges).');
    await trace.getByLabel('Max hops').fill('8');
    await trace.getByLabel('Probes per hop').fill('2');
    await trace.getByRole('button', { name: 'Start traceroute' }).click();
    await expect(trace.getByText('destination reached')).toBeVisible({ timeout: 30_000 });
    await expect(trace.getByText(/· udp · via error queue \(no privileges\) · done/)).toBeVisible();
    await expectHops(trace, hops);
    await expect(app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1)).toContainText('error queue (no privileges)');
    await shot(app, '2-udp-traceroute-error-queue');
  });

  await test.step('Allow raw sockets without a sudoers rule: failed, with the reason and the command', async () => {
    await allow.click();
    await expect(helper).toContainText('Socket helper: failed', { timeout: 20_000 });
    await expect(helper).toContainText(/password/);
    await expect(helper.getByLabel('Command to run by hand')).toHaveText(`/usr/bin/sudo -n -- ${copy!.helper} --elevated`);
    await expect(allow).toBeEnabled();
    await shot(banner, '3-failed');
  });

  await test.step('asking (injected): waiting for sudo, with the command', async () => {
    const failed = tap.lastHelper as HelperStatus;
    tap.inject({ ...failed, state: 'asking', via: 'sudo', reason: 'Waiting for sudo to authorise the helper' });
    await expect(helper).toContainText('Socket helper: asking · Waiting for sudo…');
    await expect(helper.getByLabel('Command')).toHaveText(`/usr/bin/sudo -n -- ${copy!.helper} --elevated`);
    await expect(allow).toBeDisabled();
    await shot(banner, '4-asking');
    tap.restore();
    await expect(helper).toContainText('Socket helper: failed');
  });

  await test.step('with a NOPASSWD rule: running through sudo', async () => {
    removeRule = sudoersRule(`pw-privileges-${process.pid}`, `nobody ALL=(root) NOPASSWD: ${copy!.helper} --elevated`);
    await allow.click();
    await expect(helper).toContainText('Socket helper: running', { timeout: 20_000 });
    await expect(helper).toContainText(/pid \d+ · via sudo · keeps .*net_raw/);
    await expect(banner).toContainText('Raw sockets through the socket helper: every experiment works.');
    await expect(helper.getByRole('button', { name: 'Stop helper' })).toBeVisible();
    await shot(banner, '5-running');
  });

  await test.step('an ICMP traceroute through the helper lists the hops in order', async () => {
    await trace.getByLabel('Probe kind').selectOption({ label: 'ICMP echo' });
    await expect(trace.getByRole('note')).toHaveCount(0);
    await expect(trace).toContainText('ICMP echo probes will go via socket helper.');
    await trace.getByRole('button', { name: 'Start traceroute' }).click();
    await expect(trace.getByText(/· icmp · via socket helper · done · destination reached/)).toBeVisible({ timeout: 30_000 });
    await expectHops(trace, hops);
    await expect(app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1)).toContainText('socket helper');
  });

  const sourcePort = 40_000 + Math.floor(Math.random() * 9_000);
  await test.step('a crafted TCP SYN from Build & send goes out through the helper; the RST/ACK comes back', async () => {
    await app.getByRole('tab', { name: 'Build & send' }).click();
    await app.getByLabel('Template').selectOption({ label: 'TCP SYN' });
    await app.getByRole('button', { name: 'Load template' }).click();
    await app.getByLabel('IPv4 Source', { exact: true }).fill(client);
    await app.getByLabel('IPv4 Destination', { exact: true }).fill(target);
    await app.getByLabel('TCP Source port', { exact: true }).fill(String(sourcePort));
    // Nothing listens on port 9 of the target: Linux answers the SYN with RST/ACK.
    await app.getByLabel('TCP Destination port', { exact: true }).fill('9');
    await app.getByLabel('Target address').fill(target);
    const send = app.getByRole('region', { name: 'Send', exact: true });
    await expect(send.getByRole('note', { name: 'Not available now' })).toHaveCount(0);
    await send.getByRole('button', { name: 'Send', exact: true }).click();
    await expect(send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
    await app.getByRole('tab', { name: 'Log' }).click();
    await app.getByLabel('Search log').fill(String(sourcePort));
    const grid = app.getByRole('grid', { name: 'Packets' });
    await expect(grid.getByRole('row', { name: new RegExp(`sent .*${sourcePort} → 9 \\[SYN\\]`) })).toHaveCount(1);
    await expect(grid.getByRole('row', { name: new RegExp(`received .*9 → ${sourcePort} \\[RST, ACK\\]`) }).first()).toBeVisible();
    await shot(app, '6-tcp-syn-rst-log');
  });

  await test.step('a long send job and a ping run through the helper', async () => {
    await app.getByRole('tab', { name: 'Build & send' }).click();
    const send = app.getByRole('region', { name: 'Send', exact: true });
    // A socket of its own (Automatic would reuse the SYN's): two helper sockets to see closed.
    await send.getByLabel('Socket', { exact: true }).selectOption({ label: 'New socket' });
    await send.getByRole('radio', { name: 'Count' }).check();
    await send.getByLabel('Packet count').fill('100000');
    await send.getByLabel('Interval (ms)').fill('100');
    await send.getByRole('button', { name: 'Send', exact: true }).click();
    await expect(send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('running');
    await app.getByRole('tab', { name: 'Experiments' }).click();
    const ping = app.getByRole('region', { name: 'Ping', exact: true });
    await ping.getByLabel('Ping target').fill(target);
    await ping.getByLabel('Ping count').fill('10000');
    await ping.getByLabel('Interval').fill('100');
    await ping.getByRole('button', { name: 'Start ping' }).click();
    await expect(ping.getByText(/· via socket helper · running/)).toBeVisible();
    await expect(ping.getByLabel('Received', { exact: true })).not.toHaveText('0');
  });

  await test.step('Stop helper: stopped; its sockets close, its job and its run fail with the reason, the log keeps its rows', async () => {
    await app.getByRole('tab', { name: 'Sockets' }).click();
    const sockets = app.getByRole('table', { name: 'Open sockets' });
    const fromHelper = sockets.getByRole('row').filter({ has: app.getByRole('cell', { name: 'helper', exact: true }) });
    // One for the single SYN, one for the long job.
    await expect(fromHelper).toHaveCount(2);
    for (const row of await fromHelper.all()) await expect(row).toContainText('running');
    await helper.getByRole('button', { name: 'Stop helper' }).click();
    await expect(helper).toContainText('Socket helper: stopped', { timeout: 20_000 });
    for (const row of await fromHelper.all()) await expect(row).toContainText('closed');
    await expect(app.getByRole('note', { name: 'Helper sockets closed' })).toContainText('2 sockets from the socket helper closed when it stopped');
    await expect(banner).toContainText('No raw sockets:');
    await expect(allow).toBeEnabled();
    await shot(banner, '7-stopped');

    await app.getByRole('tab', { name: 'Build & send' }).click();
    const job = app.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1);
    await expect(job).toContainText('failed: EHELPER');
    await expect(job).toContainText('The socket helper stopped');
    await app.getByRole('tab', { name: 'Experiments' }).click();
    const ping = app.getByRole('region', { name: 'Ping', exact: true });
    await expect(ping.getByText(/· via socket helper · failed/)).toBeVisible();
    await expect(ping.getByRole('alert', { name: /^Why run-\d+ failed$/ })).toContainText('EHELPER: The socket helper stopped');
    await expect(app.getByRole('table', { name: 'Runs' }).getByRole('row').nth(1)).toContainText('EHELPER: The socket helper stopped');
    await shot(app, '7-stopped-experiments');

    // The log keeps what went through the helper.
    await app.getByRole('tab', { name: 'Log' }).click();
    await expect(app.getByRole('grid', { name: 'Packets' }).getByRole('row', { name: new RegExp(`sent .*${sourcePort} → 9 \\[SYN\\]`) }).first()).toBeVisible();
  });

  await test.step('refused (injected): the reason and the command', async () => {
    tap.inject({
      ...(tap.lastHelper as HelperStatus),
      state: 'refused',
      via: 'pkexec',
      pid: null,
      capabilities: [],
      reason: 'pkexec did not authorise the helper: Request dismissed',
      command: ['/usr/bin/pkexec', copy!.helper, '--elevated'],
    });
    await expect(helper).toContainText('Socket helper: refused · pkexec did not authorise the helper: Request dismissed');
    await expect(helper.getByLabel('Command')).toHaveText(`/usr/bin/pkexec ${copy!.helper} --elevated`);
    await expect(allow).toBeEnabled();
    await shot(banner, '8-refused');
    tap.restore();
    await expect(helper).toContainText('Socket helper: stopped');
  });

  await test.step('the helper dies (killed): failed with the reason; its socket, job and run end with it', async () => {
    await allow.click();
    // Wait for the pid itself: the text is read once, and must be the running helper's.
    await expect(helper).toContainText(/Socket helper: running · pid \d+/, { timeout: 20_000 });
    const pid = Number(/pid (\d+)/.exec((await helper.textContent()) ?? '')?.[1]);
    expect(pid).toBeGreaterThan(1);
    await app.getByRole('tab', { name: 'Build & send' }).click();
    const send = app.getByRole('region', { name: 'Send', exact: true });
    await send.getByRole('button', { name: 'Send', exact: true }).click();
    const job = send.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1);
    await expect(job).toContainText('running');
    await app.getByRole('tab', { name: 'Experiments' }).click();
    const ping = app.getByRole('region', { name: 'Ping', exact: true });
    await ping.getByRole('button', { name: 'Start ping' }).click();
    await expect(ping.getByText(/· via socket helper · running/)).toBeVisible();
    const eventsBefore = tap.helperEvents.length;
    // The helper this test's host started, by its id.
    process.kill(pid, 'SIGKILL');
    await expect(helper).toContainText('Socket helper: failed · The socket helper exited', { timeout: 20_000 });
    await expect(banner).toContainText('No raw sockets:');
    await expect(ping.getByRole('alert', { name: /^Why run-\d+ failed$/ })).toContainText('EHELPER: The socket helper stopped (The socket helper exited');
    await shot(banner, '9-died');
    await app.getByRole('tab', { name: 'Build & send' }).click();
    await expect(job).toContainText('failed: EHELPER');
    await app.getByRole('tab', { name: 'Sockets' }).click();
    const fromHelper = app.getByRole('table', { name: 'Open sockets' }).getByRole('row').filter({ has: app.getByRole('cell', { name: 'helper', exact: true }) });
    await expect(fromHelper).toHaveCount(3);
    for (const row of await fromHelper.all()) await expect(row).toContainText('closed');
    await expect(app.getByRole('note', { name: 'Helper sockets closed' })).toContainText('3 sockets from the socket helper closed when it failed: The socket helper exited');
    // The GUI also learns it from the closed sockets and failed work; the engine's own word must arrive too.
    expect.soft(tap.helperEvents.slice(eventsBefore), "the browser host forwards the engine's 'helper' events (main/web/event-outbox.ts)").toContain('failed');
  });

  await test.step('disconnected: the banner claims nothing and no panel offers raw sockets; reconnected: all back', async () => {
    await app.getByRole('tab', { name: 'Experiments' }).click();
    await expect(trace.getByRole('note', { name: 'Not available now' })).toBeVisible();
    await tap.cut();
    const connection = app.getByRole('alert', { name: 'Connection' });
    await expect(connection).toContainText('Disconnected from the workbench');
    await expect(app.getByRole('status', { name: 'Capabilities' })).toHaveCount(0);
    await expect(app.getByRole('alert', { name: 'Capabilities' })).toHaveCount(0);
    await expect(app.getByRole('button', { name: 'Allow raw sockets' })).toHaveCount(0);
    await expect(app.getByRole('note', { name: 'Not available now' })).toHaveCount(0);
    await connection.getByRole('button', { name: 'Reconnect' }).click();
    await expect(connection).toHaveCount(0);
    await expect(helper).toContainText('Socket helper: failed · The socket helper exited');
    await expect(banner).toContainText('Works now: Traceroute (UDP), Traceroute (TCP) via error queue (no privileges).');
    await expect(trace.getByRole('note', { name: 'Not available now' })).toBeVisible();
  });

  expect(errors).toEqual([]);
});
