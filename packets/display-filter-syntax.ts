// Display filter text -> syntax tree with positions. jsep (a maintained expression parser)
// does the operators: precedence, parentheses, unary `!`/`not`, and the position of a
// syntax error. Its tokens do not fit Wireshark's (198.18.1.1, fe80::1, 10.0.0.0/8,
// {53, 33434..33534}, field names with dots), so one gobble-token hook reads every operand
// itself and stamps it with its position, which jsep's own nodes lack.
import jsep from 'jsep';
import { parseIpv4, parseIpv6 } from './address';

/** A filter that cannot be read: `position` is the 0-based offset of the bad part, `end` where it stops. */
export class DisplayFilterError extends SyntaxError {
  readonly code = 'ERR_DISPLAY_FILTER';
  constructor(
    readonly expression: string,
    readonly position: number,
    readonly reason: string,
    readonly end: number = Math.min(expression.length, position + 1),
  ) {
    const shown = expression.slice(position, Math.max(end, position + 1));
    super(`${reason} (column ${position + 1}: ${shown ? JSON.stringify(shown) : 'the end'})`);
    this.name = 'DisplayFilterError';
  }
}

interface Span {
  start: number;
  end: number;
}

export type LiteralNode =
  | ({ type: 'number'; value: number; raw: string } & Span)
  | ({ type: 'address'; family: 4 | 6; bytes: Uint8Array; prefix: number; raw: string } & Span)
  | ({ type: 'string'; value: string } & Span);

export type SetItem = LiteralNode | ({ type: 'range'; from: number; to: number } & Span);

export type CompareOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains';

export type FilterNode =
  | ({ type: 'field'; name: string } & Span)
  | LiteralNode
  | ({ type: 'set'; items: SetItem[] } & Span)
  | ({ type: 'not'; operand: FilterNode } & Span)
  | ({ type: 'logical'; operator: 'and' | 'or'; left: FilterNode; right: FilterNode } & Span)
  | ({ type: 'compare'; operator: CompareOperator; left: FilterNode; right: FilterNode; at: number } & Span)
  | ({ type: 'mask'; left: FilterNode; right: FilterNode; at: number } & Span);

const operators: Record<string, { precedence: number; meaning: CompareOperator | 'and' | 'or' | '&' }> = {
  '||': { precedence: 1, meaning: 'or' },
  or: { precedence: 1, meaning: 'or' },
  '&&': { precedence: 2, meaning: 'and' },
  and: { precedence: 2, meaning: 'and' },
  '==': { precedence: 6, meaning: '==' },
  eq: { precedence: 6, meaning: '==' },
  '!=': { precedence: 6, meaning: '!=' },
  ne: { precedence: 6, meaning: '!=' },
  '<': { precedence: 6, meaning: '<' },
  lt: { precedence: 6, meaning: '<' },
  '<=': { precedence: 6, meaning: '<=' },
  le: { precedence: 6, meaning: '<=' },
  '>': { precedence: 6, meaning: '>' },
  gt: { precedence: 6, meaning: '>' },
  '>=': { precedence: 6, meaning: '>=' },
  ge: { precedence: 6, meaning: '>=' },
  in: { precedence: 6, meaning: 'in' },
  contains: { precedence: 6, meaning: 'contains' },
  // Binds tighter than comparisons: `tcp.flags & 0x12 == 0x12` masks first.
  '&': { precedence: 7, meaning: '&' },
};
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains']);
/** Characters of a field name, number or address written without quotes. */
const WORD = /[A-Za-z0-9_.:/]/;
const LEAF = Symbol('leaf');

// jsep keeps its operators in module state; this module is its only user in the workbench.
jsep.removeAllBinaryOps();
jsep.removeAllUnaryOps();
jsep.removeAllLiterals();
for (const [name, { precedence }] of Object.entries(operators)) jsep.addBinaryOp(name, precedence);
jsep.addUnaryOp('!');
jsep.addUnaryOp('not');
jsep.hooks.add('gobble-token', function readOperand(env) {
  const leaf = readLeaf(this.expr, this.index);
  if (!leaf) return;
  this.index = leaf.end;
  env.node = { type: 'Leaf', [LEAF]: leaf } as unknown as jsep.Expression;
});

/** Parses a filter; throws DisplayFilterError. An empty (or blank) filter gives null. */
export function parseDisplayFilter(text: string): FilterNode | null {
  if (text.trim() === '') return null;
  let tree: jsep.Expression;
  try {
    tree = jsep(text);
  } catch (error) {
    if (error instanceof DisplayFilterError) throw error;
    const index = typeof (error as { index?: unknown }).index === 'number' ? (error as { index: number }).index : 0;
    const at = Math.min(index, text.length);
    let description = String((error as { description?: unknown }).description ?? (error as Error).message);
    if (description === 'missing unaryOp argument') description = `Expected a field or value after '${text.slice(0, at).trim().split(/\s+/).pop()}'`;
    if (text[at] === '=' && text[at + 1] !== '=') description = "Compare with '==', not '='";
    throw new DisplayFilterError(text, at, description.replace(/expression/g, 'a field or value'));
  }
  return convert(text, tree);
}

