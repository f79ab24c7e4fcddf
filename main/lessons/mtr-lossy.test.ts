// The mtr-lossy lesson offline, both ways, over the packets an mtr run sends and gets
// back in the lossy topology (ICMP echo probes with TTL 1, 2, 3 per cycle; Time Exceeded
// from r1 and r2 quoting them; echo replies from the target), synthesized with packets/:
// 20 % of the probes past r1 lost and 40 ms added there (what the link does), or a clean
// path (what a lab without the impairment, or a student who pinged r1, shows). Imported
// into a real Workbench: the engine's request/reply matching gives the round trips.
import { afterEach, describe, expect, it } from 'vitest';
import { build, writePcapng, type PacketStack, type PacketToWrite } from '../../packets';
import { Workbench } from '../engine';

const CLIENT = '198.18.1.1';
const HOPS = ['198.18.1.2', '198.18.2.2', '198.18.3.2']; // r1, r2, target
const T0 = 1_700_000_000_000_000_000n;
const payload = { kind: 'payload', data: '00'.repeat(36) } as const;

interface Path {
  cycles: number;
  /** Every n-th probe that crosses the link is lost (0: none). */
  loseEvery: number;
  /** Added to the round trip past the link, ms. */
  delayMs: number;
}

/** One mtr run: per cycle, probes with TTL 1..3, 200 ms apart; the answers as the path gives them. */
function mtrCapture({ cycles, loseEvery, delayMs }: Path): Uint8Array {
  const packets: PacketToWrite[] = [];
  let crossed = 0;
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (let ttl = 1; ttl <= 3; ttl++) {
      const sentMs = cycle * 600 + (ttl - 1) * 200;
      const sequence = cycle * 3 + ttl;
      const probe = [{ kind: 'ipv4', fields: { src: CLIENT, dst: HOPS[2], ttl } }, { kind: 'icmp', fields: { type: 8, identifier: 0x77, sequence } }, payload];
      packets.push({ data: build(probe as PacketStack), timestampNs: T0 + BigInt(sentMs) * 1_000_000n, direction: 'outbound' });
      if (ttl >= 2 && loseEvery > 0 && ++crossed % loseEvery === 0) continue;
      const rttMs = 0.3 * ttl + (ttl >= 2 ? delayMs : 0);
      const answer =
        ttl < 3
          ? [{ kind: 'ipv4', fields: { src: HOPS[ttl - 1], dst: CLIENT } }, { kind: 'icmp', fields: { type: 11, code: 0 } }, { kind: 'ipv4', fields: { src: CLIENT, dst: HOPS[2], ttl: 1 } }, { kind: 'icmp', fields: { type: 8, identifier: 0x77, sequence } }, payload]
          : [{ kind: 'ipv4', fields: { src: HOPS[2], dst: CLIENT } }, { kind: 'icmp', fields: { type: 0, identifier: 0x77, sequence } }, payload];
      packets.push({ data: build(answer as PacketStack), timestampNs: T0 + BigInt(Math.round((sentMs + rttMs) * 1000)) * 1000n, direction: 'inbound' });
    }
  }
  packets.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : 1));
  return writePcapng(packets);
}

let workbench: Workbench | undefined;
afterEach(() => workbench?.close());

async function failedChecks(path: Path): Promise<string[]> {
  workbench = new Workbench();
  await workbench.importPcapng({ pcapng: Buffer.from(mtrCapture(path)).toString('base64') });
  const verdict = await workbench.checkLesson({ name: 'mtr-lossy' });
  return verdict.steps.flatMap((step) => step.checks.filter((check) => !check.passed).map((check) => check.id));
}

describe('mtr-lossy lesson (offline, synthesized mtr traffic)', () => {
  it('passes on 30 cycles through the lossy link: 20 % lost past r1, +40 ms', async () => {
    expect(await failedChecks({ cycles: 30, loseEvery: 5, delayMs: 40 })).toEqual([]);
  });

  it('fails on a clean path: no loss, no added delay', async () => {
    expect(await failedChecks({ cycles: 30, loseEvery: 0, delayMs: 0 })).toEqual(['hop-2-slow', 'target-slow', 'loss-seen']);
  });

  it('fails on too short a run: 5 cycles are not enough to measure 20 %', async () => {
    expect(await failedChecks({ cycles: 5, loseEvery: 5, delayMs: 40 })).toEqual(['enough-probes']);
  });
});
