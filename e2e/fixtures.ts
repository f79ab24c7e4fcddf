// The `app` fixture: the workbench page, opened in Chromium from the browser host (project
// 'web') or as the Electron window (project 'electron', skipped where no binary exists).
// Electron starts as users start it: the app root, a test user, Xvfb, the socket helper
// (electron-launch.ts, prepared once per worker). Page errors and console errors fail the
// test, so a broken render cannot pass quietly.
import { _electron as electron, test as base, expect, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { E2E_TOKEN } from '../playwright.config';
import { playwrightLaunchOptions, prepareElectronLaunch, whyNoElectronLaunch, type ElectronLaunch } from './electron-launch';

export { expect };

/** The Electron binary's path, or why there is none. */
export function electronBinary(): { path: string } | { reason: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const binary = require('electron') as unknown as string;
    if (typeof binary === 'string' && existsSync(binary)) return { path: binary };
  } catch {
    // 'Electron failed to install correctly' when the download was skipped.
  }
  return { reason: 'Electron binary not installed (cannot be downloaded here; where the network allows: node node_modules/electron/install.js)' };
}

/** Why the Electron project skips here (no binary, or the launch cannot be prepared), or null. */
export function whyElectronSkips(): string | null {
  const binary = electronBinary();
  if ('reason' in binary) return binary.reason;
  const why = whyNoElectronLaunch();
  return why && `the Electron launch ${why}`;
}

interface Fixtures {
  /** Skips an Electron test, with the reason, before anything is started for it. */
  electronGate: void;
  app: Page;
}

interface WorkerFixtures {
  /** The prepared launch of the electron project's worker; null in the web project. */
  electronLaunch: ElectronLaunch | null;
}

export const test = base.extend<Fixtures, WorkerFixtures>({
  electronLaunch: [
    async ({}, use, workerInfo) => {
      const binary = electronBinary();
      if (workerInfo.project.name !== 'electron' || !('path' in binary) || whyElectronSkips() !== null) return use(null);
      const launch = await prepareElectronLaunch(binary.path);
      try {
        await use(launch);
      } finally {
        await launch.dispose();
      }
    },
    { scope: 'worker' },
  ],
  electronGate: async ({}, use, testInfo) => {
    const why = testInfo.project.name === 'electron' ? whyElectronSkips() : null;
    test.skip(why !== null, why ?? '');
    await use();
  },
  app: async ({ electronGate, electronLaunch, page }, use, testInfo) => {
    void electronGate;
    const errors: string[] = [];
    const watch = (target: Page) => {
      target.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      target.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()} (${message.location().url})`);
      });
    };
    if (testInfo.project.name === 'electron') {
      if (!electronLaunch) throw new Error('the Electron launch was not prepared');
      const app = await electron.launch(playwrightLaunchOptions(electronLaunch));
      const window = await app.firstWindow();
      watch(window);
      // Electron keeps localStorage between launches: each test starts as a new user, as in a browser context.
      await window.evaluate(() => localStorage.clear());
      await window.reload();
      await expect(window.getByRole('tab', { name: 'Log' })).toBeVisible();
      await use(window);
      await app.close();
    } else {
      watch(page);
      await page.goto(`/?token=${E2E_TOKEN}`);
      await expect(page.getByRole('tab', { name: 'Log' })).toBeVisible();
      await use(page);
    }
    // The favicon request 404s in the browser host (Chromium names the URL only as the
    // message's location); nothing else may log errors, another 404 included.
    expect(errors.filter((line) => !/status of 404 .*\(\S*\/favicon\.ico\)$/.test(line))).toEqual([]);
  },
});

/** A 16-bit identifier no other test traffic on this host is likely to use. */
export function uniqueIdentifier(): number {
  return 0x4000 + Math.floor(Math.random() * 0xbfff);
}

export const hex4 = (value: number) => `0x${value.toString(16).padStart(4, '0')}`;
