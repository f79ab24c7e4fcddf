// The packet log as the renderer holds it: rows in a bounded chunked ring (never copied per
// batch), a version counter the table re-reads on, the filter, the selection and its decode.
import type { DecodedEntry, LogRow } from '../../../common/contract';
import { exportCaptureFile, importCaptureFile } from '../../../common/capture-transfer';
import { readLogRange } from '../../../common/log-range';
import { compileDisplayFilter, DisplayFilterError, parseHex } from '../../../packets';
import { errorText } from '../api/client';
import { LogBuffer } from '../model/log-buffer';
import { emptyFilter, type LogFilter } from '../model/log-filter';
import { markerForOldest, type LogGap } from '../model/log-gap';
import type { SliceFactory } from './types';

export const DEFAULT_LOG_CAPACITY = 100_000;
const PAGE = 5000;
/** Rows one "Show" pages in at most (newest gaps first): a few seconds of a flood. */
export const SHOW_SKIPPED_LIMIT = 20_000;

export interface LogSlice {
  log: {
    /** Mutable; read it through `version`. */
    buffer: LogBuffer;
    /** Bumped once per applied batch or filter change: what components subscribe to. */
    version: number;
    filter: LogFilter;
    /** The display filter box as typed (applied to `filter.display` once it compiles). */
    displayText: string;
    /** Why the typed display filter cannot be applied: the message and the bad part's position. */
    displayError: { message: string; position: number; end: number } | null;
    /** The engine is still judging rows against the display filter. */
    displayScanning: boolean;
    paused: boolean;
    /** Rows that arrived while paused, kept until resumed (bounded like the log). */
    held: number;
    /** Keep the newest row in view. */
    follow: boolean;
    /** The row whose decode is shown. */
    selectedId: number | null;
    /** Rows marked for export ("selection"). */
    marked: ReadonlySet<number>;
    decoded: DecodedEntry | null;
    decodeError: string | null;
    /** Byte range selected in the decode tree, lit up in the hex view. */
    highlight: { start: number; end: number } | null;
    message: { kind: 'info' | 'error'; text: string } | null;
    /** The rows the engine held at start have been read in. */
    loaded: boolean;
    /** Rows the host did not push (flood) that the log stands in for with markers. */
    notShown: number;
    /** Skipped rows are being read from the engine. */
    showingSkipped: boolean;
    /** Pages in the rows of one marker (its id), or of the newest markers up to SHOW_SKIPPED_LIMIT rows. */
    showSkipped(gapId?: number): Promise<void>;
    /** Pages in these markers (by id; a send's answers), newest first, up to SHOW_SKIPPED_LIMIT rows. */
    showSkippedOf(gapIds: readonly number[]): Promise<void>;
    /** Appends rows (the event pump calls this at most once per frame). */
    append(rows: readonly LogRow[]): void;
    cleared(): void;
    setFilter(change: Partial<LogFilter>): void;
    setDisplayText(text: string): void;
    /** Checks the typed display filter and applies it (or shows why it cannot be). */
    applyDisplayFilter(): void;
    setPaused(paused: boolean): void;
    setFollow(follow: boolean): void;
    select(id: number | null, how?: 'only' | 'toggle' | 'extend'): Promise<void>;
    setHighlight(range: { start: number; end: number } | null): void;
    clear(): Promise<void>;
    /** The last clear can be undone (until the next clear, or a reconnect to another engine). */
    canUndoClear: boolean;
    undoClear(): Promise<void>;
    loadFromEngine(): Promise<void>;
    exportPcapng(scope: 'all' | 'marked' | 'shown'): Promise<void>;
    importPcapng(file: { name: string; bytes: Uint8Array }): Promise<void>;
    /** Puts a logged packet into the editor. */
    sendAgain(id: number): Promise<boolean>;
  };
}

