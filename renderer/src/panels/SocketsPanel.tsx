// Open sockets with their counters and receive state, and the selected socket's options.
import type { SocketInfo } from '../../../common/contract';
import { findSocketOption, socketOptions } from '../../../common/socket-options';
import { protocolName } from '../../../packets';
import { AllowRawButton, RawNeededNote, RemedyText, useRawAccess } from '../components/RawAccess';
import { experiment } from '../model/capabilities';
import { useWorkbench } from '../store';
import { IMPLICIT_IDLE_MS } from '../store/sockets-implicit';

export function SocketsPanel() {
  return (
    <section className="sockets-panel" aria-label="Sockets">
      <OpenSocketForm />
      <OpenSocketNote />
      <HelperSocketsNote />
      <SocketLifecycleBar />
      <SocketTable />
      <OptionsPanel />
    </section>
  );
}

function OpenSocketForm() {
  const form = useWorkbench((s) => s.sockets.openForm);
  const setOpenForm = useWorkbench((s) => s.sockets.setOpenForm);
  const open = useWorkbench((s) => s.sockets.open);
  const error = useWorkbench((s) => s.sockets.error);
  const filterError = useWorkbench((s) => s.sockets.openFilterError);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const host = useWorkbench((s) => s.lab.host);
  return (
    <form
      className="toolbar"
      aria-label="Open a socket"
      onSubmit={(event) => {
        event.preventDefault();
        if (online) void open();
      }}
    >
      <label className="inline">
        <span>Family</span>
        <select aria-label="Family" value={form.family} onChange={(event) => setOpenForm({ family: event.target.value as 'ipv4' | 'ipv6' })}>
          <option value="ipv4">IPv4</option>
          <option value="ipv6">IPv6</option>
        </select>
      </label>
      <label className="inline">
        <span>Protocol</span>
        <input aria-label="Protocol" className="narrow" value={form.protocol} onChange={(event) => setOpenForm({ protocol: event.target.value })} inputMode="numeric" />
      </label>
      <span className="muted">{/^\d+$/.test(form.protocol) ? protocolName(Number(form.protocol)) : ''}</span>
      <label className="inline">
        <span>Mode</span>
        <select aria-label="Socket mode" value={form.mode} onChange={(event) => setOpenForm({ mode: event.target.value as 'auto' | 'raw' | 'datagram' })}>
          <option value="auto">Auto (raw, else unprivileged)</option>
          <option value="raw">Raw</option>
          <option value="datagram">Unprivileged datagram (ICMP only)</option>
        </select>
      </label>
      <label className="inline capture-filter">
        <span>Capture filter</span>
        <input
          aria-label="Capture filter"
          className="mono"
          value={form.filter}
          spellCheck={false}
          placeholder={FILTER_PLACEHOLDER}
          title={FILTER_HELP}
          aria-invalid={filterError ? true : undefined}
          aria-describedby={filterError ? 'open-filter-error' : undefined}
          onChange={(event) => setOpenForm({ filter: event.target.value })}
        />
      </label>
      <button type="submit" className="primary" disabled={!online}>
        Open socket
      </button>
      {host && <span className="muted small">in lab host {host}</span>}
      {filterError && (
        <span id="open-filter-error" className="field-error" role="alert">
          {filterError}
        </span>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error.message}
          {error.remedy && (
            <span className="remedy">
              {' '}
              Remedy: <RemedyText text={error.remedy} />
            </span>
          )}
          {(error.code === 'EPERM' || error.code === 'EACCES') && <PermissionAction />}
        </span>
      )}
    </form>
  );
}

const FILTER_PLACEHOLDER = 'all packets, or e.g. tcp port 80 and host 198.18.3.2';
const FILTER_HELP = "tcpdump's filter syntax (pcap-filter(7)), run by the kernel: only matching packets reach the log";

