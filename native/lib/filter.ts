// Capture filters: tcpdump's filter language (pcap-filter(7)) compiled to classic BPF
// by libpcap's pcap_compile, the compiler tcpdump itself uses, and run by the kernel on
// a socket (SO_ATTACH_FILTER). libpcap says only "syntax error"; the position is found
// here by asking libpcap again about prefixes of the expression (see syntaxErrorAt).
import { endianness } from 'node:os';
import { binding, type NativeBinding } from './binding';

interface FilterBinding {
  /** A Buffer of 8-byte struct bpf_insn in host byte order, or libpcap's error text. */
  compileFilter(expression: string, linkType: number, snapLength: number, optimize: boolean): Buffer | string;
  libpcapVersion(): string;
  attachFilter(descriptor: number, program: Uint8Array, drain: boolean): void;
  detachFilter(descriptor: number): void;
}
// src/bpf.cc registers these beside the rest of the addon.
const native = binding as NativeBinding & FilterBinding;

export type FilterLinkType = 'raw' | 'ethernet';

export interface CompileFilterOptions {
  /** What the packets start with: 'raw' (default), an IPv4 or IPv6 header; 'ethernet', an Ethernet header. */
  linkType?: FilterLinkType;
  /** The return value of accepting instructions, in bytes (1-262144, default 262144: never cut). */
  snapLength?: number;
  /** libpcap's optimizer, as tcpdump runs it (default true; tcpdump -O turns it off). */
  optimize?: boolean;
}

/** One classic BPF instruction (struct sock_filter). */
export interface FilterInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// DLT_RAW is 12 on Linux (14 on OpenBSD, where this addon does not run); DLT_EN10MB is 1.
const LINK_TYPES: Record<FilterLinkType, number> = { raw: 12, ethernet: 1 };
const MAX_SNAP = 262144;
export const MAX_FILTER_LENGTH = 65536;

/** A filter expression compiled by libpcap. */
export class CompiledFilter {
  /** The instructions as the kernel takes them: 8 bytes each, host byte order. */
  readonly bytes: Uint8Array;

  constructor(
    readonly expression: string,
    readonly linkType: FilterLinkType,
    readonly instructions: readonly FilterInstruction[],
  ) {
    this.bytes = encodeInstructions(instructions);
  }

  /** The program as `tcpdump -dd` prints it (a C array's lines). */
  toString(): string {
    return this.instructions.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${i.k.toString(16).padStart(8, '0')} },`).join('\n');
  }
}

/** libpcap refused the expression's syntax. code 'ERR_FILTER_SYNTAX'. */
export class FilterSyntaxError extends SyntaxError {
  readonly code = 'ERR_FILTER_SYNTAX';
  /** 0-based offset (UTF-16 units) of the first token libpcap could not accept; expression.length when it ended too soon. */
  readonly position: number;
  /** That token, or '' at the end of the expression. */
  readonly token: string;

  constructor(readonly expression: string, position: number) {
    const token = tokenAt(expression, position);
    const where = token === '' ? 'end of expression, which is incomplete' : `"${token}"`;
    super(`capture filter: syntax error at position ${position} (${where}): ${expression}`);
    this.name = 'FilterSyntaxError';
    this.position = position;
    this.token = token;
  }
}

/**
 * libpcap understood the expression but could not compile it: an unknown host or port
 * name, a port number out of range, a qualifier the link type has no use for… The
 * message keeps libpcap's words (`reason`). code 'ERR_FILTER_INVALID'.
 */
export class FilterError extends Error {
  readonly code = 'ERR_FILTER_INVALID';
  /** Where the text libpcap complains about occurs in the expression, when it names one. */
  readonly position: number | undefined;

  constructor(readonly expression: string, readonly reason: string, position?: number) {
    super(`capture filter: ${reason}${position === undefined ? '' : ` (position ${position})`}: ${expression}`);
    this.name = 'FilterError';
    this.position = position;
  }
}

/** libpcap could not be loaded, so filters cannot be compiled. code 'ERR_LIBPCAP_MISSING'. */
export class FilterCompilerMissingError extends Error {
  readonly code = 'ERR_LIBPCAP_MISSING';

  constructor(detail: string) {
    super(
      'Capture filters need libpcap (the filter compiler tcpdump uses), which could not be loaded ' +
        `(${detail}). Install it: \`sudo apt-get install libpcap0.8\` on Debian and Ubuntu, ` +
        '`sudo dnf install libpcap` on Fedora, `sudo apk add libpcap` on Alpine.',
    );
    this.name = 'FilterCompilerMissingError';
  }
}

/** The libpcap in use, e.g. 'libpcap version 1.10.3 (with TPACKET_V3)'. Throws FilterCompilerMissingError without one. */
export function libpcapVersion(): string {
  try {
    return native.libpcapVersion();
  } catch (error) {
    throw missingOr(error);
  }
}

