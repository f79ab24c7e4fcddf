// Command-line values: numbers as typed (checked against the contract later), targets
// as addresses or host names, and paths checked before any work starts.
import { accessSync, constants, statSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { formatIpAddress, isIpv4, isIpv6, parseIpAddress } from '../../packets/address';
import { CliError, EXIT_USAGE } from './errors';

/** A commander parser for a number; ranges are the contract's to check. */
export function numberArg(value: string): number {
  const trimmed = value.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) throw new InvalidArgumentError(`'${value}' is not a number`);
  const number = Number(trimmed);
  if (!Number.isFinite(number)) throw new InvalidArgumentError(`'${value}' is not a finite number`);
  return number;
}

/** A commander parser for a whole number. */
export function integerArg(value: string): number {
  const number = numberArg(value);
  if (!Number.isInteger(number)) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return number;
}

/** Seconds as typed to whole milliseconds (the contract's unit). */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

export interface Target {
  /** The address in canonical text. */
  address: string;
  /** What the user typed (a name or the address). */
  name: string;
  family: 4 | 6;
}

const RESOLVE_TIMEOUT_MS = 5000;

/**
 * An IPv4 or IPv6 literal, or a host name resolved through the system resolver
 * (/etc/hosts, DNS) within 5 s. `family` (-4 / -6) restricts both.
 */
export async function resolveTarget(text: string, family?: 4 | 6, what = '<target>'): Promise<Target> {
  const wanted = family === 6 ? 'IPv6' : 'IPv4';
  if (isIpv4(text) || isIpv6(text)) {
    const literal: 4 | 6 = isIpv4(text) ? 4 : 6;
    if (family && literal !== family) {
      throw new CliError(EXIT_USAGE, `${what}: ${text} is an ${literal === 4 ? 'IPv4' : 'IPv6'} address, but -${family} asks for ${wanted}`);
    }
    return { address: formatIpAddress(parseIpAddress(text)), name: text, family: literal };
  }
  // Digits and dots, or anything with a colon, was meant as an address: do not ask DNS about it.
  const hostName = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
  if (/^[\d.]+$/.test(text) || text.includes(':') || !hostName.test(text)) {
    throw new CliError(EXIT_USAGE, `${what}: '${text}' is not an IPv4 or IPv6 address (nor a host name)`);
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(text, { family: family ?? 0 }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('the resolver did not answer within 5 s'), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
      }),
    ]);
    return { address: formatIpAddress(parseIpAddress(found.address)), name: text, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOTFOUND' || code === 'EAI_NONAME' ? 'no such host' : (error as Error).message;
    throw new CliError(EXIT_USAGE, `${what}: cannot resolve '${text}'${family ? ` to an ${wanted} address` : ''}: ${why}`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** 'icmp', 'icmpv6', 'udp', 'tcp', 'raw' or a number 0-255. */
export function protocolArg(value: string): number {
  const named: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58, raw: 255 };
  const key = value.trim().toLowerCase();
  if (key in named) return named[key];
  if (/^\d{1,3}$/.test(key) && Number(key) <= 255) return Number(key);
  throw new InvalidArgumentError(`'${value}' is not a protocol: use icmp, icmpv6, udp, tcp or a number from 0 to 255`);
}

/**
 * Checks a path the command will read, before any work starts: it exists, is a `kind`,
 * and this user may read it (a folder: list and enter it). Returns it absolute; throws a
 * usage error naming the flag, the path and what is wrong.
 */
export function checkInputPath(flag: string, value: string, kind: 'file' | 'folder'): string {
  const absolute = path.resolve(value);
  const fail = (why: string) => new CliError(EXIT_USAGE, `${flag} ${value}${absolute === value ? '' : ` (${absolute})`}: ${why}`);
  let stat;
  try {
    stat = statSync(absolute);
  } catch (error) {
    throw fail(pathProblem(error, `no such ${kind}`));
  }
  if (kind === 'folder' ? !stat.isDirectory() : stat.isDirectory()) throw fail(`not a ${kind}`);
  try {
    accessSync(absolute, kind === 'folder' ? constants.R_OK | constants.X_OK : constants.R_OK);
  } catch (error) {
    throw fail(pathProblem(error, `no such ${kind}`));
  }
  return absolute;
}

/**
 * Checks a file the command will write, before any work starts: its folder exists and this
 * user may write there, and the path is not a folder. Returns it absolute.
 */
export function checkOutputPath(flag: string, value: string): string {
  const absolute = path.resolve(value);
  const fail = (why: string) => new CliError(EXIT_USAGE, `${flag} ${value}${absolute === value ? '' : ` (${absolute})`}: ${why}`);
  const folder = path.dirname(absolute);
  try {
    if (statSync(absolute).isDirectory()) throw fail('is a folder; name a file in it');
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as { code?: string }).code !== 'ENOENT') throw fail(pathProblem(error, 'cannot be written'));
  }
  try {
    if (!statSync(folder).isDirectory()) throw fail(`${folder} is not a folder`);
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw fail(pathProblem(error, `no such folder ${folder}`, `cannot write in ${folder} (permission denied)`));
  }
  return absolute;
}

function pathProblem(error: unknown, missing: string, denied = 'not readable (permission denied)'): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return missing;
  if (code === 'ENOTDIR') return `${missing} (a part of the path is a file)`;
  if (code === 'EACCES' || code === 'EPERM') return denied;
  return (error as Error).message;
}
