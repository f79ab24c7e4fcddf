// The Responses pane after a send faster than the row budget (5,000 rows/s per GUI client): the
// rows the host did not push are paged in from the engine, so the pane's counts are the job's
// and its pairs are the ones the engine's own log gives. A real engine behind the real browser
// host, 20,000 echo requests to 127.0.0.1 at full speed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { connectWebSocket, createClient, type WebSocketLike } from '../../../common/client';
import type { SendJobInfo } from '../../../common/contract';
import { readLogRange } from '../../../common/log-range';
import { Workbench } from '../../../main/engine';
import { rawSocketsWhy } from '../../../main/test/fixtures/privilege';
import { startBrowserHost, type BrowserHost } from '../../../main/web/host';
import type { WorkbenchClient } from '../api/client';
import { pumpEvents } from '../api/events';
import { LogBuffer } from '../model/log-buffer';
import { lastIdOf } from '../model/log-gap';
import { createWorkbenchStore } from './index';
import { pageInSkippedAnswers, responseCounts, responsePairs } from './send-responses';

const PACKETS = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let dir: string;
let engine: Workbench;
let host: BrowserHost;
let close: () => void;
let client: WorkbenchClient;

beforeAll(async () => {
  if (rawSocketsWhy) return;
  dir = mkdtempSync(path.join(tmpdir(), 'responses-flood-'));
  mkdirSync(path.join(dir, 'dist'));
  writeFileSync(path.join(dir, 'dist', 'index.html'), '<!doctype html><title>t</title>');
  engine = new Workbench({ eventIntervalMs: 16 });
  host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir: path.join(dir, 'dist') });
  const transport = await connectWebSocket(`ws://127.0.0.1:${host.port}/api?token=${encodeURIComponent(host.token)}`, (url) => new WebSocket(url) as unknown as WebSocketLike);
  close = () => transport.close();
  client = createClient(transport) as unknown as WorkbenchClient;
});

afterAll(async () => {
  if (rawSocketsWhy) return;
  close();
  await host.close();
  engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(rawSocketsWhy !== '')(`the Responses pane after a flood beyond the row budget ${rawSocketsWhy}`, () => {
  it(`${PACKETS.toLocaleString('en')} echoes at full speed: the pane's counts are the job's, its pairs the engine log's`, async () => {
    const store = createWorkbenchStore({ client, storage: null, saveFile: vi.fn(), nextFrame: (callback) => setTimeout(callback, 16) });
    const pump = pumpEvents((listener) => client.onEvents(listener), store, (callback) => setTimeout(callback, 16));
    try {
      await store.getState().log.loadFromEngine();
      const socket = await client.openSocket({ family: 'ipv4', protocol: 1, mode: 'raw' });
      const afterId = store.getState().log.buffer.all.last()?.id ?? -1;
      const identifier = 0x4000 + (process.pid & 0x3fff);
      const started = await client.send({ socketId: socket.socketId, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier } }] }, count: PACKETS });
      const last = { jobId: started.jobId, socketId: socket.socketId, how: 'chosen' as const, afterId };
      store.setState((state) => ({ send: { ...state.send, last } }));
      store.getState().send.applyJob(started);

      // The job's every request answered or past its answer window (2 s), in the engine and in the store.
      let job: SendJobInfo | undefined;
      await until('the job to settle', async () => {
        job = (await client.listSendJobs({})).find((candidate) => candidate.jobId === started.jobId);
        return job !== undefined && job.state === 'done' && (job.answered ?? 0) + (job.lost ?? 0) === job.sent;
      }, 60_000);
      const engineJob = job as SendJobInfo;
      expect(engineJob.sent).toBe(PACKETS);
      const newest = async () => {
        const { total } = await client.queryLog({ limit: 1 });
        return (await client.queryLog({ start: total - 1, limit: 1 })).rows[0].id;
      };
      const newestId = await newest();
      await until('the store to hold the job as the engine does', () => {
        const mine = store.getState().send.jobs.find((candidate) => candidate.jobId === started.jobId);
        const lastRow = store.getState().log.buffer.all.last();
        return mine?.answered === engineJob.answered && lastRow !== undefined && lastIdOf(lastRow) >= newestId;
      }, 30_000);
      // The budget did skip rows of this job (else this test shows nothing).
      const buffer = store.getState().log.buffer;
      expect(buffer.notShown).toBeGreaterThan(0);
      expect(buffer.gapsNewestFirst().some((gap) => gap.gap.toId > afterId)).toBe(true);

      await pageInSkippedAnswers(store.getState());

      const mine = store.getState().send.jobs.find((candidate) => candidate.jobId === started.jobId) as SendJobInfo;
      const pairs = responsePairs(store.getState().log.buffer, last, mine.total);
      const counts = responseCounts(pairs, mine);
      expect(counts.sent).toBe(PACKETS);
      expect(counts.answered).toBe(engineJob.answered);
      expect(counts.unanswered).toBe(PACKETS - (engineJob.answered ?? 0));

      // The same pairs from the engine's whole log of the job.
      const range = await readLogRange((params) => client.queryLog(params), afterId + 1, newestId);
      expect(range.gone).toBe(0);
      const whole = new LogBuffer(200_000);
      whole.append(range.rows);
      const expected = responsePairs(whole, last, engineJob.total);
      expect(expected).toHaveLength(100);
      const ids = (list: typeof pairs) => list.map((pair) => [pair.request.id, pair.reply?.id ?? null]);
      expect(ids(pairs)).toEqual(ids(expected));
      await client.closeSocket({ socketId: socket.socketId });
    } finally {
      pump.stop();
    }
  }, 120_000);
});
