// The renderer's copy of the log: every row in a bounded chunked ring, plus a second ring of
// the rows that match the filter. A batch is appended in place and tested against the filter
// once; changing the filter rescans the ring (100,000 rows in a few milliseconds).
// A display filter needs the packets' bytes, which the engine holds: its verdicts arrive as
// pages of matching ids (filterLog) into a ring of their own, and rows past the last page wait,
// unshown, for the next. The instant filters then apply on top without asking the engine again.
import type { LogRow } from '../../../common/contract';
import { ChunkedRing } from '../store/ring';
import { compileFilter, isFilterActive, type LogFilter } from './log-filter';

export class LogBuffer {
  readonly all: ChunkedRing<LogRow>;
  private matches: ChunkedRing<LogRow> | null = null;
  private predicate: ((row: LogRow) => boolean) | null = null;
  /** Rows the display filter passed (engine verdicts so far); null without a display filter. */
  private displayed: ChunkedRing<LogRow> | null = null;
  private displayExpression = '';
  /** The first id the engine has not judged yet. */
  private displayFrom = 0;
  /** Rows ever appended (evicted ones included): what has passed through the ring. */
  appended = 0;

  constructor(capacity: number) {
    this.all = new ChunkedRing<LogRow>(capacity);
  }

  /** Rows the table shows (filtered when a filter is set). */
  get length(): number {
    return this.shown.length;
  }

  get total(): number {
    return this.all.length;
  }

  get capacity(): number {
    return this.all.capacity;
  }

  at(index: number): LogRow | undefined {
    return this.shown.at(index);
  }

  /** Index of a row in the shown list, or -1. */
  indexOfId(id: number): number {
    const rows = this.shown;
    const index = rows.lowerBound((row) => row.id >= id);
    return rows.at(index)?.id === id ? index : -1;
  }

  /** The row with this id, shown or not. */
  byId(id: number): LogRow | undefined {
    const index = this.all.lowerBound((row) => row.id >= id);
    const row = this.all.at(index);
    return row?.id === id ? row : undefined;
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
    this.linkRequests(fresh);
    const evicted = this.all.push(fresh);
    // With a display filter, new rows are shown once the engine's verdict arrives (applyDisplayPage).
    if (!this.displayed && this.matches && this.predicate) this.matches.push(this.passing(fresh));
    if (evicted > 0) this.dropEvicted();
  }

  /** Rows the display filter has not been applied to yet exist: ask the engine from displayNextId. */
  get displayPending(): boolean {
    const last = this.all.last();
    return this.displayed !== null && last !== undefined && last.id >= this.displayFrom;
  }

  /** The first id the engine has not judged yet, or null without a display filter. */
  get displayNextId(): number | null {
    return this.displayed ? Math.max(this.displayFrom, this.all.first()?.id ?? 0) : null;
  }

  /** The engine's verdict on ids [displayNextId, nextId): `ids` (ascending) passed the display filter. */
  applyDisplayPage(ids: readonly number[], nextId: number): void {
    if (!this.displayed) return;
    const from = this.displayNextId as number;
    const passed: LogRow[] = [];
    let next = 0;
    for (let index = this.all.lowerBound((row) => row.id >= from); index < this.all.length; index++) {
      const row = this.all.at(index) as LogRow;
      if (row.id >= nextId) break;
      while (next < ids.length && ids[next] < row.id) next++;
      if (next < ids.length && ids[next] === row.id) passed.push(row);
    }
    this.displayed.push(passed);
    this.matches?.push(this.predicate ? this.passing(passed) : passed);
    this.displayFrom = Math.max(this.displayFrom, nextId);
  }

  setFilter(filter: LogFilter): void {
    const display = filter.display.trim();
    if (display !== this.displayExpression) {
      // A new display filter: the engine judges every row again.
      this.displayExpression = display;
      this.displayed = display ? new ChunkedRing<LogRow>(this.all.capacity) : null;
      this.displayFrom = this.all.first()?.id ?? 0;
    }
    if (!isFilterActive(filter)) {
      this.matches = null;
      this.predicate = null;
      return;
    }
    const instant = isFilterActive({ ...filter, display: '' });
    this.predicate = instant ? compileFilter(filter) : null;
    const source = this.displayed ?? this.all;
    const matches = new ChunkedRing<LogRow>(this.all.capacity);
    const batch: LogRow[] = [];
    for (let i = 0; i < source.length; i++) {
      const row = source.at(i) as LogRow;
      if (!this.predicate || this.predicate(row)) batch.push(row);
    }
    matches.push(batch);
    this.matches = matches;
  }

  setCapacity(capacity: number): void {
    this.all.setCapacity(capacity);
    this.matches?.setCapacity(capacity);
    this.displayed?.setCapacity(capacity);
    this.dropEvicted();
  }

  clear(): void {
    this.all.clear();
    this.matches?.clear();
    this.displayed?.clear();
  }

  /** Ids of the shown rows, oldest first. */
  shownIds(): number[] {
    const rows = this.shown;
    const ids: number[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) ids[i] = (rows.at(i) as LogRow).id;
    return ids;
  }

  private get shown(): ChunkedRing<LogRow> {
    return this.matches ?? this.all;
  }

  private passing(rows: readonly LogRow[]): LogRow[] {
    const predicate = this.predicate as (row: LogRow) => boolean;
    const passed: LogRow[] = [];
    for (let i = 0; i < rows.length; i++) if (predicate(rows[i])) passed.push(rows[i]);
    return passed;
  }

  /**
   * A reply names its request (match.requestId); the request row, sent to the view before the
   * reply came, learns its replyId here so both ends show the link.
   */
  private linkRequests(rows: readonly LogRow[]): void {
    for (const row of rows) {
      const requestId = row.match?.requestId;
      if (requestId === undefined) continue;
      const request = this.byId(requestId);
      if (request && request.match?.replyId === undefined) request.match = { ...request.match, replyId: row.id };
    }
  }

  private dropEvicted(): void {
    const oldest = this.all.first();
    if (!oldest) return;
    this.matches?.dropWhile((row) => row.id < oldest.id);
    this.displayed?.dropWhile((row) => row.id < oldest.id);
  }
}
