// The lesson file: a small JSON document with a title, the shipped topology it runs in,
// and steps, each with the concept in prose, an experiment or packet to load with one
// click, and checks over the log (see README.md beside this file). parseLesson() checks
// the shape with zod, then the meaning (hosts exist in the topology, display filters
// compile, check ids are unique); every error names its place and line, as topology
// files do: `steps[1].checks[0].match.filter: unknown field 'icmp.tpye' … (line 14, column 22)`.
import { z } from 'zod';
import { methods } from '../../common/contract';
import { positionOf, valueOffsets } from '../lab/json-locate';
import { formatPath } from '../lab/json-path';
import type { Topology } from '../lab/topology';
import { compilePredicate, ICMP_TYPE_NAMES, type Predicate } from './predicate';

const LESSON_NAME = /^[a-z][a-z0-9-]{0,47}$/;
const CHECK_ID = /^[a-z][a-z0-9-]{0,47}$/;
const hostName = z.string().regex(/^[a-z][a-z0-9]{0,11}$/, 'must be a host name of the topology');
const count = z.number().int('must be a whole number').min(0, 'must be 0 or more').max(1_000_000, 'must be at most 1000000');

/** Which packets a check looks at; every given condition must hold (see predicate.ts). */
export const matchSchema = z.strictObject({
  /** 'icmp' is ICMPv4, 'icmpv6' ICMPv6: the packet's own transport header, not a quoted one. */
  protocol: z.enum(['icmp', 'icmpv6', 'udp', 'tcp']).optional(),
  family: z.enum(['ipv4', 'ipv6']).optional(),
  /** A name (both families: echo-request is ICMP 8 or ICMPv6 128) or the type number of the packet's ICMP/ICMPv6 header. */
  icmpType: z.union([z.enum(ICMP_TYPE_NAMES), z.number().int().min(0).max(255)]).optional(),
  icmpCode: z.number().int().min(0).max(255).optional(),
  direction: z.enum(['sent', 'received', 'imported']).optional(),
  /** A host of the topology (by its addresses; by LogRow.host where the source is not logged) or an address. */
  from: z.string().min(1).max(64).optional(),
  to: z.string().min(1).max(64).optional(),
  /** The lab host the packet was seen on (LogRow.host). */
  seenOn: hostName.optional(),
  /** A display filter over the decoded fields (packets/display-filter.ts), e.g. "ip.ttl <= 3 && udp". */
  filter: z.string().min(1).max(2000).optional(),
  /** The decoder's checksum verdict on any header of the packet (the IP, ICMP, UDP or TCP checksum). */
  checksum: z.enum(['correct', 'wrong']).optional(),
  /** A request that has (true) or has not (false) a matched reply in the log (echo reply, ICMP error, SYN-ACK/RST). */
  answered: z.boolean().optional(),
});

const checkBase = { id: z.string().regex(CHECK_ID, 'must be a lowercase letter then lowercase letters, digits or -'), text: z.string().min(1).max(300) };

export const checkSchema = z.discriminatedUnion(
  'kind',
  [
    /** At least / at most so many packets match. */
    z.strictObject({ ...checkBase, kind: z.literal('count'), match: matchSchema, atLeast: count.optional(), atMost: count.optional() }),
    /** A packet matching `first`, later a packet matching `then`. */
    z.strictObject({ ...checkBase, kind: z.literal('order'), first: matchSchema, then: matchSchema }),
    /** A packet matching `match` and none matching `reply` (default: its matched reply) within `seconds` after it. */
    z.strictObject({ ...checkBase, kind: z.literal('no-reply'), match: matchSchema, reply: matchSchema.optional(), seconds: z.number().min(0.001).max(3600) }),
  ],
  { error: "kind must be 'count', 'order' or 'no-reply'" },
);

/** The experiment or packet a step loads with one click: a contract method and its parameters as the engine takes them. */
const prepareSchema = z.discriminatedUnion(
  'method',
  [
    z.strictObject({ method: z.literal('ping'), host: hostName.optional(), params: z.record(z.string(), z.unknown()) }),
    z.strictObject({ method: z.literal('traceroute'), host: hostName.optional(), params: z.record(z.string(), z.unknown()) }),
    z.strictObject({ method: z.literal('mtr'), host: hostName.optional(), params: z.record(z.string(), z.unknown()) }),
    z.strictObject({ method: z.literal('pmtu'), host: hostName.optional(), params: z.record(z.string(), z.unknown()) }),
    /** A packet for the editor: send's parameters without socketId (the GUI opens the socket). */
    z.strictObject({ method: z.literal('send'), host: hostName.optional(), params: z.record(z.string(), z.unknown()) }),
  ],
  { error: "method must be 'ping', 'traceroute', 'mtr', 'pmtu' or 'send'" },
);

const stepSchema = z.strictObject({
  title: z.string().min(1).max(120),
  /** The concept, in a few paragraphs of plain text. */
  text: z.string().min(1).max(4000),
  prepare: prepareSchema.optional(),
  checks: z.array(checkSchema).min(1, 'needs at least one check').max(32),
});

export const lessonSchema = z.strictObject({
  name: z.string().regex(LESSON_NAME, 'must be a lowercase letter then up to 47 lowercase letters, digits or -'),
  title: z.string().min(1).max(120),
  /** One line for the lesson list. */
  summary: z.string().max(300).optional(),
  /** A shipped topology name (main/lab/topologies). */
  topology: z.string().min(1).max(64),
  steps: z.array(stepSchema).min(1, 'needs at least one step').max(32),
});

