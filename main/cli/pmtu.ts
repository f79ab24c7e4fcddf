// packet-workbench pmtu: the engine's path-MTU discovery, printed as tracepath(8) prints it:
// each hop as it answers, the MTU a router reports where the path shrinks, and last the
// path MTU (`pmtu 1280`). No privileges needed (a UDP socket and its error queue).
import type { ExperimentRun } from '../../common/contract';
import { resolveTarget, secondsToMs } from './args';
import { EXIT_NO_RESULT, EXIT_OK, type FlagNames } from './errors';
import { pmtuHopLine, pmtuSummary } from './mtr-format';
import { useLabHost } from './lab-host';
import { EngineSession, untilFinished, type Output } from './session';

export interface PmtuOptions {
  ipv4?: boolean;
  ipv6?: boolean;
  max?: number;
  wait?: number;
  /** Act from this host of the lab `lab up` started (lab-host.ts). */
  labHost?: string;
}

const FLAGS: FlagNames = {
  target: { flag: '<target>' },
  maxHops: { flag: '-m (max hops)' },
  timeoutMs: { flag: '-w (wait)', scale: 1000, unit: 's' },
  host: { flag: '--lab-host' },
};

export async function pmtu(targetText: string, options: PmtuOptions, out: Output): Promise<number> {
  const target = await resolveTarget(targetText, options.ipv6 ? 6 : options.ipv4 ? 4 : undefined);
  const session = new EngineSession({ logCapacity: 100 });
  try {
    const host = useLabHost(session, options.labHost);
    let finish: (run: ExperimentRun) => void = () => undefined;
    const finished = new Promise<ExperimentRun>((resolve) => {
      finish = resolve;
    });
    let printed = 0;
    session.subscribe((batch) => {
      for (const event of batch) {
        if (event.type !== 'experiment' || event.run.kind !== 'pmtu') continue;
        // Lines as they come: every hop the run has that is not printed yet.
        for (const hop of event.run.pmtu!.hops.slice(printed)) {
          out.text(pmtuHopLine(hop));
          out.record({ type: 'hop', ...hop });
        }
        printed = Math.max(printed, event.run.pmtu!.hops.length);
        if (event.run.state !== 'running') finish(event.run);
      }
    });
    const started = await session.call(
      'pmtu',
      {
        target: target.address,
        ...(options.max !== undefined ? { maxHops: options.max } : {}),
        ...(options.wait !== undefined ? { timeoutMs: secondsToMs(options.wait) } : {}),
        ...host,
      },
      FLAGS,
    );
    out.record({ type: 'start', target: target.name, address: target.address, family: started.family, runId: started.runId, via: started.via });
    const run = await untilFinished(session, started.runId, finished);
    const result = run.pmtu!;
    if (run.state === 'failed' && run.error) out.note(`pmtu: ${run.error.message}`);
    out.text(pmtuSummary(result.hops, result.pathMtu, result.reached));
    const exitCode = result.reached ? EXIT_OK : EXIT_NO_RESULT;
    out.record({ type: 'result', target: target.name, address: target.address, state: run.state, reached: result.reached, pathMtu: result.pathMtu ?? null, hops: result.hops, exitCode });
    return exitCode;
  } finally {
    await session.close();
  }
}
