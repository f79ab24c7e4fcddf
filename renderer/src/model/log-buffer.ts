// The renderer's copy of the log: every row in a bounded chunked ring, plus a second ring of
// the rows that match the filter. A batch is appended in place and tested against the filter
// once; changing the filter rescans the ring (100,000 rows in a few milliseconds).
import type { LogRow } from '../../../common/contract';
import { ChunkedRing } from '../store/ring';
import { compileFilter, isFilterActive, type LogFilter } from './log-filter';

export class LogBuffer {
  readonly all: ChunkedRing<LogRow>;
  private matches: ChunkedRing<LogRow> | null = null;
  private predicate: ((row: LogRow) => boolean) | null = null;
  /** Rows ever appended (evicted ones included): what has passed through the ring. */
  appended = 0;

  constructor(capacity: number) {
    this.all = new ChunkedRing<LogRow>(capacity);
  }

  /** Rows the table shows (filtered when a filter is set). */
  get length(): number {
    return (this.matches ?? this.all).length;
  }

  get total(): number {
    return this.all.length;
  }

  get capacity(): number {
    return this.all.capacity;
  }

  at(index: number): LogRow | undefined {
    return (this.matches ?? this.all).at(index);
  }

  /** Index of a row in the shown list, or -1. */
  indexOfId(id: number): number {
    const rows = this.matches ?? this.all;
    const index = rows.lowerBound((row) => row.id >= id);
    return rows.at(index)?.id === id ? index : -1;
  }

  append(rows: readonly LogRow[]): void {
    if (rows.length === 0) return;
    // Rows arrive in id order; an engine restart or a re-sync may repeat some: skip those.
    const last = this.all.last();
    let start = 0;
    if (last) while (start < rows.length && rows[start].id <= last.id) start++;
    const fresh = start === 0 ? rows : rows.slice(start);
    if (fresh.length === 0) return;
    this.appended += fresh.length;
    const evicted = this.all.push(fresh);
    if (this.matches && this.predicate) {
      const predicate = this.predicate;
      const matched: LogRow[] = [];
      for (let i = 0; i < fresh.length; i++) if (predicate(fresh[i])) matched.push(fresh[i]);
      this.matches.push(matched);
      if (evicted > 0) {
        const oldest = this.all.first();
        if (oldest) this.matches.dropWhile((row) => row.id < oldest.id);
      }
    }
  }

  setFilter(filter: LogFilter): void {
    if (!isFilterActive(filter)) {
      this.matches = null;
      this.predicate = null;
      return;
    }
    const predicate = compileFilter(filter);
    const matches = new ChunkedRing<LogRow>(this.all.capacity);
    const batch: LogRow[] = [];
    for (let i = 0; i < this.all.length; i++) {
      const row = this.all.at(i) as LogRow;
      if (predicate(row)) batch.push(row);
    }
    matches.push(batch);
    this.matches = matches;
    this.predicate = predicate;
  }

  setCapacity(capacity: number): void {
    this.all.setCapacity(capacity);
    this.matches?.setCapacity(capacity);
    const oldest = this.all.first();
    if (oldest) this.matches?.dropWhile((row) => row.id < oldest.id);
  }

  clear(): void {
    this.all.clear();
    this.matches?.clear();
  }

  /** Ids of the shown rows, oldest first. */
  shownIds(): number[] {
    const rows = this.matches ?? this.all;
    const ids: number[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) ids[i] = (rows.at(i) as LogRow).id;
    return ids;
  }
}
