// Reads the log rows with ids in [fromId, toId] through queryLog, which pages by position. The
// unfiltered log holds consecutive ids from its oldest on, so position = id - oldest id; the
// ring may move on between two calls, so each page is checked by its first id and asked again.
// Rows the ring overwrote (or a clear hid) are reported as gone, not guessed.
import type { LogPage, LogRow } from './contract-results';

export type QueryLog = (params: { start: number; limit: number }) => Promise<LogPage>;

export interface LogRange {
  rows: LogRow[];
  /** Ids of the range the log no longer holds. */
  gone: number;
}

const PAGE_LIMIT = 5000;

export async function readLogRange(query: QueryLog, fromId: number, toId: number, pageLimit = PAGE_LIMIT): Promise<LogRange> {
  if (!Number.isInteger(fromId) || !Number.isInteger(toId) || fromId < 0 || toId < fromId) {
    throw new RangeError(`readLogRange needs ids 0 <= fromId <= toId, got ${fromId}..${toId}`);
  }
  const rows: LogRow[] = [];
  const wanted = toId - fromId + 1;
  let oldest = (await query({ start: 0, limit: 1 })).rows[0]?.id;
  if (oldest === undefined) return { rows, gone: wanted };
  let next = Math.max(fromId, oldest);
  for (let misses = 0; next <= toId && misses < 8; ) {
    const page = await query({ start: next - oldest, limit: Math.min(pageLimit, toId - next + 1) });
    const first = page.rows[0];
    if (!first) break; // past the newest row
    if (first.id !== next) {
      // The ring moved (it overwrote rows, or a clear hid them) since `oldest` was read.
      oldest += first.id - next;
      next = Math.max(next, oldest);
      misses++;
      continue;
    }
    for (const row of page.rows) {
      if (row.id > toId) break;
      rows.push(row);
      next = row.id + 1;
    }
  }
  return { rows, gone: wanted - rows.length };
}
