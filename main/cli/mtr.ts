// packet-workbench traceroute --mtr: the engine's mtr run. With --report, mtr's report once
// the cycles are done; without, the same table redrawn after every cycle on a terminal
// (printed once at the end otherwise). --json: a record per cycle, then the result.
import { hostname } from 'node:os';
import type { ExperimentRun } from '../../common/contract';
import { resolveTarget, secondsToMs } from './args';
import { CliError, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE, type FlagNames } from './errors';
import { mtrReport } from './mtr-format';
import { useLabHost } from './lab-host';
import { elevate, EngineSession, untilFinished, type Output } from './session';
import type { TracerouteOptions } from './traceroute';

const FLAGS: FlagNames = {
  target: { flag: '<target>' },
  maxHops: { flag: '-m (max hops)' },
  cycles: { flag: '-c (cycles)' },
  intervalMs: { flag: '-i (interval)', scale: 1000, unit: 's' },
  timeoutMs: { flag: '-w (wait)', scale: 1000, unit: 's' },
  port: { flag: '-p (port)' },
  host: { flag: '--lab-host' },
};

/** traceroute's options that mean nothing to mtr: refused by name rather than ignored. */
const NOT_WITH_MTR: [keyof TracerouteOptions, string][] = [
  ['first', '-f (first hop) does not go with --mtr: every cycle probes from hop 1'],
  ['queries', '-q (probes per hop) does not go with --mtr: it sends one probe per hop each cycle (-c sets the cycles)'],
];

export async function mtr(targetText: string, options: TracerouteOptions, out: Output): Promise<number> {
  for (const [option, message] of NOT_WITH_MTR) {
    if (options[option] !== undefined) throw new CliError(EXIT_USAGE, message);
  }
  const methods = (['icmp', 'udp', 'tcp'] as const).filter((kind) => options[kind]);
  if (methods.length > 1) throw new CliError(EXIT_USAGE, `--icmp, --udp and --tcp: choose one probe method, not ${methods.map((m) => `--${m}`).join(' and ')}`);
  // mtr probes with ICMP echo unless told otherwise.
  const probe = methods[0] ?? 'icmp';
  const target = await resolveTarget(targetText, options.ipv6 ? 6 : options.ipv4 ? 4 : undefined);
  const session = new EngineSession({ logCapacity: 1000 });
  const live = !options.report && !out.json && process.stdout.isTTY === true;
  const local = hostname();
  let drawn = 0;
  const draw = (run: ExperimentRun): void => {
    const lines = mtrReport(local, run.startedAt, run.mtr!.hops).slice(1);
    // Back over the last table and draw the new one in its place.
    if (drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
    out.text(lines.join('\n'));
    drawn = lines.length;
  };
  try {
    if (options.elevate) await elevate(session, out);
    const host = useLabHost(session, options.labHost);
    let finish: (run: ExperimentRun) => void = () => undefined;
    const finished = new Promise<ExperimentRun>((resolve) => {
      finish = resolve;
    });
    let cycles = 0;
    session.subscribe((batch) => {
      for (const event of batch) {
        if (event.type !== 'experiment' || event.run.kind !== 'mtr') continue;
        const run = event.run;
        if (run.mtr!.cycles > cycles) {
          cycles = run.mtr!.cycles;
          out.record({ type: 'cycle', cycle: cycles, hops: run.mtr!.hops });
          if (live) draw(run);
        }
        if (run.state !== 'running') finish(run);
      }
    });
    const started = await session.call(
      'mtr',
      {
        target: target.address,
        probe,
        ...(options.count !== undefined ? { cycles: options.count } : {}),
        ...(options.max !== undefined ? { maxHops: options.max } : {}),
        ...(options.interval !== undefined ? { intervalMs: secondsToMs(options.interval) } : {}),
        ...(options.wait !== undefined ? { timeoutMs: secondsToMs(options.wait) } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.mode !== undefined ? { mode: options.mode } : {}),
        ...host,
      },
      FLAGS,
    );
    if (started.via === 'error-queue') out.note('mtr: no raw sockets: probes read their ICMP errors from the socket error queue');
    else if (started.via === 'helper') out.note('mtr: raw sockets from the socket helper');
    out.record({ type: 'start', target: target.name, address: target.address, family: started.family, probe, cycles: started.params.cycles, runId: started.runId, via: started.via });
    const run = await untilFinished(session, started.runId, finished);
    const result = run.mtr!;
    if (run.state === 'failed' && run.error) out.note(`mtr: ${run.error.message}`);
    if (live) draw(run);
    else out.text(mtrReport(local, run.startedAt, result.hops).join('\n'));
    const exitCode = result.reached ? EXIT_OK : EXIT_NO_RESULT;
    out.record({ type: 'result', target: target.name, address: target.address, probe, state: run.state, cycles: result.cycles, reached: result.reached, hops: result.hops, exitCode });
    return exitCode;
  } finally {
    await session.close();
  }
}
