// Ping, traceroute, mtr and path-MTU discovery: the forms, the runs (live and past), and their export.
// A run starts from the lab host chosen in the Lab panel (store/lab.ts actingHost), if any.
import type { ExperimentRun, Hop, PingReply, PingStatistics } from '../../../common/contract';
import { isIpv4, isIpv6 } from '../../../packets';
import { errorCode, errorText } from '../api/client';
import { actingHost } from './lab';
import { permissionRemedy, rawSocketRemedy } from './send';
import type { SliceFactory } from './types';

export interface PingForm {
  target: string;
  count: string;
  interval: string;
  size: string;
  ttl: string;
  timeout: string;
  mode: 'auto' | 'raw' | 'datagram';
}

export interface TracerouteForm {
  target: string;
  probe: 'icmp' | 'udp' | 'tcp';
  firstHop: string;
  maxHops: string;
  probesPerHop: string;
  timeout: string;
  port: string;
  /** 'auto': raw sockets where available, else the unprivileged error-queue path. */
  mode: 'auto' | 'raw' | 'error-queue';
}

export interface MtrForm {
  target: string;
  probe: 'icmp' | 'udp' | 'tcp';
  cycles: string;
  interval: string;
  maxHops: string;
  timeout: string;
}

export interface PmtuForm {
  target: string;
  maxHops: string;
  timeout: string;
}

/** What the second column shows: traceroute, mtr or path-MTU discovery. */
export type RouteView = 'traceroute' | 'mtr' | 'pmtu';

export interface ExperimentError {
  field?: string;
  /** Every form field that is wrong, with why: all at once, so one try shows them all. */
  fields?: Record<string, string>;
  message: string;
  code?: string;
  remedy?: string;
}

export interface ExperimentsSlice {
  experiments: {
    runs: ExperimentRun[];
    /** The run shown in the ping or traceroute view. */
    pingRunId: string | null;
    traceRunId: string | null;
    pingForm: PingForm;
    traceForm: TracerouteForm;
    pingError: ExperimentError | null;
    traceError: ExperimentError | null;
    /** The address a host name in the form resolved to ("localhost is 127.0.0.1"), for the last start. */
    pingResolved: string | null;
    traceResolved: string | null;
    routeView: RouteView;
    mtrRunId: string | null;
    pmtuRunId: string | null;
    mtrForm: MtrForm;
    pmtuForm: PmtuForm;
    mtrError: ExperimentError | null;
    pmtuError: ExperimentError | null;
    setPingForm(change: Partial<PingForm>): void;
    setTraceForm(change: Partial<TracerouteForm>): void;
    setMtrForm(change: Partial<MtrForm>): void;
    setPmtuForm(change: Partial<PmtuForm>): void;
    setRouteView(view: RouteView): void;
    startPing(): Promise<void>;
    startTraceroute(): Promise<void>;
    startMtr(): Promise<void>;
    startPmtu(): Promise<void>;
    stop(runId: string): Promise<void>;
    show(runId: string): void;
    load(): Promise<void>;
    applyRun(run: ExperimentRun): void;
    applyPingReply(runId: string, reply: PingReply, statistics: PingStatistics): void;
    applyHop(runId: string, hop: Hop): void;
    exportHistory(runId?: string): void;
  };
}

const MAX_RUNS = 100;

type Limits = [min: number, max: number];
/** Parses a whole number in range or returns the message for that field. */
function wholeNumber(label: string, text: string, [min, max]: Limits): number | string {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return `${label} must be a whole number from ${min} to ${max}`;
  const value = Number(trimmed);
  if (value < min || value > max) return `${label} must be from ${min} to ${max}, not ${value}`;
  return value;
}

type Parsed = { params: Record<string, unknown> } | { errors: Record<string, string> };

/** An address or a host name; the engine resolves names. Only emptiness and spaces are caught here. */
function targetProblem(label: string, text: string): string | undefined {
  if (text === '') return `${label} is required: an address or a host name such as localhost`;
  if (/\s/.test(text)) return `${label} '${text}' has a space: type one address or host name`;
  return undefined;
}

/** Checks every field and reports each one that is wrong, not only the first. */
export function parsePingForm(form: PingForm): Parsed {
  const target = form.target.trim();
  const fields: [keyof PingForm, string, Limits][] = [
    ['count', 'Count', [1, 100_000]],
    ['interval', 'Interval', [10, 60_000]],
    ['size', 'Size', [0, 65_000]],
    ['ttl', 'TTL', [1, 255]],
    ['timeout', 'Timeout', [10, 60_000]],
  ];
  const params: Record<string, unknown> = { target, mode: form.mode };
  const errors: Record<string, string> = {};
  const targetError = targetProblem('Ping target', target);
  if (targetError) errors.target = targetError;
  for (const [key, label, limits] of fields) {
    const value = wholeNumber(label, form[key], limits);
    if (typeof value === 'string') errors[key] = value;
    else params[key === 'interval' ? 'intervalMs' : key === 'timeout' ? 'timeoutMs' : key] = value;
  }
  return Object.keys(errors).length ? { errors } : { params };
}

