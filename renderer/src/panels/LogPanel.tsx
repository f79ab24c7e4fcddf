// The packet log: a virtualized table over the store's chunked ring, the filter, and the
// selected packet's decode tree beside its linked hex.
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { LogRow } from '../../../common/contract';
import { parseHex } from '../../../packets';
import { DecodeTree } from '../components/DecodeTree';
import { DisplayFilterBox } from '../components/DisplayFilterBox';
import { HexView } from '../components/HexView';
import { KernelChanges } from '../components/KernelChanges';
import { Split } from '../components/Split';
import { formatClock, formatMs } from '../model/format';
import { emptyFilter } from '../model/log-filter';
import { isGap, type LogGap } from '../model/log-gap';
import { useWorkbench, useWorkbenchStore } from '../store';
import { SHOW_SKIPPED_LIMIT } from '../store/log';

const ROW_HEIGHT = 20;
/** More than the rows a window shows at once (with overscan): the keys rows reuse. */
const SLOTS = 512;

export function LogPanel() {
  return (
    <section className="log-panel" aria-label="Packet log">
      <LogToolbar />
      <Split id="log" direction="column" label="Resize packet list and details" initial={0.6} minFirst={120} minSecond={160} first={<LogTable />} second={<LogDetail />} />
    </section>
  );
}

function LogToolbar() {
  const filter = useWorkbench((s) => s.log.filter);
  const setFilter = useWorkbench((s) => s.log.setFilter);
  const paused = useWorkbench((s) => s.log.paused);
  const held = useWorkbench((s) => s.log.held);
  const setPaused = useWorkbench((s) => s.log.setPaused);
  const follow = useWorkbench((s) => s.log.follow);
  const setFollow = useWorkbench((s) => s.log.setFollow);
  const clear = useWorkbench((s) => s.log.clear);
  const exportPcapng = useWorkbench((s) => s.log.exportPcapng);
  const importPcapng = useWorkbench((s) => s.log.importPcapng);
  const marked = useWorkbench((s) => s.log.marked.size);
  const message = useWorkbench((s) => s.log.message);
  const displayText = useWorkbench((s) => s.log.displayText);
  const displayError = useWorkbench((s) => s.log.displayError);
  const displayScanning = useWorkbench((s) => s.log.displayScanning);
  const setDisplayText = useWorkbench((s) => s.log.setDisplayText);
  const applyDisplayFilter = useWorkbench((s) => s.log.applyDisplayFilter);
  const notShown = useWorkbench((s) => s.log.notShown);
  const showingSkipped = useWorkbench((s) => s.log.showingSkipped);
  const showSkipped = useWorkbench((s) => s.log.showSkipped);

  return (
    <div className="log-toolbar">
      <div className="toolbar" role="search" aria-label="Display filter">
        <DisplayFilterBox value={displayText} onChange={setDisplayText} onApply={applyDisplayFilter} error={displayError} busy={displayScanning} />
      </div>
      <div className="toolbar" role="toolbar" aria-label="Log filter">
        <label className="inline">
          <span>Protocol</span>
          <select aria-label="Protocol filter" value={filter.protocol} onChange={(event) => setFilter({ protocol: event.target.value })}>
            <option value="">Any</option>
            <option value="ICMP">ICMP</option>
            <option value="ICMPv6">ICMPv6</option>
            <option value="UDP">UDP</option>
            <option value="TCP">TCP</option>
          </select>
        </label>
        <label className="inline">
          <span>Address</span>
          <input aria-label="Address filter" value={filter.address} size={16} spellCheck={false} placeholder="source or destination" onChange={(event) => setFilter({ address: event.target.value })} />
        </label>
        <label className="inline">
          <span>Direction</span>
          <select aria-label="Direction filter" value={filter.direction} onChange={(event) => setFilter({ direction: event.target.value as typeof filter.direction })}>
            <option value="">Any</option>
            <option value="sent">Sent</option>
            <option value="received">Received</option>
            <option value="imported">Imported</option>
          </select>
        </label>
        <label className="inline grow">
          <span>Search</span>
          <input aria-label="Search log" type="search" value={filter.text} spellCheck={false} placeholder="any column, e.g. reply, seq=3" onChange={(event) => setFilter({ text: event.target.value })} />
        </label>
      </div>
      <div className="toolbar" role="toolbar" aria-label="Log actions">
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? `Resume${held ? ` (${held.toLocaleString()} waiting)` : ''}` : 'Pause'}
        </button>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.target.checked)} />
          Follow newest
        </label>
        <button type="button" onClick={() => void clear()}>
          Clear log
        </button>
        <span className="separator" aria-hidden="true" />
        <button type="button" onClick={() => void exportPcapng('all')}>
          Export all
        </button>
        <button type="button" onClick={() => void exportPcapng('shown')}>
          Export shown
        </button>
        <button type="button" disabled={marked === 0} onClick={() => void exportPcapng('marked')}>
          Export selection{marked ? ` (${marked})` : ''}
        </button>
        <button type="button" onClick={() => choosePcapng((file) => void importPcapng(file))}>
          Import pcapng…
        </button>
        {notShown > 0 && (
          <>
            <span className="separator" aria-hidden="true" />
            {/* Not a live region: during a flood it changes every frame. */}
            <span id="log-not-shown" className="muted" title="A flood beyond what the window can show: the engine's log keeps these rows; Show reads them in">
              {notShown.toLocaleString('en')} rows not shown (flood)
            </span>
            <button type="button" aria-describedby="log-not-shown" disabled={showingSkipped} onClick={() => void showSkipped()}>
              {showingSkipped ? 'Reading…' : notShown > SHOW_SKIPPED_LIMIT ? `Show the newest ${SHOW_SKIPPED_LIMIT.toLocaleString('en')}` : 'Show them'}
            </button>
          </>
        )}
        {message && (
          <span className={message.kind === 'error' ? 'field-error' : 'ok-text'} role={message.kind === 'error' ? 'alert' : 'status'}>
            {message.text}
          </span>
        )}
      </div>
    </div>
  );
}

