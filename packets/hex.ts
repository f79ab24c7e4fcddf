// Hex text <-> bytes, for the hex editor, the CLI and test vectors.

const SEPARATORS = /[\s:,-]/;

/**
 * Parses hex digits into bytes. Whitespace, ':', ',' and '-' between digits are ignored,
 * as is a leading "0x". Throws an Error naming the 1-based position of a bad character,
 * or saying that a digit is missing its partner.
 */
export function parseHex(text: string): Uint8Array {
  const digits: number[] = [];
  let lastDigitPosition = 0;
  let start = 0;
  if (/^\s*0x/i.test(text)) start = text.toLowerCase().indexOf('0x') + 2;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (SEPARATORS.test(char)) continue;
    const digit = parseInt(char, 16);
    if (Number.isNaN(digit)) {
      throw new Error(`Invalid hex digit '${char}' at position ${i + 1}: use 0-9 and a-f`);
    }
    digits.push(digit);
    lastDigitPosition = i + 1;
  }
  if (digits.length % 2 !== 0) {
    throw new Error(
      `Odd number of hex digits (${digits.length}): the digit at position ${lastDigitPosition} has no partner; each byte needs two digits`,
    );
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = digits[2 * i] * 16 + digits[2 * i + 1];
  return bytes;
}

/** Formats bytes as lowercase hex pairs joined by `separator` (default one space). */
export function formatHex(bytes: Uint8Array, separator = ' '): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) out += separator;
    out += bytes[i].toString(16).padStart(2, '0');
  }
  return out;
}

/** Formats a number as 0x-prefixed hex, zero-padded to `digits`. */
export function formatHexNumber(value: number, digits: number): string {
  return '0x' + value.toString(16).padStart(digits, '0');
}
