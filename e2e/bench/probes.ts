// What the UI benchmark measures inside the page: long tasks, frame gaps, event-loop lag,
// input → next paint, heap; plus a short-lived call to the engine API from the page.
import type { Page } from '@playwright/test';

export interface ProbeSummary {
  seconds: number;
  longTasks: number[];
  frames: number;
  frameGapMax: number;
  frameGapP99: number;
  framesOver50: number;
  loopLagMax: number;
  loopLagP99: number;
  /** Input event → the task after the next animation frame (≈ its paint), per event type. */
  inputs: { kind: string; ms: number }[];
  /** Event Timing API entries of 16 ms or more (the browser's input → next paint). */
  eventTimings: { name: string; duration: number }[];
  heapStartMB: number;
  heapEndMB: number;
  heapMaxMB: number;
  /** CPU seconds the renderer processes used meanwhile (all their threads: main, compositor, raster). */
  rendererCpuSeconds: number;
  /** The page's main-thread tasks by their own CPU time (a trace), apart from time the machine's other work took. */
  cpuTasks: CpuTasks | null;
}

export interface CpuTasks {
  tasks: number;
  /** Tasks over 50 ms of wall time, and over 50 ms of the thread's CPU time. */
  over50Wall: number;
  over50Cpu: number;
  maxCpuMs: number;
  cpuMs: number;
}

/**
 * Main-thread tasks with their thread CPU time, from a light Chromium trace: on a busy machine a
 * task's wall time (what PerformanceObserver reports) includes the time other processes had the core.
 * Off with BENCH_TRACE (a full trace of one section is being taken).
 */
async function startTaskTrace(page: Page): Promise<boolean> {
  const browser = page.context().browser();
  if (!browser || process.env.BENCH_TRACE) return false;
  await browser.startTracing(page, { categories: ['disabled-by-default-devtools.timeline'] });
  return true;
}

async function stopTaskTrace(page: Page): Promise<CpuTasks> {
  const trace = JSON.parse((await page.context().browser()!.stopTracing()).toString('utf8'));
  const events: { name: string; ph: string; pid: number; tid: number; dur?: number; tdur?: number; args?: { name?: string } }[] = trace.traceEvents ?? trace;
  const mains = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map<string, { dur: number; tdur: number }[]>();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (e.ph !== 'X' || e.name !== 'RunTask' || !mains.has(key)) continue;
    byThread.set(key, [...(byThread.get(key) ?? []), { dur: e.dur ?? 0, tdur: e.tdur ?? 0 }]);
  }
  // The page's renderer is the busiest one.
  const tasks = [...byThread.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  return {
    tasks: tasks.length,
    over50Wall: tasks.filter((t) => t.dur > 50_000).length,
    over50Cpu: tasks.filter((t) => t.tdur > 50_000).length,
    maxCpuMs: Math.max(0, ...tasks.map((t) => t.tdur / 1000)),
    cpuMs: tasks.reduce((sum, t) => sum + t.tdur / 1000, 0),
  };
}

const tracing = new WeakMap<Page, boolean>();

/** CPU seconds used so far by the browser's renderer processes (CDP SystemInfo). */
async function rendererCpu(page: Page): Promise<number> {
  const browser = page.context().browser();
  if (!browser) return NaN;
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; cpuTime: number }[] };
  await cdp.detach();
  return processInfo.filter((info) => info.type === 'renderer').reduce((sum, info) => sum + info.cpuTime, 0);
}

const cpuAtStart = new WeakMap<Page, number>();

/** Starts observing in the page; `stopProbe` returns what was seen since. */
export async function startProbe(page: Page): Promise<void> {
  cpuAtStart.set(page, await rendererCpu(page));
  tracing.set(page, await startTaskTrace(page));
  await page.evaluate(() => {
    const w = window as any;
    const heap = () => (performance as any).memory.usedJSHeapSize / 1048576;
    const s: any = { longTasks: [], gaps: [], lags: [], inputs: [], eventTimings: [], heaps: [heap()], stopped: false, t0: performance.now() };
    s.longTaskObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) s.longTasks.push(entry.duration);
    });
    s.longTaskObserver.observe({ type: 'longtask', buffered: false });
    s.eventObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) s.eventTimings.push({ name: entry.name, duration: entry.duration });
    });
    s.eventObserver.observe({ type: 'event', durationThreshold: 16, buffered: false } as PerformanceObserverInit);
    let last = 0;
    const frame = (now: number) => {
      if (s.stopped) return;
      if (last) s.gaps.push(now - last);
      last = now;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    // Event-loop lag: how late a 20 ms timer fires.
    const TICK = 20;
    let due = performance.now() + TICK;
    const tick = () => {
      if (s.stopped) return;
      const now = performance.now();
      s.lags.push(Math.max(0, now - due));
      if (s.lags.length % 50 === 0) s.heaps.push(heap());
      due = now + TICK;
      setTimeout(tick, TICK);
    };
    setTimeout(tick, TICK);
    s.onInput = (event: Event) => {
      const start = event.timeStamp;
      requestAnimationFrame(() => setTimeout(() => s.inputs.push({ kind: event.type, ms: performance.now() - start }), 0));
    };
    document.addEventListener('click', s.onInput, { capture: true });
    document.addEventListener('keydown', s.onInput, { capture: true });
    w.__probe = s;
  });
}

