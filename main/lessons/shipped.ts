// The shipped lessons (shipped/*.json, copied beside the built code by build:main) and
// loading a lesson by shipped name or by file path, checked against its topology.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Lesson, LessonSummary } from '../../common/contract';
import { loadTopology } from '../lab/topologies';
import type { Topology } from '../lab/topology';
import { LessonError, parseLesson, type CompiledLesson, type LessonFile } from './lesson';

export const SHIPPED_LESSONS_DIR = path.join(__dirname, 'shipped');

// The file's type is the contract's Lesson: a change to one that the other does not follow fails the typecheck.
const sameShape: (file: LessonFile) => Lesson = (file) => file;
void sameShape;

/** Shipped topologies by name (a lesson may only name a shipped one). */
function shippedTopology(name: string): Topology {
  if (name.includes('/') || name.endsWith('.json')) throw new Error(`'${name}' is a file: a lesson names a shipped topology`);
  return loadTopology(name);
}

function shippedFiles(): string[] {
  if (!existsSync(SHIPPED_LESSONS_DIR)) return [];
  return readdirSync(SHIPPED_LESSONS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => path.join(SHIPPED_LESSONS_DIR, file));
}

/** Reads and checks a lesson file; throws LessonError naming what is wrong. */
export function readLessonFile(file: string): CompiledLesson {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LessonError(file, [{ path: '', message: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  return parseLesson(text, shippedTopology, file);
}

/** Every shipped lesson, checked (a broken shipped file is a bug: it throws). */
export function shippedLessons(): CompiledLesson[] {
  return shippedFiles().map(readLessonFile);
}

export function summarizeLesson({ file }: CompiledLesson): LessonSummary {
  return {
    name: file.name,
    title: file.title,
    summary: file.summary ?? '',
    topology: file.topology,
    steps: file.steps.length,
    checks: file.steps.reduce((sum, step) => sum + step.checks.length, 0),
  };
}

/**
 * A shipped lesson by name ("ping-rtt") or a file ("./my-lesson.json"; anything with a
 * slash or ending in .json is a file). Throws LessonError naming what is wrong.
 */
export function loadLesson(nameOrFile: string): CompiledLesson {
  if (nameOrFile.includes('/') || nameOrFile.endsWith('.json')) return readLessonFile(nameOrFile);
  const lessons = shippedLessons();
  const match = lessons.find((lesson) => lesson.file.name === nameOrFile);
  if (!match) throw new LessonError(nameOrFile, [{ path: '', message: `no shipped lesson of that name (shipped: ${lessons.map((l) => l.file.name).join(', ')}; a file needs a / or .json)` }]);
  return match;
}
