// A bounded ring of items stored in fixed-size chunks. Appending a batch touches only the
// last chunk(s); evicting the oldest drops whole chunks from the front. Nothing is copied
// per batch, so a 100,000-row log absorbs tens of thousands of rows per second.

const DEFAULT_CHUNK = 1024;

export class ChunkedRing<T> {
  private chunks: T[][] = [];
  /** Index of the oldest item inside chunks[0]. */
  private head = 0;
  private count = 0;
  private limit: number;
  private readonly chunkSize: number;

  constructor(capacity: number, chunkSize = DEFAULT_CHUNK) {
    if (!(capacity >= 1)) throw new RangeError(`ring capacity must be at least 1, got ${capacity}`);
    this.limit = Math.floor(capacity);
    this.chunkSize = chunkSize;
  }

  get length(): number {
    return this.count;
  }

  get capacity(): number {
    return this.limit;
  }

  /** The item at `index`, 0 = oldest kept. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    const position = this.head + index;
    const chunk = this.chunks[Math.floor(position / this.chunkSize)];
    return chunk[position % this.chunkSize];
  }

  first(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.at(this.count - 1);
  }

  /** Appends items in order; returns how many of the oldest were evicted. */
  push(items: readonly T[]): number {
    for (let i = 0; i < items.length; i++) {
      let tail = this.chunks[this.chunks.length - 1];
      if (!tail || tail.length === this.chunkSize) {
        tail = [];
        this.chunks.push(tail);
      }
      tail.push(items[i]);
    }
    this.count += items.length;
    const over = this.count - this.limit;
    if (over > 0) this.dropOldest(over);
    return Math.max(0, over);
  }

  /** Drops the oldest `n` items. */
  dropOldest(n: number): void {
    const drop = Math.min(n, this.count);
    this.count -= drop;
    this.head += drop;
    while (this.chunks.length > 0 && this.head >= this.chunkSize) {
      this.chunks.shift();
      this.head -= this.chunkSize;
    }
    if (this.count === 0) this.clear();
  }

  /** Drops items from the front while `predicate` holds; returns how many. */
  dropWhile(predicate: (item: T) => boolean): number {
    let n = 0;
    while (n < this.count && predicate(this.at(n) as T)) n++;
    if (n > 0) this.dropOldest(n);
    return n;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.count = 0;
  }

  setCapacity(capacity: number): void {
    if (!(capacity >= 1)) throw new RangeError(`ring capacity must be at least 1, got ${capacity}`);
    this.limit = Math.floor(capacity);
    if (this.count > this.limit) this.dropOldest(this.count - this.limit);
  }

  /** Index of the first item for which `isAtOrAfter` holds, by binary search (items sorted). */
  lowerBound(isAtOrAfter: (item: T) => boolean): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (isAtOrAfter(this.at(middle) as T)) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  toArray(): T[] {
    const out: T[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i) as T;
    return out;
  }
}
