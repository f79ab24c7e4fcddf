// The lesson slice: the shipped list and the chosen lesson and step across reloads, live checks
// at most twice a second (and once more when a "no reply within N s" can turn true), stale
// verdicts dropped, and a step's prepared experiment or packet loaded where the student uses it.
// The lessons are the shipped files; the engine's verdicts are given.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabInfo, Lesson, LessonSummary, LessonVerdict } from '../../../common/contract';
import { formatHex } from '../../../packets';
import checksumsFile from '../../../main/lessons/shipped/checksums.json';
import mtrLossyFile from '../../../main/lessons/shipped/mtr-lossy.json';
import pingRttFile from '../../../main/lessons/shipped/ping-rtt.json';
import pmtuFile from '../../../main/lessons/shipped/pmtu-small-mtu.json';
import tracerouteFile from '../../../main/lessons/shipped/ttl-traceroute.json';
import type { WorkbenchClient } from '../api/client';
import { createWorkbenchStore } from './index';
import { CHECK_INTERVAL_MS, formFromParams, lessonProgress } from './lesson';

const lessons: Record<string, Lesson> = {
  'ping-rtt': pingRttFile as Lesson,
  checksums: checksumsFile as Lesson,
  'ttl-traceroute': tracerouteFile as Lesson,
  'mtr-lossy': mtrLossyFile as Lesson,
  'pmtu-small-mtu': pmtuFile as Lesson,
};
const summaries: LessonSummary[] = Object.values(lessons).map((l) => ({
  name: l.name,
  title: l.title,
  summary: l.summary ?? '',
  topology: l.topology,
  steps: l.steps.length,
  checks: l.steps.reduce((n, s) => n + s.checks.length, 0),
}));

/** A verdict where the first `passed` checks passed. */
function verdictOf(lesson: Lesson, passed: number): LessonVerdict {
  let n = 0;
  return {
    lesson: lesson.name,
    steps: lesson.steps.map((step) => ({
      title: step.title,
      checks: step.checks.map((check) => (n++ < passed ? { id: check.id, text: check.text, passed: true, evidence: [n] } : { id: check.id, text: check.text, passed: false, evidence: [], reason: 'none yet' })),
    })),
  };
}

const up: LabInfo = {
  state: 'up',
  topology: 'line',
  startedAt: 1,
  map: { name: 'line', hosts: [{ name: 'client', role: 'host', addresses: ['198.18.1.2/24'] }, { name: 'target', role: 'host', addresses: ['198.18.4.2/24'] }], links: [] },
};

function memoryStorage() {
  const items = new Map<string, string>();
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
}

function makeStore(overrides: Partial<WorkbenchClient> = {}, storage = memoryStorage()) {
  const checkLesson = vi.fn(({ name }: { name: string }) => Promise.resolve(verdictOf(lessons[name], 1)));
  const client = {
    onEvents: () => () => undefined,
    lessons: vi.fn().mockResolvedValue(summaries),
    lesson: vi.fn(({ name }: { name: string }) => Promise.resolve(lessons[name])),
    checkLesson,
    ...overrides,
  } as unknown as WorkbenchClient;
  const store = createWorkbenchStore({ client, storage, saveFile: vi.fn(), nextFrame: (callback) => callback() });
  return { store, client, checkLesson, storage, lesson: () => store.getState().lesson };
}

