// Compiling capture filters: libpcap's program as dumpcap prints it, the position of
// syntax errors in real mistakes, libpcap's own words for the rest, bad arguments, and
// the addon loading (with a typed error) where libpcap is not installed.
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as raw from '../lib/index';
import { runNode } from './helpers';
import { readableNativeCopy } from './fixtures/native-copy';

function syntaxError(expression: string): raw.FilterSyntaxError {
  try {
    raw.compileFilter(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(raw.FilterSyntaxError);
    return error as raw.FilterSyntaxError;
  }
  throw new Error(`'${expression}' compiled`);
}

function filterError(expression: string): raw.FilterError {
  try {
    raw.compileFilter(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(raw.FilterError);
    return error as raw.FilterError;
  }
  throw new Error(`'${expression}' compiled`);
}

// bpf_image's mnemonics for the instructions libpcap emits for these expressions.
function image(i: raw.FilterInstruction, n: number): string {
  const hex = (k: number) => `#0x${k.toString(16)}`;
  const size = ({ 0x00: '', 0x08: 'h', 0x10: 'b' } as Record<number, string>)[i.code & 0x18];
  const at = () => `jt ${n + 1 + i.jt}\tjf ${n + 1 + i.jf}`;
  const line = (op: string, operand: string, jumps = '') => `(${String(n).padStart(3, '0')}) ${op.padEnd(8)} ${jumps ? `${operand.padEnd(16)} ${jumps}` : operand}`.trimEnd();
  switch (i.code) {
    case 0x20: case 0x28: case 0x30: return line(`ld${size}`, `[${i.k}]`);
    case 0x40: case 0x48: case 0x50: return line(`ld${size}`, `[x + ${i.k}]`);
    case 0xb1: return line('ldxb', `4*([${i.k}]&0xf)`);
    case 0x15: return line('jeq', hex(i.k), at());
    case 0x25: return line('jgt', hex(i.k), at());
    case 0x35: return line('jge', hex(i.k), at());
    case 0x45: return line('jset', hex(i.k), at());
    case 0x54: return line('and', hex(i.k));
    case 0x06: return line('ret', `#${i.k}`);
    default: return line(`code 0x${i.code.toString(16)}`, `k ${i.k}`);
  }
}

const dumpcapUsable = existsSync('/usr/bin/dumpcap') && process.getuid?.() === 0;

describe('compileFilter', () => {
  it('is libpcap: the program for the loopback interface is the one dumpcap -d prints', { skip: !dumpcapUsable && 'needs dumpcap and root' }, () => {
    for (const expression of ['udp port 53', 'icmp[icmptype] == icmp-echoreply', 'tcp port 80 and host 198.18.3.2', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and icmp6']) {
      const listing = execFileSync('dumpcap', ['-i', 'lo', '-d', '-f', expression], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      const filter = raw.compileFilter(expression, { linkType: 'ethernet' });
      expect(filter.instructions.map(image).join('\n'), expression).toBe(listing.trim().split('\n').map((l) => l.replace(/\s+$/, '')).join('\n'));
    }
  });

  it('compiles for raw IP by default (the data starts at the IP header) and for Ethernet on request', () => {
    const ip = raw.compileFilter('ip');
    expect(ip.linkType).toBe('raw');
    expect(ip.expression).toBe('ip');
    // DLT_RAW: the version nibble of byte 0; Ethernet: the EtherType at 12.
    expect(ip.instructions[0]).toEqual({ code: 0x30, jt: 0, jf: 0, k: 0 });
    expect(raw.compileFilter('ip', { linkType: 'ethernet' }).instructions[0]).toEqual({ code: 0x28, jt: 0, jf: 0, k: 12 });
    expect(ip.bytes.length).toBe(ip.instructions.length * 8);
    expect(String(ip).split('\n')[0]).toBe('{ 0x30, 0, 0, 0x00000000 },');
    // The snap length is what an accepting program returns.
    const cut = raw.compileFilter('', { snapLength: 96 });
    expect(cut.instructions).toEqual([{ code: 0x06, jt: 0, jf: 0, k: 96 }]);
    expect(raw.libpcapVersion()).toMatch(/^libpcap version \d+\.\d+/);
  });

  it('names the position of a syntax error: the token libpcap failed at', () => {
    const cases: [string, number, string][] = [
      ['tcp port 80 and and host x', 16, 'and'],
      ['tcpp', 0, 'tcpp'],
      ['tcp)', 3, ')'],
      ['ip and ((tcp) or udp))', 21, ')'],
      ['host 198.18.3.2 198.18.3.3', 16, '198.18.3.3'],
      ['len >= 100 tcp', 11, 'tcp'],
      ['icmp[icmptype] == nope', 18, 'nope'],
      ['host fe80::1::2', 5, 'fe80::1::2'],
      ['tcp port 80 or udp port 53 and not and', 35, 'and'],
      ['tcp and foo', 8, 'foo'],
    ];
    for (const [expression, position, token] of cases) {
      const error = syntaxError(expression);
      expect({ expression, position: error.position, token: error.token }).toEqual({ expression, position, token });
      expect(error.code).toBe('ERR_FILTER_SYNTAX');
      expect(error.expression).toBe(expression);
      expect(error).toBeInstanceOf(SyntaxError);
      expect(error.message).toBe(`capture filter: syntax error at position ${position} ("${token}"): ${expression}`);
    }
  });

  it('an expression that ends too soon (unbalanced parenthesis, a missing operand) has its error at the end', () => {
    for (const expression of ['(tcp', 'tcp port', 'tcp port 80 and (udp or', 'not', 'icmp[0] == 8 and icmp[1] = ']) {
      const error = syntaxError(expression);
      expect(error.position).toBe(expression.length);
      expect(error.token).toBe('');
      expect(error.message).toBe(`capture filter: syntax error at position ${expression.length} (end of expression, which is incomplete): ${expression}`);
    }
  });

  it('other errors keep libpcap\'s words, with the position of what they name', () => {
    const cases: [string, string, number | undefined][] = [
      ['tcp port eighty', "unknown port 'eighty'", 9],
      ['host 1.2.3.4.5', "unknown host '1.2.3.4.5'", 5],
      ['tcp port 99999', 'illegal port number 99999 > 65535', 9],
      ['ip proto nope', "unknown ip proto 'nope'", 9],
      ['ip[99999999999] = 1', 'number 99999999999 overflows 32 bits', 3],
      ['net 1.2.3.4/33', 'mask length must be <= 32', undefined],
      ['vlan 5000', 'no VLAN support for Raw IP', undefined],
    ];
    for (const [expression, reason, position] of cases) {
      const error = filterError(expression);
      expect({ expression, reason: error.reason, position: error.position }).toEqual({ expression, reason, position });
      expect(error.code).toBe('ERR_FILTER_INVALID');
      expect(error.message).toBe(`capture filter: ${reason}${position === undefined ? '' : ` (position ${position})`}: ${expression}`);
    }
  });

  it('checks its arguments in TypeScript and again in C++', () => {
    expect(() => raw.compileFilter(5 as unknown as string)).toThrow(TypeError);
    expect(() => raw.compileFilter('ip\0tcp')).toThrow(/NUL/);
    expect(() => raw.compileFilter('ip '.repeat(30000))).toThrow(RangeError);
    expect(() => raw.compileFilter('ip', { linkType: 'token-ring' as 'raw' })).toThrow(RangeError);
    expect(() => raw.compileFilter('ip', { snapLength: 0 })).toThrow(RangeError);
    expect(() => raw.compileFilter('ip', { snapLength: 1.5 })).toThrow(RangeError);
    expect(() => raw.compileFilter('ip', { optimize: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => raw.compileFilter('ip', null as unknown as object)).toThrow(TypeError);
    // The addon itself, called without the TypeScript checks:
    const addon = require('../build/Release/raw_socket.node') as Record<string, (...args: unknown[]) => unknown>;
    const bad: unknown[][] = [[], [1, 12, 1, true], ['ip', -1, 1, true], ['ip', 12, 0, true], ['ip', 12, 300000, true], ['ip', 12, 1, 'yes'], ['a\0b', 12, 1, true]];
    for (const args of bad) expect(() => addon.compileFilter(...args), JSON.stringify(args)).toThrow(/argument/);
    for (const args of [[-1, Buffer.alloc(8), false], [0, Buffer.alloc(7), false], [0, Buffer.alloc(8 * 4097), false], [0, 'program', false], [0, Buffer.alloc(8), 1], []]) {
      expect(() => addon.attachFilter(...args), JSON.stringify(args)).toThrow(/argument/);
    }
    expect(() => addon.detachFilter('3')).toThrow(TypeError);
    // A descriptor that is not a socket: a system error, not a crash.
    const file = openSync('/dev/null', 'r');
    try {
      expect(() => addon.attachFilter(file, Buffer.alloc(8), true)).toThrow(expect.objectContaining({ code: 'ENOTSOCK', syscall: 'setsockopt' }));
      expect(() => addon.detachFilter(file)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }));
    } finally {
      closeSync(file);
    }
  });
});

describe('without libpcap', () => {
  const canHide = process.getuid?.() === 0 && existsSync('/usr/bin/unshare');
  it('the addon still loads, sockets still open, and compiling says which package to install', { skip: !canHide && 'needs root and unshare (a mount namespace hides libpcap)' }, async () => {
    const copy = readableNativeCopy([]);
    try {
      const libraries = execFileSync('sh', ['-c', 'ls /usr/lib/*/libpcap.so* /usr/lib/libpcap.so* /lib/*/libpcap.so* 2>/dev/null || true'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      expect(libraries.length).toBeGreaterThan(0);
      const script = `
        const raw = require(${JSON.stringify(copy.nativeDir)});
        const socket = raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'raw' });
        socket.close();
        try { raw.compileFilter('udp'); console.log('compiled'); } catch (error) { console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message })); }
        try { raw.createSocket({ protocol: raw.Protocol.UDP, mode: 'raw', filter: 'udp' }); } catch (error) { console.log(error.code); }`;
      // Each library file is covered by /dev/null inside a private mount namespace: dlopen finds nothing it can load.
      const hide = libraries.map((file) => `mount --bind /dev/null ${file}`).join(' && ');
      const result = await new Promise<string>((resolve, reject) =>
        execFile('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${hide} && exec "$0" -e "$1"`, process.execPath, script], { timeout: 20_000, encoding: 'utf8' }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      const [line, socketCode] = result.trim().split('\n');
      const reported = JSON.parse(line) as { name: string; code: string; message: string };
      expect(reported.name).toBe('FilterCompilerMissingError');
      expect(reported.code).toBe('ERR_LIBPCAP_MISSING');
      expect(reported.message).toMatch(/^Capture filters need libpcap .*could not be loaded \(.*libpcap\.so.*\)\. Install it: `sudo apt-get install libpcap0\.8` on Debian/);
      expect(socketCode).toBe('ERR_LIBPCAP_MISSING');
      // Outside the namespace it is there.
      expect((await runNode(['-e', `require(${JSON.stringify(copy.nativeDir)}).compileFilter('udp'); console.log('ok')`])).stdout.trim()).toBe('ok');
    } finally {
      copy.remove();
    }
  });
});
