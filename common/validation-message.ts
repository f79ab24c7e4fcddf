// One message per refused call, naming the path into the input (`packet.layers[1].kind`),
// what was expected there and what came instead. zod's own messages ("Invalid input",
// "Too small: expected number to be >=1") name neither the value nor, inside a union,
// the part at fault; every transport shows these, so they are worth getting right once.
import type { z } from 'zod';
import { clipEcho } from './echo';

type Issue = z.core.$ZodIssue;
type Key = PropertyKey;

export interface DescribedIssue {
  /** Dot-joined path of the parameter at fault (`packet.layers.1.kind`); '' for the parameters themselves. */
  field: string;
  /** `packet.layers[1].kind: unknown kind "bogus" (expected one of …)`, without the method name. */
  message: string;
}

/** Describes the first issue of a failed parse of `input` against the method's `schema`. */
export function describeIssue(issue: Issue, schema: z.ZodType, method: string): DescribedIssue {
  const found = pinpoint(issue, [], schema);
  const path = found.path;
  if (found.issue.code === 'unrecognized_keys') {
    // Named on its parent object; the field is the key itself, as it always was.
    const keys = found.issue.keys;
    const allowed = objectKeys(schemaAt(schema, path));
    const what = path.length === 0 ? 'parameter' : 'key';
    const plural = keys.length > 1 ? 's' : '';
    const expected = allowed.length > 0 ? `expected ${allowed.join(', ')}` : path.length === 0 ? `${method} takes none` : 'it takes none';
    // The caller's key names come back clipped (a 10 MiB name must not be echoed whole), at most 8 of them.
    const named = keys.slice(0, 8).map((key) => JSON.stringify(clipEcho(key)));
    const more = keys.length > 8 ? ` and ${keys.length - 8} more` : '';
    const text = `unknown ${what}${plural} ${named.join(', ')}${more} (${expected})`;
    return { field: joinField([...path, keys[0]]), message: path.length === 0 ? text : prefixed(path, text) };
  }
  return { field: joinField(path), message: prefixed(path, found.text ?? issueText(found.issue, path)) };
}

interface Pinpointed {
  issue: Issue;
  path: Key[];
  /** Set where the text is composed here (a union no branch of which fits). */
  text?: string;
}

/** Follows a union's issues into the branch the input was meant for. */
function pinpoint(issue: Issue, base: Key[], schema: z.ZodType): Pinpointed {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { issue, path };
  const branches = issue.errors.map((issues) => ({ issues, misfits: issues.filter(isMisfit).length }));
  if (branches.every((branch) => branch.misfits === branch.issues.length)) {
    return { issue, path, text: noBranchText(issue, path, schema) };
  }
  const fewest = Math.min(...branches.map((branch) => branch.misfits));
  const best = branches.filter((branch) => branch.misfits === fewest).sort((a, b) => depth(b.issues) - depth(a.issues))[0];
  const inner = best.issues.find((candidate) => !isMisfit(candidate)) ?? best.issues[0];
  return pinpoint(inner, path, schema);
}

/** An issue that says the input has another shape than this branch (not a mistake inside it). */
function isMisfit(issue: Issue): boolean {
  if (issue.code === 'unrecognized_keys') return issue.path.length === 0;
  if (issue.code === 'invalid_type') return issue.path.length === 0 || (issue.path.length === 1 && issue.input === undefined);
  return false;
}

