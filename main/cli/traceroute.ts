// packet-workbench traceroute: the engine's traceroute run, printed as traceroute(8) prints it;
// with --mtr, an mtr run (mtr.ts).
import type { ExperimentRun } from '../../common/contract';
import { resolveTarget, secondsToMs } from './args';
import { CliError, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE, type FlagNames } from './errors';
import { probeSize, tracerouteHeader, tracerouteHopLine } from './format';
import { mtr } from './mtr';
import { elevate, EngineSession, untilFinished, type Output } from './session';
import { useLabHost } from './lab-host';

export interface TracerouteOptions {
  /** Start the socket helper (pkexec/sudo) first. */
  elevate?: boolean;
  /** Act from this host of the lab `lab up` started (lab-host.ts). */
  labHost?: string;
  icmp?: boolean;
  udp?: boolean;
  tcp?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  first?: number;
  max?: number;
  queries?: number;
  wait?: number;
  port?: number;
  mode?: 'auto' | 'raw' | 'error-queue';
  /** mtr mode (mtr.ts): cycles of probes with per-hop statistics. */
  mtr?: boolean;
  /** --mtr: cycles (-c), mtr's report layout (--report), seconds between cycles (-i). */
  count?: number;
  report?: boolean;
  interval?: number;
}

const FLAGS: FlagNames = {
  target: { flag: '<target>' },
  firstHop: { flag: '-f (first hop)' },
  maxHops: { flag: '-m (max hops)' },
  probesPerHop: { flag: '-q (probes per hop)' },
  timeoutMs: { flag: '-w (wait)', scale: 1000, unit: 's' },
  port: { flag: '-p (port)' },
  host: { flag: '--lab-host' },
};

const UNPRIVILEGED_NOTE = {
  udp: 'UDP probes read their ICMP errors from the socket error queue (as tracepath does)',
  tcp: 'TCP connect() probes read their ICMP errors from the socket error queue',
  icmp: 'ICMP echo probes from a ping socket read their ICMP errors from the error queue',
} as const;

export async function traceroute(targetText: string, options: TracerouteOptions, out: Output): Promise<number> {
  if (options.mtr) return mtr(targetText, options, out);
  for (const [option, flag] of [['count', '-c (cycles)'], ['report', '--report'], ['interval', '-i (interval)']] as const) {
    if (options[option] !== undefined) throw new CliError(EXIT_USAGE, `${flag} goes with --mtr`);
  }
  const methods = (['icmp', 'udp', 'tcp'] as const).filter((kind) => options[kind]);
  if (methods.length > 1) throw new CliError(EXIT_USAGE, `--icmp, --udp and --tcp: choose one probe method, not ${methods.map((m) => `--${m}`).join(' and ')}`);
  // traceroute(8) probes with UDP unless told otherwise.
  const probe = methods[0] ?? 'udp';
  const target = await resolveTarget(targetText, options.ipv6 ? 6 : options.ipv4 ? 4 : undefined);
  const session = new EngineSession({ logCapacity: 1000 });
  try {
    if (options.elevate) await elevate(session, out);
    const host = useLabHost(session, options.labHost);
    let finish: (run: ExperimentRun) => void = () => undefined;
    const finished = new Promise<ExperimentRun>((resolve) => {
      finish = resolve;
    });
    session.subscribe((batch) => {
      for (const event of batch) {
        if (event.type === 'tracerouteHop') {
          out.text(tracerouteHopLine(event.hop));
          out.record({ type: 'hop', ...event.hop });
        } else if (event.type === 'experiment' && event.run.state !== 'running') finish(event.run);
      }
    });
    const started = await session.call(
      'traceroute',
      {
        target: target.address,
        probe,
        ...(options.first !== undefined ? { firstHop: options.first } : {}),
        ...(options.max !== undefined ? { maxHops: options.max } : {}),
        ...(options.queries !== undefined ? { probesPerHop: options.queries } : {}),
        ...(options.wait !== undefined ? { timeoutMs: secondsToMs(options.wait) } : {}),
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.mode !== undefined ? { mode: options.mode } : {}),
        ...host,
      },
      FLAGS,
    );
    const maxHops = (started.params.maxHops as number | undefined) ?? 30;
    out.text(tracerouteHeader(target.name, target.address, maxHops, probeSize(target.family, probe)));
    if (started.via === 'error-queue') out.note(`traceroute: no raw sockets: ${UNPRIVILEGED_NOTE[probe]}`);
    else if (started.via === 'helper') out.note('traceroute: raw sockets from the socket helper');
    out.record({ type: 'start', target: target.name, address: target.address, family: started.family, probe, maxHops, runId: started.runId, via: started.via });
    const run = await untilFinished(session, started.runId, finished);
    const result = run.traceroute!;
    if (run.state === 'failed' && run.error) out.note(`traceroute: ${run.error.message}`);
    const exitCode = result.reached ? EXIT_OK : EXIT_NO_RESULT;
    out.record({ type: 'result', target: target.name, address: target.address, probe, state: run.state, reached: result.reached, hops: result.hops, exitCode });
    return exitCode;
  } finally {
    await session.close();
  }
}
