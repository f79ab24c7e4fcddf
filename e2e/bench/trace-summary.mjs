// Where the renderer's main thread spent a traced section (`BENCH_TRACE=<section> npm run bench:ui`):
// time by trace event (style recalc, layout, paint, script…), self time (children subtracted),
// and the longest tasks with what filled them.
//   node e2e/bench/trace-summary.mjs .bench/ui/stream.trace.json [top=20]
import * as fs from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node e2e/bench/trace-summary.mjs FILE.trace.json [top]');
  process.exit(2);
}
const top = Number(topArg ?? 20);
const trace = JSON.parse(fs.readFileSync(file, 'utf8'));
const events = Array.isArray(trace) ? trace : trace.traceEvents;
const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
const onMain = events
  .filter((e) => e.ph === 'X' && e.pid === main.pid && e.tid === main.tid && e.dur !== undefined)
  .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
// Self time: an event's duration less its direct children's (events nest on one thread).
const self = new Map();
const stack = [];
const tasks = [];
for (const event of onMain) {
  while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= event.ts) stack.pop();
  const parent = stack[stack.length - 1];
  if (parent) parent.children = (parent.children ?? 0) + event.dur;
  else if (event.name === 'RunTask' || event.name === 'ThreadControllerImpl::RunTask') tasks.push(event);
  if (parent?.top) event.top = parent.top;
  else event.top = event;
  stack.push(event);
}
for (const event of onMain) {
  const own = event.dur - (event.children ?? 0);
  const key = event.name === 'FunctionCall' || event.name === 'EventDispatch' || event.name === 'TimerFire' ? `${event.name}` : event.name;
  self.set(key, (self.get(key) ?? 0) + own / 1000);
}
const busy = tasks.reduce((sum, task) => sum + task.dur / 1000, 0);
const span = onMain.length ? (onMain[onMain.length - 1].ts - onMain[0].ts) / 1000 : 0;
console.log(`main thread: ${busy.toFixed(0)} ms in ${tasks.length} tasks over ${span.toFixed(0)} ms`);
console.log(`\nSelf time by event (top ${top})`);
for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
console.log('\nLongest tasks and their biggest parts');
for (const task of [...tasks].sort((a, b) => b.dur - a.dur).slice(0, 8)) {
  const parts = new Map();
  for (const event of onMain) {
    if (event.top !== task || event === task) continue;
    parts.set(event.name, (parts.get(event.name) ?? 0) + (event.dur - (event.children ?? 0)) / 1000);
  }
  const words = [...parts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([name, ms]) => `${name} ${ms.toFixed(0)}`);
  console.log(`  ${(task.dur / 1000).toFixed(0).padStart(5)} ms: ${words.join(', ')}`);
}