/**
 * Compiles a filter expression in tcpdump's syntax. Throws FilterSyntaxError (with the
 * position), FilterError (libpcap's reason), FilterCompilerMissingError, or a TypeError /
 * RangeError for a bad argument.
 */
export function compileFilter(expression: string, options: CompileFilterOptions = {}): CompiledFilter {
  if (typeof expression !== 'string') throw new TypeError(`The "expression" argument must be a string, got ${typeof expression}`);
  if (expression.length > MAX_FILTER_LENGTH) throw new RangeError(`A filter expression is at most ${MAX_FILTER_LENGTH} characters, got ${expression.length}`);
  if (expression.includes('\0')) throw new TypeError('A filter expression must not contain NUL characters');
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const linkType = options.linkType ?? 'raw';
  if (!Object.hasOwn(LINK_TYPES, linkType)) throw new RangeError(`The "linkType" option must be 'raw' or 'ethernet', got ${String(linkType)}`);
  const snapLength = options.snapLength ?? MAX_SNAP;
  if (typeof snapLength !== 'number' || !Number.isInteger(snapLength) || snapLength < 1 || snapLength > MAX_SNAP) {
    throw new RangeError(`The "snapLength" option must be an integer from 1 to ${MAX_SNAP}, got ${String(snapLength)}`);
  }
  const optimize = options.optimize ?? true;
  if (typeof optimize !== 'boolean') throw new TypeError(`The "optimize" option must be a boolean, got ${typeof optimize}`);
  const compile = (text: string) => {
    try {
      return native.compileFilter(text, LINK_TYPES[linkType], snapLength, optimize);
    } catch (error) {
      throw missingOr(error);
    }
  };
  const result = compile(expression);
  if (typeof result !== 'string') return new CompiledFilter(expression, linkType, decodeInstructions(result));
  const reason = result.replace(/^can't parse filter expression: /, '');
  if (/syntax error/.test(reason)) {
    const position = syntaxErrorAt(expression, (text) => compile(text));
    if (position !== undefined) throw new FilterSyntaxError(expression, position);
  }
  throw new FilterError(expression, reason, namedPosition(expression, reason));
}

// ---- where a syntax error is ----------------------------------------------------------

/**
 * libpcap's lexer reports a number that does not fit 32 bits as soon as it reads it,
 * before the parser sees it, and the first error set is the one reported. So
 * `prefix + " 4294967296"` fails with "overflows" exactly when the parser accepted
 * every token of the prefix and asked for the next one: the prefix can still begin a
 * valid expression. The first prefix that cannot ends with the token the parser
 * failed at (libpcap 1.10+; older ones miss the lexer check, and the position is then
 * left unsaid rather than guessed).
 */
const PROBE = ' 4294967296';
const PROBE_ACCEPTED = /overflows/;

/** libpcap's tokens, coarsely: operators, and runs of anything else between spaces. */
const TOKEN = /&&|\|\||==|!=|<=|>=|<<|>>|[()[\]!<>=&|+*/%^]|[^\s()[\]!<>=&|+*/%^]+/g;

export function filterTokens(expression: string): { start: number; end: number }[] {
  return [...expression.matchAll(TOKEN)].map((match) => ({ start: match.index ?? 0, end: (match.index ?? 0) + match[0].length }));
}

let probeWorks: boolean | undefined;

function syntaxErrorAt(expression: string, compile: (text: string) => Buffer | string): number | undefined {
  if (probeWorks === undefined) {
    const answer = compile(PROBE.trim());
    probeWorks = typeof answer === 'string' && PROBE_ACCEPTED.test(answer);
  }
  if (!probeWorks) return undefined;
  const viable = (end: number): boolean => {
    const answer = compile(expression.slice(0, end) + PROBE);
    return typeof answer === 'string' && PROBE_ACCEPTED.test(answer);
  };
  const tokens = filterTokens(expression);
  // Prefixes that can still begin an expression come first, then those that cannot: bisect.
  let low = 0;
  let high = tokens.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (viable(tokens[middle].end)) low = middle + 1;
    else high = middle;
  }
  return low < tokens.length ? tokens[low].start : expression.length;
}

function tokenAt(expression: string, position: number): string {
  const token = filterTokens(expression).find((candidate) => candidate.start === position);
  return token === undefined ? '' : expression.slice(token.start, token.end);
}

