// The UI benchmark (npm run bench:ui): outside the test run, its own fresh browser host.
import { defineConfig } from '@playwright/test';
import { chromiumArgs } from '../../playwright.config';

const PORT = Number(process.env.WORKBENCH_BENCH_PORT ?? 47821);
const TOKEN = 'bench-token-0123456789abcdef';
/** The tree whose engine and renderer are measured (e2e/bench/snapshot.sh builds a commit's): this one by default. */
const ROOT = process.env.BENCH_ROOT ?? '../..';

export default defineConfig({
  testDir: '.',
  testMatch: '*.bench.ts',
  outputDir: '../../test-results/bench',
  workers: 1,
  // A loaded machine (the cores are shared) stretches every step.
  timeout: 1_200_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    actionTimeout: 20_000,
    viewport: { width: 1440, height: 900 },
    browserName: 'chromium',
    launchOptions: { executablePath: '/usr/bin/chromium', args: [...chromiumArgs, '--enable-precise-memory-info'] },
  },
  metadata: { token: TOKEN },
  webServer: {
    command: `node e2e/serve.mjs --port ${PORT} --token ${TOKEN}`,
    cwd: ROOT,
    url: `http://127.0.0.1:${PORT}/?token=${TOKEN}`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