/** The selected socket's capture filter: shown, edited, applied; the engine's refusal (with the position) at the field. */
function SocketFilterForm({ socket }: { socket: SocketInfo }) {
  const view = useWorkbench((s) => s.sockets.filters[socket.socketId]);
  const editFilter = useWorkbench((s) => s.sockets.editFilter);
  const setFilter = useWorkbench((s) => s.sockets.setFilter);
  const text = view?.text ?? socket.filter ?? '';
  const errorId = `${socket.socketId}-filter-error`;
  return (
    <form
      className="toolbar"
      aria-label={`Set the capture filter of ${socket.socketId}`}
      onSubmit={(event) => {
        event.preventDefault();
        void setFilter(socket.socketId);
      }}
    >
      <label className="inline capture-filter">
        <span>Capture filter</span>
        <input
          aria-label={`Capture filter of ${socket.socketId}`}
          className="mono"
          value={text}
          spellCheck={false}
          placeholder={FILTER_PLACEHOLDER}
          title={FILTER_HELP}
          aria-invalid={view?.error ? true : undefined}
          aria-describedby={view?.error ? errorId : undefined}
          onChange={(event) => editFilter(socket.socketId, event.target.value)}
        />
      </label>
      <button type="submit" disabled={view?.saving}>
        {text.trim() === '' && socket.filter !== null ? 'Remove filter' : 'Apply filter'}
      </button>
      {socket.excludedTraffic && <span className="muted small">Also filtered out: the workbench's own connection ({socket.excludedTraffic})</span>}
      {view?.error && (
        <div id={errorId} className="field-error" role="alert">
          {view.error}
        </div>
      )}
    </form>
  );
}

function PermissionAction() {
  const { canAllow } = useRawAccess();
  return canAllow ? (
    <>
      {' '}
      <AllowRawButton />
    </>
  ) : null;
}

/** Before Open: whether the socket asked for can be opened now, and how. */
function OpenSocketNote() {
  const form = useWorkbench((s) => s.sockets.openForm);
  const { capabilities, raw } = useRawAccess();
  if (!capabilities || raw || !/^\d+$/.test(form.protocol.trim())) return null;
  const protocol = Number(form.protocol);
  const icmp = (form.family === 'ipv4' && protocol === 1) || (form.family === 'ipv6' && protocol === 58);
  const datagram = form.family === 'ipv4' ? capabilities.datagram.ipv4 : capabilities.datagram.ipv6;
  const remedy = experiment(capabilities, 'send-raw').remedy;
  if (form.mode === 'datagram') {
    if (icmp && datagram) return null;
    return (
      <div className="pad">
        <RawNeededNote
          what={icmp ? 'Ping sockets are not allowed for this user.' : 'Unprivileged datagram sockets exist for ICMP and ICMPv6 only.'}
          remedy={icmp ? "sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'" : null}
          offerHelper={false}
        />
      </div>
    );
  }
  if (form.mode === 'auto' && icmp && datagram) {
    return <p className="muted pad small">No raw sockets now: Auto opens an unprivileged ping socket (echo requests only; the kernel sets the identifier).</p>;
  }
  return (
    <div className="pad">
      <RawNeededNote what={`Opening a raw ${protocolName(protocol)} socket needs raw sockets, which are not available now.`} remedy={remedy} />
    </div>
  );
}

/** Sockets the helper opened close when it stops or dies: say why, beside the table. */
function HelperSocketsNote() {
  const helper = useWorkbench((s) => s.helper.status);
  const closed = useWorkbench((s) => s.sockets.list.filter((socket) => socket.via === 'helper' && socket.closed).length);
  if (!helper || helper.state === 'running' || helper.state === 'asking' || closed === 0) return null;
  return (
    <p className="pad small warn-text" role="note" aria-label="Helper sockets closed">
      {closed === 1 ? '1 socket' : `${closed} sockets`} from the socket helper closed when it {helper.state === 'stopped' ? 'stopped' : helper.state === 'failed' ? 'failed' : 'ended'}
      {helper.reason && helper.reason !== 'Stopped' ? `: ${helper.reason}` : '.'}
    </p>
  );
}

/** Close all open sockets; which ones Send opened and will close by itself once idle. */
function SocketLifecycleBar() {
  const openCount = useWorkbench((s) => s.sockets.list.filter((socket) => !socket.closed).length);
  const implicit = useWorkbench((s) => s.sockets.implicit);
  const closeAll = useWorkbench((s) => s.sockets.closeAll);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  if (openCount === 0) return null;
  const byIdle = Object.keys(implicit);
  return (
    <div className="toolbar">
      <button type="button" disabled={!online} onClick={() => void closeAll()}>
        Close all {openCount === 1 ? '1 socket' : `${openCount} sockets`}
      </button>
      {byIdle.length > 0 && (
        <span className="muted small">
          Opened by Send, closing after {IMPLICIT_IDLE_MS / 1000} s without a send: {byIdle.join(', ')}
        </span>
      )}
    </div>
  );
}

function SocketTable() {
  const list = useWorkbench((s) => s.sockets.list);
  const selectedId = useWorkbench((s) => s.sockets.selectedId);
  const select = useWorkbench((s) => s.sockets.select);
  const close = useWorkbench((s) => s.sockets.close);
  const setReceive = useWorkbench((s) => s.sockets.setReceive);
  if (list.length === 0) return <p className="muted pad">No sockets yet. Open one above, or send a packet (a socket opens for it).</p>;
  // Sockets opened inside a lab host say which; without any, the column would only say "this machine".
  const hosts = list.some((socket) => socket.host);
  return (
    <div className="region-scroll" role="region" aria-label="Open sockets, scrollable" tabIndex={0}>
      <table className="grid-table sockets-table" aria-label="Open sockets">
        <thead>
          <tr>
            <th scope="col">Socket</th>
            {hosts && <th scope="col">Host</th>}
            <th scope="col">Family</th>
            <th scope="col">Protocol</th>
            <th scope="col">Mode</th>
            <th scope="col">Via</th>
            <th scope="col">Receive</th>
            <th scope="col">Capture filter</th>
            <th scope="col" className="num">Sent</th>
            <th scope="col" className="num">Received</th>
            <th scope="col" className="num">Send errors</th>
            <th scope="col" className="num">Bytes sent</th>
            <th scope="col" className="num">Bytes received</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {list.map((socket) => (
            <SocketRow
              key={socket.socketId}
              socket={socket}
              hosts={hosts}
              selected={socket.socketId === selectedId}
              onOptions={() => select(socket.socketId)}
              onClose={() => void close(socket.socketId)}
              onReceive={(running) => void setReceive(socket.socketId, running)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SocketRow({ socket, hosts, selected, onOptions, onClose, onReceive }: { socket: SocketInfo; hosts: boolean; selected: boolean; onOptions(): void; onClose(): void; onReceive(running: boolean): void }) {
  const c = socket.counters;
  return (
    <tr className={`${selected ? 'selected' : ''}${socket.closed ? ' closed' : ''}`} aria-selected={selected}>
      <td className="mono">{socket.socketId}</td>
      {hosts && <td>{socket.host ?? <span className="muted">this machine</span>}</td>}
      <td>{socket.family === 'ipv4' ? 'IPv4' : 'IPv6'}</td>
      <td>
        {socket.protocol} <span className="muted">{protocolName(socket.protocol)}</span>
      </td>
      <td>{socket.mode}</td>
      <td title={viaTitle[socket.via ?? socket.mode]}>{socket.via ?? socket.mode}</td>
      <td>{socket.closed ? <span className="muted">closed</span> : socket.receivePaused ? <span className="warn-text">paused</span> : <span className="ok-text">running</span>}</td>
      <td className="mono small" aria-label={`Capture filter of ${socket.socketId} in the table`}>
        {socket.filter ?? <span className="muted">all</span>}
      </td>
      <td className="num">{c.sent.toLocaleString()}</td>
      <td className="num">{c.received.toLocaleString()}</td>
      <td className={`num${c.sendErrors ? ' bad' : ''}`}>{c.sendErrors.toLocaleString()}</td>
      <td className="num">{c.bytesSent.toLocaleString()}</td>
      <td className="num">{c.bytesReceived.toLocaleString()}</td>
      <td className="actions">
        {!socket.closed && (
          <>
            <button type="button" aria-label={`Options of ${socket.socketId}`} aria-pressed={selected} onClick={onOptions}>
              Options
            </button>
            <button type="button" aria-label={`${socket.receivePaused ? 'Resume' : 'Pause'} receive on ${socket.socketId}`} onClick={() => onReceive(socket.receivePaused)}>
              {socket.receivePaused ? 'Resume receive' : 'Pause receive'}
            </button>
            <button type="button" aria-label={`Close ${socket.socketId}`} onClick={onClose}>
              Close
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

const viaTitle: Record<string, string> = {
  raw: 'A raw socket this workbench opened itself',
  helper: 'A raw socket the socket helper opened and handed over',
  datagram: 'An unprivileged ICMP datagram (ping) socket',
};

function OptionsPanel() {
  const socketId = useWorkbench((s) => s.sockets.selectedId);
  const socket = useWorkbench((s) => s.sockets.list.find((candidate) => candidate.socketId === s.sockets.selectedId));
  const view = useWorkbench((s) => (socketId ? s.sockets.options[socketId] : undefined));
  const readOptions = useWorkbench((s) => s.sockets.readOptions);
  const editOption = useWorkbench((s) => s.sockets.editOption);
  const setOption = useWorkbench((s) => s.sockets.setOption);
  if (!socketId || !socket) return <p className="muted pad">Choose “Options” on a socket to read and set its options.</p>;
  const options = socketOptions.filter((option) => option.families.includes(socket.family));
  const readings = new Map((view?.readings ?? []).map((reading) => [reading.name, reading]));
  return (
    <section className="options-panel" aria-label={`Options of ${socketId}`}>
      <div className="pane-title">
        <span>
          Options of {socketId} ({socket.family === 'ipv4' ? 'IPv4' : 'IPv6'}, protocol {socket.protocol})
        </span>
        <button type="button" onClick={() => void readOptions(socketId)} disabled={view?.loading}>
          {view?.loading ? 'Reading…' : 'Read all again'}
        </button>
      </div>
      {!socket.closed && <SocketFilterForm socket={socket} />}
      {view?.error && (
        <div className="field-error" role="alert">
          {view.error}
        </div>
      )}
      <table className="grid-table options">
        <thead>
          <tr>
            <th scope="col">Option</th>
            <th scope="col">Level</th>
            <th scope="col">Current</th>
            <th scope="col">New value</th>
            <th scope="col">About</th>
          </tr>
        </thead>
        <tbody>
          {options.map((option) => {
            const reading = readings.get(option.name);
            const error = view?.errors[option.name];
            const text = view?.edits[option.name] ?? '';
            const described = findSocketOption(option.name);
            const errorId = `${socketId}-${option.name}-error`;
            return (
              <tr key={option.name} className={error ? 'invalid' : ''}>
                <th scope="row">
                  <span className="mono">{option.name}</span>
                  <div className="muted small">{option.label}</div>
                </th>
                <td className="muted small">{option.level}</td>
                <td className="mono" aria-label={`${option.name} current value`}>
                  {reading ? (
                    reading.value === null ? (
                      <span className="muted">{reading.error ? `unreadable: ${reading.error.code}` : '—'}</span>
                    ) : reading.value === '' ? (
                      <span className="muted">(none)</span>
                    ) : (
                      `${reading.value}${option.unit ? ` ${option.unit}` : ''}`
                    )
                  ) : (
                    '…'
                  )}
                </td>
                <td>
                  <form
                    className="inline"
                    onSubmit={(event) => {
                      event.preventDefault();
                      void setOption(socketId, option.name);
                    }}
                  >
                    {option.type === 'bool' ? (
                      <select aria-label={option.name} value={text === '1' ? '1' : '0'} onChange={(event) => editOption(socketId, option.name, event.target.value)}>
                        <option value="0">off (0)</option>
                        <option value="1">on (1)</option>
                      </select>
                    ) : (
                      <input
                        aria-label={option.name}
                        value={text}
                        className={option.type === 'int' || option.type === 'timeval' ? 'narrow' : ''}
                        inputMode={option.type === 'int' || option.type === 'timeval' ? 'numeric' : undefined}
                        spellCheck={false}
                        placeholder={option.type === 'bytes' ? 'hex' : option.type === 'text' ? 'interface' : `${option.min ?? ''}–${option.max ?? ''}`}
                        aria-invalid={error ? true : undefined}
                        aria-describedby={error ? errorId : undefined}
                        onChange={(event) => editOption(socketId, option.name, event.target.value)}
                      />
                    )}
                    {option.unit && <span className="unit">{option.unit}</span>}
                    <button type="submit" aria-label={`Set ${option.name}`}>
                      Set
                    </button>
                  </form>
                  {error && (
                    <div id={errorId} className="field-error" role="alert">
                      {error}
                    </div>
                  )}
                </td>
                <td className="small help">{described?.help}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
