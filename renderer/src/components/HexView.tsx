// Bytes as offset / hex / ASCII lines. A byte can be clicked or reached with the arrow keys;
// Enter (or a click) asks which field it belongs to; where editable, typing two hex digits
// replaces the byte under the cursor.
import { memo, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';

const PER_LINE = 16;
const MAX_SHOWN = 16_384;

export interface HexViewProps {
  bytes: Uint8Array;
  label: string;
  /** Bytes lit up (the selected field), end exclusive. */
  highlight?: { start: number; end: number } | null;
  /** Layer boundaries, tinted alternately so headers stand apart. */
  layers?: readonly { start: number; end: number }[];
  onSelectByte?(offset: number): void;
  onEditByte?(offset: number, value: number): void;
}

const hex2 = (value: number) => value.toString(16).padStart(2, '0');
const printable = (value: number) => (value >= 0x20 && value < 0x7f ? String.fromCharCode(value) : '·');

export const HexView = memo(function HexView({ bytes, label, highlight, layers, onSelectByte, onEditByte }: HexViewProps) {
  const id = useId();
  const [cursor, setCursor] = useState(0);
  const [nibble, setNibble] = useState<number | null>(null);
  const grid = useRef<HTMLDivElement>(null);
  const shown = Math.min(bytes.length, MAX_SHOWN);

  useEffect(() => {
    if (cursor >= shown) setCursor(Math.max(0, shown - 1));
  }, [cursor, shown]);
  // Follow the selected field with the cursor.
  useEffect(() => {
    if (highlight && (cursor < highlight.start || cursor >= highlight.end)) setCursor(highlight.start);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [highlight?.start, highlight?.end]);

  const layerOf = useMemo(() => {
    const tint = new Uint8Array(shown);
    layers?.forEach((range, index) => {
      for (let i = range.start; i < Math.min(range.end, shown); i++) tint[i] = (index % 2) + 1;
    });
    return tint;
  }, [layers, shown]);

  const move = (to: number) => {
    setNibble(null);
    setCursor(Math.max(0, Math.min(shown - 1, to)));
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (shown === 0) return;
    const key = event.key;
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -PER_LINE, ArrowDown: PER_LINE, PageUp: -PER_LINE * 8, PageDown: PER_LINE * 8 };
    if (key in moves) {
      event.preventDefault();
      move(cursor + moves[key]);
    } else if (key === 'Home') {
      event.preventDefault();
      move(event.ctrlKey ? 0 : cursor - (cursor % PER_LINE));
    } else if (key === 'End') {
      event.preventDefault();
      move(event.ctrlKey ? shown - 1 : cursor - (cursor % PER_LINE) + PER_LINE - 1);
    } else if (key === 'Enter' || key === ' ') {
      event.preventDefault();
      onSelectByte?.(cursor);
    } else if (key === 'Escape') {
      setNibble(null);
    } else if (onEditByte && /^[0-9a-fA-F]$/.test(key) && !event.ctrlKey && !event.altKey && !event.metaKey) {
      event.preventDefault();
      const digit = parseInt(key, 16);
      if (nibble === null) {
        setNibble(digit);
      } else {
        onEditByte(cursor, nibble * 16 + digit);
        setNibble(null);
        setCursor(Math.min(shown - 1, cursor + 1));
      }
    }
  };

  const onClick = (event: React.MouseEvent<HTMLDivElement>) => {
    const target = (event.target as HTMLElement).closest<HTMLElement>('[data-i]');
    if (!target) return;
    const offset = Number(target.dataset.i);
    setCursor(offset);
    setNibble(null);
    onSelectByte?.(offset);
  };

  const lines = [];
  for (let start = 0; start < shown; start += PER_LINE) {
    const cells = [];
    const ascii = [];
    for (let i = start; i < Math.min(start + PER_LINE, shown); i++) {
      const lit = highlight && i >= highlight.start && i < highlight.end;
      const className = `hb${lit ? ' lit' : ''}${i === cursor ? ' cur' : ''} t${layerOf[i]}${i % PER_LINE === 8 ? ' gap' : ''}`;
      const text = i === cursor && nibble !== null ? `${nibble.toString(16)}_` : hex2(bytes[i]);
      cells.push(
        <span key={i} id={`${id}-${i}`} role="gridcell" aria-label={`Byte ${i}: ${hex2(bytes[i])}`} aria-selected={lit || false} data-i={i} className={className}>
          {text}
        </span>,
      );
      ascii.push(
        <span key={i} data-i={i} className={`ha${lit ? ' lit' : ''}`} aria-hidden="true">
          {printable(bytes[i])}
        </span>,
      );
    }
    lines.push(
      <div role="row" key={start} className="hex-line">
        <span className="hex-offset" aria-hidden="true">
          {start.toString(16).padStart(4, '0')}
        </span>
        <span className="hex-bytes">{cells}</span>
        <span className="hex-ascii">{ascii}</span>
      </div>,
    );
  }

  return (
    <div
      ref={grid}
      role="grid"
      aria-label={label}
      aria-readonly={!onEditByte}
      aria-activedescendant={shown > 0 ? `${id}-${cursor}` : undefined}
      tabIndex={0}
      className="hex-view"
      onKeyDown={onKeyDown}
      onClick={onClick}
    >
      {shown === 0 ? <div className="muted">No bytes</div> : lines}
      {bytes.length > shown && <div className="muted">… {bytes.length - shown} more bytes not shown</div>}
    </div>
  );
});
