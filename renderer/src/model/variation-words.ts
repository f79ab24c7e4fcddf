// Variable fields (Ostinato's): which fields of the edited packet may vary, the rows the user
// typed turned into the contract's variations (every row checked at once), and the words
// that say what a variation does ("Sequence number +1 per packet, 50 values").
import type { z } from 'zod';
import type { Variation } from '../../../common/contract';
import { isNumericField, type FieldDescription } from '../../../packets';
import { parseFieldText, type LayerAnalysis } from './draft';

export type VariationMode = VariationSpec['mode'];
export const VARIATION_MODES: readonly VariationMode[] = ['increment', 'decrement', 'random', 'list'];
/** The contract's limit per packet. */
export const MAX_VARIATIONS = 16;
const MAX_LIST_VALUES = 4096;

/** A variation as the contract's send takes it. */
export type VariationSpec = z.input<typeof Variation>;

/** A variable-field row as typed: the layer by its editor id, so moving layers keeps the row right. */
export interface VariationDraft {
  id: string;
  layerId: string;
  field: string;
  mode: VariationMode;
  step: string;
  count: string;
  values: string;
}

export type VariationErrors = Partial<Record<'field' | 'step' | 'count' | 'values', string>>;

/** A field of the edited packet that may vary: numeric (uint, enum, flags) or an address. */
export interface VariableField {
  layerId: string;
  layerIndex: number;
  layerName: string;
  name: string;
  label: string;
  address: boolean;
  description: FieldDescription;
}

/** The numeric and address fields of the edited packet, in stack order; computed ones (checksums, lengths) left out. */
export function variableFields(layers: readonly LayerAnalysis[]): VariableField[] {
  const fields: VariableField[] = [];
  layers.forEach((layer, layerIndex) => {
    for (const row of layer.fields) {
      const address = row.field.type === 'ipv4' || row.field.type === 'ipv6';
      if (row.auto || !(address || isNumericField(row.field))) continue;
      fields.push({ layerId: layer.layer.id, layerIndex, layerName: layer.name, name: row.field.name, label: row.field.label, address, description: row.field });
    }
  });
  return fields;
}

const wholeNumber = (text: string, min: number, max: number): number | null => {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return value >= min && value <= max ? value : null;
};

/**
 * Every row checked at once: the valid ones as contract variations (in row order, so the
 * engine's `variations.M` names row M), the problems per row id. `specs` is null while any
 * row has a problem.
 */
export function validateVariations(
  drafts: readonly VariationDraft[],
  fields: readonly VariableField[],
): { specs: VariationSpec[] | null; errors: Record<string, VariationErrors> } {
  const errors: Record<string, VariationErrors> = {};
  const specs: VariationSpec[] = [];
  const seen = new Set<string>();
  drafts.forEach((draft, index) => {
    const problems: VariationErrors = {};
    const field = fields.find((candidate) => candidate.layerId === draft.layerId && candidate.name === draft.field);
    if (!field) problems.field = draft.field ? 'This field is no longer in the packet (or is computed): choose another' : 'Choose a field';
    else if (seen.has(`${field.layerId}/${field.name}`)) problems.field = `${field.layerName} ${field.label} already varies in another row`;
    if (index >= MAX_VARIATIONS) problems.field = `At most ${MAX_VARIATIONS} variable fields per packet`;
    const spec: VariationSpec = { layer: field?.layerIndex ?? 0, field: draft.field, mode: draft.mode };
    if (draft.mode === 'increment' || draft.mode === 'decrement') {
      if (draft.step.trim() !== '') {
        const step = wholeNumber(draft.step, 1, 4294967295);
        if (step === null) problems.step = 'Step must be a whole number from 1 to 4,294,967,295';
        else if (step !== 1) spec.step = step;
      }
    }
    if (draft.mode !== 'list' && draft.count.trim() !== '') {
      const count = wholeNumber(draft.count, 1, 4294967296);
      if (count === null) problems.count = 'Count must be a whole number from 1 to 4,294,967,296 (empty: the whole range)';
      else spec.count = count;
    }
    if (draft.mode === 'list') {
      const items = draft.values.split(/[\s,;]+/).filter(Boolean);
      if (items.length === 0) problems.values = 'Enter the values in turn, separated by commas';
      else if (items.length > MAX_LIST_VALUES) problems.values = `At most ${MAX_LIST_VALUES} values (${items.length} given)`;
      else if (field) {
        const values: (number | string)[] = [];
        for (const item of items) {
          const parsed = parseFieldText(field.description, item);
          if ('error' in parsed) {
            problems.values = `'${item}': ${parsed.error}`;
            break;
          }
          values.push(parsed.value as number | string);
        }
        spec.values = values;
      }
    }
    if (field) seen.add(`${field.layerId}/${field.name}`);
    if (Object.keys(problems).length > 0) errors[draft.id] = problems;
    specs.push(spec);
  });
  return { specs: Object.keys(errors).length > 0 ? null : specs, errors };
}

const plural = (count: number, word: string) => `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;

/** What a variation does, in words: 'Sequence number +1 per packet, 50 values'. */
export function variationWords(variation: Omit<VariationSpec, 'layer' | 'field'>, label: string): string {
  const count = variation.count;
  switch (variation.mode) {
    case 'increment':
    case 'decrement': {
      const sign = variation.mode === 'increment' ? '+' : '−';
      const span = count === undefined ? ' (wraps at the field’s width)' : `, ${plural(count, 'value')}`;
      return `${label} ${sign}${variation.step ?? 1} per packet${span}`;
    }
    case 'random':
      return count === undefined ? `${label} random over its whole range` : `${label} random among ${plural(count, 'value')} from the packet’s own`;
    case 'list': {
      const values = variation.values ?? [];
      const shown = values.slice(0, 4).join(', ') + (values.length > 4 ? ', …' : '');
      return `${label} from a list: ${shown} (${plural(values.length, 'value')})`;
    }
  }
}

/** Words for a contract variation of a packet whose fields are known. */
export function specWords(spec: VariationSpec, fields: readonly VariableField[]): string {
  const field = fields.find((candidate) => candidate.layerIndex === spec.layer && candidate.name === spec.field);
  return variationWords(spec, field ? `${field.layerName} ${field.label}` : `layer ${spec.layer + 1} ${spec.field}`);
}

/** Where the engine varies an echo request's sequence by itself: sent more than once, no variation given. */
export function sequenceIncrementsByDefault(echoRequest: boolean, count: number, variations: readonly unknown[] | null): boolean {
  return echoRequest && count > 1 && variations === null;
}
