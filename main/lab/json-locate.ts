// Where each value of a JSON text starts, by path ("links[2].mtu"), so a schema error
// can name its line as well as its field. Only for text JSON.parse accepted.
import { formatPath } from './json-path';

export interface TextPosition {
  line: number;
  column: number;
}

/** Offsets of every value (and of every key's value) in valid JSON text, keyed by formatted path. */
export function valueOffsets(text: string): Map<string, number> {
  const offsets = new Map<string, number>();
  let i = 0;
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: PropertyKey[], depth: number): void => {
    space();
    offsets.set(formatPath(path), i);
    const c = text[i];
    // Deeper than any topology: the rest is not worth locating (and the recursion stays bounded).
    if (depth > 64) throw new RangeError('too deep');
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (let index = 0; i < text.length; index++) {
        space();
        let key: PropertyKey = index;
        if (c === '{') {
          key = string();
          space();
          i++; // ':'
        }
        value([...path, key], depth + 1);
        space();
        if (text[i++] !== ',') return;
      }
      return;
    }
    if (c === '"') {
      string();
      return;
    }
    while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
  };
  try {
    value([], 0);
  } catch {
    // Positions are a courtesy: without them errors still name the field.
  }
  return offsets;
}

export function positionOf(text: string, offset: number): TextPosition {
  const lines = text.slice(0, Math.max(0, Math.min(offset, text.length))).split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}