export function parseTracerouteForm(form: TracerouteForm): Parsed {
  const params: Record<string, unknown> = { target: form.target.trim(), probe: form.probe };
  const errors: Record<string, string> = {};
  const targetError = targetProblem('Traceroute target', form.target.trim());
  if (targetError) errors.target = targetError;
  const fields: [keyof TracerouteForm, string, string, Limits][] = [
    ['firstHop', 'First hop', 'firstHop', [1, 255]],
    ['maxHops', 'Max hops', 'maxHops', [1, 255]],
    ['probesPerHop', 'Probes per hop', 'probesPerHop', [1, 10]],
    ['timeout', 'Timeout', 'timeoutMs', [10, 30_000]],
  ];
  for (const [key, label, param, limits] of fields) {
    const value = wholeNumber(label, form[key], limits);
    if (typeof value === 'string') errors[key] = value;
    else params[param] = value;
  }
  if (form.port.trim() !== '' && form.probe !== 'icmp') {
    const port = wholeNumber('Port', form.port, [1, 65535]);
    if (typeof port === 'string') errors.port = port;
    else params.port = port;
  }
  // 'auto' is the default: left out, so an engine from before the choice existed takes the run too.
  if (form.mode !== 'auto') params.mode = form.mode;
  if (!errors.firstHop && !errors.maxHops && (params.firstHop as number) > (params.maxHops as number)) errors.firstHop = 'First hop must not be above max hops';
  return Object.keys(errors).length ? { errors } : { params };
}

/** mtr's form: interval and timeout in ms, as the other forms. */
export function parseMtrForm(form: MtrForm): Parsed {
  const params: Record<string, unknown> = { target: form.target.trim(), probe: form.probe };
  const errors: Record<string, string> = {};
  const targetError = targetProblem('mtr target', form.target.trim());
  if (targetError) errors.target = targetError;
  const fields: [keyof MtrForm, string, string, Limits][] = [
    ['cycles', 'Cycles', 'cycles', [1, 1000]],
    ['interval', 'Interval', 'intervalMs', [100, 10_000]],
    ['maxHops', 'Max hops', 'maxHops', [1, 64]],
    ['timeout', 'Timeout', 'timeoutMs', [10, 30_000]],
  ];
  for (const [key, label, param, limits] of fields) {
    const value = wholeNumber(label, form[key], limits);
    if (typeof value === 'string') errors[key] = value;
    else params[param] = value;
  }
  return Object.keys(errors).length ? { errors } : { params };
}

export function parsePmtuForm(form: PmtuForm): Parsed {
  const params: Record<string, unknown> = { target: form.target.trim() };
  const errors: Record<string, string> = {};
  const targetError = targetProblem('Path MTU target', form.target.trim());
  if (targetError) errors.target = targetError;
  const fields: [keyof PmtuForm, string, string, Limits][] = [
    ['maxHops', 'Max hops', 'maxHops', [1, 64]],
    ['timeout', 'Timeout', 'timeoutMs', [10, 30_000]],
  ];
  for (const [key, label, param, limits] of fields) {
    const value = wholeNumber(label, form[key], limits);
    if (typeof value === 'string') errors[key] = value;
    else params[param] = value;
  }
  return Object.keys(errors).length ? { errors } : { params };
}

const fieldErrors = (errors: Record<string, string>): ExperimentError => {
  const count = Object.keys(errors).length;
  return { fields: errors, message: count === 1 ? Object.values(errors)[0] : `${count} fields need fixing` };
};

/**
 * After an edit: the fields that were flagged and are still wrong stay flagged, fixed ones
 * clear at once; fields never flagged are not judged while the user is typing.
 */
function stillWrong(error: ExperimentError | null, parsed: Parsed): ExperimentError | null {
  if (!error?.fields) return null;
  const now = 'errors' in parsed ? parsed.errors : {};
  const kept = Object.fromEntries(Object.entries(now).filter(([field]) => field in error.fields!));
  return Object.keys(kept).length ? fieldErrors(kept) : null;
}

