// packet-workbench lesson list|check: the shipped lessons, and offline grading. `lesson
// check LESSON --capture FILE` imports what a student hands in (pcapng or pcap) into an
// engine of its own and runs the evaluator the GUI's live checks run, one line per check.
// `--workspace FILE` grades a saved workspace instead (its log; the file checked whole first).
// Exit codes: 0 every check passed, 1 some failed, 2 usage (unknown lesson, bad lesson
// file, unreadable or broken capture or workspace).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { IMPORT_PIECE_BYTES, type LessonVerdict } from '../../common/contract';
import { LessonError, type CompiledLesson } from '../lessons/lesson';
import { loadLesson, shippedLessons, summarizeLesson } from '../lessons/shipped';
import { CliError, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE } from './errors';
import { EngineSession, type Output } from './session';
import { readWorkspaceArg } from './workspace';

type Action = (out: Output) => Promise<number>;

/** Largest capture `lesson check` reads (imported in pieces: importInPieces). */
const MAX_CAPTURE_BYTES = 140_000_000;

export function registerLessonCommands(program: Command, set: (name: string, action: Action) => void, named: (name: string) => void): Command {
  const lesson = program.command('lesson').description('lessons: the shipped list, and grading a capture against a lesson\'s checks');
  lesson.hook('preSubcommand', (_thisCommand, sub) => named(`lesson ${sub.name()}`));
  lesson
    .command('list')
    .description('the shipped lessons')
    .option('--json', 'one JSON object per lesson')
    .action(() => set('lesson list', (out) => lessonList(out)));
  lesson
    .command('check')
    .description('evaluate a lesson\'s checks over a capture file: one verdict line per check; exit 0 when all passed, 1 when some failed')
    .argument('<lesson>', 'shipped lesson (see `lesson list`) or lesson file')
    .option('--capture <file>', 'what the student hands in: a pcapng or pcap file')
    .option('--workspace <file>', 'or a workspace the student saved (its log is graded)')
    .option('--json', 'one JSON object per check, then the verdict')
    .action((name: string, options: { capture?: string; workspace?: string }) => set('lesson check', (out) => lessonCheck(name, handedIn(options), out)));
  return lesson;
}

async function lessonList(out: Output): Promise<number> {
  const lessons = shippedLessons().map(summarizeLesson);
  const width = Math.max(4, ...lessons.map((l) => l.name.length));
  const topologyWidth = Math.max(8, ...lessons.map((l) => l.topology.length));
  out.text(`${'NAME'.padEnd(width)}  ${'TOPOLOGY'.padEnd(topologyWidth)}  STEPS  CHECKS  TITLE`);
  for (const lesson of lessons) {
    out.text(`${lesson.name.padEnd(width)}  ${lesson.topology.padEnd(topologyWidth)}  ${String(lesson.steps).padStart(5)}  ${String(lesson.checks).padStart(6)}  ${lesson.title}`);
    out.record({ type: 'lesson', ...lesson });
  }
  return EXIT_OK;
}

function lessonOrUsage(nameOrFile: string): CompiledLesson {
  try {
    return loadLesson(nameOrFile);
  } catch (error) {
    if (error instanceof LessonError) throw new CliError(EXIT_USAGE, error.message);
    throw error;
  }
}

function readCaptureFile(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new CliError(EXIT_USAGE, `--capture ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (bytes.length === 0) throw new CliError(EXIT_USAGE, `--capture ${file}: the file is empty`);
  if (bytes.length > MAX_CAPTURE_BYTES) throw new CliError(EXIT_USAGE, `--capture ${file}: larger than ${MAX_CAPTURE_BYTES / 1e6} MB`);
  return bytes;
}

/** Exactly one of --capture and --workspace. */
function handedIn(options: { capture?: string; workspace?: string }): { file: string; workspace: boolean } {
  if ((options.capture === undefined) === (options.workspace === undefined)) throw new CliError(EXIT_USAGE, 'give what the student handed in: --capture FILE or --workspace FILE (one of them)');
  return options.workspace !== undefined ? { file: options.workspace, workspace: true } : { file: options.capture!, workspace: false };
}

async function lessonCheck(nameOrFile: string, handed: { file: string; workspace: boolean }, out: Output): Promise<number> {
  const lesson = lessonOrUsage(nameOrFile);
  const captureFile = handed.file;
  // A workspace is a pcapng file: once checked whole, the engine imports its log as any capture.
  const capture = handed.workspace ? readWorkspaceArg(captureFile, '--workspace ').bytes : readCaptureFile(captureFile);
  const session = new EngineSession({ logCapacity: 5_000_000 });
  let verdict: LessonVerdict;
  let packets: number;
  try {
    packets = await importInPieces(session, capture, handed.workspace ? '--workspace' : '--capture');
    verdict = session.workbench.evaluateLesson(lesson);
  } finally {
    await session.close();
  }
  const checks = verdict.steps.flatMap((step) => step.checks);
  const passed = checks.filter((check) => check.passed).length;
  out.text(`lesson ${lesson.file.name}: ${lesson.file.title} (topology ${lesson.file.topology}), ${packets} packets from ${captureFile}`);
  const idWidth = Math.max(...checks.map((check) => check.id.length));
  verdict.steps.forEach((step, s) => {
    out.text(`step ${s + 1}: ${step.title}`);
    for (const check of step.checks) {
      const evidence = check.evidence.length > 0 ? ` [${check.evidence.map((id) => `#${id}`).join(' ')}]` : '';
      out.text(`  ${check.passed ? 'pass' : 'FAIL'}  ${check.id.padEnd(idWidth)}  ${check.text}${check.passed ? '' : `: ${check.reason ?? 'not yet'}`}${evidence}`);
      out.record({ type: 'check', step: s + 1, ...check });
    }
  });
  out.text(`${passed} of ${checks.length} checks passed`);
  out.record({ type: 'verdict', lesson: verdict.lesson, capture: captureFile, packets, passed, failed: checks.length - passed, steps: verdict.steps });
  return passed === checks.length ? EXIT_OK : EXIT_NO_RESULT;
}

/** The capture through openImport/writeImport, a piece at a time (importPcapng takes files up to 8 MiB). */
async function importInPieces(session: EngineSession, capture: Buffer, flag: string): Promise<number> {
  const { importId } = await session.call('openImport', {});
  for (let at = 0; ; at += IMPORT_PIECE_BYTES) {
    const end = at + IMPORT_PIECE_BYTES >= capture.length;
    const piece = capture.subarray(at, at + IMPORT_PIECE_BYTES).toString('base64');
    const { imported } = await session.call('writeImport', { importId, data: piece, end }, { data: { flag } });
    if (end) return imported;
  }
}
