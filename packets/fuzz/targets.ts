// Every decoder under fuzz, and the loop that feeds one: input i of a run is drawn from
// Random(seed, i), so a failure names its seed and index and replays alone.

import type { HeaderKind } from '../layer';
import { captureInput, checkCapture, checkLesson, checkTopology, checkWorkspace, lessonInput, topologyInput, workspaceInput } from './files';
import { checkDecode, decodeInput } from './packets';
import { Random } from './random';

export interface FuzzTarget {
  readonly name: string;
  /** Inputs of the short run inside `npm test` (the long run does a million each). */
  readonly shortInputs: number;
  run(random: Random): void;
}

const layer = (first: HeaderKind): FuzzTarget => ({
  name: `decode ${first}`,
  shortInputs: 25_000,
  run: (random) => checkDecode(decodeInput(random, first)),
});

export const fuzzTargets: readonly FuzzTarget[] = [
  { name: 'decode (auto: IP, ICMP errors)', shortInputs: 40_000, run: (random) => checkDecode(decodeInput(random)) },
  layer('ipv4'),
  layer('ipv6'),
  layer('icmp'),
  layer('icmpv6'),
  layer('udp'),
  layer('tcp'),
  { name: 'readCapture (pcapng, pcap)', shortInputs: 20_000, run: (random) => checkCapture(captureInput(random)) },
  { name: 'readWorkspaceFile', shortInputs: 10_000, run: (random) => checkWorkspace(workspaceInput(random)) },
  { name: 'parseTopology', shortInputs: 4_000, run: (random) => checkTopology(topologyInput(random)) },
  { name: 'parseLesson', shortInputs: 4_000, run: (random) => checkLesson(lessonInput(random)) },
];

export interface FuzzResult {
  readonly name: string;
  readonly inputs: number;
  readonly seconds: number;
  readonly failure?: { readonly index: number; readonly message: string };
}

/** Feeds `inputs` inputs (or fewer when `seconds` run out) to a target; stops at the first failure. */
export function fuzz(target: FuzzTarget, seed: number, inputs: number, seconds = Infinity, firstIndex = 0, progress?: (done: number, seconds: number) => void): FuzzResult {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let index = firstIndex;
  for (; index < firstIndex + inputs; index++) {
    if ((index & 0xffff) === 0 && index > firstIndex) progress?.(index - firstIndex, (performance.now() - started) / 1000);
    if ((index & 255) === 0 && performance.now() > deadline) break;
    try {
      target.run(new Random(seed, index));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { name: target.name, inputs: index - firstIndex + 1, seconds: (performance.now() - started) / 1000, failure: { index, message } };
    }
  }
  return { name: target.name, inputs: index - firstIndex, seconds: (performance.now() - started) / 1000 };
}

/** How to replay a failure on its own. */
export function replayHint(target: FuzzTarget, seed: number, index: number): string {
  return `FUZZ_SEED=${seed} FUZZ_TARGET='${target.name}' FUZZ_INDEX=${index} npm run fuzz`;
}
