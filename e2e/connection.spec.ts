// The WebSocket to the browser host goes away: the page says so, stops offering to send,
// and reconnects to the same host on request, re-reading what it shows.
import type { WebSocketRoute } from '@playwright/test';
import * as path from 'node:path';
import { E2E_TOKEN } from '../playwright.config';
import { expect, test } from './fixtures';

test('a dropped connection shows the banner, disables sending, and Reconnect brings everything back', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'The Electron window talks over the preload bridge: there is no connection to drop');
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Every WebSocket of the page goes through here to the real host, so the test can cut it.
  const routes: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await page.routeWebSocket(/\/api\?token=/, (ws) => {
    const server = ws.connectToServer();
    routes.push({ page: ws, server });
  });
  await page.goto(`/?token=${E2E_TOKEN}`);
  await expect(page.getByRole('status', { name: 'Capabilities' })).toBeVisible();
  await expect(page.getByRole('alert', { name: 'Connection' })).toHaveCount(0);
  expect(routes).toHaveLength(1);
  const send = page.getByRole('button', { name: 'Send', exact: true });
  await expect(send).toBeEnabled();

  // The host goes away (as when the workbench is stopped): both ends close.
  await routes[0].server.close({ code: 1001, reason: 'server stopped' });
  await routes[0].page.close({ code: 1001, reason: 'server stopped' });

  const banner = page.getByRole('alert', { name: 'Connection' });
  await expect(banner).toContainText('Disconnected from the workbench');
  await expect(banner).toContainText('Sending and new runs are disabled');
  await expect(banner.getByRole('button', { name: 'Reconnect' })).toBeFocused();
  await expect(banner.getByRole('button', { name: 'Reload page' })).toBeVisible();
  // The capability banner claims nothing about a workbench it cannot reach.
  await expect(page.getByRole('status', { name: 'Capabilities' })).toHaveCount(0);
  await expect(page.getByText(/every experiment works|Works now:/)).toHaveCount(0);
  await expect(send).toBeDisabled();
  await expect(page.getByText('Disconnected: reconnect to send.')).toBeVisible();
  await expect(page.getByRole('contentinfo', { name: 'Status' })).toContainText('Disconnected');
  // Ctrl+Enter does not send either.
  await page.getByLabel('Target address').fill('127.0.0.1');
  await page.getByLabel('Target address').press('Control+Enter');
  await page.keyboard.press('Alt+3');
  await expect(page.getByRole('button', { name: 'Open socket' })).toBeDisabled();
  await page.keyboard.press('Alt+4');
  await expect(page.getByRole('button', { name: 'Start ping' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Start traceroute' })).toBeDisabled();
  await page.screenshot({ path: path.resolve(__dirname, '..', 'test-results', 'screenshots', `9-disconnected-${testInfo.project.name}.png`) });

  // Reconnect (Enter on the focused button): a new socket to the same URL, everything re-read.
  await banner.getByRole('button', { name: 'Reconnect' }).press('Enter');
  await expect(banner).toHaveCount(0);
  expect(routes).toHaveLength(2);
  expect(routes[1].page.url()).toBe(routes[0].page.url());
  await expect(page.getByRole('contentinfo', { name: 'Status' })).toContainText('Connected');
  await expect(page.getByRole('status', { name: 'Capabilities' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start ping' })).toBeEnabled();

  // The new connection works both ways: a send is answered and its events arrive.
  await page.keyboard.press('Alt+1');
  await expect(send).toBeEnabled();
  await send.click();
  await expect(page.getByRole('table', { name: 'Send jobs' }).getByRole('row').nth(1)).toContainText('done');
  await page.keyboard.press('Alt+2');
  await expect(page.getByRole('grid', { name: 'Packets' }).getByRole('row', { name: /sent .*Echo request/ }).first()).toBeVisible();
  expect(errors).toEqual([]);
});
