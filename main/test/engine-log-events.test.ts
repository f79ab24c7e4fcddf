// Log rows reach subscribers even when more arrive between two batches than one
// batch carries: the rest follow in the next batches (no socket needed: an import
// appends to the log like a receive does).
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { build, writePcapng } from '../../packets';
import { MAX_LOG_ROWS_PER_BATCH, Workbench } from '../engine';

let workbench: Workbench | undefined;
afterEach(async () => {
  await workbench?.close();
  workbench = undefined;
});

describe('log events', () => {
  it('delivers every row of a burst larger than one batch, in order, across batches', async () => {
    workbench = new Workbench({ logCapacity: 100_000 });
    const ids: number[] = [];
    let logBatches = 0;
    workbench.subscribe((batch: EventBatch) => {
      for (const event of batch) {
        if (event.type !== 'log') continue;
        logBatches++;
        for (const row of event.rows) ids.push(row.id);
      }
    });
    const burst = 2 * MAX_LOG_ROWS_PER_BATCH + 5_000;
    const packet = build([
      { kind: 'ipv4', fields: { src: '127.0.0.1', dst: '127.0.0.1' } },
      { kind: 'icmp', fields: { type: 8, code: 0, identifier: 7, sequence: 1 } },
    ]);
    const file = writePcapng(Array.from({ length: burst }, (_, i) => ({ data: packet, timestampNs: BigInt(i) })));
    const { imported } = await workbench.importPcapng(validateParams('importPcapng', { pcapng: Buffer.from(file).toString('base64') }));
    expect(imported).toBe(burst);
    const deadline = Date.now() + 5_000;
    while (ids.length < burst && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ids.length).toBe(burst);
    expect(logBatches).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1] + 1);
  });
});