describe('lesson slice', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps the chosen lesson, its step and the open pane across a reload, and checks it on load', async () => {
    const first = makeStore();
    await first.lesson().load();
    expect(first.lesson().list.map((l) => l.name)).toEqual(Object.keys(lessons));
    expect(first.lesson().name).toBe('');
    await first.lesson().choose('ping-rtt');
    first.lesson().setStep(1);
    first.lesson().setStep(5); // beyond the lesson: ignored
    first.lesson().setOpen(true);
    expect(first.lesson().step).toBe(1);

    const again = makeStore({}, first.storage);
    expect(again.lesson().name).toBe('ping-rtt');
    expect(again.lesson().open).toBe(true);
    await again.lesson().load();
    expect(again.lesson().current?.title).toBe('Ping and round-trip time');
    expect(again.lesson().step).toBe(1);
    expect(again.checkLesson).toHaveBeenCalledWith({ name: 'ping-rtt' });
    expect(lessonProgress(again.lesson().verdict)).toEqual({ passed: 1, total: 6 });

    // Another lesson starts at its first step.
    await again.lesson().choose('checksums');
    expect(again.lesson().step).toBe(0);
  });

  it('forgets a stored lesson the engine no longer ships', async () => {
    const first = makeStore();
    await first.lesson().load();
    await first.lesson().choose('checksums');
    const again = makeStore({ lessons: vi.fn().mockResolvedValue(summaries.slice(0, 1)) } as Partial<WorkbenchClient>, first.storage);
    await again.lesson().load();
    expect(again.lesson().name).toBe('');
    expect(again.lesson().current).toBeNull();
  });

  it('checks live at most twice a second however fast rows arrive', async () => {
    const { lesson, checkLesson } = makeStore();
    await lesson().load();
    await lesson().choose('ping-rtt');
    checkLesson.mockClear();
    // 100 batches of rows over 2 s.
    for (let i = 0; i < 100; i++) {
      lesson().logChanged();
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS);
    expect(checkLesson.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(checkLesson.mock.calls.length).toBeLessThanOrEqual(2000 / CHECK_INTERVAL_MS + 2);
    // Quiet log: no more checks (ping-rtt has no "no reply within" check).
    checkLesson.mockClear();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(checkLesson).not.toHaveBeenCalled();
  });

  it('checks once more when a "no reply within N s" can have turned true with no new row', async () => {
    const { lesson, checkLesson } = makeStore();
    await lesson().load();
    await lesson().choose('checksums');
    lesson().logChanged();
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS + 10);
    checkLesson.mockClear();
    await vi.advanceTimersByTimeAsync(1500);
    expect(checkLesson).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000); // 2 s (the check's seconds) and a margin after the last row
    expect(checkLesson).toHaveBeenCalledTimes(1);
  });

  it('drops the verdict of a lesson no longer chosen', async () => {
    let answer: (verdict: LessonVerdict) => void = () => undefined;
    const slow = vi.fn(() => new Promise<LessonVerdict>((resolve) => (answer = resolve)));
    const { lesson } = makeStore({ checkLesson: slow } as Partial<WorkbenchClient>);
    await lesson().load();
    const choosing = lesson().choose('ping-rtt');
    await vi.advanceTimersByTimeAsync(0);
    lesson().choose('');
    answer(verdictOf(lessons['ping-rtt'], 6));
    await choosing;
    expect(lesson().verdict).toBeNull();
  });

  it('loads a prepared ping into the ping form over its defaults, shows Experiments and acts from the lab host', async () => {
    const { store, lesson } = makeStore();
    await lesson().load();
    await lesson().choose('ping-rtt');
    store.getState().experiments.setPingForm({ ttl: '1' });
    // Lab down: the form is filled, and the student is told to start the lab.
    lesson().loadPrepared(0);
    expect(store.getState().experiments.pingForm).toMatchObject({ target: '198.18.4.2', count: '4', interval: '500', ttl: '64' });
    expect(store.getState().settings.panel).toBe('experiments');
    expect(lesson().loaded).toMatch(/start the lab to act from client/);
    expect(store.getState().lab.host).toBe('');
    store.getState().lab.applyLab(up);
    lesson().loadPrepared(1);
    expect(store.getState().experiments.pingForm.target).toBe('fd42:0:0:4::2');
    expect(store.getState().lab.host).toBe('client');
    expect(lesson().loaded).toBe('Ping to fd42:0:0:4::2 loaded into Experiments, acting from client');
  });

  it('loads a prepared packet into the editor with its hand-set wrong checksum, and its address into Send', async () => {
    const { store, lesson } = makeStore();
    await lesson().load();
    await lesson().choose('checksums');
    store.getState().settings.showPanel('log');
    lesson().loadPrepared(0);
    const editor = store.getState().editor;
    expect(editor.layers.map((l) => l.kind)).toEqual(['icmp', 'payload']);
    expect(editor.analysis.errors).toEqual([]);
    // type 8, code 0, checksum 0x1234 as given (not computed), identifier 0x1234, sequence 1, then the payload.
    expect(formatHex(editor.analysis.bytes!)).toBe(formatHex(Uint8Array.from([8, 0, 0x12, 0x34, 0x12, 0x34, 0, 1, ...new TextEncoder().encode('packet workbench')])));
    expect(store.getState().send.form.target).toBe('198.18.4.2');
    expect(store.getState().settings.panel).toBe('editor');
    // The fixed one: the checksum is computed again.
    lesson().loadPrepared(1);
    const bytes = store.getState().editor.analysis.bytes!;
    expect([bytes[2], bytes[3]]).not.toEqual([0x12, 0x34]);
    expect(bytes[7]).toBe(2);
  });

  it('loads prepared traceroute, mtr and path-MTU runs into their forms and shows their tab', async () => {
    const { store, lesson } = makeStore();
    const experiments = () => store.getState().experiments;
    await lesson().load();
    await lesson().choose('ttl-traceroute');
    lesson().loadPrepared(3);
    expect(experiments().traceForm).toMatchObject({ target: '198.18.4.2', probe: 'tcp', port: '80', firstHop: '1', maxHops: '30' });
    expect(experiments().routeView).toBe('traceroute');
    lesson().loadPrepared(1);
    expect(experiments().traceForm).toMatchObject({ probe: 'icmp', port: '' });
    await lesson().choose('mtr-lossy');
    lesson().loadPrepared(0);
    expect(experiments().mtrForm).toMatchObject({ target: '198.18.3.2', cycles: '30', interval: '200', probe: 'icmp' });
    expect(experiments().routeView).toBe('mtr');
    await lesson().choose('pmtu-small-mtu');
    lesson().loadPrepared(1);
    expect(experiments().pmtuForm).toMatchObject({ target: 'fd42:0:0:3::2', maxHops: '30', timeout: '1000' });
    expect(experiments().routeView).toBe('pmtu');
    expect(store.getState().settings.panel).toBe('experiments');
  });

  it('maps contract parameter names onto form fields and leaves out what the form lacks', () => {
    expect(formFromParams({ target: '', interval: '1', timeout: '2', probe: 'icmp' }, { target: 'x', intervalMs: 200, timeoutMs: 300, probe: 'udp', unknown: 1 })).toEqual({
      target: 'x',
      interval: '200',
      timeout: '300',
      probe: 'udp',
    });
  });
});
