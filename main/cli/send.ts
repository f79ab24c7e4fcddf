// packet-workbench send: a socket of the packet's family and protocol, and a send
// job of N packets (hex, a layer stack, or a template) through the engine.
import type { LogRow, SendJobInfo } from '../../common/contract';
import type { LayerSpec } from '../../common/contract';
import { parseHex } from '../../packets/hex';
import { ipProtocolNumbers } from '../../packets/protocols';
import type { z } from 'zod';
import { resolveTarget, secondsToMs } from './args';
import { CliError, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE, type FlagNames, toCliError, withoutDatagramAdvice } from './errors';
import { packetLine } from './format';
import { elevate, EngineSession, onInterrupt, type Output } from './session';
import { useLabHost } from './lab-host';

type Layer = z.input<typeof LayerSpec>;

export const TEMPLATES = ['icmp-echo', 'icmpv6-echo', 'udp', 'tcp-syn'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

export interface SendOptions {
  /** Start the socket helper (pkexec/sudo) first. */
  elevate?: boolean;
  /** Act from this host of the lab `lab up` started (lab-host.ts). */
  labHost?: string;
  hex?: string;
  layers?: string;
  template?: TemplateName;
  protocol?: number;
  count?: number;
  interval?: number;
  rate?: number;
  port?: number;
  mode?: 'auto' | 'raw' | 'datagram';
  quiet?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  /** --vary LAYER.FIELD=MODE[:…] (repeatable); false: --no-vary (identical packets). */
  vary?: string[] | false;
  /** --answers MS: send-and-match, waiting this long after the last packet. */
  answers?: number;
}

const FLAGS: FlagNames = {
  address: { flag: '<target>' },
  count: { flag: '-c (count)' },
  intervalMs: { flag: '-i (interval)', scale: 1000, unit: 's' },
  rate: { flag: '--rate' },
  protocol: { flag: '--protocol' },
  mode: { flag: '--mode' },
  variations: { flag: '--vary' },
  answers: { flag: '--answers', scale: 1, unit: 'ms' },
  'answers.timeoutMs': { flag: '--answers', scale: 1, unit: 'ms' },
  host: { flag: '--lab-host' },
};

/** IPPROTO_RAW: an IPv4 socket whose packets start with their own IP header. */
const IPPROTO_RAW = 255;

interface Plan {
  protocol: number;
  packet: { hex: string } | { layers: Layer[] };
}

/** The contract's `packet` named after the option that gave it: --hex, --layers[1].kind, --template udp. */
function packetFlags(options: SendOptions): FlagNames {
  if (options.hex !== undefined) return { packet: { flag: '--hex' }, 'packet.hex': { flag: '--hex' } };
  if (options.layers !== undefined) return { packet: { flag: '--layers' }, 'packet.layers': { flag: '--layers' } };
  const template = { flag: `--template ${options.template}` };
  return { packet: template, 'packet.layers': template };
}

/** The packet and the protocol of the socket that can send it. */
export function planPacket(options: SendOptions, family: 4 | 6): Plan {
  const given = [options.hex !== undefined && '--hex', options.layers !== undefined && '--layers', options.template !== undefined && '--template'].filter(Boolean);
  if (given.length !== 1) {
    throw new CliError(EXIT_USAGE, given.length === 0 ? 'give the packet: --hex HEX, --layers JSON or --template NAME' : `${given.join(' and ')}: give one packet, not several`);
  }
  if (options.hex !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = parseHex(options.hex);
    } catch (error) {
      throw new CliError(EXIT_USAGE, `--hex: ${(error as Error).message}`);
    }
    if (bytes.length === 0) throw new CliError(EXIT_USAGE, '--hex: the packet is empty');
    if (options.protocol !== undefined) return { protocol: options.protocol, packet: { hex: options.hex } };
    // An IPv4 header in front: send it as it is, on an IPPROTO_RAW socket.
    if (family === 4 && bytes.length >= 20 && bytes[0] >> 4 === 4 && (bytes[0] & 0x0f) >= 5) return { protocol: IPPROTO_RAW, packet: { hex: options.hex } };
    throw new CliError(EXIT_USAGE, '--protocol: needed with --hex unless the bytes start with an IPv4 header (icmp, icmpv6, udp, tcp or a number)');
  }
  if (options.layers !== undefined) {
    let layers: Layer[];
    try {
      const parsed: unknown = JSON.parse(options.layers);
      layers = (Array.isArray(parsed) ? parsed : (parsed as { layers?: unknown })?.layers) as Layer[];
    } catch (error) {
      throw new CliError(EXIT_USAGE, `--layers: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new CliError(EXIT_USAGE, '--layers: give a JSON array of layers, e.g. [{"kind":"icmp","fields":{"type":8}},{"kind":"payload","data":"6869"}]');
    }
    if (options.protocol !== undefined) return { protocol: options.protocol, packet: { layers } };
    const kinds = layers.map((layer) => (layer as { kind?: unknown })?.kind);
    if (kinds[0] === 'ipv4' && family === 4) return { protocol: IPPROTO_RAW, packet: { layers } };
    const transport = kinds[0] === 'ipv4' || kinds[0] === 'ipv6' ? kinds[1] : kinds[0];
    const protocol = typeof transport === 'string' ? (ipProtocolNumbers as Record<string, number>)[transport] : undefined;
    if (protocol === undefined || protocol === 4 || protocol === 41) {
      throw new CliError(EXIT_USAGE, '--protocol: needed when the layers do not start with an ICMP, ICMPv6, UDP or TCP header (or IPv4 and one of those)');
    }
    return { protocol, packet: { layers } };
  }
  return templatePlan(options.template as TemplateName, family, options);
}

function templatePlan(template: TemplateName, family: 4 | 6, options: SendOptions): Plan {
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    throw new CliError(EXIT_USAGE, `-p (port): must be a whole number from 0 to 65535, got ${options.port}`);
  }
  const payload = (length: number) => Buffer.from(Array.from({ length }, (_, i) => (0x10 + i) & 0xff)).toString('hex');
  const identifier = process.pid & 0xffff;
  const wrongFamily = (needs: 4 | 6) => new CliError(EXIT_USAGE, `--template ${template}: needs an IPv${needs} target${needs === 6 ? ' (icmp-echo is the IPv4 one)' : ' (icmpv6-echo is the IPv6 one)'}`);
  switch (template) {
    case 'icmp-echo':
      if (family !== 4) throw wrongFamily(4);
      return { protocol: 1, packet: { layers: [{ kind: 'icmp', fields: { type: 8, code: 0, identifier, sequence: 1 } }, { kind: 'payload', data: payload(56) }] } };
    case 'icmpv6-echo':
      if (family !== 6) throw wrongFamily(6);
      return { protocol: 58, packet: { layers: [{ kind: 'icmpv6', fields: { type: 128, code: 0, identifier, sequence: 1 } }, { kind: 'payload', data: payload(56) }] } };
    case 'udp':
      return {
        protocol: 17,
        packet: { layers: [{ kind: 'udp', fields: { srcPort: 40000 + (process.pid % 20000), dstPort: options.port ?? 9 } }, { kind: 'payload', data: Buffer.from('packet workbench\n').toString('hex') }] },
      };
    case 'tcp-syn':
      return {
        protocol: 6,
        packet: {
          layers: [{ kind: 'tcp', fields: { srcPort: 40000 + (process.pid % 20000), dstPort: options.port ?? 80, seq: (Math.random() * 0xffffffff) >>> 0, flags: 0x02, window: 64240 } }],
        },
      };
  }
}

/**
 * One --vary: LAYER.FIELD=MODE[:STEP[:COUNT]] for increment/decrement, random[:COUNT], list:V1,V2…;
 * LAYER is the layer's index or kind (the first layer of that kind): 'icmp.sequence=increment',
 * 'ipv4.ttl=list:5,6,7', '1.srcPort=random:100'.
 */
export function parseVary(spec: string, packet: Plan['packet']): { layer: number; field: string; mode: 'increment' | 'decrement' | 'random' | 'list'; step?: number; count?: number; values?: (number | string)[] } {
  const fail = (why: string): never => {
    throw new CliError(EXIT_USAGE, `--vary ${spec}: ${why}; the form is LAYER.FIELD=MODE[:STEP[:COUNT]], e.g. icmp.sequence=increment, ipv4.ttl=list:5,6,7, udp.srcPort=random:100`);
  };
  const match = /^([A-Za-z0-9]+)\.([A-Za-z]+)=(increment|decrement|random|list)(?::(.*))?$/.exec(spec);
  if (!match) return fail('not understood');
  const [, layerText, field, mode, rest] = match as unknown as [string, string, string, 'increment' | 'decrement' | 'random' | 'list', string | undefined];
  if (!('layers' in packet)) return fail('a hex packet is sent as given; variable fields need --layers or --template');
  const kinds = packet.layers.map((layer) => layer.kind);
  const layer = /^\d+$/.test(layerText) ? Number(layerText) : kinds.indexOf(layerText as Layer['kind']);
  if (layer < 0 || layer >= kinds.length) return fail(`the packet has no layer ${layerText} (its layers: ${kinds.map((kind, i) => `${i} ${kind}`).join(', ')})`);
  const number = (text: string, what: string): number => {
    const value = Number(text);
    if (text === '' || !Number.isInteger(value) || value < 1) fail(`${what} must be a whole number of at least 1, got '${text}'`);
    return value;
  };
  if (mode === 'list') {
    if (!rest) return fail('list needs its values: list:V1,V2…');
    const values = rest.split(',').map((text) => (/^\d+$/.test(text) ? Number(text) : text));
    return { layer, field, mode, values };
  }
  const parts = rest === undefined ? [] : rest.split(':');
  if (mode === 'random') {
    if (parts.length > 1) return fail('random takes only a count: random[:COUNT]');
    return { layer, field, mode, ...(parts[0] !== undefined ? { count: number(parts[0], 'COUNT') } : {}) };
  }
  if (parts.length > 2) return fail(`${mode} takes a step and a count at most`);
  return { layer, field, mode, ...(parts[0] ? { step: number(parts[0], 'STEP') } : {}), ...(parts[1] !== undefined ? { count: number(parts[1], 'COUNT') } : {}) };
}

export async function send(targetText: string, options: SendOptions, out: Output): Promise<number> {
  if (options.interval !== undefined && options.rate !== undefined) throw new CliError(EXIT_USAGE, '-i (interval) and --rate: give one of them, not both');
  const target = await resolveTarget(targetText, options.ipv6 ? 6 : options.ipv4 ? 4 : undefined);
  const plan = planPacket(options, target.family);
  const variations = options.vary === false ? [] : options.vary && options.vary.length > 0 ? options.vary.map((spec) => parseVary(spec, plan.packet)) : undefined;
  const flags = { ...FLAGS, ...packetFlags(options) };
  // Send and match reads its pairs back from the log: room for what a busy host's socket also receives meanwhile.
  const session = new EngineSession({ logCapacity: options.answers !== undefined ? 100_000 : 1000 });
  try {
    if (options.elevate) await elevate(session, out);
    const host = useLabHost(session, options.labHost);
    const icmpEcho = plan.protocol === (target.family === 4 ? 1 : 58);
    const socket = await session
      .call('openSocket', { family: target.family === 4 ? 'ipv4' : 'ipv6', protocol: plan.protocol, mode: options.mode ?? 'auto', ...host }, FLAGS)
      .catch((error: unknown) => {
        const failure = toCliError(error);
        throw icmpEcho ? failure : withoutDatagramAdvice(failure);
      });
    let finish: (job: SendJobInfo) => void = () => undefined;
    const finished = new Promise<SendJobInfo>((resolve) => {
      finish = resolve;
    });
    let jobId: string | null = null;
    let early: SendJobInfo | null = null;
    let shown = 0;
    let firstTime = 0;
    const infos = new Map<number, string>();
    const showRow = (row: LogRow): void => {
      if (row.direction !== 'sent') return;
      if (shown++ === 0) firstTime = row.time;
      out.record({ type: 'packet', ...row });
      if (!options.quiet) out.text(packetLine(shown, row, firstTime));
    };
    session.subscribe((batch) => {
      for (const event of batch) {
        if (event.type === 'log') {
          for (const row of event.rows) {
            showRow(row);
            if (options.answers !== undefined) rememberInfo(infos, row);
          }
        }
        else if (event.type === 'sendJob' && event.job.state !== 'running' && event.job.state !== 'waiting') {
          if (event.job.jobId === jobId) finish(event.job);
          else early = event.job;
        }
      }
    });
    const started = await session.call(
      'send',
      {
        socketId: socket.socketId,
        address: target.address,
        packet: plan.packet,
        count: options.count ?? 1,
        ...(variations ? { variations } : {}),
        ...(options.answers !== undefined ? { answers: { timeoutMs: options.answers } } : {}),
        ...(options.interval !== undefined ? { intervalMs: options.interval * 1000 } : {}),
        ...(options.rate !== undefined ? { rate: options.rate } : {}),
      },
      flags,
    );
    jobId = started.jobId;
    const settled = early as SendJobInfo | null;
    if (settled && settled.jobId === jobId) finish(settled);
    const removeHandlers = onInterrupt(() => {
      void session.workbench.cancelSend({ jobId: started.jobId }).catch(() => undefined);
    });
    let job: SendJobInfo;
    try {
      job = await finished;
    } finally {
      removeHandlers();
    }
    session.workbench.flushEvents();
    const seconds = ((job.finishedAt ?? job.startedAt) - job.startedAt) / 1000;
    const errors = job.errors > 0 ? `, ${job.errors} failed${job.error ? ` (${job.error.message})` : ''}` : '';
    const how = job.state === 'done' ? '' : ` (${job.state})`;
    out.text(`${job.sent} of ${job.total} packets sent to ${target.address}${errors} in ${seconds.toFixed(3)} s${how}`);
    if (job.state === 'failed' && job.error) out.note(`send: ${job.error.message}`);
    if (options.answers !== undefined) await showAnswers(session, job.jobId, out, options.quiet === true, infos);
    const exitCode = job.state === 'done' && job.sent === job.total && job.errors === 0 ? EXIT_OK : EXIT_NO_RESULT;
    out.record({ type: 'summary', target: target.name, protocol: plan.protocol, mode: socket.mode, ...job, exitCode });
    return exitCode;
  } finally {
    await session.close();
  }
}

/** Send-and-match's outcome, as Scapy's sr() sums it up: the pairs, then what got no answer (by log row number). */
async function showAnswers(session: EngineSession, jobId: string, out: Output, quiet: boolean, infos: ReadonlyMap<number, string>): Promise<void> {
  const results = await session.call('sendResults', { jobId, limit: 1000 }, FLAGS);
  // Rows the log overwrote since (other traffic of a busy host) are described from the events that carried them.
  for (const pair of results.answered) {
    if (infos.has(pair.requestId) && infos.has(pair.replyId)) pair.summary = `${infos.get(pair.requestId)} → ${infos.get(pair.replyId)}`;
  }
  for (const lonely of results.unanswered) lonely.summary = infos.get(lonely.requestId) ?? lonely.summary;
  out.record({ type: 'results', ...results });
  out.text(`${results.answeredTotal} answered, ${results.unansweredTotal} unanswered`);
  if (quiet) return;
  for (const pair of results.answered) out.text(`  #${pair.requestId} → #${pair.replyId}  ${pair.rttMs.toFixed(3)} ms  ${pair.summary}`);
  for (const lonely of results.unanswered) out.text(`  #${lonely.requestId} no answer  ${lonely.summary}`);
  const shown = results.answered.length + results.unanswered.length;
  if (shown < results.answeredTotal + results.unansweredTotal) out.text(`  (the first 1000 of each shown)`);
}

/** Remembers the Info of rows sent and of the replies to them (at most 100,000: --answers shows 1000 of each). */
function rememberInfo(infos: Map<number, string>, row: LogRow): void {
  if (infos.size >= 100_000) return;
  if (row.direction === 'sent' || (row.match?.requestId !== undefined && infos.has(row.match.requestId))) infos.set(row.id, row.info);
}
