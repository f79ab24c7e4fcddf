import { describe, expect, it } from 'vitest';
import { ChunkedRing } from './ring';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('ChunkedRing', () => {
  it('keeps items in order across chunks', () => {
    const ring = new ChunkedRing<number>(100, 8);
    ring.push(range(0, 5));
    ring.push(range(5, 30));
    expect(ring.length).toBe(30);
    expect(ring.toArray()).toEqual(range(0, 30));
    expect(ring.at(17)).toBe(17);
    expect(ring.at(30)).toBeUndefined();
  });

  it('evicts the oldest beyond capacity and reports how many', () => {
    const ring = new ChunkedRing<number>(20, 8);
    expect(ring.push(range(0, 15))).toBe(0);
    expect(ring.push(range(15, 33))).toBe(13);
    expect(ring.length).toBe(20);
    expect(ring.first()).toBe(13);
    expect(ring.last()).toBe(32);
    expect(ring.toArray()).toEqual(range(13, 33));
  });

  it('stays bounded in chunks while a million items pass', () => {
    const ring = new ChunkedRing<number>(1000, 64);
    for (let i = 0; i < 1000; i++) ring.push(range(i * 1000, (i + 1) * 1000));
    expect(ring.length).toBe(1000);
    expect(ring.first()).toBe(999_000);
    expect((ring as unknown as { chunks: unknown[] }).chunks.length).toBeLessThanOrEqual(1000 / 64 + 2);
  });

  it('drops from the front while a predicate holds and finds bounds', () => {
    const ring = new ChunkedRing<number>(100, 4);
    ring.push(range(0, 50));
    expect(ring.dropWhile((n) => n < 10)).toBe(10);
    expect(ring.first()).toBe(10);
    expect(ring.lowerBound((n) => n >= 25)).toBe(15);
    ring.setCapacity(5);
    expect(ring.toArray()).toEqual(range(45, 50));
    ring.clear();
    expect(ring.length).toBe(0);
    ring.push([1]);
    expect(ring.toArray()).toEqual([1]);
  });
});
