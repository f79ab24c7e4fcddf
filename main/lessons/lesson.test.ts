// The lesson file format: every shipped lesson loads; a broken file is refused with its
// field path and line, unknown fields (of the file and of a display filter) are named.
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../lab/topologies';
import { LessonError, parseLesson } from './lesson';
import { loadLesson, shippedLessons, summarizeLesson } from './shipped';
import { SHIPPED_LESSONS_DIR } from './shipped';

// Run from the sources: the shipped topologies sit beside main/lab/topologies.ts, the lessons here.
const topologyOf = (name: string) => loadTopology(name);

const base = {
  name: 'test-lesson',
  title: 'A test',
  topology: 'line',
  steps: [
    {
      title: 'Ping',
      text: 'Ping the target.',
      prepare: { method: 'ping', host: 'client', params: { target: '198.18.4.2', count: 2 } },
      checks: [{ id: 'reply', kind: 'count', text: 'A reply', match: { icmpType: 'echo-reply', from: 'target' } }],
    },
  ],
};

/** The lesson as pretty JSON with one change made by `edit`; the error it raises (or none). */
function issuesOf(edit: (lesson: typeof base & Record<string, unknown>) => void): LessonError | undefined {
  const lesson = structuredClone(base) as typeof base & Record<string, unknown>;
  edit(lesson);
  try {
    parseLesson(JSON.stringify(lesson, null, 2), topologyOf, 'test.json');
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(LessonError);
    return error as LessonError;
  }
}

const check0 = (lesson: typeof base) => lesson.steps[0].checks[0] as Record<string, unknown> & { match: Record<string, unknown> };

describe('lesson files', () => {
  it('ships six lessons, each loading against its topology', () => {
    expect(SHIPPED_LESSONS_DIR).toMatch(/main[/\\]lessons[/\\]shipped$/);
    const lessons = shippedLessons().map(summarizeLesson);
    expect(lessons.map((l) => [l.name, l.topology])).toEqual([
      ['checksums', 'line'],
      ['ecmp-diamond', 'diamond'],
      ['mtr-lossy', 'lossy'],
      ['ping-rtt', 'line'],
      ['pmtu-small-mtu', 'small-mtu'],
      ['ttl-traceroute', 'line'],
    ]);
    for (const lesson of lessons) expect(lesson.checks).toBeGreaterThanOrEqual(lesson.steps);
    expect(loadLesson('ping-rtt').file.title).toBe('Ping and round-trip time');
  });

  it('accepts the minimal lesson', () => {
    expect(issuesOf(() => undefined)).toBeUndefined();
  });

  it('names an unknown field with its path and line', () => {
    const error = issuesOf((l) => {
      check0(l).match.icmpTyp = 8;
    })!;
    expect(error.issues).toEqual([{ path: 'steps[0].checks[0].match', message: "unknown field 'icmpTyp'", line: 25, column: 24 }]);
    expect(error.message).toBe("test.json: steps[0].checks[0].match: unknown field 'icmpTyp' (line 25, column 24)");
  });

  it('names an unknown display filter field at load time, with a suggestion', () => {
    const error = issuesOf((l) => {
      check0(l).match.filter = 'icmp.tpye == 8';
    })!;
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].path).toBe('steps[0].checks[0].match.filter');
    expect(error.issues[0].message).toMatch(/^display filter: .*icmp\.tpye.*icmp\.type/);
    expect(error.issues[0].line).toBe(25);
  });

  it('refuses hosts the topology does not have, in checks and in prepare', () => {
    const error = issuesOf((l) => {
      check0(l).match.from = 'server';
      l.steps[0].prepare.host = 'laptop';
    })!;
    expect(error.issues.map((i) => [i.path, i.message])).toEqual([
      ['steps[0].prepare.host', "unknown host 'laptop' (hosts: client, r1, r2, r3, target)"],
      ['steps[0].checks[0].match.from', "unknown host 'server' (hosts: client, r1, r2, r3, target; or give an address)"],
    ]);
  });

  it('checks prepared experiments with the contract: a bad ping parameter names its path', () => {
    const error = issuesOf((l) => {
      (l.steps[0].prepare.params as Record<string, unknown>).count = 0;
      (l.steps[0].prepare.params as Record<string, unknown>).colour = 'red';
    })!;
    expect(error.issues.map((i) => i.path).sort()).toEqual(['steps[0].prepare.params', 'steps[0].prepare.params.count']);
    expect(error.message).toContain("unknown field 'colour'");
  });

  it('refuses a missing field, a wrong kind, a duplicate check id, atMost below atLeast, a named type with a code', () => {
    expect(issuesOf((l) => delete (l as Partial<typeof base>).title)?.issues).toEqual([{ path: 'title', message: 'required', line: 1, column: 1 }]);
    expect(issuesOf((l) => (check0(l).kind = 'sometimes'))?.issues[0]).toMatchObject({ path: 'steps[0].checks[0].kind', message: "kind must be 'count', 'order' or 'no-reply'" });
    const twice = issuesOf((l) => l.steps[0].checks.push({ ...l.steps[0].checks[0] }));
    expect(twice?.issues.map((i) => i.message)).toEqual(["'reply' is also the id of steps[0].checks[0]"]);
    const bounds = issuesOf((l) => Object.assign(check0(l), { atLeast: 5, atMost: 2 }));
    expect(bounds?.issues[0]).toMatchObject({ path: 'steps[0].checks[0].atMost', message: 'is less than atLeast (5)' });
    const code = issuesOf((l) => Object.assign(check0(l).match, { icmpType: 'port-unreachable', icmpCode: 1 }));
    expect(code?.issues[0]).toMatchObject({ path: 'steps[0].checks[0].match.icmpCode', message: "'port-unreachable' already names its code" });
  });

  it('refuses a topology that is not shipped, and names a JSON syntax error by line', () => {
    expect(issuesOf((l) => (l.topology = 'ring'))?.issues[0].message).toMatch(/no shipped topology of that name/);
    expect(() => parseLesson('{\n  "name": "x",\n  "title": }', topologyOf, 'bad.json')).toThrow(/^bad\.json: line 3, column \d+: Unexpected token/);
  });

  it('loads a lesson file by path and refuses an unknown shipped name with the list', () => {
    expect(() => loadLesson('no-such-lesson')).toThrow(/no shipped lesson of that name \(shipped: checksums, ecmp-diamond, /);
    expect(() => loadLesson('/nonexistent/lesson.json')).toThrow(/cannot read it: ENOENT/);
  });
});
