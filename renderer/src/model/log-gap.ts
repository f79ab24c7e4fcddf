// Rows the host did not push during a flood ('logSkipped'): the log holds one marker in their
// place, in id order, so the table shows "N rows not shown" where they belong and a click
// pages them in from the engine. A marker is a LogRow in shape (the rings and the table keep
// one item type) that no filter passes and no lookup by id returns.
import type { LogRow } from '../../../common/contract';

export interface LogGap extends LogRow {
  /** The ids this marker stands for: [id, gap.toId], `gap.count` rows. */
  gap: { toId: number; count: number };
}

export function isGap(row: LogRow): row is LogGap {
  return (row as Partial<LogGap>).gap !== undefined;
}

export function logGap(fromId: number, toId: number, count: number): LogGap {
  return {
    id: fromId,
    time: 0,
    direction: 'received',
    socketId: null,
    family: 'ipv4',
    source: '',
    destination: '',
    protocol: '',
    length: 0,
    info: `${count.toLocaleString('en')} ${count === 1 ? 'row' : 'rows'} not shown (flood)`,
    gap: { toId, count },
  };
}

/** The last id a row or marker stands for. */
export function lastIdOf(row: LogRow): number {
  return isGap(row) ? row.gap.toId : row.id;
}

/** One marker in place of the oldest `count` rows (and markers) of a queue that must shrink. */
export function markerForOldest(rows: readonly LogRow[], count: number): LogGap {
  let skipped = 0;
  for (let i = 0; i < count; i++) {
    const row = rows[i];
    skipped += isGap(row) ? row.gap.count : 1;
  }
  return logGap(rows[0].id, lastIdOf(rows[count - 1]), skipped);
}
