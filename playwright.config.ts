// End-to-end tests of the renderer: in Debian's Chromium against the browser host (real
// engine, real sockets), and in Electron where its binary exists. No browser is downloaded.
import { defineConfig } from '@playwright/test';

export const E2E_PORT = Number(process.env.WORKBENCH_E2E_PORT ?? 47801);
export const E2E_TOKEN = process.env.WORKBENCH_E2E_TOKEN ?? 'e2e-token-0123456789abcdef';

/** Chromium flags for a headless, offline, root-run Debian Chromium. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'web',
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs },
      },
    },
    {
      // The same specs through Playwright's Electron launcher, started as users start it
      // (e2e/electron-launch.ts: the app root, a test user, Xvfb, the socket helper); each
      // test skips with the reason where the Electron binary is absent (it cannot be
      // downloaded here). The Chromium options serve only the unused default page.
      name: 'electron',
      use: { browserName: 'chromium', launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs } },
    },
  ],
  // Builds nothing: `npm run build` (tsc + vite build renderer) comes first.
  webServer: {
    command: `node e2e/serve.mjs --port ${E2E_PORT} --token ${E2E_TOKEN}`,
    url: `http://127.0.0.1:${E2E_PORT}/?token=${E2E_TOKEN}`,
    reuseExistingServer: !process.env.CI,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
