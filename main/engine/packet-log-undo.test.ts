// "Clear log" hides rows instead of dropping them, so the last clear can be undone.
import { describe, expect, it } from 'vitest';
import { build } from '../../packets/build';
import { readCapture, writePcapng } from '../../packets/pcapng';
import { EventHub } from './events';
import { Lifetime } from './lifetime';
import { PacketLog } from './packet-log';

const echo = (sequence: number) => build([{ kind: 'ipv4', fields: { src: '127.0.0.1', dst: '127.0.0.1' } }, { kind: 'icmp', fields: { type: 8, identifier: 7, sequence } }]);
const file = (from: number, count: number) =>
  readCapture(writePcapng(Array.from({ length: count }, (_, i) => ({ data: echo(from + i), timestampNs: BigInt(from + i) * 1000n })), {}));

async function logWith(capacity: number) {
  const hub = new EventHub();
  const log = new PacketLog(capacity, hub, new Lifetime());
  return { log, hub };
}

describe('clear and undo', () => {
  it('a clear hides every row; undo shows them again with the rows logged since', async () => {
    const { log } = await logWith(100);
    log.appendCapture(file(1, 3));
    await log.clear();
    expect((await log.query({ start: 0, limit: 100 } as never)).total).toBe(0);
    // An export of the whole log covers no row.
    const selection = log.exportSelection(undefined) as { from: number; to: number };
    expect(selection.to - selection.from).toBe(0);
    log.appendCapture(file(4, 2));
    expect((await log.query({ start: 0, limit: 100 } as never)).rows.map((row) => row.info)).toEqual(['Echo request id=0x0007 seq=4', 'Echo request id=0x0007 seq=5']);
    await expect(log.decodeEntry({ id: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    expect(await log.undoClear()).toEqual({ restored: 3 });
    const page = await log.query({ start: 0, limit: 100 } as never);
    expect(page.total).toBe(5);
    expect(page.rows.map((row) => row.id)).toEqual([0, 1, 2, 3, 4]);
    expect((await log.decodeEntry({ id: 0 })).summary).toBe('Echo request id=0x0007 seq=1');
    // Only the last clear, only once.
    await expect(log.undoClear()).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rows the ring overwrote after the clear do not come back', async () => {
    const { log } = await logWith(4);
    log.appendCapture(file(1, 3));
    await log.clear();
    log.appendCapture(file(4, 2));
    expect(await log.undoClear()).toEqual({ restored: 2 });
    expect((await log.query({ start: 0, limit: 100 } as never)).rows.map((row) => row.id)).toEqual([1, 2, 3, 4]);
  });

  it('a second clear makes the first one final', async () => {
    const { log } = await logWith(100);
    log.appendCapture(file(1, 2));
    await log.clear();
    log.appendCapture(file(3, 1));
    await log.clear();
    expect(await log.undoClear()).toEqual({ restored: 1 });
    expect((await log.query({ start: 0, limit: 100 } as never)).rows.map((row) => row.id)).toEqual([2]);
  });
});
