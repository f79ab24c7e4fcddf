// The lessons as engine methods: the shipped list, one lesson, and its checks evaluated
// over the current log (main/lessons/evaluate.ts, the evaluator `lesson check` runs too).
import type { Lesson, LessonSummary, LessonVerdict, Params } from '../../common/contract';
import { WorkbenchError } from '../../common/validate';
import { evaluateLesson } from '../lessons/evaluate';
import type { CompiledLesson } from '../lessons/lesson';
import type { LessonPacket } from '../lessons/predicate';
import { shippedLessons, summarizeLesson } from '../lessons/shipped';
import type { Lifetime } from './lifetime';

export class Lessons {
  /** Read once: shipped files do not change while the engine runs. */
  private shipped: CompiledLesson[] | null = null;

  constructor(
    private readonly lifetime: Lifetime,
    /** The log's rows with their bytes, oldest first. */
    private readonly rows: () => LessonPacket[],
  ) {}

  async list(): Promise<LessonSummary[]> {
    this.lifetime.alive();
    return this.all().map(summarizeLesson);
  }

  async lesson(params: Params<'lesson'>): Promise<Lesson> {
    this.lifetime.alive();
    return this.find(params.name).file;
  }

  /** Judged now: a request younger than a check's "no reply within N s" may still be answered. */
  async check(params: Params<'checkLesson'>): Promise<LessonVerdict> {
    this.lifetime.alive();
    return evaluateLesson(this.find(params.name), this.rows(), { now: Date.now() });
  }

  /** Any lesson (a file too) over the log taken as a complete record: the CLI's offline grading. */
  evaluate(lesson: CompiledLesson): LessonVerdict {
    this.lifetime.alive();
    return evaluateLesson(lesson, this.rows());
  }

  private all(): CompiledLesson[] {
    return (this.shipped ??= shippedLessons());
  }

  private find(name: string): CompiledLesson {
    const lessons = this.all();
    const lesson = lessons.find((l) => l.file.name === name);
    if (!lesson) throw new WorkbenchError('NOT_FOUND', `No lesson '${name}' (shipped: ${lessons.map((l) => l.file.name).join(', ')})`, 'name');
    return lesson;
  }
}
