// The packet editor: the layer stack being built, its analysis (errors, bytes, ranges),
// the selected field, and packets saved by name.
import { formatHex, parseHex, type HeaderKind, type LayerKindName } from '../../../packets';
import {
  analyzeDraft,
  carryOverEdits,
  draftFromBytes,
  fieldAtByte,
  newLayer,
  newLayerId,
  payloadBytesOf,
  withByte,
  type DraftAnalysis,
  type DraftLayer,
  type DraftPayload,
} from '../model/draft';
import { templates } from '../model/templates';
import { isDraftLayers, readPersisted, writePersisted } from './persisted';
import type { SliceFactory } from './types';

export interface FieldSelection {
  layerId: string;
  /** '' selects the whole layer (payload). */
  field: string;
}

export interface EditorSlice {
  editor: {
    layers: DraftLayer[];
    analysis: DraftAnalysis;
    selection: FieldSelection | null;
    /** The 'packet as hex' box: its text and why it was refused. */
    hexText: string;
    hexError: string | null;
    saved: Record<string, DraftLayer[]>;
    loadTemplate(id: string): void;
    addLayer(kind: LayerKindName): void;
    removeLayer(layerId: string): void;
    moveLayer(layerId: string, delta: -1 | 1): void;
    setField(layerId: string, field: string, text: string): void;
    /** Automatic fields: set by hand (true) or computed (false). */
    setManual(layerId: string, field: string, manual: boolean): void;
    setPayload(layerId: string, change: Partial<Pick<DraftPayload, 'mode' | 'text'>>): void;
    select(selection: FieldSelection | null): void;
    selectByte(offset: number): void;
    editByte(offset: number, value: number): void;
    setHexText(text: string): void;
    applyHexText(): boolean;
    /** Replaces the stack with decoded bytes (send again from the log). */
    loadBytes(bytes: Uint8Array, first?: HeaderKind | 'auto'): void;
    /** Replaces the stack with a prepared one (a lesson's packet), hand-set fields kept. */
    loadLayers(layers: DraftLayer[]): void;
    savePacket(name: string): void;
    loadSaved(name: string): void;
    deleteSaved(name: string): void;
  };
}

const SAVED_KEY = 'workbench.savedPackets';
/** The stack being edited, so a reload does not reset the editor. */
const DRAFT_KEY = 'workbench.editor.draft';

function readSaved(storage: Pick<Storage, 'getItem'> | null): Record<string, DraftLayer[]> {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(SAVED_KEY) ?? '{}');
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, DraftLayer[]>) : {};
  } catch {
    return {};
  }
}

const cloneLayers = (layers: readonly DraftLayer[]): DraftLayer[] =>
  layers.map((layer) => ({ ...structuredClone(layer), id: newLayerId() }));

/** The stack edited before the reload, if it was stored and still analyses. */
function restoredDraft(storage: Pick<Storage, 'getItem' | 'setItem'> | null): DraftLayer[] | undefined {
  const stored = readPersisted(storage, DRAFT_KEY, isDraftLayers);
  if (!stored || stored.length === 0) return undefined;
  const layers = cloneLayers(stored);
  try {
    analyzeDraft(layers);
    return layers;
  } catch {
    return undefined;
  }
}