export type LessonFile = z.infer<typeof lessonSchema>;
export type LessonStep = LessonFile['steps'][number];
export type LessonCheck = LessonStep['checks'][number];
export type LessonMatch = z.infer<typeof matchSchema>;
export type LessonPrepare = NonNullable<LessonStep['prepare']>;

/** A checked lesson: the file plus every check's predicates compiled against its topology. */
export interface CompiledLesson {
  file: LessonFile;
  /** predicates[step][check]: the check's match (count, no-reply) or first (order), then its then / reply. */
  predicates: Predicate[][][];
}

export interface LessonIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class LessonError extends Error {
  readonly issues: LessonIssue[];

  constructor(source: string, issues: LessonIssue[]) {
    const where = (issue: LessonIssue) => (issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column})` : '');
    super(`${source}: ${issues.map((issue) => `${issue.path ? `${issue.path}: ` : ''}${issue.message}${where(issue)}`).join('; ')}`);
    this.name = 'LessonError';
    this.issues = issues;
  }
}

type Located = LessonIssue & { at?: string };

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

function zodIssues(error: z.ZodError, json: unknown, prefix: readonly PropertyKey[] = []): Located[] {
  return error.issues.map((issue) => {
    const full = [...prefix, ...issue.path];
    const path = formatPath(full);
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`, at: formatPath([...full, issue.keys[0]]) };
    }
    if (full.length > 0 && valueAt(json, full) === undefined) return { path, message: 'required' };
    return { path, message: issue.message.replace(/^Invalid (input|option): /, '') };
  });
}

/**
 * Parses and checks lesson text against the topology it names (`topologyOf` loads a shipped
 * topology by name and throws when there is none); `source` names the text in errors. Throws LessonError.
 */
export function parseLesson(text: string, topologyOf: (name: string) => Topology, source = 'lesson'): CompiledLesson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const { line, column } = positionOf(text, position ? Number(position[1]) : text.length);
    throw new LessonError(source, [{ path: '', message: `line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, '')}` }]);
  }
  const parsed = lessonSchema.safeParse(json);
  const issues: Located[] = parsed.success ? [] : zodIssues(parsed.error, json);
  const compiled = parsed.success ? checkMeaning(parsed.data, json, topologyOf, issues) : undefined;
  if (issues.length > 0 || !compiled) throw new LessonError(source, locate(text, issues));
  return compiled;
}

/** Adds the line and column of each issue's value (or of the nearest enclosing value that exists). */
function locate(text: string, issues: Located[]): LessonIssue[] {
  const offsets = valueOffsets(text);
  return issues.map(({ at, ...issue }) => {
    let path = at ?? issue.path;
    for (let depth = 0; depth < 64 && !offsets.has(path) && path !== ''; depth++) path = path.replace(/(?:\.?[^.[\]]+|\[\d+\])$/, '');
    const offset = offsets.get(path);
    return offset === undefined ? issue : { ...issue, ...positionOf(text, offset) };
  });
}

function checkMeaning(file: LessonFile, json: unknown, topologyOf: (name: string) => Topology, issues: Located[]): CompiledLesson | undefined {
  let topology: Topology;
  try {
    topology = topologyOf(file.topology);
  } catch (error) {
    issues.push({ path: 'topology', message: (error as Error).message });
    return undefined;
  }
  const hosts = topology.hosts.map((host) => host.name);
  const ids = new Map<string, string>();
  const predicates = file.steps.map((step, s) => {
    if (step.prepare) {
      const path = ['steps', s, 'prepare'];
      if (step.prepare.host !== undefined && !hosts.includes(step.prepare.host)) issues.push({ path: formatPath([...path, 'host']), message: `unknown host '${step.prepare.host}' (hosts: ${hosts.join(', ')})` });
      checkPrepare(step.prepare, json, [...path, 'params'], issues);
    }
    return step.checks.map((check, c) => {
      const path = `steps[${s}].checks[${c}]`;
      if (ids.has(check.id)) issues.push({ path: `${path}.id`, message: `'${check.id}' is also the id of ${ids.get(check.id)}` });
      ids.set(check.id, path);
      const matches: Array<[string, LessonMatch | undefined]> =
        check.kind === 'order' ? [['first', check.first], ['then', check.then]] : check.kind === 'no-reply' ? [['match', check.match], ['reply', check.reply]] : [['match', check.match]];
      if (check.kind === 'count' && check.atLeast !== undefined && check.atMost !== undefined && check.atLeast > check.atMost) {
        issues.push({ path: `${path}.atMost`, message: `is less than atLeast (${check.atLeast})` });
      }
      return matches.flatMap(([key, match]) => {
        if (!match) return [];
        try {
          return [compilePredicate(match, topology)];
        } catch (error) {
          const field = (error as { field?: string }).field;
          issues.push({ path: `${path}.${key}${field ? `.${field}` : ''}`, message: (error as Error).message });
          return [];
        }
      });
    });
  });
  if (issues.length > 0) return undefined;
  return { file, predicates };
}

/** A step's prepared experiment must be what the engine would take (send: without its socketId). */
function checkPrepare(prepare: LessonPrepare, json: unknown, path: PropertyKey[], issues: Located[]): void {
  const known = methods as unknown as Record<string, { params: z.ZodType } | undefined>;
  const schema = known[prepare.method]?.params;
  // mtr and pmtu are checked once the engine has them.
  if (!schema) return;
  const params = prepare.method === 'send' ? { socketId: 'lesson', ...prepare.params } : prepare.params;
  const parsed = schema.safeParse(params);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, json, path));
}
