// Ping and traceroute: the forms, the runs (live and past), and their export.
import type { ExperimentRun, Hop, PingReply, PingStatistics } from '../../../common/contract';
import { errorCode, errorText } from '../api/client';
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

export interface ExperimentError {
  field?: string;
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
    setPingForm(change: Partial<PingForm>): void;
    setTraceForm(change: Partial<TracerouteForm>): void;
    startPing(): Promise<void>;
    startTraceroute(): Promise<void>;
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

export function parsePingForm(form: PingForm): { params: Record<string, unknown> } | { field: string; message: string } {
  const target = form.target.trim();
  const fields: [keyof PingForm, string, Limits][] = [
    ['count', 'Count', [1, 100_000]],
    ['interval', 'Interval', [10, 60_000]],
    ['size', 'Size', [0, 65_000]],
    ['ttl', 'TTL', [1, 255]],
    ['timeout', 'Timeout', [10, 60_000]],
  ];
  const params: Record<string, unknown> = { target, mode: form.mode };
  for (const [key, label, limits] of fields) {
    const value = wholeNumber(label, form[key], limits);
    if (typeof value === 'string') return { field: key, message: value };
    params[key === 'interval' ? 'intervalMs' : key === 'timeout' ? 'timeoutMs' : key] = value;
  }
  return { params };
}

export function parseTracerouteForm(form: TracerouteForm): { params: Record<string, unknown> } | { field: string; message: string } {
  const params: Record<string, unknown> = { target: form.target.trim(), probe: form.probe };
  const fields: [keyof TracerouteForm, string, string, Limits][] = [
    ['firstHop', 'First hop', 'firstHop', [1, 255]],
    ['maxHops', 'Max hops', 'maxHops', [1, 255]],
    ['probesPerHop', 'Probes per hop', 'probesPerHop', [1, 10]],
    ['timeout', 'Timeout', 'timeoutMs', [10, 30_000]],
  ];
  for (const [key, label, param, limits] of fields) {
    const value = wholeNumber(label, form[key], limits);
    if (typeof value === 'string') return { field: key, message: value };
    params[param] = value;
  }
  if (form.port.trim() !== '' && form.probe !== 'icmp') {
    const port = wholeNumber('Port', form.port, [1, 65535]);
    if (typeof port === 'string') return { field: 'port', message: port };
    params.port = port;
  }
  // 'auto' is the default: left out, so an engine from before the choice existed takes the run too.
  if (form.mode !== 'auto') params.mode = form.mode;
  if ((params.firstHop as number) > (params.maxHops as number)) return { field: 'firstHop', message: 'First hop must not be above max hops' };
  return { params };
}

export const createExperimentsSlice: SliceFactory<ExperimentsSlice> = ({ client, saveFile }) => (set, get) => {
  const experiments = () => get().experiments;
  const patch = (part: Partial<ExperimentsSlice['experiments']>) => set((state) => ({ experiments: { ...state.experiments, ...part } }));
  const updateRun = (runId: string, update: (run: ExperimentRun) => ExperimentRun) => {
    const runs = experiments().runs;
    const index = runs.findIndex((run) => run.runId === runId);
    if (index >= 0) patch({ runs: runs.map((run, i) => (i === index ? update(run) : run)) });
  };
  const failure = (error: unknown) => {
    const code = errorCode(error);
    const field = (error as { field?: string }).field;
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
      setPingForm(change) {
        patch({ pingForm: { ...experiments().pingForm, ...change }, pingError: null });
      },
      setTraceForm(change) {
        patch({ traceForm: { ...experiments().traceForm, ...change }, traceError: null });
      },
      async startPing() {
        const parsed = parsePingForm(experiments().pingForm);
        if ('message' in parsed) return patch({ pingError: parsed });
        try {
          const run = await client.ping(parsed.params as Parameters<typeof client.ping>[0]);
          experiments().applyRun(run);
          patch({ pingRunId: run.runId, pingError: null });
        } catch (error) {
          patch({ pingError: failure(error) });
        }
      },
      async startTraceroute() {
        const parsed = parseTracerouteForm(experiments().traceForm);
        if ('message' in parsed) return patch({ traceError: parsed });
        try {
          const run = await client.traceroute(parsed.params as Parameters<typeof client.traceroute>[0]);
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
          patch(run?.kind === 'traceroute' ? { traceError: failure(error) } : { pingError: failure(error) });
        }
      },
      show(runId) {
        const run = experiments().runs.find((candidate) => candidate.runId === runId);
        if (run) patch(run.kind === 'ping' ? { pingRunId: runId } : { traceRunId: runId });
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
