// The lesson a student follows beside the workbench: the shipped list, the chosen lesson and
// step (kept across reloads), its checks evaluated live by the engine (checkLesson) as log rows
// arrive, and a step's prepared packet or experiment loaded into the editor or an experiment form.
import type { Lesson, LessonSummary, LessonVerdict, ParamsIn } from '../../../common/contract';
import { parseHex, type HeaderKind } from '../../../packets';
import { errorText } from '../api/client';
import { draftFromBytes, newHeader, newPayload, type DraftLayer } from '../model/draft';
import type { MtrForm, PingForm, PmtuForm, TracerouteForm } from './experiments';
import { readPersisted, writePersisted } from './persisted';
import type { SliceFactory, WorkbenchState } from './types';

export interface LessonSlice {
  lesson: {
    list: LessonSummary[];
    /** The chosen lesson's name; '' for none. */
    name: string;
    /** The step shown (0-based). */
    step: number;
    /** The pane beside the workbench is shown. */
    open: boolean;
    /** The chosen lesson as the engine read it. */
    current: Lesson | null;
    /** The last evaluation of its checks over the log. */
    verdict: LessonVerdict | null;
    checking: boolean;
    checkedAt: number | null;
    error: string | null;
    /** What the last Load did, in words. */
    loaded: string | null;
    /** Reads the shipped list and the chosen lesson, then checks it. */
    load(): Promise<void>;
    choose(name: string): Promise<void>;
    setStep(step: number): void;
    setOpen(open: boolean): void;
    /** Evaluates the checks now (on demand). */
    check(): Promise<void>;
    /** New log rows: evaluates again, at most twice a second. */
    logChanged(): void;
    /** Loads a step's prepared packet (editor) or experiment (its form) and shows where it went. */
    loadPrepared(step: number): void;
  };
}

const NAME_KEY = 'workbench.lesson.name';
const STEP_KEY = 'workbench.lesson.step';
const OPEN_KEY = 'workbench.lesson.open';
/** Live checks run at most this often while log rows arrive. */
export const CHECK_INTERVAL_MS = 500;
const isName = (value: unknown): value is string => typeof value === 'string' && (value === '' || /^[a-z0-9][a-z0-9-]{0,63}$/.test(value));
const isStep = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) < 100;

/** Passed and total checks of a verdict. */
export function lessonProgress(verdict: LessonVerdict | null): { passed: number; total: number } {
  const checks = verdict?.steps.flatMap((step) => step.checks) ?? [];
  return { passed: checks.filter((check) => check.passed).length, total: checks.length };
}

// The experiment forms' own defaults, for the fields a prepared experiment leaves out (so a
// TTL of 1 from one step does not stay for the next).
const pingDefaults: PingForm = { target: '', count: '5', interval: '200', size: '56', ttl: '64', timeout: '1000', mode: 'auto' };
const traceDefaults: TracerouteForm = { target: '', probe: 'icmp', firstHop: '1', maxHops: '30', probesPerHop: '3', timeout: '1000', port: '', mode: 'auto' };
const mtrDefaults: MtrForm = { target: '', probe: 'icmp', cycles: '10', interval: '1000', maxHops: '30', timeout: '1000' };
const pmtuDefaults: PmtuForm = { target: '', maxHops: '30', timeout: '1000' };
/** Contract parameter names that differ from the form's field names. */
const formName: Record<string, string> = { intervalMs: 'interval', timeoutMs: 'timeout' };

/** A form filled from a method's parameters over its defaults; parameters the form lacks are left out. */
export function formFromParams<T extends object>(defaults: T, params: Record<string, unknown>): T {
  const form: Record<string, string> = { ...(defaults as Record<string, string>) };
  for (const [key, value] of Object.entries(params)) {
    const field = formName[key] ?? key;
    if (field in form && (typeof value === 'string' || typeof value === 'number')) form[field] = String(value);
  }
  return form as T;
}

type PacketSpec = ParamsIn<'send'>['packet'];

/** The editor's layer stack for a prepared packet: a layer stack keeps its hand-set fields (a wrong checksum stays wrong). */
export function draftFromSpec(packet: PacketSpec): DraftLayer[] {
  if (!packet) throw new TypeError('the prepared send has no packet');
  if ('hex' in packet) return draftFromBytes(parseHex(packet.hex));
  return packet.layers.map((layer) =>
    layer.kind === 'payload' ? newPayload(layer.data ?? '', 'hex') : newHeader(layer.kind as HeaderKind, layer.fields ?? {}),
  );
}