export const createExperimentsSlice: SliceFactory<ExperimentsSlice> = ({ client, saveFile }) => (set, get) => {
  const experiments = () => get().experiments;
  const patch = (part: Partial<ExperimentsSlice['experiments']>) => set((state) => ({ experiments: { ...state.experiments, ...part } }));
  const updateRun = (runId: string, update: (run: ExperimentRun) => ExperimentRun) => {
    const runs = experiments().runs;
    const index = runs.findIndex((run) => run.runId === runId);
    if (index >= 0) patch({ runs: runs.map((run, i) => (i === index ? update(run) : run)) });
  };
  /** Host names go to the engine's resolver; a literal is used as typed. */
  const resolveTarget = async (target: string): Promise<{ address: string; note: string | null }> => {
    if (isIpv4(target) || isIpv6(target)) return { address: target, note: null };
    const found = await client.resolveHost({ name: target });
    return { address: found.address, note: `${found.name} is ${found.address}` };
  };
  const failure = (error: unknown) => {
    const code = errorCode(error);
    const named = (error as { field?: string }).field;
    // The resolver names its parameter 'name': in the form that is the target.
    const field = named === 'name' ? 'target' : named;
    const remedy = permissionRemedy(code, rawSocketRemedy(get().settings.capabilities));
    return { ...(field ? { field } : {}), message: errorText(error), ...(code ? { code } : {}), ...(remedy ? { remedy } : {}) };
  };

  return {
    experiments: {
      runs: [],
      pingRunId: null,
      traceRunId: null,
      pingForm: { target: '127.0.0.1', count: '5', interval: '200', size: '56', ttl: '64', timeout: '1000', mode: 'auto' },
      traceForm: { target: '127.0.0.1', probe: 'icmp', firstHop: '1', maxHops: '30', probesPerHop: '3', timeout: '1000', port: '', mode: 'auto' },
      pingError: null,
      traceError: null,
      pingResolved: null,
      traceResolved: null,
      routeView: 'traceroute',
      mtrRunId: null,
      pmtuRunId: null,
      mtrForm: { target: '127.0.0.1', probe: 'icmp', cycles: '10', interval: '1000', maxHops: '30', timeout: '1000' },
      pmtuForm: { target: '127.0.0.1', maxHops: '30', timeout: '1000' },
      mtrError: null,
      pmtuError: null,
      setPingForm(change) {
        const pingForm = { ...experiments().pingForm, ...change };
        patch({ pingForm, pingError: stillWrong(experiments().pingError, parsePingForm(pingForm)) });
      },
      setTraceForm(change) {
        const traceForm = { ...experiments().traceForm, ...change };
        patch({ traceForm, traceError: stillWrong(experiments().traceError, parseTracerouteForm(traceForm)) });
      },
      setMtrForm(change) {
        const mtrForm = { ...experiments().mtrForm, ...change };
        patch({ mtrForm, mtrError: stillWrong(experiments().mtrError, parseMtrForm(mtrForm)) });
      },
      setPmtuForm(change) {
        const pmtuForm = { ...experiments().pmtuForm, ...change };
        patch({ pmtuForm, pmtuError: stillWrong(experiments().pmtuError, parsePmtuForm(pmtuForm)) });
      },
      setRouteView(routeView) {
        patch({ routeView });
      },
      async startMtr() {
        const parsed = parseMtrForm(experiments().mtrForm);
        if ('errors' in parsed) return patch({ mtrError: fieldErrors(parsed.errors) });
        try {
          const resolved = await resolveTarget(parsed.params.target as string);
          const run = await client.mtr({ ...parsed.params, target: resolved.address, ...actingHost(get()) } as Parameters<typeof client.mtr>[0]);
          experiments().applyRun(run);
          patch({ mtrRunId: run.runId, mtrError: null });
        } catch (error) {
          patch({ mtrError: failure(error) });
        }
      },
      async startPmtu() {
        const parsed = parsePmtuForm(experiments().pmtuForm);
        if ('errors' in parsed) return patch({ pmtuError: fieldErrors(parsed.errors) });
        try {
          const resolved = await resolveTarget(parsed.params.target as string);
          const run = await client.pmtu({ ...parsed.params, target: resolved.address, ...actingHost(get()) } as Parameters<typeof client.pmtu>[0]);
          experiments().applyRun(run);
          patch({ pmtuRunId: run.runId, pmtuError: null });
        } catch (error) {
          patch({ pmtuError: failure(error) });
        }
      },
      async startPing() {
        const parsed = parsePingForm(experiments().pingForm);
        if ('errors' in parsed) return patch({ pingError: fieldErrors(parsed.errors) });
        try {
          patch({ pingResolved: null });
          const resolved = await resolveTarget(parsed.params.target as string);
          patch({ pingResolved: resolved.note });
          const run = await client.ping({ ...parsed.params, target: resolved.address, ...actingHost(get()) } as Parameters<typeof client.ping>[0]);
          experiments().applyRun(run);
          patch({ pingRunId: run.runId, pingError: null });
        } catch (error) {
          patch({ pingError: failure(error) });
        }
      },
      async startTraceroute() {
        const parsed = parseTracerouteForm(experiments().traceForm);
        if ('errors' in parsed) return patch({ traceError: fieldErrors(parsed.errors) });
        try {
          patch({ traceResolved: null });
          const resolved = await resolveTarget(parsed.params.target as string);
          patch({ traceResolved: resolved.note });
          const run = await client.traceroute({ ...parsed.params, target: resolved.address, ...actingHost(get()) } as Parameters<typeof client.traceroute>[0]);
          experiments().applyRun(run);
          patch({ traceRunId: run.runId, traceError: null });
        } catch (error) {
          patch({ traceError: failure(error) });
        }
      },
      async stop(runId) {
        try {
          experiments().applyRun(await client.stopExperiment({ runId }));
        } catch (error) {
          const run = experiments().runs.find((candidate) => candidate.runId === runId);
          const errorOf = { ping: 'pingError', traceroute: 'traceError', mtr: 'mtrError', pmtu: 'pmtuError' } as const;
          patch({ [errorOf[run?.kind ?? 'ping']]: failure(error) });
        }
      },
      show(runId) {
        const run = experiments().runs.find((candidate) => candidate.runId === runId);
        if (!run) return;
        if (run.kind === 'ping') patch({ pingRunId: runId });
        else if (run.kind === 'traceroute') patch({ traceRunId: runId, routeView: 'traceroute' });
        else if (run.kind === 'mtr') patch({ mtrRunId: runId, routeView: 'mtr' });
        else patch({ pmtuRunId: runId, routeView: 'pmtu' });
      },
      async load() {
        try {
          const runs = (await client.listExperiments({})).slice(-MAX_RUNS);
          patch({ runs });
        } catch {
          // The history is shown empty; starting a run reports the real problem.
        }
      },
      applyRun(run) {
        const runs = experiments().runs;
        const index = runs.findIndex((candidate) => candidate.runId === run.runId);
        if (index >= 0) {
          // A run event may carry fewer replies/hops than events already applied: keep the longer.
          const previous = runs[index];
          const merged: ExperimentRun = { ...run };
          if (previous.ping && run.ping && previous.ping.replies.length > run.ping.replies.length) merged.ping = { ...run.ping, replies: previous.ping.replies };
          if (previous.traceroute && run.traceroute && previous.traceroute.hops.length > run.traceroute.hops.length) {
            merged.traceroute = { ...run.traceroute, hops: previous.traceroute.hops };
          }
          // mtr and pmtu events carry the whole run: an older snapshot (fewer cycles or lines) never replaces a newer one.
          if (previous.mtr && run.mtr && run.state === 'running' && previous.mtr.cycles > run.mtr.cycles) merged.mtr = previous.mtr;
          if (previous.pmtu && run.pmtu && run.state === 'running' && previous.pmtu.hops.length > run.pmtu.hops.length) merged.pmtu = previous.pmtu;
          patch({ runs: runs.map((candidate, i) => (i === index ? merged : candidate)) });
        } else {
          patch({ runs: [...runs, run].slice(-MAX_RUNS) });
        }
      },
      applyPingReply(runId, reply, statistics) {
        updateRun(runId, (run) => {
          const replies = run.ping?.replies ?? [];
          const at = replies.findIndex((candidate) => candidate.sequence === reply.sequence);
          const next = at >= 0 ? replies.map((candidate, i) => (i === at ? reply : candidate)) : [...replies, reply];
          return { ...run, ping: { replies: next, statistics } };
        });
      },
      applyHop(runId, hop) {
        updateRun(runId, (run) => {
          const hops = run.traceroute?.hops ?? [];
          const at = hops.findIndex((candidate) => candidate.ttl === hop.ttl);
          const next = at >= 0 ? hops.map((candidate, i) => (i === at ? hop : candidate)) : [...hops, hop].sort((a, b) => a.ttl - b.ttl);
          return { ...run, traceroute: { hops: next, reached: run.traceroute?.reached ?? false } };
        });
      },
      exportHistory(runId) {
        const runs = runId ? experiments().runs.filter((run) => run.runId === runId) : experiments().runs;
        const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
        saveFile(`workbench-experiments-${stamp}.json`, 'application/json', JSON.stringify({ exportedAt: new Date().toISOString(), runs }, null, 2));
      },
    },
  };
};
