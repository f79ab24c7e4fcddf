// Runs every program in native/examples/ and checks what it prints, so none rots.
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, lostReply, retry, runNode, type RunResult } from './helpers';

// Programs that ping may lose one echo to someone else's flood on a shared loopback:
// up to 3 runs for those, again only after a run that said it got no reply.
function run(file: string, args: string[] = [], attempts = 1): Promise<RunResult> {
  return retry(`${file} ${args.join(' ')}`.trim(), attempts, () => runNode([path.join(EXAMPLES, file), ...args], { timeout: 8000, cwd: EXAMPLES }), lostReply);
}

const expected: Record<string, (r: RunResult) => void> = {
  'ping.js': (r) => expect(r.stdout).toMatch(/^16 bytes from 127\.0\.0\.1: icmp_seq=0 ttl=64 time=\d+\.\d{3} ms\n$/),
  'ping6.js': (r) => expect(r.stdout).toMatch(/^16 bytes from ::1: icmp_seq=1 time=\d+\.\d{3} ms\n$/),
  'ping-set-option-ip-ttl.js': (r) => {
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['before send: IP_TTL = 3', 'sent 16 bytes', 'after send: IP_TTL = 64']);
    expect(lines).toContain('request left with ttl=3');
    expect(lines).toContain('reply from 127.0.0.1');
  },
  'ping-no-ip-header.js': (r) =>
    expect(r.stdout).toBe('sent 36 bytes (IP header included)\nrequest seen: ttl=42 id=0x4242\nreply from 127.0.0.1\n'),
  'get-option.js': (r) =>
    expect(r.stdout).toMatch(/^IP_TTL = 64 \(4 bytes: 40000000\)\nSO_RCVBUF = \d+ \(4 bytes: [0-9a-f]{8}\)\nIP_HDRINCL = 0 \(4 bytes: 00000000\)\n$/),
  'set-option.js': (r) => expect(r.stdout).toBe('buffer form: IP_TTL = 1\nvalue form: IP_TTL = 2\n'),
  'create-checksum.js': (r) => expect(r.stdout).toBe('checksum 0xc867\nudp d43100350010c86768656c6c6f21210a\nverify 0x0\n'),
  'htonl.js': (r) => expect(r.stdout).toBe('htonl (0x12345678) = 0x78563412\n'),
  'htons.js': (r) => expect(r.stdout).toBe('htons (0x1234) = 0x3412\n'),
  'ntohl.js': (r) => expect(r.stdout).toBe('ntohl (0x12345678) = 0x78563412\n'),
  'ntohs.js': (r) => expect(r.stdout).toBe('ntohs (0x1234) = 0x3412\n'),
  'udp-traceroute-unprivileged.js': (r) =>
    expect(r.stdout).toMatch(/^traceroute to 127\.0\.0\.1 \(UDP, no privilege\), 30 hops max\n 1  127\.0\.0\.1  \d+\.\d{3} ms  port unreachable\n$/),
};

describe('native/examples', () => {
  it('every example has a test here, and every test an example', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.js')).sort();
    expect(files).toEqual(Object.keys(expected).sort());
  });

  for (const [file, check] of Object.entries(expected)) {
    it(`${file} runs and prints what it should`, async () => {
      const result = await run(file, [], file.startsWith('ping') ? 3 : 1);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      check(result);
    });
  }

  it('ping.js with a count prints one line per reply', async () => {
    const result = await run('ping.js', ['127.0.0.1', '3'], 3);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').map((l) => l.replace(/time=.*/, ''))).toEqual([
      '16 bytes from 127.0.0.1: icmp_seq=0 ttl=64 ',
      '16 bytes from 127.0.0.1: icmp_seq=1 ttl=64 ',
      '16 bytes from 127.0.0.1: icmp_seq=2 ttl=64 ',
    ]);
  });

  it('the unprivileged traceroute example runs over IPv6 and with TCP probes', async () => {
    const v6 = await run('udp-traceroute-unprivileged.js', ['::1', '5']);
    expect(v6.stdout).toMatch(/^traceroute to ::1 \(UDP, no privilege\), 5 hops max\n 1  ::1  \d+\.\d{3} ms  port unreachable\n$/);
    const tcp = await run('udp-traceroute-unprivileged.js', ['127.0.0.1', '5', 'tcp']);
    // Port 80 on loopback: refused, unless something here listens on it.
    expect(tcp.stdout).toMatch(/^traceroute to 127\.0\.0\.1 \(TCP, no privilege\), 5 hops max\n 1  127\.0\.0\.1  \d+\.\d{3} ms  (refused \(RST\)|open \(SYN-ACK\))\n$/);
  });

  it('the byte-order examples take a value argument', async () => {
    expect((await run('htonl.js', ['1'])).stdout).toBe('htonl (0x1) = 0x1000000\n');
    expect((await run('htons.js', ['255'])).stdout).toBe('htons (0xff) = 0xff00\n');
  });
});