export async function stopProbe(page: Page): Promise<ProbeSummary> {
  await page.waitForTimeout(300); // the last input's frame and any long task report
  const rendererCpuSeconds = (await rendererCpu(page)) - (cpuAtStart.get(page) ?? NaN);
  const cpuTasks = tracing.get(page) ? await stopTaskTrace(page) : null;
  const seen = await page.evaluate(() => {
    const s = (window as any).__probe;
    s.stopped = true;
    s.longTaskObserver.disconnect();
    s.eventObserver.disconnect();
    document.removeEventListener('click', s.onInput, { capture: true });
    document.removeEventListener('keydown', s.onInput, { capture: true });
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const p99 = (values: number[]) => sorted(values)[Math.min(values.length - 1, Math.floor(values.length * 0.99))] ?? 0;
    const heapEnd = (performance as any).memory.usedJSHeapSize / 1048576;
    return {
      seconds: (performance.now() - s.t0) / 1000,
      longTasks: s.longTasks,
      frames: s.gaps.length,
      frameGapMax: Math.max(0, ...s.gaps),
      frameGapP99: p99(s.gaps),
      framesOver50: s.gaps.filter((gap: number) => gap > 50).length,
      loopLagMax: Math.max(0, ...s.lags),
      loopLagP99: p99(s.lags),
      inputs: s.inputs,
      eventTimings: s.eventTimings,
      heapStartMB: s.heaps[0],
      heapEndMB: heapEnd,
      heapMaxMB: Math.max(heapEnd, ...s.heaps),
    };
  });
  return { ...seen, rendererCpuSeconds, cpuTasks };
}

/** The renderer's JS heap in MB, after a full collection when `collect` (CDP). */
export async function heapMB(page: Page, collect: boolean): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  if (collect) await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

/**
 * Calls the engine from the page over a WebSocket of its own, closed right after: a connection
 * kept open would receive (and parse) every log event a second time.
 */
export async function engineCall<T>(page: Page, method: string, params: unknown): Promise<T> {
  return page.evaluate(
    ({ method, params }) =>
      new Promise<any>((resolve, reject) => {
        const token = new URLSearchParams(location.search).get('token') as string;
        const socket = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}`);
        const timer = setTimeout(() => {
          socket.close();
          reject(new Error(`${method}: no answer in 10 s`));
        }, 10_000);
        socket.addEventListener('open', () => socket.send(JSON.stringify({ id: 1, method, params })));
        socket.addEventListener('message', (event) => {
          const frame = JSON.parse(String(event.data));
          if (frame.id !== 1) return; // an event batch
          clearTimeout(timer);
          socket.close();
          if (frame.error) reject(new Error(`${method}: ${frame.error.code}: ${frame.error.message}`));
          else resolve(frame.result);
        });
        socket.addEventListener('error', () => reject(new Error(`${method}: WebSocket error`)));
      }),
    { method, params },
  );
}

// ---- summaries -------------------------------------------------------------------

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
export const max = (values: number[]) => (values.length ? Math.max(...values) : 0);
export const ms = (value: number) => `${value.toFixed(1)} ms`;
/** Longest tasks, longest first, e.g. "3: 81, 64, 52 ms". */
export function longTaskWords(durations: number[]): string {
  if (durations.length === 0) return '0';
  const top = [...durations].sort((a, b) => b - a).slice(0, 8).map((d) => Math.round(d));
  return `${durations.length}: ${top.join(', ')}${durations.length > top.length ? ', …' : ''} ms`;
}

/** With BENCH_TRACE=<section>: a Chromium performance trace of that section (style, layout, paint, scripts). */
async function traceSection(page: Page, section: string, directory: string): Promise<() => Promise<void>> {
  const fs = await import('node:fs');
  fs.mkdirSync(directory, { recursive: true });
  const file = `${directory}/${section}.trace.json`;
  const browser = page.context().browser();
  if (!browser) throw new Error('BENCH_TRACE needs a browser (not a persistent context)');
  await browser.startTracing(page, { path: file, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'v8'] });
  return async () => {
    await browser.stopTracing();
    console.log(`(trace of ${section}: ${file})`);
  };
}

/**
 * With BENCH_PROFILE=<section> (scroll, stream, flood), records that section's renderer CPU profile
 * (Chrome DevTools format) into `directory`; the returned function stops and saves it.
 */
export async function profileSection(page: Page, section: string, directory: string): Promise<() => Promise<void>> {
  if (process.env.BENCH_TRACE === section) return traceSection(page, section, directory);
  if (process.env.BENCH_PROFILE !== section) return async () => {};
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
    await cdp.detach();
    const fs = await import('node:fs');
    fs.mkdirSync(directory, { recursive: true });
    const file = `${directory}/${section}.cpuprofile`;
    fs.writeFileSync(file, JSON.stringify(profile));
    console.log(`(CPU profile of ${section}: ${file})`);
  };
}
