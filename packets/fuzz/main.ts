// `npm run fuzz`: the long run, FUZZ_INPUTS inputs per decoder (default 1,000,000), with a
// table of inputs per second. FUZZ_SEED fixes the seed; FUZZ_TARGET (a name prefix) and
// FUZZ_INDEX replay one input of one target. Exits 1 on the first failure of any target.

import { fuzz, fuzzTargets, replayHint } from './targets';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 0x1_0000_0000) >>> 0;
const inputs = Number(process.env.FUZZ_INPUTS ?? 1_000_000);
const only = process.env.FUZZ_TARGET;
const index = process.env.FUZZ_INDEX === undefined ? undefined : Number(process.env.FUZZ_INDEX);
const targets = fuzzTargets.filter((t) => only === undefined || t.name.startsWith(only));
if (targets.length === 0) throw new Error(`FUZZ_TARGET '${only}' names no target; targets: ${fuzzTargets.map((t) => t.name).join(', ')}`);

console.log(`fuzz seed ${seed}, ${index === undefined ? `${inputs.toLocaleString('en')} inputs per target` : `input ${index} only`}`);
console.log(`${'target'.padEnd(32)} ${'inputs'.padStart(11)} ${'seconds'.padStart(8)} ${'inputs/s'.padStart(9)}  result`);
let failed = false;
for (const target of targets) {
  const progress = (done: number, seconds: number) => console.log(`  ${target.name}: ${done.toLocaleString('en')} inputs, ${Math.round(done / seconds).toLocaleString('en')}/s, no failure so far`);
  const result = index === undefined ? fuzz(target, seed, inputs, Infinity, 0, progress) : fuzz(target, seed, 1, Infinity, index);
  const rate = Math.round(result.inputs / Math.max(result.seconds, 1e-9));
  console.log(
    `${target.name.padEnd(32)} ${result.inputs.toLocaleString('en').padStart(11)} ${result.seconds.toFixed(1).padStart(8)} ${rate.toLocaleString('en').padStart(9)}  ${result.failure ? 'FAILED' : 'ok'}`,
  );
  if (result.failure) {
    failed = true;
    console.log(`  input ${result.failure.index}: ${result.failure.message}\n  replay: ${replayHint(target, seed, result.failure.index)}`);
  }
}
process.exitCode = failed ? 1 : 0;