export const createLessonSlice: SliceFactory<LessonSlice> = ({ client, storage }) => (set, get) => {
  const lesson = () => get().lesson;
  const patch = (part: Partial<LessonSlice['lesson']>) => set((state) => ({ lesson: { ...state.lesson, ...part } }));
  let lastCheck = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let deadline: ReturnType<typeof setTimeout> | null = null;
  let again = false;

  const schedule = () => {
    if (timer) return;
    const wait = Math.max(0, lastCheck + CHECK_INTERVAL_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      void lesson().check();
    }, wait);
  };
  // "No reply within N s" turns true with no new row: one more check once the newest request is old enough.
  const checkAfterQuietPeriod = () => {
    const seconds = Math.max(0, ...(lesson().current?.steps.flatMap((step) => step.checks.map((check) => (check.kind === 'no-reply' ? check.seconds : 0))) ?? []));
    if (seconds === 0) return;
    if (deadline) clearTimeout(deadline);
    deadline = setTimeout(() => {
      deadline = null;
      lesson().logChanged();
    }, seconds * 1000 + 250);
  };

  return {
    lesson: {
      list: [],
      name: readPersisted(storage, NAME_KEY, isName) ?? '',
      step: readPersisted(storage, STEP_KEY, isStep) ?? 0,
      open: readPersisted(storage, OPEN_KEY, (value): value is boolean => typeof value === 'boolean') ?? false,
      current: null,
      verdict: null,
      checking: false,
      checkedAt: null,
      error: null,
      loaded: null,
      async load() {
        try {
          const list = await client.lessons({});
          patch({ list, error: null });
          const name = lesson().name;
          if (name && list.some((entry) => entry.name === name)) await lesson().choose(name);
          else if (name) patch({ name: '', current: null, verdict: null });
        } catch (error) {
          patch({ error: `Cannot read the lessons: ${errorText(error)}` });
        }
      },
      async choose(name) {
        const keepStep = name === lesson().name;
        writePersisted(storage, NAME_KEY, name);
        if (!keepStep) writePersisted(storage, STEP_KEY, 0);
        patch({ name, step: keepStep ? lesson().step : 0, current: null, verdict: null, loaded: null, error: null });
        if (!name) return;
        try {
          const current = await client.lesson({ name });
          if (lesson().name !== name) return;
          patch({ current, step: Math.min(lesson().step, current.steps.length - 1) });
          await lesson().check();
        } catch (error) {
          if (lesson().name === name) patch({ error: `Cannot read lesson ${name}: ${errorText(error)}` });
        }
      },
      setStep(step) {
        const steps = lesson().current?.steps.length ?? 0;
        if (step < 0 || step >= steps) return;
        writePersisted(storage, STEP_KEY, step);
        patch({ step, loaded: null });
      },
      setOpen(open) {
        writePersisted(storage, OPEN_KEY, open);
        patch({ open });
      },
      async check() {
        const name = lesson().name;
        if (!name || !lesson().current) return;
        if (lesson().checking) {
          // Rows that came during this check are judged by the next.
          again = true;
          return;
        }
        lastCheck = Date.now();
        patch({ checking: true });
        try {
          const verdict = await client.checkLesson({ name });
          if (lesson().name === name) patch({ verdict, checkedAt: Date.now(), error: null });
        } catch (error) {
          if (lesson().name === name) patch({ error: `Cannot check the lesson: ${errorText(error)}` });
        } finally {
          patch({ checking: false });
          if (again) {
            again = false;
            schedule();
          }
        }
      },
      logChanged() {
        if (!lesson().current) return;
        schedule();
        checkAfterQuietPeriod();
      },
      loadPrepared(index) {
        const prepare = lesson().current?.steps[index]?.prepare;
        if (!prepare) return;
        const state = get();
        const from = actFrom(state, prepare.host);
        try {
          patch({ loaded: `${loadInto(state, prepare)}${from}`, error: null });
        } catch (error) {
          patch({ loaded: null, error: `Cannot load the prepared ${prepare.method}: ${errorText(error)}` });
        }
      },
    },
  };
};

/** Picks the step's lab host to act from when that lab is up; says what the student acts from. */
function actFrom(state: WorkbenchState, host: string | undefined): string {
  if (!host) return '';
  const lab = state.lab;
  if (lab.info.state === 'up' && lab.info.map?.hosts.some((h) => h.name === host)) {
    lab.setHost(host);
    return `, acting from ${host}`;
  }
  return `; start the lab to act from ${host}`;
}

/** Fills the editor or an experiment form and shows it; returns where it went. */
function loadInto(state: WorkbenchState, prepare: NonNullable<Lesson['steps'][number]['prepare']>): string {
  const { experiments, settings } = state;
  const params = prepare.params;
  switch (prepare.method) {
    case 'send': {
      const send = params as Omit<ParamsIn<'send'>, 'socketId'>;
      state.editor.loadLayers(draftFromSpec(send.packet));
      state.send.setForm({ target: send.address, ...(send.count && send.count > 1 ? { repeat: 'count', count: String(send.count) } : { repeat: 'once' }) });
      settings.showPanel('editor');
      return `Packet loaded into Build & send, to ${send.address}`;
    }
    case 'ping':
      experiments.setPingForm(formFromParams(pingDefaults, params));
      settings.showPanel('experiments');
      return `Ping to ${String(params.target)} loaded into Experiments`;
    case 'traceroute':
      experiments.setTraceForm(formFromParams(traceDefaults, params));
      experiments.setRouteView('traceroute');
      settings.showPanel('experiments');
      return `Traceroute to ${String(params.target)} loaded into Experiments`;
    case 'mtr':
      experiments.setMtrForm(formFromParams(mtrDefaults, params));
      experiments.setRouteView('mtr');
      settings.showPanel('experiments');
      return `mtr to ${String(params.target)} loaded into Experiments`;
    case 'pmtu':
      experiments.setPmtuForm(formFromParams(pmtuDefaults, params));
      experiments.setRouteView('pmtu');
      settings.showPanel('experiments');
      return `Path MTU discovery to ${String(params.target)} loaded into Experiments`;
  }
}