/** Opens the file chooser for a capture. The file input exists only for that moment, so the
 *  button stays the import's one control (no hidden second button for a screen reader). */
function choosePcapng(onFile: (file: { name: string; bytes: Uint8Array }) => void) {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = '.pcapng,.pcap,.cap';
  input.addEventListener(
    'change',
    async () => {
      const file = input.files?.[0];
      if (file) onFile({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
    },
    { once: true },
  );
  input.click();
}

const columns = ['No.', 'Time', 'Dir', 'Socket', 'Source', 'Destination', 'Protocol', 'Length', 'RTT', 'Info'];
/** With a lab running, the host each packet was seen on comes after the socket. */
const columnsWithHost = ['No.', 'Time', 'Dir', 'Socket', 'Host', 'Source', 'Destination', 'Protocol', 'Length', 'RTT', 'Info'];
/** Header tooltips: what a column means where it is not obvious. */
const columnHelp: Record<string, string> = {
  Socket:
    'The socket that sent or received the packet. Every raw socket open for a protocol receives its own copy of each packet, so one arrival can appear once per socket.',
  Dir: 'sent by the workbench, received on a socket, or imported from a pcapng file',
  Host: 'The lab host the packet was seen on (its socket\'s or capture\'s host); empty: the workbench\'s own network namespace',
  RTT: 'On a reply (echo reply, ICMP error quoting a probe, SYN-ACK or RST): ms since its request, kernel timestamp to kernel timestamp',
};

function LogTable() {
  const store = useWorkbenchStore();
  const version = useWorkbench((s) => s.log.version);
  const buffer = useWorkbench((s) => s.log.buffer);
  const follow = useWorkbench((s) => s.log.follow);
  const selectedId = useWorkbench((s) => s.log.selectedId);
  const marked = useWorkbench((s) => s.log.marked);
  const select = useWorkbench((s) => s.log.select);
  const setFollow = useWorkbench((s) => s.log.setFollow);
  const showSkipped = useWorkbench((s) => s.log.showSkipped);
  const scroller = useRef<HTMLDivElement>(null);
  const count = buffer.length;
  const withHost = buffer.hasHost;
  const shownColumns = withHost ? columnsWithHost : columns;

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    // Each rendered row is laid out and painted anew when a fast scroll replaces the window:
    // a few rows past each edge are enough for wheel and keys.
    overscan: 4,
    // The sticky header row scrolls with the rows: they start below it and stay out from under it.
    scrollMargin: ROW_HEIGHT,
    scrollPaddingStart: ROW_HEIGHT,
  });

  useEffect(() => {
    if (follow && count > 0) virtualizer.scrollToIndex(count - 1, { align: 'end' });
  }, [follow, version, count, virtualizer]);

  const selectedIndex = useMemo(() => (selectedId === null ? -1 : buffer.indexOfId(selectedId)), [buffer, selectedId, version]);

  // A packet selected from elsewhere ("Reply in #N"): bring it into view.
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedId]);

  // Coming back to the log (the panel remounts): show the selected packet, not the top.
  useEffect(() => {
    if (!follow && selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'center' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0) return;
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    let index = -1;
    if (event.key in moves) index = (selectedIndex < 0 ? (moves[event.key] > 0 ? -1 : count) : selectedIndex) + moves[event.key];
    else if (event.key === 'Home') index = 0;
    else if (event.key === 'End') index = count - 1;
    else if (event.key === 'Enter' && selectedIndex >= 0 && isGap(buffer.at(selectedIndex) as LogRow)) {
      event.preventDefault();
      void showSkipped(selectedId as number);
      return;
    } else if (event.key === ' ' && selectedId !== null) {
      event.preventDefault();
      void select(selectedId, 'toggle');
      return;
    } else return;
    event.preventDefault();
    index = Math.max(0, Math.min(count - 1, index));
    const row = buffer.at(index);
    if (row) {
      void select(row.id, event.shiftKey ? 'extend' : 'only');
      virtualizer.scrollToIndex(index);
    }
  };

  const onClick = useCallback(
    (event: MouseEvent<HTMLDivElement>) => {
      const target = (event.target as HTMLElement).closest<HTMLElement>('[data-id]');
      if (!target) return;
      const id = Number(target.dataset.id);
      void store.getState().log.select(id, event.ctrlKey || event.metaKey ? 'toggle' : event.shiftKey ? 'extend' : 'only');
    },
    [store],
  );

  const onWheel = (event: React.WheelEvent) => {
    if (event.deltaY < 0 && follow) setFollow(false);
  };

  const items = virtualizer.getVirtualItems();
  // Only a rendered row can be the active descendant: a selected row scrolled out of the
  // virtualized window is not in the document, and naming it would be an invalid reference.
  const activeRendered = selectedIndex >= 0 && items.some((item) => item.index === selectedIndex);
  // The grid is its own scroll container (one tab stop, named, keyboard-scrollable) and holds
  // only row groups of rows; the empty-log note sits beside it, outside the grid.
  return (
    <div className="log-table">
      <div
        ref={scroller}
        className="log-scroll"
        role="grid"
        aria-label="Packets"
        aria-rowcount={count + 1}
        aria-multiselectable="true"
        aria-activedescendant={activeRendered ? `log-row-${selectedId}` : undefined}
        tabIndex={0}
        onKeyDown={onKeyDown}
        onClick={onClick}
        onWheel={onWheel}
      >
        <div role="rowgroup" className="log-head-group">
          <div role="row" aria-rowindex={1} className="log-row log-head">
            {shownColumns.map((column) => (
              <span key={column} role="columnheader" className={`c c-${column.replace('.', '').toLowerCase()}`} title={columnHelp[column]}>
                {column}
              </span>
            ))}
          </div>
        </div>
        <div role="rowgroup" style={{ height: `${virtualizer.getTotalSize()}px` }} className="log-canvas">
          {items.map((item) => {
            const row = buffer.at(item.index);
            if (!row) return null;
            const top = item.start - ROW_HEIGHT;
            // Keyed by place in the window, not by id: scrolling 120 rows a frame then updates
            // the text of the same elements instead of building 40 rows anew.
            const slot = item.index % SLOTS;
            if (isGap(row)) return <LogGapView key={`gap-${slot}`} gap={row} index={item.index} top={top} selected={row.id === selectedId} columns={shownColumns.length} onShow={showSkipped} />;
            return <LogRowView key={slot} row={row} index={item.index} top={top} selected={row.id === selectedId} marked={marked.has(row.id)} withHost={withHost} />;
          })}
        </div>
      </div>
      {count === 0 && <LogEmpty any={buffer.total > 0} />}
    </div>
  );
}

