// packet-workbench ping: the engine's ping run, printed as iputils ping(8) prints it.
import type { ExperimentRun, PingReply } from '../../common/contract';
import { resolveTarget, secondsToMs } from './args';
import { EXIT_NO_RESULT, EXIT_OK, type FlagNames, toCliError, withHint } from './errors';
import { pingHeader, pingReplyLine, pingStatisticsLines } from './format';
import { elevate, EngineSession, untilFinished, type Output } from './session';
import { useLabHost } from './lab-host';

export interface PingOptions {
  /** Start the socket helper (pkexec/sudo) first. */
  elevate?: boolean;
  /** Act from this host of the lab `lab up` started (lab-host.ts). */
  labHost?: string;
  count?: number;
  interval?: number;
  size?: number;
  ttl?: number;
  timeout?: number;
  mode?: 'auto' | 'raw' | 'datagram';
  ipv4?: boolean;
  ipv6?: boolean;
}

const FLAGS: FlagNames = {
  target: { flag: '<target>' },
  count: { flag: '-c (count)' },
  intervalMs: { flag: '-i (interval)', scale: 1000, unit: 's' },
  size: { flag: '-s (size)' },
  ttl: { flag: '-t (ttl)' },
  timeoutMs: { flag: '-W (timeout)', scale: 1000, unit: 's' },
  mode: { flag: '--mode' },
  host: { flag: '--lab-host' },
};

/** Without -c, ping(8) runs until interrupted; the contract's largest count stands in for "forever". */
const UNTIL_INTERRUPTED = 100_000;

export async function ping(targetText: string, options: PingOptions, out: Output): Promise<number> {
  const target = await resolveTarget(targetText, options.ipv6 ? 6 : options.ipv4 ? 4 : undefined);
  const session = new EngineSession({ logCapacity: 1000 });
  try {
    if (options.elevate) await elevate(session, out);
    const host = useLabHost(session, options.labHost);
    let finish: (run: ExperimentRun) => void = () => undefined;
    const finished = new Promise<ExperimentRun>((resolve) => {
      finish = resolve;
    });
    const printReply = (reply: PingReply): void => {
      out.record({ type: 'reply', ...reply });
      const line = pingReplyLine(reply);
      if (line) out.text(line);
    };
    session.subscribe((batch) => {
      for (const event of batch) {
        if (event.type === 'pingReply') printReply(event.reply);
        else if (event.type === 'experiment' && event.run.state !== 'running') finish(event.run);
      }
    });
    const params = {
      target: target.address,
      count: options.count ?? UNTIL_INTERRUPTED,
      ...(options.interval !== undefined ? { intervalMs: secondsToMs(options.interval) } : {}),
      ...(options.size !== undefined ? { size: options.size } : {}),
      ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
      ...(options.timeout !== undefined ? { timeoutMs: secondsToMs(options.timeout) } : {}),
      mode: options.mode ?? 'auto',
      ...host,
    };
    const started = await session.call('ping', params, FLAGS).catch((error: unknown) => {
      const failure = toCliError(error);
      throw options.mode === 'raw' ? withHint(failure, 'Without --mode raw, ping falls back to an ICMP datagram socket where ping_group_range allows it.') : failure;
    });
    const size = options.size ?? 56;
    out.text(pingHeader(target.name, target.address, target.family, size));
    out.record({ type: 'start', target: target.name, address: target.address, family: started.family, mode: started.mode, size, runId: started.runId });
    const run = await untilFinished(session, started.runId, finished);
    const statistics = run.ping!.statistics;
    const elapsedMs = (run.finishedAt ?? run.startedAt) - run.startedAt;
    out.text('');
    for (const line of pingStatisticsLines(target.name, statistics, elapsedMs)) out.text(line);
    if (run.state === 'failed' && run.error) out.note(`ping: ${run.error.message}`);
    const exitCode = statistics.received > 0 ? EXIT_OK : EXIT_NO_RESULT;
    out.record({ type: 'statistics', target: target.name, address: target.address, state: run.state, elapsedMs: Math.round(elapsedMs), ...statistics, exitCode });
    return exitCode;
  } finally {
    await session.close();
  }
}
