// Summarizes a .cpuprofile (Chrome DevTools format) from `BENCH_PROFILE=<section> npm run bench:ui`:
// self and total time by function, the heaviest first.
//   node e2e/bench/profile-summary.mjs test-results/bench-figures/stream.cpuprofile [top=25]
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

// Minified renderer frames are named by the bundle's source map (renderer/dist/assets/*.map).
const { SourceMapConsumer } = createRequire(import.meta.url)('source-map-js');
const assets = path.join(process.env.BENCH_ROOT ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'), 'renderer/dist/assets');
const maps = new Map();
function original(url, line, column) {
  const base = url.split('/').pop();
  if (!maps.has(base)) {
    const file = path.join(assets, `${base}.map`);
    maps.set(base, fs.existsSync(file) ? new SourceMapConsumer(JSON.parse(fs.readFileSync(file, 'utf8'))) : null);
  }
  const position = maps.get(base)?.originalPositionFor({ line: line + 1, column });
  return position?.source ? `${position.name ?? ''} ${position.source.replace(/^(\.\.\/)+/, '')}:${position.line}` : null;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node e2e/bench/profile-summary.mjs FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const selfMs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
}
const name = (node) => {
  const frame = node.callFrame;
  const mapped = frame.url && frame.lineNumber >= 0 ? original(frame.url, frame.lineNumber, frame.columnNumber) : null;
  if (mapped) return `${frame.functionName || '(anonymous)'} → ${mapped}`;
  const where = frame.url ? `${frame.url.split('/').pop()}:${frame.lineNumber + 1}:${frame.columnNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const total = new Map();
for (const [id, ms] of selfMs) {
  const node = nodes.get(id);
  self.set(name(node), (self.get(name(node)) ?? 0) + ms);
  // Total: once per function on the stack (recursion counted once).
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const key = name(nodes.get(at));
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + ms);
  }
}
const all = [...selfMs.values()].reduce((a, b) => a + b, 0);
const print = (title, map) => {
  console.log(`\n${title} (of ${all.toFixed(0)} ms sampled)`);
  for (const [key, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${(100 * ms / all).toFixed(1).padStart(5)}%  ${key}`);
};
print('Self time', self);
print('Total time', total);
