// "What the kernel changed": a packet sent from a lab host next to the copy captured at the
// far end of its first link (packetOnWire), one line per field the kernel rewrote, and both
// packets' bytes with the rewritten ones marked (a mark and a ≠ in the words, not colour alone).
import { useEffect, useState } from 'react';
import type { LogRow, PacketOnWire } from '../../../common/contract';
import { errorText } from '../api/client';
import { useWorkbench } from '../store';
import './kernel-changes.css';

type Loaded = { id: number; result?: PacketOnWire; error?: string };

export function KernelChanges({ row }: { row: LogRow }) {
  const packetOnWire = useWorkbench((s) => s.lab.packetOnWire);
  const [open, setOpen] = useState(false);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  useEffect(() => {
    if (!open || loaded?.id === row.id) return;
    let current = true;
    setLoaded(null);
    packetOnWire(row.id).then(
      (result) => current && setLoaded({ id: row.id, result }),
      (error: unknown) => current && setLoaded({ id: row.id, error: errorText(error) }),
    );
    return () => {
      current = false;
    };
  }, [open, row.id]);
  const shown = loaded?.id === row.id ? loaded : null;
  return (
    <section className="kernel-changes" aria-label="What the kernel changed">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span aria-hidden="true">{open ? '▾' : '▸'} </span>What the kernel changed
      </button>
      {open && (
        <div className="kernel-changes-body" role="region" aria-label={`What the kernel changed in #${row.id}`}>
          {!shown ? (
            <p className="muted small">Looking for #{row.id} on the first link…</p>
          ) : shown.error !== undefined ? (
            <p className="small" role="status">
              Not seen on the first link: {shown.error}
            </p>
          ) : (
            <WireView result={shown.result!} />
          )}
        </div>
      )}
    </section>
  );
}

export function WireView({ result }: { result: PacketOnWire }) {
  const { differences, notes } = result;
  return (
    <>
      <p className="small">
        #{result.rowId} as sent from <strong>{result.host}</strong>, next to its copy captured on <strong>{result.capturedOn.host}</strong> (interface {result.capturedOn.interface}):{' '}
        {differences.length === 0 ? 'the kernel changed nothing.' : `${differences.length} field${differences.length === 1 ? '' : 's'} changed.`}
      </p>
      {differences.length > 0 && (
        <table className="grid-table kernel-diff" aria-label="Fields the kernel changed">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Sent</th>
              <th scope="col">On the first link</th>
              <th scope="col">What happened</th>
            </tr>
          </thead>
          <tbody>
            {differences.map((difference) => (
              <tr key={`${difference.layer}.${difference.field}`}>
                <th scope="row">
                  <span aria-hidden="true">≠ </span>
                  {difference.layer} {difference.label}
                </th>
                <td className="mono">{difference.sent}</td>
                <td className="mono">
                  <mark>{difference.wire}</mark>
                </td>
                <td>{difference.why}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {notes.map((note) => (
        <p key={note} className="small muted">
          {note}
        </p>
      ))}
      <div className="kernel-bytes">
        <HexWithMarks title="Sent (the editor's packet)" hex={result.sentHex} ranges={differences.flatMap((d) => (d.sentRange ? [d.sentRange] : []))} />
        <HexWithMarks title={`Crossed the first link (on ${result.capturedOn.host})`} hex={result.wireHex} ranges={differences.flatMap((d) => (d.wireRange ? [d.wireRange] : []))} />
      </div>
    </>
  );
}

/** Hex bytes, 16 a line, those inside `ranges` marked. */
function HexWithMarks({ title, hex, ranges }: { title: string; hex: string; ranges: { start: number; end: number }[] }) {
  const bytes = hex.split(/\s+/).filter(Boolean);
  const marked = (index: number) => ranges.some((range) => index >= range.start && index < range.end);
  const lines: string[][] = [];
  for (let index = 0; index < bytes.length; index += 16) lines.push(bytes.slice(index, index + 16));
  return (
    <figure className="kernel-hex" aria-label={title}>
      <figcaption className="small">
        {title}: {bytes.length} bytes, changed bytes marked
      </figcaption>
      <pre className="mono small">
        {lines.map((line, row) => (
          <div key={row}>
            <span className="muted">{(row * 16).toString(16).padStart(4, '0')} </span>
            {line.map((byte, column) => {
              const index = row * 16 + column;
              return (
                <span key={column}>
                  {' '}
                  {marked(index) ? <mark>{byte}</mark> : byte}
                </span>
              );
            })}
          </div>
        ))}
      </pre>
    </figure>
  );
}
