import { describe, expect, it } from 'vitest';
import { bytesToBase64, base64ToBytes } from './base64';
import { formatClock, formatMs } from './format';

describe('formatters', () => {
  it('formats clock times and round trips', () => {
    const at = new Date(2024, 0, 2, 3, 4, 5, 67).getTime();
    expect(formatClock(at)).toBe('03:04:05.067');
    expect(formatMs(0.0432)).toBe('0.043');
    expect(formatMs(12.345)).toBe('12.35');
    expect(formatMs(153.21)).toBe('153.2');
    expect(formatMs(null)).toBe('—');
  });
  it('round-trips base64 across chunk boundaries', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
  });
});