/** Where the text libpcap's message names ('eighty', 99999, a cut Ethernet address) is in the expression. */
function namedPosition(expression: string, reason: string): number | undefined {
  const named = [...reason.matchAll(/'([^']+)'|"([^"]+)"/g)].map((match) => match[1] ?? match[2]);
  named.push(...(reason.match(/[^\s'"]*\d[^\s'"]*/g) ?? []));
  const tokens = filterTokens(expression).map((token) => ({ ...token, text: expression.slice(token.start, token.end) }));
  for (const text of named) {
    const exact = tokens.find((token) => token.text === text);
    if (exact) return exact.start;
    const cut = text.length >= 3 ? tokens.find((token) => token.text.startsWith(text)) : undefined;
    if (cut) return cut.start;
  }
  return undefined;
}

// ---- sockets ------------------------------------------------------------------------

/**
 * Where a socket's packets start when the kernel runs its filter: at the IP header
 * (IPv4 raw and packet sockets), or after it (IPv6 raw sockets, ICMP datagram and UDP
 * sockets: the kernel has already pulled the IP header off).
 */
export type FilterPlacement = 'ip-header' | 'after-ip-header';

// Linux's SKF_NET_OFF: a load at this offset plus k reads the network (IP) header plus k,
// wherever the data the filter sees starts.
const SKF_NET_OFF = 0xfff00000;
const BPF_CLASS = 0x07;
const BPF_MODE = 0xe0;
const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ABS = 0x20;
const BPF_IND = 0x40;
const BPF_LEN = 0x80;
const BPF_MSH = 0xa0;

/**
 * The program to attach: as compiled where the data starts at the IP header; otherwise
 * every packet load is rewritten to be relative to the IP header (SKF_NET_OFF), which
 * the kernel keeps even where it has pulled it off. The packet's length is not
 * rewritable (the kernel has only the length after the IP header), so a program that
 * reads it (`len`, `greater`, `less`) is refused there.
 */
export function socketProgram(filter: CompiledFilter, placement: FilterPlacement, socketName: string): Uint8Array {
  if (filter.linkType !== 'raw') throw new RangeError(`A socket's filter is compiled for linkType 'raw' (the packets start with an IP header), not '${filter.linkType}'`);
  if (placement === 'ip-header') return filter.bytes;
  const rewritten = filter.instructions.map((instruction) => {
    const kind = instruction.code & BPF_CLASS;
    const mode = instruction.code & BPF_MODE;
    if ((kind === BPF_LD || kind === BPF_LDX) && mode === BPF_LEN) {
      throw new FilterError(
        filter.expression,
        `the packet length (len, greater, less) cannot be filtered on ${socketName}: the kernel runs the filter after taking the IP header off, so the length it has is not the packet's; use a packet socket (createPacketSocket), which sees whole packets`,
      );
    }
    const load = (kind === BPF_LD && (mode === BPF_ABS || mode === BPF_IND)) || (kind === BPF_LDX && mode === BPF_MSH);
    if (!load) return instruction;
    if (instruction.k >= 0x100000) {
      throw new FilterError(filter.expression, `the filter reads a kernel extension (offset 0x${instruction.k.toString(16)}) that cannot be moved onto the IP header on ${socketName}`);
    }
    return { ...instruction, k: (SKF_NET_OFF + instruction.k) >>> 0 };
  });
  return encodeInstructions(rewritten);
}

/**
 * Attaches program to the descriptor (replacing any filter), discarding what is queued
 * so that every packet read afterwards passed it; null detaches. On failure the
 * previous program (when given) is put back.
 */
export function attachProgram(descriptor: number, program: Uint8Array | null, previous: Uint8Array | null): void {
  try {
    if (program === null) native.detachFilter(descriptor);
    else native.attachFilter(descriptor, program, true);
  } catch (error) {
    try {
      if (previous === null) native.detachFilter(descriptor);
      else native.attachFilter(descriptor, previous, false);
    } catch {
      // The first failure is the one to report.
    }
    throw error;
  }
}

// ---- encoding -----------------------------------------------------------------------

const littleEndian = endianness() === 'LE';

function decodeInstructions(bytes: Uint8Array): FilterInstruction[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const instructions: FilterInstruction[] = [];
  for (let offset = 0; offset + 8 <= bytes.byteLength; offset += 8) {
    instructions.push({
      code: view.getUint16(offset, littleEndian),
      jt: view.getUint8(offset + 2),
      jf: view.getUint8(offset + 3),
      k: view.getUint32(offset + 4, littleEndian),
    });
  }
  return instructions;
}

function encodeInstructions(instructions: readonly FilterInstruction[]): Uint8Array {
  const bytes = new Uint8Array(instructions.length * 8);
  const view = new DataView(bytes.buffer);
  instructions.forEach((instruction, index) => {
    view.setUint16(index * 8, instruction.code, littleEndian);
    view.setUint8(index * 8 + 2, instruction.jt);
    view.setUint8(index * 8 + 3, instruction.jf);
    view.setUint32(index * 8 + 4, instruction.k, littleEndian);
  });
  return bytes;
}

function missingOr(error: unknown): unknown {
  if ((error as { code?: unknown }).code === 'ERR_LIBPCAP_MISSING') {
    return new FilterCompilerMissingError((error as Error).message.replace(/^libpcap could not be loaded: /, ''));
  }
  return error;
}
