// Two panes with a resizable divider between them (WAI-ARIA window splitter): drag it, or
// focus it and use the arrow keys (Shift: bigger steps), End for the most room, Home or a
// double-click for the default. Where the user puts it is kept per split across reloads.
import { useEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type ReactNode } from 'react';
import { useWorkbench } from '../store';

export interface SplitProps {
  /** Names the stored position: one per split in the app ('editor', 'log', …). */
  id: string;
  /** 'row': panes side by side (a vertical divider); 'column': stacked (a horizontal divider). */
  direction: 'row' | 'column';
  /** The separator's accessible name, e.g. "Resize editor and send panes". */
  label: string;
  /** The first pane's share of the container before the user moves it. */
  initial: number;
  /** Neither pane gets smaller than this, in CSS pixels, while the container allows. */
  minFirst: number;
  minSecond: number;
  first: ReactNode;
  second: ReactNode;
  className?: string;
}

const DIVIDER = 6;
const STEP = 0.02;
const BIG_STEP = 0.1;

export function Split({ id, direction, label, initial, minFirst, minSecond, first, second, className }: SplitProps) {
  const stored = useWorkbench((s) => s.settings.splits[id]);
  const setSplit = useWorkbench((s) => s.settings.setSplit);
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState(0);
  // While dragging the position lives here; it is stored once, on release.
  const [dragged, setDragged] = useState<number | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => setSize(direction === 'row' ? element.clientWidth : element.clientHeight);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [direction]);

  const room = Math.max(1, size - DIVIDER);
  // The bounds follow the container: a pane keeps its minimum while there is room for both.
  const low = size ? Math.min(0.5, minFirst / room) : 0.05;
  const high = size ? Math.max(0.5, 1 - minSecond / room) : 0.95;
  const clamp = (fraction: number) => Math.min(high, Math.max(low, fraction));
  const fraction = clamp(dragged ?? stored ?? initial);
  const percent = Math.round(fraction * 100);

  const move = (next: number | null) => setSplit(id, next === null ? null : clamp(next));

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.shiftKey ? BIG_STEP : STEP;
    const back = direction === 'row' ? 'ArrowLeft' : 'ArrowUp';
    const forward = direction === 'row' ? 'ArrowRight' : 'ArrowDown';
    if (event.key === back) move(fraction - step);
    else if (event.key === forward) move(fraction + step);
    else if (event.key === 'Home') move(null);
    else if (event.key === 'End') move(high);
    else return;
    event.preventDefault();
  };

  const fromPointer = (event: PointerEvent<HTMLDivElement>) => {
    const rect = box.current!.getBoundingClientRect();
    const offset = direction === 'row' ? event.clientX - rect.left : event.clientY - rect.top;
    return clamp((offset - DIVIDER / 2) / room);
  };
  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    event.currentTarget.focus();
    setDragged(fraction);
    event.preventDefault();
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (dragged !== null) setDragged(fromPointer(event));
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    if (dragged === null) return;
    move(fromPointer(event));
    setDragged(null);
  };

  const basis = `calc((100% - ${DIVIDER}px) * ${fraction.toFixed(4)})`;
  return (
    <div ref={box} className={`split split-${direction}${dragged !== null ? ' dragging' : ''}${className ? ` ${className}` : ''}`}>
      <div className="split-pane" style={{ flexBasis: basis }}>
        {first}
      </div>
      <div
        role="separator"
        aria-orientation={direction === 'row' ? 'vertical' : 'horizontal'}
        aria-label={label}
        aria-valuenow={percent}
        aria-valuemin={Math.round(low * 100)}
        aria-valuemax={Math.round(high * 100)}
        aria-valuetext={`${percent}% to the ${direction === 'row' ? 'left' : 'top'} pane`}
        title={`${label}: drag, or arrow keys; double-click or Home resets`}
        tabIndex={0}
        className="split-divider"
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setDragged(null)}
        onDoubleClick={() => move(null)}
      />
      <div className="split-pane split-rest">{second}</div>
    </div>
  );
}
