// --display-filter for the commands that print packets: the filter is checked before any socket
// opens (a bad one is a usage error naming the column and the bad part), then each printed row
// is judged by the engine, which still holds its bytes in the log.
import type { LogRow } from '../../common/contract';
import { compileDisplayFilter, DisplayFilterError, type DisplayFilter } from '../../packets/display-filter';
import type { Workbench } from '../engine/workbench';
import { CliError, EXIT_USAGE } from './errors';

export const DISPLAY_FILTER_FLAG = '-Y, --display-filter <filter>';
export const DISPLAY_FILTER_HELP = 'print only the packets this display filter passes, e.g. "icmp.type == 0 && ip.src == 198.18.1.1" (README: Display filters)';

/** The compiled filter, or null without one; a bad filter is a CliError (exit 2) naming the position. */
export function compileCliDisplayFilter(expression: string | undefined): DisplayFilter | null {
  if (expression === undefined) return null;
  try {
    const filter = compileDisplayFilter(expression);
    return filter.empty ? null : filter;
  } catch (error) {
    if (!(error instanceof DisplayFilterError)) throw error;
    const caret = `${' '.repeat(error.position)}${'^'.repeat(Math.max(1, error.end - error.position))}`;
    throw new CliError(EXIT_USAGE, `--display-filter: ${error.message}\n  ${expression}\n  ${caret}`);
  }
}

/** Whether a row just logged passes the filter (true without one; false once the log dropped it). */
export function rowPasses(workbench: Workbench, filter: DisplayFilter | null, row: LogRow): boolean {
  return filter === null || workbench.passesDisplayFilter(filter, row.id);
}
