// Sending the edited packet: target, socket, how many and how fast; the jobs that run.
import type { Capabilities, ParamsIn, SendJobInfo, SendResults } from '../../../common/contract';
import { decode, describePacket, isIpv4, isIpv6 } from '../../../packets';
import { errorCode, errorText } from '../api/client';
import { experiment } from '../model/capabilities';
import type { DraftLayer, SocketNeeds } from '../model/draft';
import {
  MAX_VARIATIONS,
  specWords,
  validateVariations,
  variableFields,
  type VariationDraft,
  type VariationErrors,
  type VariationSpec,
} from '../model/variation-words';
import { readPersisted, writePersisted } from './persisted';
import { engineFieldPlace, FINAL_STATES, parseAnswerTimeout, parsePacing, type Pacing } from './send-params';
import { resultsActions } from './send-results';
import { actingHost } from './lab';
import { reusableSocket } from './sockets-implicit';
import { isStreamEntries, MAX_STREAM_PACKETS, moveEntry, newEntryId, STREAM_KEY, STREAM_ORDER_KEY, streamNeeds, streamPackets, type StreamEntry } from './stream';
import type { SliceFactory } from './types';

export interface SendError {
  /** Which control the error belongs to: the form shows it there. */
  where: 'target' | 'packet' | 'count' | 'pacing' | 'socket' | 'send' | 'variations' | 'stream' | 'answers';
  message: string;
  /** where 'stream': the stream packet it is about, when the engine named one. */
  entryId?: string;
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
  pacing: 'interval' | 'rate' | 'burst';
  interval: string;
  rate: string;
  burstSize: string;
  burstGap: string;
  /** A stream's packets: all of the first then the second…, or one of each in turn. */
  order: 'sequential' | 'interleaved';
  /** Send and match (Scapy's sr()): wait for the answers, then show answered and unanswered. */
  matching: boolean;
  answerTimeout: string;
  /** A repeated echo request without variable fields: identical packets instead of the sequence +1 default. */
  identical: boolean;
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

/** The results of a send-and-match job: one page of them, read when the job is final. */
export interface ResultsView {
  jobId: string;
  page: SendResults | null;
  offset: number;
  loading: boolean;
  /** What the last export or read did, or why it failed. */
  message: { kind: 'info' | 'error'; text: string } | null;
}

export interface SendSlice {
  send: {
    form: SendForm;
    jobs: SendJobInfo[];
    error: SendError | null;
    busy: boolean;
    last: LastSend | null;
    /** Variable-field rows of the edited packet, and the problems of each (all rows checked at once). */
    variations: VariationDraft[];
    variationErrors: Record<string, VariationErrors>;
    /** Packets added to the stream; a non-empty stream is what Send sends. */
    stream: StreamEntry[];
    results: ResultsView | null;
    setForm(change: Partial<SendForm>): void;
    addVariation(): void;
    updateVariation(id: string, change: Partial<Omit<VariationDraft, 'id'>>): void;
    removeVariation(id: string): void;
    /** Adds the edited packet with its variable fields and count to the stream; false (with `error`) when it cannot. */
    addToStream(): boolean;
    removeFromStream(id: string): void;
    moveInStream(id: string, delta: -1 | 1): void;
    clearStream(): void;
    /** Reads a page of a send-and-match job's results. */
    showResults(jobId: string, offset?: number): Promise<void>;
    closeResults(): void;
    exportResults(format: 'pcapng' | 'csv'): Promise<void>;
    /** Validates, opens a socket if needed, starts a job. Returns the job, or null with `error` set. */
    start(): Promise<SendJobInfo | null>;
    stop(jobId: string): Promise<void>;
    applyJob(job: SendJobInfo): void;
    loadJobs(): Promise<void>;
  };
}

const MAX_JOBS_SHOWN = 50;
const PREFERRED_VARIABLE = ['sequence', 'srcPort', 'identification'];

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


/** The variation a parameter error names: 'variations.2.values' → 'values'. */
const variationKey = (field: string): keyof VariationErrors => (/\.(field|step|count|values)(\.|$)/.exec(field)?.[1] as keyof VariationErrors | undefined) ?? 'field';

export const createSendSlice: SliceFactory<SendSlice> = ({ client, storage, saveFile }) => (set, get) => {
  const patch = (part: Partial<SendSlice['send']>) => set((state) => ({ send: { ...state.send, ...part } }));
  const fail = (error: SendError): null => {
    patch({ error, busy: false });
    return null;
  };
  const setStream = (stream: StreamEntry[]) => {
    patch({ stream });
    writePersisted(storage, STREAM_KEY, stream);
  };
  const isOrder = (value: unknown): value is SendForm['order'] => value === 'sequential' || value === 'interleaved';
  let nextRow = 1;

  /** The count the Repeat control asks for. */
  const repeatCount = (): number | SendError => {
    const { form } = get().send;
    if (form.repeat === 'once') return 1;
    const count = Number(form.count);
    return Number.isInteger(count) && count >= 1 && count <= 10_000_000 && form.count.trim() !== ''
      ? count
      : { where: 'count', message: 'Count must be a whole number from 1 to 10,000,000' };
  };

  /** The edited packet's variable-field rows, all checked; each row's problems set beside it. */
  const checkedVariations = (): VariationSpec[] | null => {
    const { specs, errors } = validateVariations(get().send.variations, variableFields(get().editor.analysis.layers));
    patch({ variationErrors: errors });
    return specs;
  };

  /** The rows; else [] for identical echo requests when asked; else null: the engine's default. */
  const chosenVariations = (specs: VariationSpec[], count: number, echoRequest: boolean): VariationSpec[] | null =>
    specs.length > 0 ? specs : get().send.form.identical && echoRequest && count > 1 ? [] : null;

  /** Puts an engine error about a variation or stream packet beside it; false when it names neither. */
  const placeEngineError = (field: string | undefined, message: string, stream: readonly StreamEntry[]): boolean => {
    const place = engineFieldPlace(field);
    if (!place || !field) return false;
    if ('row' in place) {
      const row = get().send.variations[place.row];
      if (!row || stream.length > 0) return false;
      patch({ variationErrors: { ...get().send.variationErrors, [row.id]: { [variationKey(field)]: message } } });
      fail({ where: 'variations', message: 'The engine refused a variable field: see the row marked below' });
      return true;
    }
    const entry = stream[place.entry];
    if (!entry) return false;
    const words = place.variation !== undefined ? entry.variationWords[place.variation] : undefined;
    fail({ where: 'stream', entryId: entry.id, message: words ? `${words}: ${message}` : message });
    return true;
  };

  return {
    send: {
      form: {
        target: '',
        socketId: '',
        repeat: 'once',
        count: '10',
        pacing: 'interval',
        interval: '100',
        rate: '1000',
        burstSize: '10',
        burstGap: '100',
        order: readPersisted(storage, STREAM_ORDER_KEY, isOrder) ?? 'sequential',
        matching: false,
        answerTimeout: '2000',
        identical: false,
      },
      jobs: [],
      error: null,
      busy: false,
      last: null,
      variations: [],
      variationErrors: {},
      stream: readPersisted(storage, STREAM_KEY, isStreamEntries) ?? [],
      results: null,
      setForm(change) {
        const error = get().send.error;
        // The order belongs to the stream, which survives a reload.
        if (change.order) writePersisted(storage, STREAM_ORDER_KEY, change.order);
        patch({ form: { ...get().send.form, ...change }, error: error && error.where !== 'send' ? null : error });
      },
      addVariation() {
        const { variations } = get().send;
        if (variations.length >= MAX_VARIATIONS) return;
        const fields = variableFields(get().editor.analysis.layers);
        const taken = new Set(variations.map((row) => `${row.layerId}/${row.field}`));
        const free = fields.filter((field) => !taken.has(`${field.layerId}/${field.name}`));
        // The fields people vary most (an echo's sequence, a source port), else the first one free.
        const field = PREFERRED_VARIABLE.map((name) => free.find((candidate) => candidate.name === name)).find(Boolean) ?? free[0];
        const row: VariationDraft = { id: `V${nextRow++}`, layerId: field?.layerId ?? '', field: field?.name ?? '', mode: 'increment', step: '1', count: '', values: '' };
        patch({ variations: [...variations, row] });
      },
      updateVariation(id, change) {
        const { variations, variationErrors, error } = get().send;
        const { [id]: _fixed, ...others } = variationErrors;
        patch({
          variations: variations.map((row) => (row.id === id ? { ...row, ...change } : row)),
          variationErrors: others,
          error: error?.where === 'variations' && Object.keys(others).length === 0 ? null : error,
        });
      },
      removeVariation(id) {
        const { variations, variationErrors, error } = get().send;
        const { [id]: _gone, ...others } = variationErrors;
        patch({
          variations: variations.filter((row) => row.id !== id),
          variationErrors: others,
          error: error?.where === 'variations' && Object.keys(others).length === 0 ? null : error,
        });
      },
      addToStream() {
        const { analysis, layers } = get().editor;
        const { stream } = get().send;
        if (!analysis.spec || !analysis.needs || !analysis.bytes) {
          fail({ where: 'packet', message: `The packet is not valid: ${analysis.errors[0] ?? 'it is empty'}` });
          return false;
        }
        if (stream.length >= MAX_STREAM_PACKETS) {
          fail({ where: 'stream', message: `A stream holds at most ${MAX_STREAM_PACKETS} packets` });
          return false;
        }
        const count = repeatCount();
        if (typeof count !== 'number') return fail(count) ?? false;
        const specs = checkedVariations();
        if (!specs) return fail({ where: 'variations', message: 'Fix the variable fields marked below' }) ?? false;
        const echoRequest = isEchoRequest(layers);
        const variations = chosenVariations(specs, count, echoRequest);
        const fields = variableFields(analysis.layers);
        const words =
          variations === null
            ? echoRequest && count > 1
              ? ['Sequence number +1 per packet (the default for a repeated echo request)']
              : []
            : variations.length === 0
              ? count > 1
                ? ['Identical packets']
                : []
              : variations.map((variation) => specWords(variation, fields));
        const first = analysis.layers[0]?.layer.kind;
        const entry: StreamEntry = {
          id: newEntryId(),
          layers: analysis.spec,
          summary: describePacket(decode(analysis.bytes, { first: first && first !== 'payload' ? first : 'auto' })).summary,
          needs: analysis.needs,
          ...(analysis.destination ? { destination: analysis.destination } : {}),
          echoRequest,
          count,
          variations,
          variationWords: words,
        };
        setStream([...stream, entry]);
        patch({ error: null });
        return true;
      },
      removeFromStream(id) {
        setStream(get().send.stream.filter((entry) => entry.id !== id));
        if (get().send.error?.where === 'stream') patch({ error: null });
      },
      moveInStream(id, delta) {
        setStream(moveEntry(get().send.stream, id, delta));
      },
      clearStream() {
        setStream([]);
        if (get().send.error?.where === 'stream') patch({ error: null });
      },
      async start() {
        const { form, stream } = get().send;
        const { analysis } = get().editor;
        const useStream = stream.length > 0;
        let needs: SocketNeeds;
        let echoRequest: boolean;
        let destination: string | undefined;
        let body: Pick<ParamsIn<'send'>, 'packet' | 'count' | 'variations' | 'packets' | 'order'>;
        let total: number;
        if (useStream) {
          const chosen = streamNeeds(stream);
          if ('error' in chosen) return fail({ where: 'stream', message: chosen.error });
          needs = chosen.needs;
          echoRequest = stream.every((entry) => entry.echoRequest);
          destination = stream[0].destination;
          body = { packets: streamPackets(stream), order: form.order };
          total = stream.reduce((sum, entry) => sum + entry.count, 0);
        } else {
          if (!analysis.spec || !analysis.needs) {
            return fail({ where: 'packet', message: `The packet is not valid: ${analysis.errors[0] ?? 'it is empty'}` });
          }
          const count = repeatCount();
          if (typeof count !== 'number') return fail(count);
          const specs = checkedVariations();
          if (!specs) return fail({ where: 'variations', message: 'Fix the variable fields marked below' });
          needs = analysis.needs;
          echoRequest = isEchoRequest(get().editor.layers);
          destination = analysis.destination;
          const variations = chosenVariations(specs, count, echoRequest);
          body = { packet: { layers: analysis.spec }, count, ...(variations ? { variations } : {}) };
          total = count;
        }
        const target = form.target.trim() || destination || '';
        // UDP and TCP without an IP layer go to either family; everything else has one.
        const fixedFamily = needs.headerIncluded || needs.protocol === 1 || needs.protocol === 58 ? needs.family : undefined;
        const targetError = validateTarget(target, fixedFamily);
        if (targetError) return fail({ where: 'target', message: targetError });
        const family = isIpv6(target) ? 'ipv6' : 'ipv4';
        let pacing: Pacing | Record<string, never> = {};
        if (total > 1) {
          const parsed = parsePacing(form);
          if ('error' in parsed) return fail({ where: 'pacing', message: parsed.error });
          pacing = parsed.pacing;
        }
        let answers: { answers: { timeoutMs: number } } | Record<string, never> = {};
        if (form.matching) {
          const timeoutMs = parseAnswerTimeout(form.answerTimeout);
          if (typeof timeoutMs === 'string') return fail({ where: 'answers', message: timeoutMs });
          answers = { answers: { timeoutMs } };
        }
        patch({ busy: true, error: null });
        let socketId = form.socketId;
        let how: LastSend['how'] = 'chosen';
        const socketFamily = needs.headerIncluded ? needs.family : family;
        const reused =
          socketId === AUTOMATIC_SOCKET ? reusableSocket(get().sockets.list, get().sockets.implicit, { family: socketFamily, protocol: needs.protocol, echoRequest, ...actingHost(get()) }) : undefined;
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
            const opened = await client.openSocket({ family: socketFamily, protocol: needs.protocol, mode: 'auto', ...actingHost(get()) });
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
          const job = await client.send({ socketId, address: target, ...body, ...pacing, ...answers });
          patch({ last: { jobId: job.jobId, socketId, how, afterId }, ...(job.matching ? { results: { jobId: job.jobId, page: null, offset: 0, loading: false, message: null } } : {}) });
          get().send.applyJob(job);
          patch({ busy: false });
          if (job.state === 'failed' && job.error) {
            return fail({ where: 'send', message: job.error.message, code: job.error.code, remedy: permissionRemedy(job.error.code, rawSocketRemedy(get().settings.capabilities)) });
          }
          return job;
        } catch (error) {
          const code = errorCode(error);
          if (placeEngineError((error as { field?: string }).field, errorText(error), useStream ? stream : [])) return null;
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
        // A send-and-match job on screen: its results are read once final.
        const results = get().send.results;
        if (results?.jobId === job.jobId && FINAL_STATES.has(job.state) && !results.page?.final && !results.loading) void get().send.showResults(job.jobId, results.offset);
      },
      async loadJobs() {
        try {
          patch({ jobs: (await client.listSendJobs({})).slice(-MAX_JOBS_SHOWN) });
        } catch {
          // Shown on the next action; the list is a convenience.
        }
      },
      ...resultsActions({ client, saveFile }, get, patch),
    },
  };
};
