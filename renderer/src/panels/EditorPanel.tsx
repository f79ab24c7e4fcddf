// The packet editor: templates and saved packets, the layer stack with a field table drawn
// from packets/' field descriptions, and the hex view linked to it both ways.
import { memo, useCallback, useMemo, useState, type ReactNode } from 'react';
import { layerKindNames, type FieldDescription, type LayerKindName } from '../../../packets';
import { HexView } from '../components/HexView';
import { Split } from '../components/Split';
import { layerName, parseNumberText, type DraftPayload, type FieldRow, type LayerAnalysis } from '../model/draft';
import { templates } from '../model/templates';
import { useWorkbench } from '../store';

/** `aside` goes under the bytes (the send panel), so building and sending share one screen;
 *  the divider between the layers and that column can be moved. */
export function EditorPanel({ aside }: { aside?: ReactNode }) {
  return (
    <section className="editor" aria-label="Packet editor">
      <EditorToolbar />
      <Split
        id="editor"
        direction="row"
        label="Resize editor and send panes"
        initial={0.52}
        minFirst={400}
        minSecond={440}
        className="editor-body"
        first={<LayerStack />}
        second={
          <div className="editor-aside">
            <PacketBytes />
            {aside}
          </div>
        }
      />
    </section>
  );
}

function EditorToolbar() {
  const loadTemplate = useWorkbench((s) => s.editor.loadTemplate);
  const addLayer = useWorkbench((s) => s.editor.addLayer);
  const saved = useWorkbench((s) => s.editor.saved);
  const savePacket = useWorkbench((s) => s.editor.savePacket);
  const loadSaved = useWorkbench((s) => s.editor.loadSaved);
  const deleteSaved = useWorkbench((s) => s.editor.deleteSaved);
  const [template, setTemplate] = useState(templates[0].id);
  const [kind, setKind] = useState<LayerKindName>('ipv4');
  const [name, setName] = useState('');
  const names = Object.keys(saved).sort();
  const [chosen, setChosen] = useState('');
  const pick = chosen && saved[chosen] ? chosen : (names[0] ?? '');

  return (
    <div className="toolbar" role="toolbar" aria-label="Packet editor tools">
      <label className="inline">
        <span>Template</span>
        <select aria-label="Template" value={template} onChange={(event) => setTemplate(event.target.value)} title={templates.find((t) => t.id === template)?.description}>
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => loadTemplate(template)}>
        Load template
      </button>
      <span className="separator" aria-hidden="true" />
      <label className="inline">
        <span>Layer</span>
        <select aria-label="Layer" value={kind} onChange={(event) => setKind(event.target.value as LayerKindName)}>
          {layerKindNames.map((k) => (
            <option key={k} value={k}>
              {layerName(k)}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => addLayer(kind)}>
        Add layer
      </button>
      <span className="separator" aria-hidden="true" />
      <form
        className="inline"
        onSubmit={(event) => {
          event.preventDefault();
          savePacket(name);
          setChosen(name.trim());
        }}
      >
        <label className="inline">
          <span>Save as</span>
          <input aria-label="Save as" value={name} onChange={(event) => setName(event.target.value)} placeholder="name" size={12} />
        </label>
        <button type="submit" disabled={!name.trim()}>
          Save packet
        </button>
      </form>
      <label className="inline">
        <span>Saved</span>
        <select aria-label="Saved" value={pick} onChange={(event) => setChosen(event.target.value)} disabled={names.length === 0}>
          {names.length === 0 && <option value="">none yet</option>}
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <button type="button" disabled={!pick} onClick={() => loadSaved(pick)}>
        Load saved
      </button>
      <button type="button" disabled={!pick} onClick={() => deleteSaved(pick)}>
        Delete saved
      </button>
    </div>
  );
}

function LayerStack() {
  const analysis = useWorkbench((s) => s.editor.analysis);
  const count = analysis.layers.length;
  // Labels must stay unique when a kind appears twice (IPv4 in IPv4).
  const names = useMemo(() => {
    const seen: Record<string, number> = {};
    return analysis.layers.map((layer) => {
      seen[layer.name] = (seen[layer.name] ?? 0) + 1;
      return seen[layer.name] > 1 ? `${layer.name} #${seen[layer.name]}` : layer.name;
    });
  }, [analysis.layers]);
  return (
    <div className="layer-stack" aria-label="Layers">
      {count === 0 && <p className="muted">No layers: load a template or add a layer.</p>}
      {analysis.layers.map((layer, index) => (
        <LayerSection key={layer.layer.id} layer={layer} name={names[index]} index={index} count={count} />
      ))}
    </div>
  );
}

const LayerSection = memo(function LayerSection({ layer, name, index, count }: { layer: LayerAnalysis; name: string; index: number; count: number }) {
  const moveLayer = useWorkbench((s) => s.editor.moveLayer);
  const removeLayer = useWorkbench((s) => s.editor.removeLayer);
  const id = layer.layer.id;
  const range = layer.range;
  return (
    <section className="layer" aria-label={`${name} layer`}>
      <header className="layer-header">
        <span className="layer-name">{name}</span>
        <span className="layer-title">{layer.title}</span>
        <span className="layer-range">{range ? `bytes ${range.start}–${range.end - 1} (${range.end - range.start})` : ''}</span>
        <span className="layer-actions">
          <button type="button" className="icon" aria-label={`Move ${name} up`} title="Move up" disabled={index === 0} onClick={() => moveLayer(id, -1)}>
            ↑
          </button>
          <button type="button" className="icon" aria-label={`Move ${name} down`} title="Move down" disabled={index === count - 1} onClick={() => moveLayer(id, 1)}>
            ↓
          </button>
          <button type="button" className="icon" aria-label={`Remove ${name}`} title="Remove" onClick={() => removeLayer(id)}>
            ✕
          </button>
        </span>
      </header>
      {layer.layer.kind === 'payload' ? (
        <PayloadEditor layer={layer.layer} error={layer.error} name={name} />
      ) : (
        <table className="fields">
          <colgroup>
            <col className="col-field" />
            <col className="col-value" />
            <col className="col-auto" />
            <col className="col-bits" />
            <col className="col-display" />
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
              <th scope="col">Auto</th>
              <th scope="col">Bits</th>
              <th scope="col">Decoded</th>
            </tr>
          </thead>
          <tbody>
            {layer.fields.map((row) => (
              <FieldRowView key={`${row.field.name}@${row.field.bitOffset}`} layerId={id} layerName={name} row={row} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
});

function FieldRowView({ layerId, layerName: prefix, row }: { layerId: string; layerName: string; row: FieldRow }) {
  const { field } = row;
  const selected = useWorkbench((s) => s.editor.selection?.layerId === layerId && s.editor.selection.field === field.name);
  const setField = useWorkbench((s) => s.editor.setField);
  const setManual = useWorkbench((s) => s.editor.setManual);
  const select = useWorkbench((s) => s.editor.select);
  const label = `${prefix} ${field.label}`;
  const errorId = `${layerId}-${field.name}-error`;
  const onFocus = useCallback(() => select({ layerId, field: field.name }), [select, layerId, field.name]);
  const bits = field.bitWidth === 0 ? 'var' : `${field.bitOffset}+${field.bitWidth}`;
  return (
    <tr className={`${selected ? 'selected' : ''}${row.error ? ' invalid' : ''}`} onClick={onFocus}>
      <th scope="row" title={`${field.label}${field.unit ? ` (${field.unit})` : ''} · ${field.name}`}>
        {field.label}
        {field.unit ? <span className="unit"> ({field.unit})</span> : null}
      </th>
      <td className="value-cell">
        <div className="value-line">
          <input
            aria-label={label}
            value={row.text}
            readOnly={row.auto}
            className={row.auto ? 'auto' : ''}
            aria-invalid={row.error ? true : undefined}
            aria-describedby={row.error ? errorId : undefined}
            spellCheck={false}
            onFocus={onFocus}
            onChange={(event) => setField(layerId, field.name, event.target.value)}
          />
          {!row.auto && <ValueHelper layerId={layerId} label={label} field={field} text={row.text} />}
        </div>
        {row.error && (
          <div id={errorId} className="field-error" role="alert">
            {row.error}
          </div>
        )}
        {/* Where the layer is narrow the Decoded column folds away and its words show here (styles.css). */}
        {row.display && row.display !== row.text ? <div className="value-decoded">{row.display}</div> : null}
      </td>
      <td className="auto-cell">
        {row.automatic && (
          <label className="switch" title={row.auto ? 'Computed when the packet is built; switch off to set by hand' : 'Set by hand; switch on to compute'}>
            <input type="checkbox" role="switch" aria-label={`${label} automatic`} checked={row.auto} onChange={(event) => setManual(layerId, field.name, !event.target.checked)} />
            <span>auto</span>
          </label>
        )}
      </td>
      <td className="bits">{bits}</td>
      <td className="display" title={row.display}>
        {row.display ?? ''}
      </td>
    </tr>
  );
}

/** Named values (enum) and flag bits (flags) beside the number. */
function ValueHelper({ layerId, label, field, text }: { layerId: string; label: string; field: FieldDescription; text: string }) {
  const setField = useWorkbench((s) => s.editor.setField);
  const value = parseNumberText(text);
  if (field.type === 'enum' && field.enumNames) {
    const names = Object.entries(field.enumNames);
    const known = value !== null && field.enumNames[value] !== undefined;
    return (
      <select aria-label={`${label} name`} value={known ? String(value) : ''} onChange={(event) => event.target.value !== '' && setField(layerId, field.name, event.target.value)}>
        {!known && <option value="">—</option>}
        {names.map(([number, name]) => (
          <option key={number} value={number}>
            {name} ({number})
          </option>
        ))}
      </select>
    );
  }
  if (field.type === 'flags' && field.flagNames) {
    const width = field.flagNames.length;
    return (
      <span className="flags">
        {field.flagNames.map((name, i) => {
          const bit = 1 << (width - 1 - i);
          const on = value !== null && (value & bit) !== 0;
          return (
            <label key={name} className="flag" title={name}>
              <input
                type="checkbox"
                aria-label={`${label} ${name}`}
                checked={on}
                onChange={() => setField(layerId, field.name, `0x${((value ?? 0) ^ bit).toString(16).padStart(Math.ceil(field.bitWidth / 4), '0')}`)}
              />
              {name}
            </label>
          );
        })}
      </span>
    );
  }
  return null;
}

function PayloadEditor({ layer, error, name }: { layer: DraftPayload; error?: string; name: string }) {
  const setPayload = useWorkbench((s) => s.editor.setPayload);
  const select = useWorkbench((s) => s.editor.select);
  const errorId = `${layer.id}-payload-error`;
  return (
    <div className="payload-editor">
      <div role="radiogroup" aria-label={`${name} format`} className="inline">
        {(['text', 'hex'] as const).map((mode) => (
          <label key={mode} className="inline">
            <input type="radio" name={`${layer.id}-mode`} checked={layer.mode === mode} onChange={() => setPayload(layer.id, { mode })} />
            {mode === 'text' ? 'Text (UTF-8)' : 'Hex'}
          </label>
        ))}
      </div>
      <textarea
        aria-label={layer.mode === 'text' ? `${name} text` : `${name} hex`}
        value={layer.text}
        rows={3}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        onFocus={() => select({ layerId: layer.id, field: '' })}
        onChange={(event) => setPayload(layer.id, { text: event.target.value })}
      />
      {error && (
        <div id={errorId} className="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

function PacketBytes() {
  const analysis = useWorkbench((s) => s.editor.analysis);
  const selection = useWorkbench((s) => s.editor.selection);
  const selectByte = useWorkbench((s) => s.editor.selectByte);
  const editByte = useWorkbench((s) => s.editor.editByte);
  const hexText = useWorkbench((s) => s.editor.hexText);
  const hexError = useWorkbench((s) => s.editor.hexError);
  const setHexText = useWorkbench((s) => s.editor.setHexText);
  const applyHexText = useWorkbench((s) => s.editor.applyHexText);

  const highlight = useMemo(() => {
    if (!selection) return null;
    const layer = analysis.layers.find((candidate) => candidate.layer.id === selection.layerId);
    if (!layer) return null;
    if (!selection.field) return layer.range ?? null;
    return layer.fields.find((row) => row.field.name === selection.field)?.range ?? null;
  }, [analysis, selection]);
  const layerRanges = useMemo(() => analysis.layers.flatMap((layer) => (layer.range ? [layer.range] : [])), [analysis]);
  const bytes = analysis.bytes;

  return (
    <section className="packet-bytes" aria-label="Packet bytes">
      <h2 className="pane-title">
        Bytes {bytes ? <span className="muted">{bytes.length} bytes</span> : null}
      </h2>
      {bytes ? (
        <HexView bytes={bytes} label="Packet hex" highlight={highlight} layers={layerRanges} onSelectByte={selectByte} onEditByte={editByte} />
      ) : (
        <div className="problems" role="alert" aria-label="Packet problems">
          <strong>The packet cannot be built:</strong>
          <ul>
            {analysis.errors.map((error) => (
              <li key={error}>{error}</li>
            ))}
          </ul>
        </div>
      )}
      <p className="hint">Click a byte to select its field; type two hex digits to overwrite the byte under the cursor.</p>
      <form
        className="hex-text"
        onSubmit={(event) => {
          event.preventDefault();
          applyHexText();
        }}
      >
        <label htmlFor="packet-hex-text">Packet as hex (paste a whole packet)</label>
        <textarea
          id="packet-hex-text"
          value={hexText}
          rows={3}
          spellCheck={false}
          aria-invalid={hexError ? true : undefined}
          aria-describedby={hexError ? 'packet-hex-error' : undefined}
          onChange={(event) => setHexText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              applyHexText();
            }
          }}
        />
        <div className="row-actions">
          <button type="submit">Apply hex</button>
          {hexError && (
            <span id="packet-hex-error" className="field-error" role="alert">
              {hexError}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
