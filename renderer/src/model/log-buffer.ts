// The renderer's copy of the log: every row in a bounded chunked ring, plus a second ring of
// the rows that match the filter. A batch is appended in place and tested against the filter
// once; changing the filter rescans the ring (100,000 rows in a few milliseconds).
// A display filter needs the packets' bytes, which the engine holds: its verdicts arrive as
// pages of matching ids (filterLog) into a ring of their own, and rows past the last page wait,
// unshown, for the next. The instant filters then apply on top without asking the engine again.
// Rows the host did not push in a flood stand in the ring as one marker each (log-gap.ts) until
// they are paged in (fillGaps); filters pass no marker.
import type { LogRow } from '../../../common/contract';
import { ChunkedRing } from '../store/ring';
import { isGap, lastIdOf, type LogGap } from './log-gap';
import { compileFilter, emptyFilter, isFilterActive, type LogFilter } from './log-filter';

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
  /** The markers in `all`, oldest first, and the rows they stand for. */
  private readonly gaps: ChunkedRing<LogGap>;
  private gapRows = 0;
  /** Some row was seen on a lab host (LogRow.host): the table shows a Host column. */
  hasHost = false;
  private filter: LogFilter = emptyFilter;

  constructor(capacity: number) {
    this.all = new ChunkedRing<LogRow>(capacity);
    this.gaps = new ChunkedRing<LogGap>(capacity);
  }

  /** Rows the host did not push that the log stands in for (markers still in the ring). */
  get notShown(): number {
    return this.gapRows;
  }

  /** The markers, newest first. */
  gapsNewestFirst(): LogGap[] {
    return this.gaps.toArray().reverse();
  }

  /** Rows the table shows (filtered when a filter is set). */
  get length(): number {
    return this.shown.length;
  }

  get total(): number {
    return this.all.length;
  }

  /** Packets the table shows: its rows less the markers (a filter passes none). */
  get packetsShown(): number {
    return this.matches ? this.matches.length : this.all.length - this.gaps.length;
  }

  /** Packets the ring keeps: its items less the markers. */
  get packetsKept(): number {
    return this.all.length - this.gaps.length;
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

  /** The row with this id, shown or not (never a marker). */
  byId(id: number): LogRow | undefined {
    const index = this.all.lowerBound((row) => row.id >= id);
    const row = this.all.at(index);
    return row?.id === id && !isGap(row) ? row : undefined;
  }

  append(rows: readonly LogRow[]): void {
    if (rows.length === 0) return;
    // Rows arrive in id order; an engine restart or a re-sync may repeat some: skip those.
    const last = this.all.last();
    let start = 0;
    if (last) {
      const lastId = lastIdOf(last);
      while (start < rows.length && rows[start].id <= lastId) start++;
    }
    const fresh = start === 0 ? rows : rows.slice(start);
    if (fresh.length === 0) return;
    this.appended += fresh.length;
    this.linkRequests(fresh);
    this.noteGaps(fresh);
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
      if (isGap(row)) continue;
      while (next < ids.length && ids[next] < row.id) next++;
      if (next < ids.length && ids[next] === row.id) passed.push(row);
    }
    this.displayed.push(passed);
    this.matches?.push(this.predicate ? this.passing(passed) : passed);
    this.displayFrom = Math.max(this.displayFrom, nextId);
  }

  setFilter(filter: LogFilter): void {
    this.filter = filter;
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
      if (!isGap(row) && (!this.predicate || this.predicate(row))) batch.push(row);
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
    this.gaps.clear();
    this.gapRows = 0;
    this.hasHost = false;
  }

  /**
   * Puts paged-in rows in place of markers (by the marker's id; rows in id order). Rows the
   * engine no longer had are left out. The ring keeps its capacity: the oldest rows make room.
   */
  fillGaps(fills: ReadonlyMap<number, readonly LogRow[]>): void {
    if (fills.size === 0) return;
    const items: LogRow[] = [];
    for (let i = 0; i < this.all.length; i++) {
      const row = this.all.at(i) as LogRow;
      const fill = isGap(row) ? fills.get(row.id) : undefined;
      if (fill) for (const filled of fill) items.push(filled);
      else items.push(row);
    }
    this.all.clear();
    this.all.push(items);
    this.gaps.clear();
    this.gapRows = 0;
    for (let i = 0; i < this.all.length; i++) this.noteGaps([this.all.at(i) as LogRow]);
    // The display filter's verdicts are asked for again; the instant filters run here.
    this.displayExpression = '';
    this.setFilter(this.filter);
  }

  /** Ids of the shown rows, oldest first. */
  shownIds(): number[] {
    const rows = this.shown;
    const ids: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows.at(i) as LogRow;
      if (!isGap(row)) ids.push(row.id);
    }
    return ids;
  }

  private get shown(): ChunkedRing<LogRow> {
    return this.matches ?? this.all;
  }

  private passing(rows: readonly LogRow[]): LogRow[] {
    const predicate = this.predicate as (row: LogRow) => boolean;
    const passed: LogRow[] = [];
    for (let i = 0; i < rows.length; i++) if (!isGap(rows[i]) && predicate(rows[i])) passed.push(rows[i]);
    return passed;
  }

  private noteGaps(rows: readonly LogRow[]): void {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!this.hasHost && (row.host ?? '') !== '') this.hasHost = true;
      if (!isGap(row)) continue;
      this.gaps.push([row]);
      this.gapRows += row.gap.count;
    }
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
    while (this.gaps.length > 0 && (this.gaps.first() as LogGap).id < oldest.id) {
      this.gapRows -= (this.gaps.first() as LogGap).gap.count;
      this.gaps.dropOldest(1);
    }
  }
}
