// packet-workbench capture: whole packets from a packet socket (every interface, or -i),
// or one protocol's from a raw IP socket (--protocol, -6); one decoded line per packet
// (tshark's one-line form); -w streams them to a pcapng or pcap file as they arrive.
// The file gets every packet counted, whatever the log's size; what the kernel dropped
// is counted and changes the exit code.
import type { LogRow, SocketInfo } from '../../common/contract';
import { CaptureFile, CaptureFileError, formatForPath, type CaptureFormat } from '../engine/capture-file';
import { checkFilter } from '../engine/filters';
import type { CaptureRecording } from '../engine/workbench';
import { protocolName } from '../../packets/protocols';
import { secondsToMs } from './args';
import { CliError, EXIT_NO_RESULT, EXIT_OK, EXIT_USAGE, type FlagNames, toCliError, withoutDatagramAdvice } from './errors';
import { compileCliDisplayFilter, rowPasses } from './display-filter';
import { packetLine } from './format';
import { elevate, EngineSession, onOutputClosed, type Output } from './session';
import { useLabHost } from './lab-host';

/** Packets were lost: the kernel dropped some, the file could not take them, or (without -w) they were not printed. */
export const EXIT_PACKETS_LOST = 3;
/** What a shell reports for a process ended by SIGINT. */
const EXIT_INTERRUPTED = 130;

export interface CaptureOptions {
  /** Start the socket helper (pkexec/sudo) first. */
  elevate?: boolean;
  /** Act from this host of the lab `lab up` started (lab-host.ts). */
  labHost?: string;
  /** A raw IP socket for this protocol instead of a packet socket. */
  protocol?: number;
  ipv6?: boolean;
  /** The packet socket's interface (default: every interface). */
  interface?: string;
  count?: number;
  timeout?: number;
  write?: string;
  format?: string;
  /** No line per packet (as tcpdump -w). */
  quiet?: boolean;
  /** A capture filter in tcpdump's syntax (the positional words, joined with spaces as tcpdump joins them). */
  filter?: string;
  /** Print only the packets this display filter passes (-Y); -w still writes every packet captured. */
  displayFilter?: string;
}

const FLAGS: FlagNames = {
  protocol: { flag: '--protocol' },
  family: { flag: '-6' },
  interface: { flag: '-i' },
  host: { flag: '--lab-host' },
};

/** The log ring keeps what is printed; the contract allows up to 5 000 000. */
const MAX_COUNT = 5_000_000;
const MAX_TIMEOUT_S = 7 * 24 * 3600;
/** Event batches to drain after the capture stopped, so the last packets are printed too. */
const MAX_DRAIN_BATCHES = 1000;
/** --json: a progress record this often, so a script knows what was counted when. */
const PROGRESS_INTERVAL_MS = 500;

type StopReason = 'count' | 'timeout' | 'interrupt' | 'write-error';

