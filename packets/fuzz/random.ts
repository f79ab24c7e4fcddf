// A small seeded generator and the byte mutations the fuzz targets share. Every input is
// drawn from its own generator seeded by (run seed, input index), so one failing input is
// reproduced from those two numbers alone, without replaying the inputs before it.

export class Random {
  private state: number;

  constructor(seed: number, index = 0) {
    // splitmix-style scramble of (seed, index) into the 32-bit state of mulberry32.
    let s = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x7feb352d) >>> 0;
    this.state = (s ^ (s >>> 15)) >>> 0;
  }

  /** 32 random bits (mulberry32). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, below). */
  int(below: number): number {
    return below <= 0 ? 0 : Math.floor((this.next() / 0x1_0000_0000) * below);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() / 0x1_0000_0000 < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** Integers near the edges of a field of `bits` bits are where length bugs live. */
  interesting(bits: number): number {
    const max = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
    const edges = [0, 1, 2, 3, 4, 5, 7, 8, 20, 40, 60, max, max - 1, Math.floor(max / 2), Math.floor(max / 2) + 1];
    return this.chance(0.5) ? Math.min(this.pick(edges), max) : this.int(max + 1);
  }
}

/** A copy of `input` with a few random edits: bit flips, byte sets, inserts, deletes, truncation. */
export function mutate(random: Random, input: Uint8Array, edits = random.between(1, 4)): Uint8Array {
  let bytes: Uint8Array = input.slice();
  for (let e = 0; e < edits; e++) {
    const at = random.int(bytes.length + 1);
    switch (random.int(6)) {
      case 0: // bit flip
        if (bytes.length > 0) bytes[at % bytes.length] ^= 1 << random.int(8);
        break;
      case 1: // byte set to an interesting value
        if (bytes.length > 0) bytes[at % bytes.length] = random.interesting(8);
        break;
      case 2: {
        const inserted = random.bytes(random.between(1, 8));
        bytes = concat(bytes.subarray(0, at), inserted, bytes.subarray(at));
        break;
      }
      case 3: // delete a run
        bytes = concat(bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + random.between(1, 8))));
        break;
      case 4: // truncate
        bytes = bytes.slice(0, random.int(bytes.length + 1));
        break;
      case 5: // 16-bit big-endian word set to an interesting value (length fields)
        if (bytes.length >= 2) {
          const word = (at % (bytes.length - 1)) & ~1;
          const value = random.interesting(16);
          bytes[word] = value >> 8;
          bytes[word + 1] = value & 0xff;
        }
        break;
    }
  }
  return bytes;
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
