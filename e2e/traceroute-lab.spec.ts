// Traceroute across a namespace lab the test builds: client — router1 — router2 — target.
// The engine must run inside the client namespace, so this test starts its own browser host
// there (`ip netns exec`) and a Chromium inside the same namespace to reach its loopback.
import { chromium, type Browser } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createLab, isLabSupported, labSupport, type Lab } from '../main/lab';
import { chromiumArgs } from '../playwright.config';
import { expect, test } from './fixtures';

const PORT = 47811;
const TOKEN = 'lab-token-0123456789abcdef';

let lab: Lab | undefined;
let server: ChildProcess | undefined;
let browser: Browser | undefined;

test.afterAll(async () => {
  await browser?.close().catch(() => {});
  server?.kill('SIGTERM');
  await lab?.destroy();
});

const cases = [
  { family: 'ipv4', probe: 'icmp', label: 'ICMP echo' },
  { family: 'ipv6', probe: 'udp', label: 'UDP' },
  { family: 'ipv4', probe: 'tcp', label: 'TCP SYN' },
] as const;

test('traceroute across a namespace lab shows every hop in order', async ({}, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'the lab runs its own host and browser inside the client namespace');
  test.skip(!isLabSupported(), `namespace labs unavailable: ${labSupport().reason}`);
  test.setTimeout(120_000);

  lab = await createLab({ routers: 2 });
  const running = lab.spawn('client', ['node', path.resolve(__dirname, 'serve.mjs'), '--port', String(PORT), '--token', TOKEN], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = running;
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the lab host did not start: ${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('e2e host ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    running.stdout?.on('data', read);
    running.stderr?.on('data', read);
    running.once('exit', (code) => reject(new Error(`the lab host exited (${code}): ${output}`)));
  });

  // Chromium inside the client namespace; Playwright drives it over a pipe, not the network.
  const wrapper = testInfo.outputPath('chromium-in-client-namespace.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.client.namespace} /usr/bin/chromium "$@"\n`);
  chmodSync(wrapper, 0o755);
  browser = await chromium.launch({ executablePath: wrapper, args: chromiumArgs });
  const app = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  app.on('pageerror', (error) => errors.push(error.message));
  await app.goto(`http://127.0.0.1:${PORT}/?token=${TOKEN}`);

  await app.getByRole('tab', { name: 'Experiments' }).click();
  const trace = app.getByRole('region', { name: 'Traceroute' });
  for (const { family, probe, label } of cases) {
    const target = lab.target.addresses[family][0];
    const hops = lab.expectedHops[family];
    await trace.getByLabel('Traceroute target').fill(target);
    await trace.getByLabel('Probe kind').selectOption({ label });
    await trace.getByLabel('Max hops').fill('8');
    await trace.getByLabel('Probes per hop').fill('2');
    await trace.getByRole('button', { name: 'Start traceroute' }).click();
    await expect(trace.getByText('destination reached')).toBeVisible({ timeout: 30_000 });
    const rows = trace.getByRole('table', { name: 'Hops' }).getByRole('row');
    await expect(rows).toHaveCount(hops.length + 1);
    for (const [index, responder] of hops.entries()) {
      const cells = rows.nth(index + 1).getByRole('cell');
      await expect(cells.nth(0)).toHaveText(String(index + 1));
      await expect(cells.nth(1)).toHaveText(responder);
      await expect(cells.nth(2)).toHaveText(/^\d+\.\d+$/);
    }
    await expect(trace.getByRole('progressbar', { name: 'Traceroute progress' })).toHaveAttribute('value', '1');
    await app.screenshot({ path: testInfo.outputPath(`traceroute-${family}-${probe}.png`) });
  }
  await expect(app.getByRole('table', { name: 'Runs' }).getByRole('row')).toHaveCount(cases.length + 1);
  expect(errors).toEqual([]);
});