export const createLogSlice: SliceFactory<LogSlice> = ({ client, saveFile }) => (set, get) => {
  const log = () => get().log;
  const patch = (part: Partial<LogSlice['log']>) => set((state) => ({ log: { ...state.log, ...part } }));
  const buffer = new LogBuffer(DEFAULT_LOG_CAPACITY);
  let heldRows: LogRow[] = [];
  let decodeToken = 0;
  let scanToken = 0;
  let scanning = false;

  /** Asks the engine, a page at a time, which new rows pass the display filter; one request in flight. */
  const scanDisplay = async (): Promise<void> => {
    if (scanning) return;
    scanning = true;
    const token = scanToken;
    try {
      while (token === scanToken && buffer.displayPending) {
        const fromId = buffer.displayNextId as number;
        if (!log().displayScanning) patch({ displayScanning: true });
        const page = await client.filterLog({ expression: log().filter.display, fromId, limit: 50_000 });
        if (token !== scanToken) break;
        buffer.applyDisplayPage(page.ids, page.nextId);
        patch({ version: log().version + 1 });
        if (page.nextId <= fromId) break; // the engine has nothing newer yet
      }
    } catch (error) {
      if (token === scanToken) patch({ displayError: { message: `Display filter: ${errorText(error)}`, position: 0, end: 0 } });
    } finally {
      scanning = false;
      if (token === scanToken) patch({ displayScanning: false });
      else void scanDisplay();
    }
  };

  /** Reads the rows of these markers (newest first; whole markers, SHOW_SKIPPED_LIMIT rows at most) into their place. */
  const pageInGaps = async (candidates: readonly LogGap[]): Promise<void> => {
    if (log().showingSkipped) return;
    const chosen: LogGap[] = [];
    let rows = 0;
    for (const gap of candidates) {
      if (chosen.length > 0 && rows + gap.gap.count > SHOW_SKIPPED_LIMIT) break;
      chosen.push(gap);
      rows += gap.gap.count;
    }
    if (chosen.length === 0) return;
    patch({ showingSkipped: true });
    const fills = new Map<number, LogRow[]>();
    let gone = 0;
    try {
      for (const gap of chosen) {
        const range = await readLogRange((params) => client.queryLog(params), gap.id, gap.gap.toId);
        fills.set(gap.id, range.rows);
        gone += range.gone;
      }
    } catch (error) {
      patch({ message: { kind: 'error', text: `Cannot read the rows not shown: ${errorText(error)}` } });
    }
    buffer.fillGaps(fills);
    const shown = [...fills.values()].reduce((sum, filled) => sum + filled.length, 0);
    patch({
      showingSkipped: false,
      notShown: buffer.notShown,
      version: log().version + 1,
      ...(fills.size > 0 && {
        message: {
          kind: 'info' as const,
          text: `${shown.toLocaleString('en')} rows shown${gone ? `; ${gone.toLocaleString('en')} were overwritten in the engine's log before` : ''}`,
        },
      }),
    });
    if (buffer.displayPending) void scanDisplay();
  };

  return {
    log: {
      buffer,
      version: 0,
      filter: emptyFilter,
      displayText: '',
      displayError: null,
      displayScanning: false,
      paused: false,
      held: 0,
      follow: true,
      selectedId: null,
      marked: new Set(),
      decoded: null,
      decodeError: null,
      highlight: null,
      message: null,
      loaded: false,
      append(rows) {
        if (rows.length === 0) return;
        if (log().paused) {
          for (const row of rows) heldRows.push(row);
          // Bounded: the oldest held rows become one marker (paged in on Show), never a silent jump.
          if (heldRows.length > buffer.capacity * 1.5) heldRows = [markerForOldest(heldRows, heldRows.length - buffer.capacity + 1), ...heldRows.slice(1 - buffer.capacity)];
          patch({ held: heldRows.length });
          return;
        }
        buffer.append(rows);
        patch(buffer.notShown === log().notShown ? { version: log().version + 1 } : { version: log().version + 1, notShown: buffer.notShown });
        if (buffer.displayPending) void scanDisplay();
      },
      notShown: 0,
      showingSkipped: false,
      showSkipped(gapId) {
        const all = buffer.gapsNewestFirst();
        return pageInGaps(gapId === undefined ? all : all.filter((gap) => gap.id === gapId));
      },
      showSkippedOf(gapIds) {
        const wanted = new Set(gapIds);
        return pageInGaps(buffer.gapsNewestFirst().filter((gap) => wanted.has(gap.id)));
      },
      cleared() {
        buffer.clear();
        heldRows = [];
        patch({ version: log().version + 1, held: 0, notShown: 0, selectedId: null, marked: new Set(), decoded: null, highlight: null });
      },
      setFilter(change) {
        const filter = { ...log().filter, ...change };
        if (change.display !== undefined && change.display.trim() !== log().filter.display) {
          scanToken++; // a scan for the old display filter ends at its next answer
          if (change.display.trim() !== log().displayText.trim()) patch({ displayText: change.display });
          patch({ displayError: null });
        }
        buffer.setFilter(filter);
        patch({ filter, version: log().version + 1 });
        if (buffer.displayPending) void scanDisplay();
      },
      setDisplayText(text) {
        patch({ displayText: text });
      },
      applyDisplayFilter() {
        const text = log().displayText;
        try {
          compileDisplayFilter(text);
        } catch (error) {
          if (!(error instanceof DisplayFilterError)) throw error;
          patch({ displayError: { message: error.message, position: error.position, end: error.end } });
          return;
        }
        if (text.trim() === log().filter.display) {
          patch({ displayError: null });
          return;
        }
        log().setFilter({ display: text.trim() });
      },
      setPaused(paused) {
        if (!paused && heldRows.length > 0) {
          buffer.append(heldRows);
          heldRows = [];
        }
        patch({ paused, held: heldRows.length, notShown: buffer.notShown, version: log().version + 1 });
        if (buffer.displayPending) void scanDisplay();
      },
      setFollow(follow) {
        patch({ follow });
      },
      async select(id, how = 'only') {
        if (id === null) {
          patch({ selectedId: null, decoded: null, decodeError: null, highlight: null });
          return;
        }
        let marked: Set<number>;
        if (how === 'toggle') {
          marked = new Set(log().marked);
          if (marked.has(id)) marked.delete(id);
          else marked.add(id);
        } else if (how === 'extend' && log().selectedId !== null) {
          marked = new Set(log().marked);
          const a = buffer.indexOfId(log().selectedId as number);
          const b = buffer.indexOfId(id);
          if (a >= 0 && b >= 0) for (let i = Math.min(a, b); i <= Math.max(a, b); i++) marked.add((buffer.at(i) as LogRow).id);
        } else {
          marked = new Set([id]);
        }
        patch({ selectedId: id, marked, highlight: null, follow: false });
        const token = ++decodeToken;
        try {
          const decoded = await client.decodeLogEntry({ id });
          if (token === decodeToken) patch({ decoded, decodeError: null });
        } catch (error) {
          if (token === decodeToken) patch({ decoded: null, decodeError: errorText(error) });
        }
      },
      setHighlight(highlight) {
        patch({ highlight });
      },
      async clear() {
        try {
          await client.clearLog({});
          log().cleared();
          patch({ message: null, canUndoClear: true });
        } catch (error) {
          patch({ message: { kind: 'error', text: `Clear failed: ${errorText(error)}` } });
        }
      },
      canUndoClear: false,
      async undoClear() {
        try {
          const { restored } = await client.undoClearLog({});
          patch({ canUndoClear: false, message: { kind: 'info', text: `Clear undone: ${restored} row${restored === 1 ? '' : 's'} back` } });
          log().cleared();
          await log().loadFromEngine();
        } catch (error) {
          patch({ canUndoClear: false, message: { kind: 'error', text: `Cannot undo the clear: ${errorText(error)}` } });
        }
      },
      async loadFromEngine() {
        // Fill the view with what the engine already holds, oldest first, a page at a time.
        try {
          const first = await client.queryLog({ start: 0, limit: PAGE });
          buffer.setCapacity(first.capacity);
          const rows = [...first.rows];
          for (let start = PAGE; start < first.total; start += PAGE) {
            rows.push(...(await client.queryLog({ start, limit: PAGE })).rows);
          }
          // Rows that arrived by event meanwhile are newer; append() skips the repeats.
          const live = buffer.all.toArray();
          buffer.clear();
          buffer.append(rows);
          buffer.append(live);
          buffer.setFilter(log().filter);
          patch({ version: log().version + 1, notShown: buffer.notShown, loaded: true });
          if (buffer.displayPending) void scanDisplay();
        } catch (error) {
          patch({ loaded: true, message: { kind: 'error', text: `Cannot read the log: ${errorText(error)}` } });
        }
      },
      async exportPcapng(scope) {
        const ids = scope === 'all' ? undefined : scope === 'marked' ? [...log().marked].sort((a, b) => a - b) : buffer.shownIds();
        if (ids && ids.length === 0) {
          patch({ message: { kind: 'error', text: 'Nothing to export: select rows first (Ctrl+click, Shift+click)' } });
          return;
        }
        try {
          // In pieces (common/capture-transfer.ts): a full log is hundreds of MB.
          const result = await exportCaptureFile(client, ids ? { ids } : {});
          const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
          saveFile(`workbench-${stamp}.pcapng`, 'application/x-pcapng', result.bytes);
          patch({ message: { kind: 'info', text: `Exported ${result.count} packet${result.count === 1 ? '' : 's'} to pcapng` } });
        } catch (error) {
          patch({ message: { kind: 'error', text: `Export failed: ${errorText(error)}` } });
        }
      },
      async importPcapng(file) {
        try {
          const result = await importCaptureFile(client, file.bytes);
          patch({ message: { kind: 'info', text: `Imported ${result.imported} packet${result.imported === 1 ? '' : 's'} from ${file.name}` } });
        } catch (error) {
          patch({ message: { kind: 'error', text: `Cannot import ${file.name}: ${errorText(error)}` } });
        }
      },
      async sendAgain(id) {
        try {
          const entry = log().decoded?.row.id === id ? (log().decoded as DecodedEntry) : await client.decodeLogEntry({ id });
          const first = entry.layers[0]?.kind;
          get().editor.loadBytes(parseHex(entry.hex), first === 'icmp' || first === 'icmpv6' || first === 'udp' || first === 'tcp' || first === 'ipv4' || first === 'ipv6' ? first : 'auto');
          get().send.setForm({ target: entry.row.destination });
          get().settings.showPanel('editor');
          return true;
        } catch (error) {
          patch({ message: { kind: 'error', text: `Cannot load packet ${id}: ${errorText(error)}` } });
          return false;
        }
      },
    },
  };
};
