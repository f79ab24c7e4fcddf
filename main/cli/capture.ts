// packet-workbench capture: a raw socket for one protocol, one decoded line per
// packet (tshark's one-line form), and the packets as pcapng when asked.
import { writeFileSync } from 'node:fs';
import type { LogRow } from '../../common/contract';
import { protocolName } from '../../packets/protocols';
import { secondsToMs } from './args';
import { CliError, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE, type FlagNames, toCliError, withoutDatagramAdvice } from './errors';
import { packetLine } from './format';
import { elevate, EngineSession, onInterrupt, type Output } from './session';

export interface CaptureOptions {
  /** Start the socket helper (pkexec/sudo) first. */
  elevate?: boolean;
  protocol?: number;
  ipv6?: boolean;
  count?: number;
  timeout?: number;
  write?: string;
}

const FLAGS: FlagNames = {
  protocol: { flag: '--protocol' },
  family: { flag: '-6' },
};

/** The log ring holds what -w exports; the contract allows up to 5 000 000. */
const MAX_COUNT = 5_000_000;
const MAX_TIMEOUT_S = 7 * 24 * 3600;

export async function capture(options: CaptureOptions, out: Output): Promise<number> {
  const family = options.ipv6 ? 'ipv6' : 'ipv4';
  const protocol = options.protocol ?? (options.ipv6 ? 58 : 1);
  if (options.count !== undefined && (!Number.isInteger(options.count) || options.count < 1 || options.count > MAX_COUNT)) {
    throw new CliError(EXIT_USAGE, `-c (count): must be a whole number from 1 to ${MAX_COUNT}`);
  }
  if (options.timeout !== undefined && !(options.timeout > 0 && options.timeout <= MAX_TIMEOUT_S)) {
    throw new CliError(EXIT_USAGE, `--timeout: must be more than 0 and at most ${MAX_TIMEOUT_S} s`);
  }
  if (protocol === 255) throw new CliError(EXIT_USAGE, '--protocol: 255 (IPPROTO_RAW) sockets only send; name the protocol to capture');
  // A capture with -w keeps every packet it prints in the log ring until the end.
  const session = new EngineSession({ logCapacity: Math.max(100_000, Math.min(MAX_COUNT, options.count ?? 0)) });
  try {
    if (options.elevate) await elevate(session, out);
    const socket = await session.call('openSocket', { family, protocol, mode: 'raw' }, FLAGS).catch((error: unknown) => {
      throw withoutDatagramAdvice(toCliError(error));
    });
    const label = `${protocolName(protocol)} (${protocol})`;
    out.note(`Capturing ${label} on an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} raw socket${options.count ? `, ${options.count} packets` : ''}${options.timeout ? `, for at most ${options.timeout} s` : ''}`);

    const ids: number[] = [];
    let firstTime = 0;
    let lastId = -1;
    let missed = 0;
    let stop: (why: 'count' | 'timeout' | 'interrupt') => void = () => undefined;
    const stopped = new Promise<'count' | 'timeout' | 'interrupt'>((resolve) => {
      stop = resolve;
    });
    const limit = options.count ?? Infinity;
    const showRow = (row: LogRow): void => {
      if (ids.length >= limit || row.direction !== 'received') return;
      // The engine sends at most 10 000 new rows per batch; the rest are counted, not printed.
      if (lastId >= 0 && row.id > lastId + 1) missed += row.id - lastId - 1;
      lastId = row.id;
      if (ids.length === 0) firstTime = row.time;
      ids.push(row.id);
      out.text(packetLine(ids.length, row, firstTime));
      out.record({ type: 'packet', number: ids.length, ...row });
      if (ids.length >= limit) stop('count');
    };
    session.subscribe((batch) => {
      for (const event of batch) if (event.type === 'log') for (const row of event.rows) showRow(row);
    });
    const timer = options.timeout !== undefined ? setTimeout(() => stop('timeout'), secondsToMs(options.timeout)) : null;
    const removeHandlers = onInterrupt(() => stop('interrupt'));
    let why: 'count' | 'timeout' | 'interrupt';
    try {
      why = await stopped;
    } finally {
      if (timer) clearTimeout(timer);
      removeHandlers();
    }
    await session.call('pauseReceive', { socketId: socket.socketId });
    if (missed > 0) out.note(`${missed} packets arrived faster than they could be printed; they are not shown or written`);
    if (options.write) {
      const { pcapng, count } = await session.call('exportPcapng', { ids });
      try {
        writeFileSync(options.write, Buffer.from(pcapng, 'base64'));
      } catch (error) {
        throw new CliError(EXIT_NO_RESULT, `-w: cannot write ${options.write}: ${(error as Error).message}`, (error as { code?: string }).code);
      }
      out.note(`${count} packets written to ${options.write}`);
    }
    out.note(`${ids.length} packet${ids.length === 1 ? '' : 's'} captured`);
    // With -c, stopping before the count (timeout, Ctrl-C) is a shortfall a script can see.
    const exitCode = options.count !== undefined && ids.length < options.count ? EXIT_NO_RESULT : EXIT_OK;
    out.record({ type: 'summary', captured: ids.length, stoppedBy: why, written: options.write ?? null, missed, exitCode });
    return exitCode;
  } finally {
    await session.close();
  }
}