export const createEditorSlice: SliceFactory<EditorSlice> = ({ storage }) => (set, get) => {
  const editor = () => get().editor;
  const patch = (part: Partial<EditorSlice['editor']>) => set((state) => ({ editor: { ...state.editor, ...part } }));
  /** Every change of the stack goes through here, so the analysis always matches it. */
  const setLayers = (layers: DraftLayer[], extra: Partial<EditorSlice['editor']> = {}) => {
    const analysis = analyzeDraft(layers);
    patch({ layers, analysis, hexText: analysis.bytes ? formatHex(analysis.bytes) : editor().hexText, ...extra });
    writePersisted(storage, DRAFT_KEY, layers);
    // "The packet is not valid" under Send goes away as soon as the packet is fixed.
    if (analysis.errors.length === 0 && get().send.error?.where === 'packet') set((state) => ({ send: { ...state.send, error: null } }));
  };
  const updateLayer = (layerId: string, update: (layer: DraftLayer) => DraftLayer) =>
    setLayers(editor().layers.map((layer) => (layer.id === layerId ? update(layer) : layer)));
  const persist = (saved: Record<string, DraftLayer[]>) => {
    try {
      storage?.setItem(SAVED_KEY, JSON.stringify(saved));
    } catch {
      // Storage full or refused: the packets stay saved for this session.
    }
    patch({ saved });
  };

  const initial = restoredDraft(storage) ?? templates[0].layers();
  const analysis = analyzeDraft(initial);
  return {
    editor: {
      layers: initial,
      analysis,
      selection: null,
      hexText: analysis.bytes ? formatHex(analysis.bytes) : '',
      hexError: null,
      saved: readSaved(storage),
      loadTemplate(id) {
        const template = templates.find((candidate) => candidate.id === id);
        if (template) setLayers(template.layers(), { selection: null, hexError: null });
      },
      addLayer(kind) {
        const layers = editor().layers;
        // Headers go before a trailing payload; a payload goes last.
        const payloadAt = layers.findIndex((layer) => layer.kind === 'payload');
        const at = kind === 'payload' || payloadAt < 0 ? layers.length : payloadAt;
        const layer = newLayer(kind);
        setLayers([...layers.slice(0, at), layer, ...layers.slice(at)], { selection: { layerId: layer.id, field: '' } });
      },
      removeLayer(layerId) {
        const selection = editor().selection;
        setLayers(
          editor().layers.filter((layer) => layer.id !== layerId),
          selection?.layerId === layerId ? { selection: null } : {},
        );
      },
      moveLayer(layerId, delta) {
        const layers = [...editor().layers];
        const from = layers.findIndex((layer) => layer.id === layerId);
        const to = from + delta;
        if (from < 0 || to < 0 || to >= layers.length) return;
        [layers[from], layers[to]] = [layers[to], layers[from]];
        setLayers(layers);
      },
      setField(layerId, field, text) {
        updateLayer(layerId, (layer) => (layer.kind === 'payload' ? layer : { ...layer, values: { ...layer.values, [field]: text } }));
      },
      setManual(layerId, field, manual) {
        // Switching to hand-set starts from the value build computed, so nothing jumps.
        const row = editor()
          .analysis.layers.find((layer) => layer.layer.id === layerId)
          ?.fields.find((candidate) => candidate.field.name === field);
        updateLayer(layerId, (layer) => {
          if (layer.kind === 'payload') return layer;
          const values = manual && row?.auto && row.text ? { ...layer.values, [field]: row.text } : layer.values;
          return { ...layer, values, manual: { ...layer.manual, [field]: manual } };
        });
      },
      setPayload(layerId, change) {
        updateLayer(layerId, (layer) => {
          if (layer.kind !== 'payload') return layer;
          if (change.mode && change.mode !== layer.mode) {
            const bytes = payloadBytesOf(layer);
            if ('error' in bytes) return { ...layer, mode: change.mode };
            if (change.mode === 'hex') return { ...layer, mode: 'hex', text: formatHex(bytes.bytes) };
            const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.bytes);
            return { ...layer, mode: 'text', text };
          }
          return { ...layer, ...change };
        });
      },
      select(selection) {
        patch({ selection });
      },
      selectByte(offset) {
        patch({ selection: fieldAtByte(editor().analysis, offset) });
      },
      editByte(offset, value) {
        const { analysis, layers: previous, selection } = editor();
        const bytes = analysis.bytes;
        if (!bytes || offset < 0 || offset >= bytes.length) return;
        const first = previous[0]?.kind;
        const decoded = draftFromBytes(withByte(bytes, offset, value), first && first !== 'payload' ? first : 'auto');
        setLayers(carryOverEdits(previous, decoded, fieldAtByte(analysis, offset)), { hexError: null });
        // Keep the byte's field selected across the rebuild.
        patch({ selection: selection ? fieldAtByte(editor().analysis, offset) : null });
      },
      setHexText(text) {
        patch({ hexText: text, hexError: null });
      },
      applyHexText() {
        let bytes: Uint8Array;
        try {
          bytes = parseHex(editor().hexText);
        } catch (error) {
          patch({ hexError: (error as Error).message });
          return false;
        }
        if (bytes.length === 0) {
          patch({ hexError: 'No bytes: type the packet as hex, e.g. 45 00 00 54 …' });
          return false;
        }
        if (bytes.length > 65535) {
          patch({ hexError: `${bytes.length} bytes is above the 65535 an IP packet can hold` });
          return false;
        }
        setLayers(draftFromBytes(bytes), { hexError: null, selection: null });
        return true;
      },
      loadBytes(bytes, first = 'auto') {
        setLayers(draftFromBytes(bytes, first), { hexError: null, selection: null });
      },
      loadLayers(layers) {
        setLayers(cloneLayers(layers), { hexError: null, selection: null });
      },
      savePacket(name) {
        const trimmed = name.trim();
        if (!trimmed) return;
        persist({ ...editor().saved, [trimmed]: cloneLayers(editor().layers) });
      },
      loadSaved(name) {
        const layers = editor().saved[name];
        if (layers) setLayers(cloneLayers(layers), { selection: null, hexError: null });
      },
      deleteSaved(name) {
        const { [name]: _removed, ...rest } = editor().saved;
        persist(rest);
      },
    },
  };
};
