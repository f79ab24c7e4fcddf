// Sending the edited packet: target, socket, how many and how fast; the jobs that run.
import type { Capabilities, SendJobInfo } from '../../../common/contract';
import { isIpv4, isIpv6 } from '../../../packets';
import { errorCode, errorText } from '../api/client';
import { experiment } from '../model/capabilities';
import type { DraftLayer } from '../model/draft';
import { reusableSocket } from './sockets-implicit';
import type { SliceFactory } from './types';

export interface SendError {
  /** Which control the error belongs to: the form shows it there. */
  where: 'target' | 'packet' | 'count' | 'pacing' | 'socket' | 'send';
  message: string;
  code?: string;
  remedy?: string;
}

export interface SendForm {
  target: string;
  /**
   * AUTOMATIC_SOCKET: reuse a socket Send opened before for this kind of packet, else open one;
   * NEW_SOCKET: always open one (both close once idle); otherwise an open socket's id.
   */
  socketId: string;
  repeat: 'once' | 'count';
  count: string;
  pacing: 'interval' | 'rate';
  interval: string;
  rate: string;
}

export const AUTOMATIC_SOCKET = '';
export const NEW_SOCKET = 'new';

/** The last send started here: its job, the socket it went through and how that was chosen. */
export interface LastSend {
  jobId: string;
  socketId: string;
  how: 'reused' | 'opened' | 'chosen';
  /** The newest log row id before it started: its rows come later. */
  afterId: number;
}

export interface SendSlice {
  send: {
    form: SendForm;
    jobs: SendJobInfo[];
    error: SendError | null;
    busy: boolean;
    last: LastSend | null;
    setForm(change: Partial<SendForm>): void;
    /** Validates, opens a socket if needed, starts a job. Returns the job, or null with `error` set. */
    start(): Promise<SendJobInfo | null>;
    stop(jobId: string): Promise<void>;
    applyJob(job: SendJobInfo): void;
    loadJobs(): Promise<void>;
  };
}

const MAX_JOBS_SHOWN = 50;

/** Where an EPERM/EACCES comes from and what to do, with the capabilities' own remedy when known. */
export function permissionRemedy(code: string | undefined, capabilityRemedy: string | null | undefined): string | undefined {
  if (code !== 'EPERM' && code !== 'EACCES') return undefined;
  return (
    capabilityRemedy ??
    'Raw sockets need root or CAP_NET_RAW, or the socket helper: choose “Allow raw sockets” (it asks for an administrator password through pkexec or sudo).'
  );
}

/** The remedy for refused raw sockets from the capabilities: the crafted-packet row's, else the general one. */
export function rawSocketRemedy(capabilities: Capabilities | null): string | null {
  if (!capabilities) return null;
  return (capabilities.experiments ? experiment(capabilities, 'send-raw').remedy : null) ?? capabilities.remedy ?? null;
}

export function validateTarget(target: string, family: 'ipv4' | 'ipv6' | undefined): string | null {
  const text = target.trim();
  if (!text) return 'Enter a target address, e.g. 127.0.0.1 or ::1';
  const v4 = isIpv4(text);
  const v6 = isIpv6(text);
  if (!v4 && !v6) return `'${text}' is not an IPv4 or IPv6 address`;
  if (family === 'ipv4' && !v4) return `The packet is IPv4 but '${text}' is an IPv6 address`;
  if (family === 'ipv6' && !v6) return `The packet is IPv6 but '${text}' is an IPv4 address`;
  return null;
}

/** The edited packet is an ICMP or ICMPv6 echo request (what an unprivileged ping socket can send). */
export function isEchoRequest(layers: readonly DraftLayer[]): boolean {
  return layers.some((layer) => (layer.kind === 'icmp' && Number(layer.values.type) === 8) || (layer.kind === 'icmpv6' && Number(layer.values.type) === 128));
}

