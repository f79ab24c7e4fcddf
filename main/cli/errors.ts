// Exit codes a script can branch on, and the one error type commands throw.
import { WorkbenchError } from '../../common/validate';

export const EXIT_OK = 0;
/** No reply (ping), target not reached (traceroute), packets not sent, fewer packets captured than asked. */
export const EXIT_NO_RESULT = 1;
/** Usage or validation error: a bad option, number or address. */
export const EXIT_USAGE = 2;
/** EX_IOERR (sysexits.h): the output could not be written (ENOSPC…), for another reason than a vanished reader. */
export const EXIT_OUTPUT_ERROR = 74;
/** EX_NOPERM (sysexits.h): the privilege to open the socket is missing. */
export const EXIT_NO_PERMISSION = 77;
/** The output's reader went away (`| head -1`): 128 + SIGPIPE, what a shell shows for ping(8) ended by the signal. */
export const EXIT_BROKEN_PIPE = 141;

/** A failure the CLI reports in one line and exits with. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    /** The engine's error code (EPERM, INVALID_ARGUMENT…), for --json. */
    readonly code: string = exitCode === EXIT_USAGE ? 'INVALID_ARGUMENT' : 'FAILED',
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** How a contract field is named on this command's command line. */
export interface FlagName {
  flag: string;
  /** The value the user typed is this field's value divided by scale (seconds for a field in ms). */
  scale?: number;
  unit?: string;
}

export type FlagNames = Record<string, FlagName>;

/**
 * Rewrites an engine error for the command line: validation errors name the flag
 * (with bounds in the flag's own unit), missing privileges get EX_NOPERM and the
 * engine's remedy.
 */
export function toCliError(error: unknown, flags: FlagNames = {}): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof WorkbenchError) {
    if (error.code === 'INVALID_ARGUMENT') return new CliError(EXIT_USAGE, validationMessage(error, flags), error.code);
    if (error.code === 'EPERM' || error.code === 'EACCES') {
      return new CliError(EXIT_NO_PERMISSION, permissionMessage(error.message), error.code);
    }
    return new CliError(EXIT_NO_RESULT, error.message, error.code);
  }
  const code = (error as { code?: unknown })?.code;
  if (code === 'EPERM' || code === 'EACCES') {
    return new CliError(EXIT_NO_PERMISSION, permissionMessage((error as Error).message), code);
  }
  return new CliError(EXIT_NO_RESULT, error instanceof Error ? error.message : String(error), typeof code === 'string' ? code : 'FAILED');
}

function validationMessage(error: WorkbenchError, flags: FlagNames): string {
  // 'send: packet.layers[1].kind: unknown kind …' -> '--layers[1].kind: unknown kind …'
  let text = error.message.replace(/^[A-Za-z]+: /, '');
  let path = splitPath(error.field ?? '');
  // The message may name a deeper path than the field (the engine's 'packet.layers: …'), or the
  // parent of an unknown key: name what the message names.
  const named = /^([A-Za-z_]\w*(?:\.\w+|\[\d+\])*): /.exec(text);
  if (named) {
    const said = splitPath(named[1]);
    if (path.length === 0 || startsWith(said, path) || startsWith(path, said)) {
      path = said;
      text = text.slice(named[0].length);
    }
  }
  for (let length = path.length; length > 0; length--) {
    const name = flags[path.slice(0, length).join('.')];
    if (name) return `${name.flag}${pathText(path.slice(length))}: ${lowerFirst(scaled(text, name))}`;
  }
  return path.length > 0 ? `${pathText(path).replace(/^\./, '')}: ${lowerFirst(text)}` : lowerFirst(text);
}

function splitPath(text: string): string[] {
  return text ? text.replace(/\[(\d+)\]/g, '.$1').split('.') : [];
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.every((key, i) => path[i] === key);
}

/** `layers.1.kind` as `layers[1].kind`, with the leading dot a suffix needs. */
function pathText(path: string[]): string {
  return path.map((key) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`)).join('');
}

/** Numbers of a field in ms shown in the flag's seconds: 'must be at least 10, got 1' -> '… 0.01 s, got 0.001 s'. */
function scaled(text: string, name: FlagName): string {
  const scale = name.scale;
  if (!scale) return text;
  const unit = name.unit ? ` ${name.unit}` : '';
  return text.replace(/(at least|at most|more than|less than|got|[<>]=?)\s*(-?\d+(?:\.\d+)?)/g, (_match, words: string, value: string) => `${words}${/[<>]/.test(words) ? '' : ' '}${Number(value) / scale}${unit}`);
}

/**
 * Commander's "option '-c, --count <count>' argument '1.5' is invalid. '1.5' is not a whole number."
 * as "-c (count): '1.5' is not a whole number", the form the contract's errors take.
 */
export function usageMessage(message: string): string {
  const missing = /^option '([^']+)' argument missing$/.exec(message);
  if (missing) return `${flagName(missing[1])}: needs a value`;
  const invalid = /^option '([^']+)' argument '(.*)' is invalid\. (.*?)\.?$/.exec(message);
  if (!invalid) return message.replace(/\.$/, '');
  const [, flags, value, reason] = invalid;
  const flag = flagName(flags);
  const choices = /^Allowed choices are (.*)$/.exec(reason);
  if (choices) return `${flag}: '${value}' is not one of ${choices[1]}`;
  return `${flag}: ${reason.includes(`'${value}'`) ? reason : `'${value}': ${reason}`}`;
}

/** '-c, --count <count>' as '-c (count)', the name the contract's errors give it; '--rate <pps>' as '--rate'. */
function flagName(flags: string): string {
  const short = /(^|, )(-\w)\b/.exec(flags)?.[2];
  const long = /--([\w-]+)/.exec(flags)?.[1];
  return short && long ? `${short} (${long})` : (short ?? `--${long}`);
}

function permissionMessage(message: string): string {
  return `missing privilege (CAP_NET_RAW): ${message}`;
}

/** Drops the engine's advice to use a datagram socket where one cannot do the job (capture, raw sends). */
export function withoutDatagramAdvice(error: CliError): CliError {
  if (error.exitCode !== EXIT_NO_PERMISSION) return error;
  const message = error.message.replace(/ ?Your group may already open unprivileged ICMP datagram \("ping"\) sockets: use mode 'auto' or 'datagram'\./, '');
  return new CliError(error.exitCode, message, error.code);
}

/** Adds a CLI hint to a permission error. */
export function withHint(error: CliError, hint: string): CliError {
  if (error.exitCode !== EXIT_NO_PERMISSION) return error;
  return new CliError(error.exitCode, `${error.message} ${hint}`, error.code);
}

function lowerFirst(text: string): string {
  return text.length > 0 ? text[0].toLowerCase() + text.slice(1) : text;
}
