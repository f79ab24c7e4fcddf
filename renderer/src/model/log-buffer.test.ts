import { describe, expect, it } from 'vitest';
import type { LogRow } from '../../../common/contract';
import { LogBuffer } from './log-buffer';
import { compileFilter, emptyFilter } from './log-filter';

function row(id: number, over: Partial<LogRow> = {}): LogRow {
  return {
    id,
    time: 1_700_000_000_000 + id,
    direction: id % 2 ? 'received' : 'sent',
    socketId: 's1',
    family: 'ipv4',
    source: id % 2 ? '127.0.0.1' : '10.0.0.1',
    destination: '127.0.0.1',
    protocol: id % 3 === 0 ? 'UDP' : 'ICMP',
    length: 84,
    info: id % 2 ? `Echo reply id=0x0001 seq=${id}` : `Echo request id=0x0001 seq=${id}`,
    ...over,
  };
}
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => row(from + i));

describe('compileFilter', () => {
  it('matches by protocol, address, direction and free text', () => {
    expect(compileFilter({ ...emptyFilter, protocol: 'UDP' })(row(3))).toBe(true);
    expect(compileFilter({ ...emptyFilter, protocol: 'UDP' })(row(4))).toBe(false);
    expect(compileFilter({ ...emptyFilter, address: '10.0' })(row(2))).toBe(true);
    expect(compileFilter({ ...emptyFilter, address: '10.0' })(row(1))).toBe(false);
    expect(compileFilter({ ...emptyFilter, direction: 'received' })(row(1))).toBe(true);
    expect(compileFilter({ ...emptyFilter, text: 'REPLY' })(row(1))).toBe(true);
    expect(compileFilter({ ...emptyFilter, text: 'reply' })(row(2))).toBe(false);
  });
});

describe('LogBuffer', () => {
  it('filters incrementally and on filter change', () => {
    const log = new LogBuffer(1000);
    log.append(rows(0, 10));
    log.setFilter({ ...emptyFilter, direction: 'received' });
    expect(log.length).toBe(5);
    log.append(rows(10, 20));
    expect(log.length).toBe(10);
    expect(log.at(0)?.id).toBe(1);
    expect(log.indexOfId(7)).toBe(3);
    expect(log.indexOfId(8)).toBe(-1);
    log.setFilter(emptyFilter);
    expect(log.length).toBe(20);
  });

  it('evicts filtered rows together with the ring and skips repeated ids', () => {
    const log = new LogBuffer(100);
    log.setFilter({ ...emptyFilter, text: 'reply' });
    for (let i = 0; i < 50; i++) log.append(rows(i * 100, (i + 1) * 100));
    log.append(rows(4990, 5000));
    expect(log.total).toBe(100);
    expect(log.length).toBe(50);
    expect(log.at(0)?.id).toBe(4901);
    expect(log.all.first()?.id).toBe(4900);
  });
});

describe('LogBuffer with a display filter (verdicts from the engine)', () => {
  const withDisplay = (display: string, over: Partial<typeof emptyFilter> = {}) => ({ ...emptyFilter, display, ...over });

  it('shows nothing until the engine judged the rows, then the passing ones in order', () => {
    const buffer = new LogBuffer(100);
    buffer.append(rows(0, 10));
    buffer.setFilter(withDisplay('icmp.type == 0'));
    expect(buffer.length).toBe(0);
    expect(buffer.displayPending).toBe(true);
    expect(buffer.displayNextId).toBe(0);
    buffer.applyDisplayPage([1, 3], 5);
    expect(buffer.shownIds()).toEqual([1, 3]);
    expect(buffer.displayNextId).toBe(5);
    buffer.append(rows(10, 12));
    expect(buffer.shownIds()).toEqual([1, 3]);
    buffer.applyDisplayPage([5, 7, 9, 11], 12);
    expect(buffer.shownIds()).toEqual([1, 3, 5, 7, 9, 11]);
    expect(buffer.displayPending).toBe(false);
  });

  it('applies the instant filters on top without asking the engine again', () => {
    const buffer = new LogBuffer(100);
    buffer.append(rows(0, 10));
    buffer.setFilter(withDisplay('icmp'));
    buffer.applyDisplayPage([0, 1, 2, 4, 5, 7, 8], 10);
    buffer.setFilter(withDisplay('icmp', { direction: 'received' }));
    expect(buffer.displayPending).toBe(false);
    expect(buffer.shownIds()).toEqual([1, 5, 7]);
    buffer.setFilter(withDisplay('icmp'));
    expect(buffer.shownIds()).toEqual([0, 1, 2, 4, 5, 7, 8]);
    // A new display filter starts over.
    buffer.setFilter(withDisplay('udp'));
    expect(buffer.length).toBe(0);
    expect(buffer.displayNextId).toBe(0);
    buffer.setFilter(emptyFilter);
    expect(buffer.length).toBe(10);
    expect(buffer.displayNextId).toBeNull();
  });

  it('drops evicted rows from the judged ones', () => {
    const buffer = new LogBuffer(10);
    buffer.append(rows(0, 10));
    buffer.setFilter(withDisplay('frame'));
    buffer.applyDisplayPage([0, 2, 4, 6, 8], 10);
    buffer.append(rows(10, 15));
    expect(buffer.shownIds()).toEqual([6, 8]);
    expect(buffer.displayNextId).toBe(10);
  });

  it('a reply row gives its request row the link back', () => {
    const buffer = new LogBuffer(100);
    buffer.append([row(0)]);
    buffer.append([row(1, { match: { requestId: 0, rttMs: 0.05 } })]);
    expect(buffer.byId(0)?.match).toEqual({ replyId: 1 });
  });
});
