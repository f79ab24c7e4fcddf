// The short fuzz run of `npm test`: every decoder for up to its shortInputs inputs or 6 s,
// about a minute in all. The seed is printed; FUZZ_SEED=n replays the same inputs, and a
// failure prints the command that replays its one input.
import { describe, expect, it } from 'vitest';
import { decodeStats } from './packets';
import { fuzz, fuzzTargets, replayHint } from './targets';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 0x1_0000_0000) >>> 0;
const SECONDS_PER_TARGET = 6;

describe(`fuzz (FUZZ_SEED=${seed})`, () => {
  for (const target of fuzzTargets) {
    it(target.name, { timeout: (SECONDS_PER_TARGET + 30) * 1000 }, () => {
      const result = fuzz(target, seed, target.shortInputs, SECONDS_PER_TARGET);
      if (result.failure) {
        expect.fail(`FUZZ_SEED=${seed}, input ${result.failure.index}: ${result.failure.message}\nreplay: ${replayHint(target, seed, result.failure.index)}`);
      }
      expect(result.inputs).toBeGreaterThan(100);
    });
  }

  it('exercised the round trip and the checksum cross-check, not only the no-throw property', () => {
    expect(decodeStats.roundTrips).toBeGreaterThan(1000);
    expect(decodeStats.checksumsCompared).toBeGreaterThan(1000);
  });
});