export async function capture(options: CaptureOptions, out: Output): Promise<number> {
  const rawSocket = options.protocol !== undefined || Boolean(options.ipv6);
  if (rawSocket && options.interface !== undefined) {
    throw new CliError(EXIT_USAGE, '-i (interface): a packet socket captures per interface; --protocol and -6 open a raw IP socket, which has none: give one or the other');
  }
  const family = options.ipv6 ? 'ipv6' : 'ipv4';
  const protocol = options.protocol ?? (options.ipv6 ? 58 : 1);
  // Checked before anything is opened: libpcap's refusal, with its position, is a usage error.
  let filter: string | null;
  try {
    filter = checkFilter(options.filter);
  } catch (error) {
    throw (error as { code?: unknown }).code === 'INVALID_ARGUMENT' ? new CliError(EXIT_USAGE, (error as Error).message) : toCliError(error);
  }
  const display = compileCliDisplayFilter(options.displayFilter);
  if (options.count !== undefined && (!Number.isInteger(options.count) || options.count < 1 || options.count > MAX_COUNT)) {
    throw new CliError(EXIT_USAGE, `-c (count): must be a whole number from 1 to ${MAX_COUNT}`);
  }
  if (options.timeout !== undefined && !(options.timeout > 0 && options.timeout <= MAX_TIMEOUT_S)) {
    throw new CliError(EXIT_USAGE, `--timeout: must be more than 0 and at most ${MAX_TIMEOUT_S} s`);
  }
  if (options.format !== undefined && options.format !== 'pcapng' && options.format !== 'pcap') {
    throw new CliError(EXIT_USAGE, `--format: '${options.format}' is not pcapng or pcap`);
  }
  if (options.format !== undefined && options.write === undefined) throw new CliError(EXIT_USAGE, '--format: give -w FILE too');
  if (rawSocket && protocol === 255) throw new CliError(EXIT_USAGE, '--protocol: 255 (IPPROTO_RAW) sockets only send; name the protocol to capture');

  let stop: (why: StopReason) => void = () => undefined;
  const stopped = new Promise<StopReason>((resolve) => {
    stop = resolve;
  });
  // Checked (and its header written) before anything is captured: a bad path fails at once.
  const format: CaptureFormat | null = options.write !== undefined ? ((options.format as CaptureFormat | undefined) ?? formatForPath(options.write)) : null;
  let file: CaptureFile | null = null;
  if (options.write !== undefined && format) {
    try {
      file = new CaptureFile(options.write, format, { onError: () => stop('write-error') });
    } catch (error) {
      if (error instanceof CaptureFileError) throw new CliError(EXIT_USAGE, `-w: ${error.message}`, error.code);
      throw error;
    }
  }

  // Printed rows come from the log; it keeps at least the packets asked for.
  const session = new EngineSession({ logCapacity: Math.max(100_000, Math.min(MAX_COUNT, options.count ?? 0)) });
  let recording: CaptureRecording | null = null;
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      stop('interrupt');
      return;
    }
    // A second Ctrl-C while shutting down: the file keeps every packet counted, then exit.
    recording?.stop();
    file?.close();
    if (file) out.note(`Interrupted again: ${recording?.count ?? 0} packets written to ${file.path}`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `capture | head -1`: the reader went away; stop as Ctrl-C does (the file is still closed properly).
  const removeOutputListener = onOutputClosed(() => stop('interrupt'));
  let timer: NodeJS.Timeout | null = null;
  let progress: NodeJS.Timeout | null = null;
  try {
    if (options.elevate) await elevate(session, out);
    const host = useLabHost(session, options.labHost);
    let socketId: string;
    let what: string;
    if (rawSocket) {
      const socket = await session.call('openSocket', { family, protocol, mode: 'raw', ...(filter !== null ? { filter } : {}), ...host }, FLAGS).catch((error: unknown) => {
        throw withoutDatagramAdvice(toCliError(error));
      });
      socketId = socket.socketId;
      what = `${protocolName(protocol)} (${protocol}) on an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} raw socket`;
    } else {
      const started = await session.call('startCapture', { ...(options.interface !== undefined ? { interface: options.interface } : {}), ...(filter !== null ? { filter } : {}), ...host }, FLAGS).catch((error: unknown) => {
        throw withoutDatagramAdvice(toCliError(error, FLAGS));
      });
      socketId = started.captureId;
      what = `every packet on ${options.interface ?? 'every interface'}${host.host ? ` of lab host ${host.host}` : ''} (packet socket)`;
    }
    recording = session.workbench.recordCapture({
      socketIds: [socketId],
      ...(file ? { file } : {}),
      ...(options.count !== undefined ? { limit: options.count } : {}),
      onLimit: () => stop('count'),
    });
    out.note(
      `Capturing ${what}${filter !== null ? ` matching '${filter}'` : ''}${options.count ? `, ${options.count} packets` : ''}${options.timeout ? `, for at most ${options.timeout} s` : ''}${file ? `, writing ${file.format} to ${file.path}` : ''}`,
    );

    const limit = options.count ?? Infinity;
    let printed = 0;
    /** Rows the display filter did not pass. */
    let filtered = 0;
    let firstTime = 0;
    let lastId = -1;
    const showRow = (row: LogRow): void => {
      lastId = row.id;
      if (options.quiet || printed >= limit || row.socketId !== socketId) return;
      if (!rowPasses(session.workbench, display, row)) {
        filtered++;
        return;
      }
      if (printed === 0) firstTime = row.time;
      printed++;
      out.text(packetLine(printed, row, firstTime));
      out.record({ type: 'packet', number: printed, ...row });
    };
    // Quiet: no subscriber, so the engine builds no rows at all (a flood costs less).
    if (!options.quiet) {
      session.subscribe((batch) => {
        for (const event of batch) if (event.type === 'log') for (const row of event.rows) showRow(row);
      });
    }
    if (options.timeout !== undefined) timer = setTimeout(() => stop('timeout'), secondsToMs(options.timeout));
    if (out.json) {
      const counted = recording;
      progress = setInterval(() => out.record({ type: 'progress', captured: counted.count, time: Date.now() }), PROGRESS_INTERVAL_MS);
    }
    const why = await stopped;
    recording.stop();
    if (progress) clearInterval(progress);

    // Stop the socket, then print the rows still on their way.
    const kernelDrops = rawSocket ? dropsOf(await session.call('closeSocket', { socketId })) : (await session.call('stopCapture', { captureId: socketId })).counters.kernelDrops;
    const newestId = await newestLogId(session);
    for (let i = 0; i < MAX_DRAIN_BATCHES && !options.quiet && lastId < newestId; i++) {
      const before = lastId;
      session.workbench.flushEvents();
      if (lastId === before) break;
    }
    const captured = recording.count;
    file?.close();
    const writeError = file?.error ?? null;
    const notShown = options.quiet ? 0 : Math.max(0, captured - printed - filtered);

    if (writeError) out.note(`-w: ${writeError.message}; the capture stopped`);
    if (file) out.note(`${captured} packets written to ${file.path} (${file.format}, ${file.size} bytes)`);
    if (notShown > 0) out.note(`${notShown} packets arrived faster than they could be printed; they are not shown${file ? ' (the file has them)' : ''}`);
    if (kernelDrops > 0) out.note(`${kernelDrops} packets dropped by the kernel (receive buffer full): they are in no output`);
    if (display) out.note(`${printed} of them passed the display filter`);
    out.note(`${captured} packet${captured === 1 ? '' : 's'} captured`);
    const lost = kernelDrops > 0 || writeError !== null || (file === null && notShown > 0);
    // With -c, stopping before the count (timeout, Ctrl-C) is a shortfall a script can see.
    const shortfall = options.count !== undefined && captured < options.count;
    const exitCode = lost ? EXIT_PACKETS_LOST : shortfall ? EXIT_NO_RESULT : EXIT_OK;
    out.record({
      type: 'summary',
      captured,
      written: file ? captured : null,
      file: file?.path ?? null,
      format: file?.format ?? null,
      kernelDrops,
      notShown,
      ...(display ? { displayFilter: display.text, shown: printed } : {}),
      stoppedBy: why,
      ...(writeError ? { writeError: writeError.message } : {}),
      exitCode,
    });
    return exitCode;
  } finally {
    if (timer) clearTimeout(timer);
    if (progress) clearInterval(progress);
    recording?.stop();
    file?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    removeOutputListener();
    await session.close();
  }
}

function dropsOf(socket: SocketInfo): number {
  return socket.counters.drops ?? 0;
}

/** The id of the newest row in the log (-1 when empty). */
async function newestLogId(session: EngineSession): Promise<number> {
  const page = await session.call('queryLog', { start: 0, limit: 1 });
  return page.rows.length === 0 ? -1 : page.rows[0].id + page.total - 1;
}
