// What every command shares: one Workbench (the same engine the GUI drives), calls
// validated by the contract with errors named after the command's flags, the output
// (text or one JSON object per line), and Ctrl-C.
import type { EventBatch, ExperimentRun, MethodName, ParamsIn, Result } from '../../common/contract';
import { Workbench, type WorkbenchOptions } from '../engine';
import { dispatchCall } from '../engine/dispatch';
import { CliError, EXIT_NO_PERMISSION, type FlagNames, toCliError } from './errors';
import { isBroken, onOutputClosed } from './output-pipe';

export { onOutputClosed };

/** What a command prints; nothing once the stream's reader has gone (see output-pipe.ts). */
export class Output {
  constructor(readonly json: boolean) {}

  /** A line of the command's text output (ignored with --json). */
  text(line: string): void {
    if (!this.json && !isBroken('stdout')) process.stdout.write(`${line}\n`);
  }

  /** A JSON record (ignored without --json). */
  record(value: Record<string, unknown>): void {
    if (this.json && !isBroken('stdout')) process.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A status line on stderr, as ping and tshark print theirs (kept with --json: stdout stays parseable). */
  note(line: string): void {
    if (!isBroken('stderr')) process.stderr.write(`${line}\n`);
  }
}

export class EngineSession {
  readonly workbench: Workbench;

  constructor(options: WorkbenchOptions = {}) {
    this.workbench = new Workbench({
      ...options,
      onListenerError: (error) => {
        if (!isBroken('stderr')) process.stderr.write(`packet-workbench: internal error in an event handler: ${(error as Error)?.stack ?? String(error)}\n`);
      },
    });
  }

  /** Calls the engine through dispatchCall, as every transport does; failures become CliErrors naming this command's flags. */
  async call<M extends MethodName>(method: M, params: ParamsIn<M>, flags: FlagNames = {}): Promise<Result<M>> {
    try {
      return (await dispatchCall(this.workbench, method, params)) as Result<M>;
    } catch (error) {
      throw toCliError(error, flags);
    }
  }

  subscribe(listener: (batch: EventBatch) => void): () => void {
    return this.workbench.subscribe(listener);
  }

  close(): Promise<void> {
    return this.workbench.close();
  }
}

/**
 * Calls `stop` on the first SIGINT or SIGTERM (the command then prints its summary,
 * like ping(8)), or when the output's reader goes away (`| head -1`); a second signal
 * exits at once with 130. Returns the function that removes the handlers.
 */
export function onInterrupt(stop: () => void): () => void {
  let interrupted = false;
  const handler = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const removeOutputListener = onOutputClosed(() => {
    if (!interrupted) handler();
  });
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    removeOutputListener();
  };
}

/** Waits for a run to end; the first SIGINT or SIGTERM stops it, so the command still prints its summary. */
export async function untilFinished(session: EngineSession, runId: string, finished: Promise<ExperimentRun>): Promise<ExperimentRun> {
  const removeHandlers = onInterrupt(() => {
    void session.workbench.stopExperiment({ runId }).catch(() => undefined);
  });
  try {
    return await finished;
  } finally {
    removeHandlers();
  }
}

/**
 * --elevate: starts the socket helper (an installed one, else through pkexec or sudo, which
 * may ask for a password) before the command needs raw sockets. Without --elevate an
 * installed helper is still used when raw sockets are refused: it never asks for anything.
 */
export async function elevate(session: EngineSession, out: Output): Promise<void> {
  out.note('packet-workbench: starting the socket helper (pkexec or sudo may ask for a password)');
  const status = await session.call('startHelper', { how: 'auto' });
  if (status.state !== 'running') {
    const how = status.command ? ` (tried: ${status.command.join(' ')})` : '';
    throw new CliError(EXIT_NO_PERMISSION, `the socket helper did not start: ${status.reason ?? status.state}${how}`, 'EHELPER');
  }
  out.note(`packet-workbench: socket helper running as pid ${status.pid} (${status.via}), keeping ${status.capabilities.join(', ') || 'no capabilities'}`);
}
