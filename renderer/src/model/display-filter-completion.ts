// Completion of field names in the display filter box: the name being typed at the caret,
// the known names it can become, and the text once one is chosen. Pure, so it is unit-tested.
import { displayFilterFields, type DisplayFilterField } from '../../../packets';

export interface Completion {
  /** The name being typed: text[start, end). */
  start: number;
  end: number;
  options: DisplayFilterField[];
}

const fields = displayFilterFields();
const operatorWords = new Set(['and', 'or', 'not', 'in', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains']);
const MAX_OPTIONS = 40;

/** The names that complete the word before the caret; null when there is nothing to complete. */
export function completionAt(text: string, caret: number): Completion | null {
  const before = text.slice(0, caret);
  const word = /[A-Za-z_][A-Za-z0-9_.]*$/.exec(before);
  if (!word) return null;
  const start = word.index;
  // A word glued to a digit or inside an address (fe80::1, 10.0.0.1) is not a field name.
  if (start > 0 && /[0-9:.]/.test(text[start - 1])) return null;
  let end = caret;
  while (end < text.length && /[A-Za-z0-9_.]/.test(text[end])) end++;
  const typed = word[0].toLowerCase();
  if (operatorWords.has(typed)) return null;
  // Inside quotes it is a string, not a name.
  if ((before.slice(0, start).match(/"/g)?.length ?? 0) % 2 === 1) return null;
  const starting = fields.filter((field) => field.name.toLowerCase().startsWith(typed));
  const options = starting.length > 0 ? starting : fields.filter((field) => field.name.toLowerCase().includes(typed));
  // Nothing left to complete once the word is a whole name that nothing longer extends.
  if (options.length === 1 && options[0].name.toLowerCase() === typed) return null;
  options.sort((a, b) => Number(a.aliasOf !== undefined) - Number(b.aliasOf !== undefined));
  return options.length === 0 ? null : { start, end, options: options.slice(0, MAX_OPTIONS) };
}

/** The text with the completed name in place, and where the caret goes. */
export function applyCompletion(text: string, completion: Completion, name: string): { text: string; caret: number } {
  const next = text.slice(0, completion.start) + name + text.slice(completion.end);
  return { text: next, caret: completion.start + name.length };
}