function convert(text: string, node: jsep.Expression): FilterNode {
  const leaf = (node as { [LEAF]?: FilterNode })[LEAF];
  if (leaf) return leaf;
  if (node.type === 'BinaryExpression') {
    const binary = node as jsep.BinaryExpression;
    const left = convert(text, binary.left);
    const right = convert(text, binary.right);
    const at = operatorPosition(text, binary.operator, left.end, right.start);
    const meaning = operators[binary.operator].meaning;
    const span = { start: left.start, end: right.end };
    if (meaning === 'and' || meaning === 'or') return { type: 'logical', operator: meaning, left, right, ...span };
    if (meaning === '&') return { type: 'mask', left, right, at, ...span };
    return { type: 'compare', operator: meaning, left, right, at, ...span };
  }
  if (node.type === 'UnaryExpression') {
    const unary = node as jsep.UnaryExpression;
    const operand = convert(text, unary.argument);
    const start = Math.max(0, text.lastIndexOf(unary.operator, operand.start - 1));
    return { type: 'not', operand, start, end: operand.end };
  }
  if (node.type === 'Compound' || node.type === 'SequenceExpression') {
    const first = convert(text, ((node as jsep.Compound).body ?? (node as jsep.SequenceExpression).expressions)[0]);
    let at = first.end;
    while (at < text.length && /[\s,;]/.test(text[at])) at++;
    throw new DisplayFilterError(text, at, 'Two expressions with no operator between them: join them with && or ||', text.length);
  }
  throw new DisplayFilterError(text, 0, `Not part of the display filter syntax (${node.type})`, text.length);
}

function operatorPosition(text: string, operator: string, from: number, to: number): number {
  const at = text.indexOf(operator, from);
  return at >= 0 && at < to ? at : from;
}

/** An operand at `index`: a string, a set, or a word (field name, number, address); null for what jsep reads itself. */
function readLeaf(text: string, index: number): FilterNode | null {
  const char = text[index];
  if (char === '"' || char === "'") return readString(text, index);
  if (char === '{') return readSet(text, index);
  let end = index;
  while (end < text.length && WORD.test(text[end])) end++;
  if (end === index) return null;
  const word = text.slice(index, end);
  if (KEYWORDS.has(word.toLowerCase())) {
    if (word.toLowerCase() === 'not') return null; // the unary operator
    throw new DisplayFilterError(text, index, `Expected a field or a value, found the operator '${word}'`, end);
  }
  if (word.includes('..')) throw new DisplayFilterError(text, index, `A range like '${word}' belongs in a set: {${word}}`, end);
  return readWord(text, word, index, end);
}

function readWord(text: string, word: string, start: number, end: number): FilterNode {
  const fail = (reason: string): never => {
    throw new DisplayFilterError(text, start, reason, end);
  };
  if (word.includes(':') || /^\d+(\.\d+){3}(\/\d+)?$/.test(word)) return readAddress(text, word, start, end);
  if (/^[A-Za-z_]/.test(word)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/.test(word)) fail(`'${word}' is not a field name (letters, digits and _ between dots)`);
    return { type: 'field', name: word, start, end };
  }
  if (/^0x[0-9a-fA-F]+$/.test(word)) return { type: 'number', value: parseInt(word.slice(2), 16), raw: word, start, end };
  if (/^\d+(\.\d+)?$/.test(word)) return { type: 'number', value: Number(word), raw: word, start, end };
  return fail(`'${word}' is not a number, an address or a field name`);
}

function readAddress(text: string, word: string, start: number, end: number): FilterNode {
  const slash = word.indexOf('/');
  const address = slash >= 0 ? word.slice(0, slash) : word;
  const family = address.includes(':') ? 6 : 4;
  let bytes: Uint8Array;
  try {
    bytes = family === 4 ? parseIpv4(address) : parseIpv6(address);
  } catch (error) {
    throw new DisplayFilterError(text, start, (error as Error).message, end);
  }
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = word.slice(slash + 1);
    prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) {
      throw new DisplayFilterError(text, start + slash + 1, `The prefix length of '${word}' must be a number from 0 to ${bits}`, end);
    }
  }
  return { type: 'address', family, bytes, prefix, raw: word, start, end };
}

function readString(text: string, start: number): FilterNode {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const char = text[i];
    if (char === quote) return { type: 'string', value, start, end: i + 1 };
    if (char === '\\' && i + 1 < text.length) {
      const next = text[++i];
      value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
    } else value += char;
  }
  throw new DisplayFilterError(text, start, `Unclosed string: add the closing ${quote}`, text.length);
}

/** `{53, 33434..33534, 198.18.0.0/15}`: values and ranges, separated by commas or spaces. */
function readSet(text: string, start: number): FilterNode {
  const items: SetItem[] = [];
  let i = start + 1;
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === ',' || text[i] === '\t' || text[i] === '\n')) i++;
    if (i >= text.length) throw new DisplayFilterError(text, start, 'Unclosed set: add the closing }', text.length);
    if (text[i] === '}') break;
    if (text[i] === '"' || text[i] === "'") {
      const string = readString(text, i) as LiteralNode;
      items.push(string);
      i = string.end;
      continue;
    }
    let end = i;
    while (end < text.length && WORD.test(text[end])) end++;
    if (end === i) throw new DisplayFilterError(text, i, `Unexpected '${text[i]}' in a set: give values separated by commas`);
    const word = text.slice(i, end);
    const range = /^(0x[0-9a-fA-F]+|\d+)\.\.(0x[0-9a-fA-F]+|\d+)$/.exec(word);
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (from > to) throw new DisplayFilterError(text, i, `The range ${word} is empty: its start is above its end`, end);
      items.push({ type: 'range', from, to, start: i, end });
    } else {
      const value = readWord(text, word, i, end);
      if (value.type === 'field') throw new DisplayFilterError(text, i, `A set holds values, not fields: '${word}' (quote it for a string)`, end);
      items.push(value as LiteralNode);
    }
    i = end;
  }
  if (items.length === 0) throw new DisplayFilterError(text, start, 'An empty set matches nothing: put values between the braces', i + 1);
  return { type: 'set', items, start, end: i + 1 };
}
