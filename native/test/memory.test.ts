// close() gives a socket's receive buffers back at once. A child process opens and closes
// sockets ten at a time (raw ICMP ones each ping 127.0.0.1 and read first), with no forced
// garbage collection, and reports its resident memory:
// - the warm-up (2,000 cycles) costs less than 100 sockets' 256 KiB receive buffers would
//   (raw-socket's way, buffers kept until garbage collection, reached 130-600 MB here);
// - the next 10,000 cycles end, and peak, within 10% of the RSS after the warm-up.
// Why 2,000 and not 500 cycles of warm-up: V8's optimizing compiler compiles the hot path
// between cycles ~500 and ~2,000, a one-time ~6 MB (flat with --no-opt).
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, NATIVE_DIR, runNode } from './helpers';

const CYCLES = 10_000;
const WARM_UP = 2_000;
const BURST = 10;
const MIB = 2 ** 20;

interface RssReport {
  kind: string;
  cycles: number;
  start: number;
  baseline: number;
  final: number;
  peak: number;
}

async function openCloseRss(kind: 'icmp' | 'udp'): Promise<RssReport> {
  const args = [path.join(FIXTURES, 'open-close-rss.js'), NATIVE_DIR, kind, String(CYCLES), String(WARM_UP), String(BURST)];
  const result = await runNode(args, { timeout: 60_000 });
  expect(result, result.stderr).toMatchObject({ code: 0, timedOut: false });
  return JSON.parse(result.stdout) as RssReport;
}

describe('close() releases the receive buffers at once', () => {
  // Packet sockets are left out: each close waits for an RCU grace period in the kernel
  // (10+ ms), so 12,000 would take minutes; packet-socket.test.ts checks their close.
  for (const kind of ['icmp', 'udp'] as const) {
    it(`10,000 open/close cycles of a ${kind} socket end within 10% of the warmed-up RSS`, async () => {
      const report = await openCloseRss(kind);
      const mb = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;
      const summary = `RSS ${mb(report.start)} at start, ${mb(report.baseline)} after ${WARM_UP} cycles, ${mb(report.final)} after ${CYCLES} more (peak ${mb(report.peak)})`;
      expect(report.cycles).toBe(CYCLES);
      expect(report.baseline - report.start, summary).toBeLessThan(100 * 256 * 1024);
      expect(report.final / report.baseline - 1, summary).toBeLessThan(0.1);
      expect(report.peak / report.baseline - 1, summary).toBeLessThan(0.1);
    });
  }
});
