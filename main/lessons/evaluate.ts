// One evaluator for every place a lesson is checked: the engine's live checkLesson
// (over its log) and the CLI's offline `lesson check` (over an imported capture).
// Each check passes or not, with the log row ids that show it (evidence) or why not.
import type { LessonCheckVerdict, LessonVerdict } from '../../common/contract';
import type { CompiledLesson, LessonCheck } from './lesson';
import type { LessonPacket, Predicate } from './predicate';

/** Evidence rows a verdict names at most (the first ones). */
export const MAX_EVIDENCE = 20;

export interface EvaluateOptions {
  /**
   * The time (ms since the epoch) "no reply within N s" is judged at: a request younger than
   * N s may still be answered (the live log). Default: never, the packets are a complete
   * record (a capture handed in: nothing more will come).
   */
  now?: number;
}

/** Evaluates every check of the lesson over the packets, in log order. */
export function evaluateLesson(lesson: CompiledLesson, packets: readonly LessonPacket[], options: EvaluateOptions = {}): LessonVerdict {
  const now = options.now ?? Infinity;
  const byId = new Map<number, LessonPacket>();
  for (const packet of packets) byId.set(packet.row.id, packet);
  return {
    lesson: lesson.file.name,
    steps: lesson.file.steps.map((step, s) => ({
      title: step.title,
      checks: step.checks.map((check, c) => ({ id: check.id, text: check.text, ...judge(check, lesson.predicates[s][c], packets, byId, now) })),
    })),
  };
}

type Judgement = Omit<LessonCheckVerdict, 'id' | 'text'>;

function judge(check: LessonCheck, predicates: Predicate[], packets: readonly LessonPacket[], byId: Map<number, LessonPacket>, now: number): Judgement {
  switch (check.kind) {
    case 'count':
      return count(check, predicates[0], packets);
    case 'order':
      return order(predicates[0], predicates[1], packets);
    case 'no-reply':
      return noReply(check.seconds * 1000, predicates[0], check.reply ? predicates[1] : undefined, packets, byId, now);
  }
}

function count(check: Extract<LessonCheck, { kind: 'count' }>, match: Predicate, packets: readonly LessonPacket[]): Judgement {
  const atLeast = check.atLeast ?? (check.atMost === undefined ? 1 : 0);
  const ids: number[] = [];
  for (const packet of packets) if (match.test(packet)) ids.push(packet.row.id);
  const evidence = ids.slice(0, MAX_EVIDENCE);
  if (ids.length < atLeast) return { passed: false, evidence, reason: `${matching(ids.length)}, at least ${atLeast} needed` };
  if (check.atMost !== undefined && ids.length > check.atMost) return { passed: false, evidence, reason: `${matching(ids.length)}, at most ${check.atMost} allowed` };
  return { passed: true, evidence };
}

function matching(count: number): string {
  return count === 0 ? 'no packets match' : count === 1 ? '1 packet matches' : `${count} packets match`;
}

function order(first: Predicate, then: Predicate, packets: readonly LessonPacket[]): Judgement {
  let before: LessonPacket | undefined;
  let thenSeen: number | undefined;
  for (const packet of packets) {
    if (before && then.test(packet)) return { passed: true, evidence: [before.row.id, packet.row.id] };
    if (!before && first.test(packet)) before = packet;
    else if (!before && thenSeen === undefined && then.test(packet)) thenSeen = packet.row.id;
  }
  if (!before) return { passed: false, evidence: [], reason: 'no packet matches the first part' };
  if (thenSeen !== undefined) return { passed: false, evidence: [before.row.id, thenSeen], reason: `the second part (#${thenSeen}) came only before the first (#${before.row.id})` };
  return { passed: false, evidence: [before.row.id], reason: `nothing matches the second part after #${before.row.id}` };
}

/** A packet matching `match` that nothing answered within the window (its matched reply, or a packet matching `reply`). */
function noReply(windowMs: number, match: Predicate, reply: Predicate | undefined, packets: readonly LessonPacket[], byId: Map<number, LessonPacket>, now: number): Judgement {
  let answered: [number, number] | undefined;
  let tooRecent: number | undefined;
  for (let i = 0; i < packets.length; i++) {
    const request = packets[i];
    if (!match.test(request)) continue;
    const deadline = request.row.time + windowMs;
    let answer: LessonPacket | undefined;
    if (reply) {
      for (let j = i + 1; j < packets.length && packets[j].row.time <= deadline; j++) {
        if (reply.test(packets[j])) {
          answer = packets[j];
          break;
        }
      }
    } else {
      const replyId = request.row.match?.replyId;
      const linked = replyId === undefined ? undefined : byId.get(replyId);
      if (linked && linked.row.time <= deadline) answer = linked;
    }
    if (answer) {
      answered ??= [request.row.id, answer.row.id];
      continue;
    }
    // Not answered yet, but the window is still open.
    if (deadline > now) {
      tooRecent ??= request.row.id;
      continue;
    }
    return { passed: true, evidence: [request.row.id] };
  }
  const seconds = windowMs / 1000;
  if (tooRecent !== undefined) return { passed: false, evidence: [tooRecent], reason: `#${tooRecent} has no reply yet, but ${seconds} s have not passed since` };
  if (answered) return { passed: false, evidence: answered, reason: `every matching packet got a reply within ${seconds} s (#${answered[0]} → #${answered[1]})` };
  return { passed: false, evidence: [], reason: 'no packet matches' };
}