export const createSendSlice: SliceFactory<SendSlice> = ({ client }) => (set, get) => {
  const patch = (part: Partial<SendSlice['send']>) => set((state) => ({ send: { ...state.send, ...part } }));
  const fail = (error: SendError): null => {
    patch({ error, busy: false });
    return null;
  };
  return {
    send: {
      form: { target: '', socketId: '', repeat: 'once', count: '10', pacing: 'interval', interval: '100', rate: '1000' },
      jobs: [],
      error: null,
      busy: false,
      last: null,
      setForm(change) {
        const error = get().send.error;
        patch({ form: { ...get().send.form, ...change }, error: error && error.where !== 'send' ? null : error });
      },
      async start() {
        const { form } = get().send;
        const { analysis } = get().editor;
        const needs = analysis.needs;
        if (!analysis.spec || !needs) {
          return fail({ where: 'packet', message: `The packet is not valid: ${analysis.errors[0] ?? 'it is empty'}` });
        }
        const target = form.target.trim() || analysis.destination || '';
        // UDP and TCP without an IP layer go to either family; everything else has one.
        const fixedFamily = needs.headerIncluded || needs.protocol === 1 || needs.protocol === 58 ? needs.family : undefined;
        const targetError = validateTarget(target, fixedFamily);
        if (targetError) return fail({ where: 'target', message: targetError });
        const family = isIpv6(target) ? 'ipv6' : 'ipv4';
        let count = 1;
        let pacing: { intervalMs?: number; rate?: number } = {};
        if (form.repeat === 'count') {
          count = Number(form.count);
          if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
            return fail({ where: 'count', message: 'Count must be a whole number from 1 to 10,000,000' });
          }
          if (form.pacing === 'interval') {
            const intervalMs = Number(form.interval);
            if (!Number.isFinite(intervalMs) || intervalMs < 0 || intervalMs > 3_600_000 || form.interval.trim() === '') {
              return fail({ where: 'pacing', message: 'Interval must be 0 to 3,600,000 ms (0 sends as fast as possible)' });
            }
            pacing = { intervalMs };
          } else {
            const rate = Number(form.rate);
            if (!Number.isFinite(rate) || rate < 0.001 || rate > 10_000_000 || form.rate.trim() === '') {
              return fail({ where: 'pacing', message: 'Rate must be 0.001 to 10,000,000 packets per second' });
            }
            pacing = { rate };
          }
        }
        patch({ busy: true, error: null });
        let socketId = form.socketId;
        let how: LastSend['how'] = 'chosen';
        const socketFamily = needs.headerIncluded ? needs.family : family;
        const reused =
          socketId === AUTOMATIC_SOCKET
            ? reusableSocket(get().sockets.list, get().sockets.implicit, { family: socketFamily, protocol: needs.protocol, echoRequest: isEchoRequest(get().editor.layers) })
            : undefined;
        if (reused) {
          socketId = reused.socketId;
          how = 'reused';
        } else if (socketId !== AUTOMATIC_SOCKET && socketId !== NEW_SOCKET) {
          const socket = get().sockets.list.find((candidate) => candidate.socketId === socketId);
          if (!socket || socket.closed) return fail({ where: 'socket', message: `Socket ${socketId} is closed: choose another or open a new one` });
        } else {
          try {
            // 'auto': the engine keeps an IPv4 header on a raw socket (IP_HDRINCL) and strips
            // one where the socket cannot take it (IPv6, unprivileged ICMP).
            const opened = await client.openSocket({ family: socketFamily, protocol: needs.protocol, mode: 'auto' });
            get().sockets.applySocket(opened);
            get().sockets.markImplicit(opened.socketId);
            socketId = opened.socketId;
            how = 'opened';
          } catch (error) {
            const code = errorCode(error);
            return fail({
              where: 'socket',
              message: `Cannot open a ${family} socket for protocol ${needs.protocol}: ${errorText(error)}`,
              code,
              remedy: permissionRemedy(code, rawSocketRemedy(get().settings.capabilities)),
            });
          }
        }
        try {
          get().sockets.used(socketId);
          const afterId = get().log.buffer.all.last()?.id ?? -1;
          const job = await client.send({ socketId, address: target, packet: { layers: analysis.spec }, count, ...pacing });
          patch({ last: { jobId: job.jobId, socketId, how, afterId } });
          get().send.applyJob(job);
          patch({ busy: false });
          if (job.state === 'failed' && job.error) {
            return fail({ where: 'send', message: job.error.message, code: job.error.code, remedy: permissionRemedy(job.error.code, rawSocketRemedy(get().settings.capabilities)) });
          }
          return job;
        } catch (error) {
          const code = errorCode(error);
          return fail({ where: 'send', message: errorText(error), code, remedy: permissionRemedy(code, rawSocketRemedy(get().settings.capabilities)) });
        }
      },
      async stop(jobId) {
        try {
          get().send.applyJob(await client.cancelSend({ jobId }));
        } catch (error) {
          patch({ error: { where: 'send', message: errorText(error), code: errorCode(error) } });
        }
      },
      applyJob(job) {
        const jobs = get().send.jobs;
        const index = jobs.findIndex((candidate) => candidate.jobId === job.jobId);
        const next = index < 0 ? [...jobs, job].slice(-MAX_JOBS_SHOWN) : jobs.map((candidate, i) => (i === index ? job : candidate));
        patch({ jobs: next });
        // An implicit socket idles from the end of its last job.
        if (job.state !== 'running') get().sockets.used(job.socketId);
      },
      async loadJobs() {
        try {
          patch({ jobs: (await client.listSendJobs({})).slice(-MAX_JOBS_SHOWN) });
        } catch {
          // Shown on the next action; the list is a convenience.
        }
      },
    },
  };
};