/** What an empty table means, and how to get packets into it. */
function LogEmpty({ any }: { any: boolean }) {
  const setFilter = useWorkbench((s) => s.log.setFilter);
  const paused = useWorkbench((s) => s.log.paused);
  if (any) {
    return (
      <div className="log-empty" role="status">
        <strong>No packets match the filter.</strong>
        <p className="muted">The log holds packets, but none passes the display filter and the protocol, address, direction and search filters above.</p>
        <button type="button" onClick={() => setFilter(emptyFilter)}>
          Clear the filter
        </button>
      </div>
    );
  }
  return (
    <div className="log-empty" role="status">
      <strong>No packets yet{paused ? ' (the log is paused)' : ''}.</strong>
      <ul className="muted">
        <li>
          Build a packet on <em>Build &amp; send</em> (Alt+1) and press <em>Send</em>: the request and its reply appear here.
        </li>
        <li>
          Open a socket on <em>Sockets</em> (Alt+3) to log what arrives for its protocol, or run a ping on <em>Experiments</em> (Alt+4).
        </li>
        <li>
          Or read a capture with <em>Import pcapng…</em> above.
        </li>
      </ul>
    </div>
  );
}

const directionMarks: Record<LogRow['direction'], string> = { sent: '→', received: '←', imported: '⇣' };

