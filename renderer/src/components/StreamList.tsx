// The stream being built: packets added from the editor, each with its count and variable
// fields in words, in the order they go out; sent in one job, in order or interleaved.
import { useEffect, useRef } from 'react';
import { useWorkbench } from '../store';
import { streamTotal } from '../store/stream';
import './stream.css';

export function StreamList() {
  const stream = useWorkbench((s) => s.send.stream);
  const order = useWorkbench((s) => s.send.form.order);
  const setForm = useWorkbench((s) => s.send.setForm);
  const remove = useWorkbench((s) => s.send.removeFromStream);
  const move = useWorkbench((s) => s.send.moveInStream);
  const clear = useWorkbench((s) => s.send.clearStream);
  const error = useWorkbench((s) => (s.send.error?.where === 'stream' ? s.send.error : null));
  const section = useRef<HTMLElement>(null);
  const shownLength = useRef(stream.length);
  // A packet just added: bring the list into view (it sits below the form in a small window).
  useEffect(() => {
    if (stream.length > shownLength.current) section.current?.scrollIntoView?.({ block: 'nearest' });
    shownLength.current = stream.length;
  }, [stream.length]);
  if (stream.length === 0) {
    return error ? (
      <div className="field-error" role="alert">
        {error.message}
      </div>
    ) : null;
  }
  const total = streamTotal(stream);
  return (
    <section className="stream-list" aria-label="Stream" ref={section}>
      <h3 className="pane-title">
        <span>
          Stream
          <span className="muted small">
            {' '}
            {stream.length} packet{stream.length === 1 ? '' : 's'}, {total.toLocaleString('en-US')} to send
          </span>
        </span>
        <button type="button" onClick={clear}>
          Clear stream
        </button>
      </h3>
      <div className="stream-scroll" tabIndex={0} role="region" aria-label="Stream packets, scrollable">
        <table className="grid-table stream-table" aria-label="Stream packets">
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              <th scope="col">Packet</th>
              <th scope="col" className="num">
                Count
              </th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {stream.map((entry, index) => (
              <tr key={entry.id}>
                <td className="num">{index + 1}</td>
                <td className="wrap">
                  <span className="mono small">{entry.summary}</span>
                  {entry.destination && <span className="muted small"> to {entry.destination}</span>}
                  {entry.variationWords.map((words) => (
                    <div key={words} className="muted small">
                      {words}
                    </div>
                  ))}
                  {error?.entryId === entry.id && (
                    <div className="field-error" role="alert">
                      {error.message}
                    </div>
                  )}
                </td>
                <td className="num">{entry.count.toLocaleString('en-US')}</td>
                <td className="actions">
                  <button type="button" aria-label={`Move packet ${index + 1} up`} disabled={index === 0} onClick={() => move(entry.id, -1)}>
                    ↑
                  </button>
                  <button type="button" aria-label={`Move packet ${index + 1} down`} disabled={index === stream.length - 1} onClick={() => move(entry.id, 1)}>
                    ↓
                  </button>
                  <button type="button" aria-label={`Remove packet ${index + 1} from the stream`} onClick={() => remove(entry.id)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="inline stream-order" role="radiogroup" aria-label="Stream order">
        <span className="muted">Order</span>
        <label className="inline">
          <input type="radio" name="stream-order" checked={order === 'sequential'} onChange={() => setForm({ order: 'sequential' })} />
          Sequential
        </label>
        <label className="inline">
          <input type="radio" name="stream-order" checked={order === 'interleaved'} onChange={() => setForm({ order: 'interleaved' })} />
          Interleaved
        </label>
        <span className="muted small">{order === 'sequential' ? 'all of packet 1, then packet 2…' : 'packets 1, 2, 3, 1, 2, 3…'}</span>
      </div>
      {error && !error.entryId && (
        <div className="field-error" role="alert">
          {error.message}
        </div>
      )}
    </section>
  );
}
