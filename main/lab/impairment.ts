// Link impairments (delay, jitter, loss, rate) on one direction of a lab link. One
// interface, ImpairLink, so the way it is done can be chosen: the kernel's tc netem
// where it exists, tbf for a rate alone when it does not. Links whose delay or loss
// the kernel cannot apply are joined by the userspace link emulator instead of a veth
// pair (emulator.ts; topology-lab.ts decides, with hasNetem()).
import { run } from './command';
import type { PlannedDirection } from './topology-plan';

export type ImpairmentHow = 'netem' | 'tbf' | 'emulator' | 'unsupported';

export interface ImpairmentResult {
  how: ImpairmentHow;
  /** What was applied and, when something was not, why. */
  reason: string;
}

/** The sending side of one direction: packets leave `device` in `namespace` toward `to`. */
export interface ImpairedDirection {
  namespace: string;
  device: string;
  from: string;
  to: string;
}

export type Impairment = Omit<PlannedDirection, 'from' | 'to'>;

export type ImpairLink = (direction: ImpairedDirection, impairment: Impairment) => Promise<ImpairmentResult>;

export const NEEDS_EMULATOR = 'needs netem or the userspace link emulator';

let netemKnown: boolean | undefined;

/** Whether this kernel has netem: asked once per process, on `lo` of one of our namespaces (all share the kernel). */
export async function hasNetem(namespace: string): Promise<boolean> {
  if (netemKnown !== undefined) return netemKnown;
  const tc = (verb: string, args: string[] = []) => run('tc', ['-n', namespace, 'qdisc', verb, 'dev', 'lo', 'root', ...args], { timeoutMs: 10_000, check: false });
  const result = await tc('add', ['netem', 'delay', '0ms']);
  if (result.code === 0) await tc('del');
  // "Specified qdisc kind is unknown": no sch_netem in this kernel.
  else if (!/unknown|No such file/i.test(result.stderr)) throw new Error(`tc netem (asking whether the kernel has it): ${result.stderr.trim()}`);
  netemKnown = result.code === 0;
  return netemKnown;
}

/** Whether an impairment needs netem (or the emulator): anything but a rate alone. */
export function needsNetem(impairment: Impairment): boolean {
  return impairment.delayMs !== undefined || impairment.jitterMs !== undefined || impairment.lossPercent !== undefined;
}

/** "delay 40 ms ±5 ms, loss 20 %, rate 1000 kbit/s" */
export function describeImpairment(impairment: Impairment): string {
  const parts: string[] = [];
  if (impairment.delayMs !== undefined) parts.push(`delay ${impairment.delayMs} ms${impairment.jitterMs ? ` ±${impairment.jitterMs} ms` : ''}`);
  if (impairment.lossPercent !== undefined) parts.push(`loss ${impairment.lossPercent} %`);
  if (impairment.rateKbit !== undefined) parts.push(`rate ${impairment.rateKbit} kbit/s`);
  return parts.join(', ');
}

export function netemArguments(impairment: Impairment): string[] {
  const args: string[] = [];
  if (impairment.delayMs !== undefined) args.push('delay', `${impairment.delayMs}ms`, ...(impairment.jitterMs ? [`${impairment.jitterMs}ms`] : []));
  if (impairment.lossPercent !== undefined) args.push('loss', `${impairment.lossPercent}%`);
  if (impairment.rateKbit !== undefined) args.push('rate', `${impairment.rateKbit}kbit`);
  return args;
}

export function tbfArguments(rateKbit: number): string[] {
  // A burst of 10 ms at the rate, but at least two full-size frames, so the bucket can pass a packet at all.
  const burst = Math.max(3200, Math.ceil((rateKbit * 1000) / 8 / 100));
  return ['rate', `${rateKbit}kbit`, 'burst', String(burst), 'latency', '100ms'];
}

let netemMissing = false;

/** netem when the kernel has it, else tbf for a rate; delay and loss then stay unapplied and say so. */
export const kernelImpairment: ImpairLink = async (direction, impairment) => {
  const tc = (qdisc: string, args: string[]) => run('tc', ['-n', direction.namespace, 'qdisc', 'replace', 'dev', direction.device, 'root', qdisc, ...args], { timeoutMs: 10_000, check: false });
  if (!netemMissing) {
    const result = await tc('netem', netemArguments(impairment));
    if (result.code === 0) return { how: 'netem', reason: 'tc netem' };
    // "Specified qdisc kind is unknown": no sch_netem in this kernel.
    if (!/unknown|No such file/i.test(result.stderr)) throw new Error(`tc netem on ${direction.from}→${direction.to}: ${result.stderr.trim()}`);
    netemMissing = true;
  }
  const { rateKbit, ...rest } = impairment;
  const timing = describeImpairment(rest);
  if (rateKbit !== undefined) {
    const result = await tc('tbf', tbfArguments(rateKbit));
    if (result.code !== 0) throw new Error(`tc tbf on ${direction.from}→${direction.to}: ${result.stderr.trim()}`);
    if (!timing) return { how: 'tbf', reason: 'tc tbf (this kernel has no netem)' };
    return { how: 'unsupported', reason: `the rate is applied with tc tbf, but ${timing} ${NEEDS_EMULATOR}; this kernel has no netem` };
  }
  return { how: 'unsupported', reason: `${NEEDS_EMULATOR}; this kernel has no netem` };
};