function depth(issues: Issue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

/** No branch fits: say what each would have taken. */
function noBranchText(issue: Extract<Issue, { code: 'invalid_union' }>, path: Key[], schema: z.ZodType): string {
  const options = unionOptions(schemaAt(schema, path));
  const shapes = options.map(requiredKeys).filter((keys): keys is string[] => keys !== null && keys.length > 0);
  const expected =
    shapes.length === options.length && shapes.length > 0
      ? `an object with ${shapes.map((keys) => keys.join(' and ')).join(' or with ')}`
      : unique(issue.errors.flatMap((issues) => issues.filter((one) => one.code === 'invalid_type').map((one) => article(one.expected)))).join(' or ') || 'something else';
  const got = issue.input !== undefined && (typeof issue.input !== 'object' || issue.input === null) ? `, got ${shown(issue.input)}` : '';
  return `expected ${expected}${got}`;
}

function issueText(issue: Issue, path: Key[]): string {
  const input = issue.input;
  const got = input === undefined ? '' : `, got ${shown(input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `missing (expected ${article(issue.expected)})`;
      if (issue.expected === 'int' && typeof input === 'number') return `must be a whole number${got}`;
      return `expected ${article(issue.expected)}${got}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = String(small ? issue.minimum : issue.maximum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'array' || issue.origin === 'set') {
        const count = Array.isArray(input) ? `, got ${input.length}` : '';
        return `must have ${small ? 'at least' : 'at most'} ${bound} item${bound === '1' ? '' : 's'}${count}`;
      }
      if (issue.origin === 'string') {
        const length = typeof input === 'string' ? `, got ${input.length}` : '';
        return `must be ${small ? 'at least' : 'at most'} ${bound} character${bound === '1' ? '' : 's'} long${length}`;
      }
      const relation = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      return `must be ${relation} ${bound}${got}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((value) => (typeof value === 'string' ? value : String(value)));
      if (values.length === 1) return `expected ${shown(issue.values[0])}${got}`;
      const noun = [...path].reverse().find((key): key is string => typeof key === 'string' && !/^\d+$/.test(key)) ?? 'value';
      return `unknown ${noun} ${shown(input)} (expected one of ${values.join(', ')})`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}${got}`;
    default: {
      const text = lowerFirst(issue.message);
      // A refinement's own words; the value only where it is a plain one.
      return input !== undefined && (typeof input !== 'object' || input === null) ? `${text}${got}` : text;
    }
  }
}

// ---- the schema at a path: what keys an object takes, what a union offers ------------

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** Through optional, default, pipes and the like to the schema that does the work. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 16; i++) {
    const def = defOf(current);
    const inner = def?.innerType ?? (def?.type === 'pipe' ? def.in : undefined);
    if (!inner) return current;
    current = inner;
  }
  return current;
}

function schemaAt(schema: z.ZodType | undefined, path: Key[]): z.ZodType | undefined {
  let current = unwrap(schema);
  for (const key of path) {
    const def = defOf(current);
    if (!def) return undefined;
    if (def.type === 'object') current = def.shape?.[String(key)];
    else if (def.type === 'array') current = def.element;
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'union') current = def.options?.map((option) => defOf(unwrap(option))?.shape?.[String(key)]).find(Boolean);
    else return undefined;
    current = unwrap(current);
  }
  return current;
}

function objectKeys(schema: z.ZodType | undefined): string[] {
  const shape = defOf(unwrap(schema))?.shape;
  return shape ? Object.keys(shape) : [];
}

function unionOptions(schema: z.ZodType | undefined): z.ZodType[] {
  const def = defOf(unwrap(schema));
  return def?.type === 'union' ? (def.options ?? []) : [];
}

/** The keys an object option cannot do without; null for an option that is not an object. */
function requiredKeys(option: z.ZodType): string[] | null {
  const shape = defOf(unwrap(option))?.shape;
  if (!shape) return null;
  return Object.entries(shape)
    .filter(([, value]) => (value as { _zod?: { optin?: string } })._zod?.optin === undefined)
    .map(([key]) => key);
}

// ---- text --------------------------------------------------------------------------------

function joinField(path: Key[]): string {
  return path.map((key) => clipEcho(String(key))).join('.');
}

/** `packet.layers[1].kind`: what a reader of the input would write. */
export function pathText(path: Key[]): string {
  return path.map((key, i) => (typeof key === 'number' || /^\d+$/.test(String(key)) ? `[${clipEcho(String(key))}]` : `${i > 0 ? '.' : ''}${clipEcho(String(key))}`)).join('');
}

function prefixed(path: Key[], text: string): string {
  return `${path.length > 0 ? pathText(path) : 'the parameters'}: ${text}`;
}

const SHOWN_LENGTH = 40;

/** A value as the user would have typed it, cut short. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > SHOWN_LENGTH ? `${value.slice(0, SHOWN_LENGTH)}…` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function article(type: string): string {
  const names: Record<string, string> = { int: 'a whole number', array: 'an array', object: 'an object', undefined: 'nothing', null: 'null', boolean: 'true or false' };
  return names[type] ?? `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function lowerFirst(text: string): string {
  return text.length > 0 ? text[0].toLowerCase() + text.slice(1) : text;
}
