// The log's display filter box: a combobox that completes field names (WAI-ARIA combobox with a
// listbox popup), applies the filter a moment after typing stops (or at once on Enter), and shows
// why a filter cannot be applied in red, with the bad part marked.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { applyCompletion, completionAt, type Completion } from '../model/display-filter-completion';

const APPLY_AFTER_MS = 400;

export interface DisplayFilterBoxProps {
  value: string;
  onChange(text: string): void;
  /** Check and apply what is typed now. */
  onApply(): void;
  error: { message: string; position: number; end: number } | null;
  /** The engine is still judging rows. */
  busy: boolean;
}

export function DisplayFilterBox({ value, onChange, onApply, error, busy }: DisplayFilterBoxProps) {
  const input = useRef<HTMLInputElement>(null);
  const [completion, setCompletion] = useState<Completion | null>(null);
  const [active, setActive] = useState(0);
  const listId = useId();
  const errorId = useId();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const apply = useRef(onApply);
  apply.current = onApply;

  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  const schedule = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => apply.current(), APPLY_AFTER_MS);
  };

  const update = (text: string, caret: number) => {
    onChange(text);
    setCompletion(completionAt(text, caret));
    setActive(0);
    schedule();
  };

  const choose = (name: string) => {
    if (!completion) return;
    const next = applyCompletion(value, completion, name);
    update(next.text, next.caret);
    setCompletion(null);
    requestAnimationFrame(() => input.current?.setSelectionRange(next.caret, next.caret));
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const open = completion !== null;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!open) {
        const caret = input.current?.selectionStart ?? value.length;
        setCompletion(completionAt(value, caret));
        setActive(0);
      } else {
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setActive((current) => (current + step + completion.options.length) % completion.options.length);
      }
      event.preventDefault();
    } else if ((event.key === 'Enter' || event.key === 'Tab') && open) {
      choose(completion.options[active].name);
      event.preventDefault();
    } else if (event.key === 'Enter') {
      if (timer.current) clearTimeout(timer.current);
      onApply();
      event.preventDefault();
    } else if (event.key === 'Escape' && open) {
      setCompletion(null);
      event.preventDefault();
    }
  };

  const marked = useMemo(() => {
    if (!error || error.end <= error.position || error.position >= value.length) return null;
    return { before: value.slice(0, error.position), bad: value.slice(error.position, error.end), after: value.slice(error.end) };
  }, [error, value]);

  const optionId = (index: number) => `${listId}-option-${index}`;
  return (
    <div className="display-filter">
      <label className="inline grow">
        <span>Display filter</span>
        <input
          ref={input}
          role="combobox"
          aria-label="Display filter"
          aria-autocomplete="list"
          aria-expanded={completion !== null}
          aria-controls={listId}
          aria-activedescendant={completion ? optionId(active) : undefined}
          aria-invalid={error !== null}
          aria-describedby={error ? errorId : undefined}
          value={value}
          spellCheck={false}
          autoComplete="off"
          placeholder="e.g. icmp.type == 0 && ip.src == 198.18.1.1, tcp.flags.syn, udp.port in {53, 33434..33534}"
          onChange={(event) => update(event.target.value, event.target.selectionStart ?? event.target.value.length)}
          onKeyDown={onKeyDown}
          onBlur={() => setCompletion(null)}
        />
      </label>
      {busy && (
        <span className="muted small" role="status">
          filtering…
        </span>
      )}
      {completion && (
        <ul id={listId} role="listbox" aria-label="Display filter fields" className="completion-list">
          {completion.options.map((field, index) => (
            <li
              key={field.name}
              id={optionId(index)}
              role="option"
              aria-selected={index === active}
              onMouseDown={(event) => {
                event.preventDefault(); // keep the focus in the box
                choose(field.name);
              }}
            >
              <code>{field.name}</code> <span className="muted">{field.aliasOf ? `= ${field.aliasOf}` : field.label}</span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <div id={errorId} className="field-error display-filter-error" role="alert">
          {error.message}
          {marked && (
            <code className="display-filter-excerpt">
              {marked.before}
              <mark>{marked.bad}</mark>
              {marked.after}
            </code>
          )}
        </div>
      )}
    </div>
  );
}
