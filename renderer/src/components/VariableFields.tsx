// The Send form's variable fields (Ostinato's): rows that make a field change from packet to
// packet, each said in words and checked with the others, errors beside the control at fault.
// A repeated echo request varies its sequence by default; "Identical packets" turns that off.
import { useMemo } from 'react';
import { useWorkbench } from '../store';
import { isEchoRequest } from '../store/send';
import { MAX_VARIATIONS, specWords, validateVariations, VARIATION_MODES, variableFields, type VariationDraft, type VariationErrors, type VariableField } from '../model/variation-words';
import './stream.css';

const MODE_WORDS: Record<VariationDraft['mode'], string> = { increment: 'Increment', decrement: 'Decrement', random: 'Random', list: 'List' };

export function VariableFields() {
  const rows = useWorkbench((s) => s.send.variations);
  const errors = useWorkbench((s) => s.send.variationErrors);
  const layers = useWorkbench((s) => s.editor.analysis.layers);
  const echoRequest = useWorkbench((s) => isEchoRequest(s.editor.layers));
  const repeated = useWorkbench((s) => s.send.form.repeat === 'count' && s.send.form.count.trim() !== '1');
  const identical = useWorkbench((s) => s.send.form.identical);
  const setForm = useWorkbench((s) => s.send.setForm);
  const add = useWorkbench((s) => s.send.addVariation);
  const fields = useMemo(() => variableFields(layers), [layers]);
  return (
    <fieldset className="variable-fields">
      <legend>Variable fields</legend>
      {rows.length === 0 && !(echoRequest && repeated) && <p className="muted small">None: every packet is the same. Add one to vary a field from packet to packet.</p>}
      {rows.map((row, index) => (
        <VariationRow key={row.id} row={row} number={index + 1} fields={fields} errors={errors[row.id]} />
      ))}
      {rows.length === 0 && echoRequest && repeated && (
        <div className="echo-default">
          <span className="muted">{identical ? 'Every echo request is the same (same sequence number).' : 'The echo sequence number increments by default: +1 per packet.'}</span>
          <label className="inline">
            <input type="checkbox" checked={identical} onChange={(event) => setForm({ identical: event.target.checked })} />
            Identical packets
          </label>
        </div>
      )}
      <button type="button" onClick={add} disabled={rows.length >= MAX_VARIATIONS || fields.length === 0}>
        Add variable field
      </button>
      {fields.length === 0 && <span className="muted small"> The packet has no numeric or address field to vary.</span>}
    </fieldset>
  );
}

function VariationRow({ row, number, fields, errors }: { row: VariationDraft; number: number; fields: VariableField[]; errors: VariationErrors | undefined }) {
  const update = useWorkbench((s) => s.send.updateVariation);
  const remove = useWorkbench((s) => s.send.removeVariation);
  const name = `variable field ${number}`;
  const id = `variation-${row.id}`;
  const selected = `${row.layerId}/${row.field}`;
  const known = fields.some((field) => `${field.layerId}/${field.name}` === selected);
  // The row in words, when it is complete and valid.
  const checked = validateVariations([row], fields).specs;
  const words = checked ? specWords(checked[0], fields) : null;
  const errorFor = (key: keyof VariationErrors) =>
    errors?.[key] ? (
      <div className="field-error" role="alert" id={`${id}-${key}-error`}>
        {errors[key]}
      </div>
    ) : null;
  const described = (key: keyof VariationErrors) => ({
    'aria-invalid': errors?.[key] ? true : undefined,
    'aria-describedby': errors?.[key] ? `${id}-${key}-error` : undefined,
  });
  return (
    <div className="variation-row" role="group" aria-label={`Variable field ${number}`}>
      <div className="variation-controls">
        <select
          aria-label={`Field of ${name}`}
          value={known ? selected : ''}
          {...described('field')}
          onChange={(event) => {
            const [layerId, field] = event.target.value.split('/');
            update(row.id, { layerId, field });
          }}
        >
          {!known && <option value="">Choose a field…</option>}
          {fields.map((field) => (
            <option key={`${field.layerId}/${field.name}`} value={`${field.layerId}/${field.name}`}>
              {field.layerName} {field.label}
            </option>
          ))}
        </select>
        <select aria-label={`Mode of ${name}`} value={row.mode} onChange={(event) => update(row.id, { mode: event.target.value as VariationDraft['mode'] })}>
          {VARIATION_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {MODE_WORDS[mode]}
            </option>
          ))}
        </select>
        {(row.mode === 'increment' || row.mode === 'decrement') && (
          <span className="inline">
            <span className="muted">Step</span>
            <input aria-label={`Step of ${name}`} className="narrow" inputMode="numeric" value={row.step} {...described('step')} onChange={(event) => update(row.id, { step: event.target.value })} />
          </span>
        )}
        {row.mode !== 'list' && (
          <span className="inline">
            <span className="muted">Count</span>
            <input
              aria-label={`Count of ${name}`}
              className="narrow"
              inputMode="numeric"
              placeholder="all"
              value={row.count}
              {...described('count')}
              onChange={(event) => update(row.id, { count: event.target.value })}
            />
          </span>
        )}
        {row.mode === 'list' && (
          <input
            aria-label={`Values of ${name}`}
            className="variation-values"
            placeholder="1, 5, 9 or 127.0.0.1, 127.0.0.2"
            spellCheck={false}
            value={row.values}
            {...described('values')}
            onChange={(event) => update(row.id, { values: event.target.value })}
          />
        )}
        <button type="button" aria-label={`Remove ${name}`} onClick={() => remove(row.id)}>
          Remove
        </button>
      </div>
      {words && <div className="variation-words muted small">{words}</div>}
      {errorFor('field')}
      {errorFor('step')}
      {errorFor('count')}
      {errorFor('values')}
    </div>
  );
}