/** Rows the host did not push in a flood, where they belong; Show reads them from the engine. */
const LogGapView = memo(function LogGapView({ gap, index, top, selected, columns, onShow }: { gap: LogGap; index: number; top: number; selected: boolean; columns: number; onShow: (gapId: number) => Promise<void> }) {
  return (
    <div role="row" id={`log-row-${gap.id}`} aria-rowindex={index + 2} aria-selected={selected} className={`log-row log-gap${selected ? ' selected' : ''}`} style={{ transform: `translateY(${top}px)` }}>
      <span role="gridcell" className="c c-gap" aria-colspan={columns}>
        ⋯ {gap.info}, No. {gap.id}–{gap.gap.toId}{' '}
        <button type="button" className="link" onClick={() => void onShow(gap.id)}>
          Show rows {gap.id}–{gap.gap.toId}
        </button>
      </span>
    </div>
  );
});

const LogRowView = memo(function LogRowView({ row, index, top, selected, marked, withHost }: { row: LogRow; index: number; top: number; selected: boolean; marked: boolean; withHost: boolean }) {
  const tone = /unreachable|exceeded|too big|problem|malformed|cut short/i.test(row.info) ? 'err' : row.protocol.toLowerCase();
  return (
    <div
      role="row"
      // Only the selected row is named (aria-activedescendant): one attribute less per row drawn.
      id={selected ? `log-row-${row.id}` : undefined}
      aria-rowindex={index + 2}
      aria-selected={selected || marked}
      data-id={row.id}
      className={`log-row p-${tone}${selected ? ' selected' : ''}${marked && !selected ? ' marked' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
    >
      <span role="gridcell" className="c c-no">{row.id}</span>
      <span role="gridcell" className="c c-time">{formatClock(row.time)}</span>
      <span role="gridcell" className="c c-dir" title={row.direction} aria-label={row.direction}>
        {`${directionMarks[row.direction]} ${row.direction}`}
      </span>
      <span
        role="gridcell"
        className={`c c-socket${row.socketId ? '' : ' none'}`}
        title={row.socketId ? `Logged by ${row.socketId}` : row.direction === 'imported' ? 'Read from a pcapng file' : 'Sent or received by a ping or traceroute run on its own socket'}
      >
        {row.socketId ?? (row.direction === 'imported' ? 'file' : 'experiment')}
      </span>
      {withHost && <span role="gridcell" className="c c-host">{row.host ?? ''}</span>}
      <span role="gridcell" className="c c-source">{row.source}</span>
      <span role="gridcell" className="c c-destination">{row.destination}</span>
      <span role="gridcell" className="c c-protocol">{row.protocol}</span>
      <span role="gridcell" className="c c-length">{row.length}</span>
      <span role="gridcell" className="c c-rtt" title={row.match?.requestId !== undefined ? `Reply to #${row.match.requestId}` : undefined}>
        {row.match?.rttMs !== undefined ? formatMs(row.match.rttMs) : ''}
      </span>
      <span role="gridcell" className="c c-info">{row.info}</span>
    </div>
  );
});

function LogDetail() {
  const decoded = useWorkbench((s) => s.log.decoded);
  const decodeError = useWorkbench((s) => s.log.decodeError);
  const highlight = useWorkbench((s) => s.log.highlight);
  const setHighlight = useWorkbench((s) => s.log.setHighlight);
  const sendAgain = useWorkbench((s) => s.log.sendAgain);
  const selectedId = useWorkbench((s) => s.log.selectedId);
  const select = useWorkbench((s) => s.log.select);
  // The row as the view holds it now: a request learns its reply after it was decoded. Only its
  // match is read from the log, so a flood's new rows do not redraw the details.
  const liveMatch = useWorkbench((s) => (s.log.decoded ? s.log.buffer.byId(s.log.decoded.row.id)?.match : undefined));
  const match = liveMatch ?? decoded?.row.match;
  const [byte, setByte] = useState<number | null>(null);
  const bytes = useMemo(() => (decoded ? parseHex(decoded.hex) : null), [decoded]);
  useEffect(() => setByte(null), [decoded]);
  const layers = useMemo(() => decoded?.layers.map((layer) => layer.range) ?? [], [decoded]);

  return (
    <div className="log-detail">
      <section className="detail-tree" aria-label="Packet details">
        <div className="pane-title">
          <span>{decoded ? `Packet ${decoded.row.id}: ${decoded.summary}` : 'Packet details'}</span>
          {selectedId !== null && (
            <button type="button" onClick={() => void sendAgain(selectedId)}>
              Send again…
            </button>
          )}
        </div>
        {decodeError && (
          <div className="field-error" role="alert">
            {decodeError}
          </div>
        )}
        {decoded && match && (
          <p className="match-links" aria-label="Request and reply">
            {match.replyId !== undefined && (
              <button type="button" className="link" onClick={() => void select(match.replyId!)}>
                Reply in #{match.replyId}
              </button>
            )}
            {match.requestId !== undefined && (
              <button type="button" className="link" onClick={() => void select(match.requestId!)}>
                Request in #{match.requestId}
              </button>
            )}
            {match.rttMs !== undefined && <span className="muted"> round trip {formatMs(match.rttMs)} ms</span>}
          </p>
        )}
        {decoded ? (
          <DecodeTree layers={decoded.layers} label="Decoded packet" onSelectRange={setHighlight} byte={byte} />
        ) : (
          !decodeError && <p className="muted">Select a packet (click, or arrow keys in the table) to decode it.</p>
        )}
        {/* Any packet sent from a lab host, not only Build & send's newest: its copy on the first link. */}
        {decoded && decoded.row.direction === 'sent' && decoded.row.host !== undefined && <KernelChanges row={decoded.row} />}
      </section>
      <section className="detail-hex" aria-label="Packet bytes">
        {bytes && <HexView bytes={bytes} label="Packet hex" highlight={highlight} layers={layers} onSelectByte={setByte} />}
      </section>
    </div>
  );
}
