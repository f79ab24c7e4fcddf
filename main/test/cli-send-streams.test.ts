// `packet-workbench send` with variable fields (--vary, --no-vary) and send-and-match (--answers),
// the built CLI run as a child process on 127.0.0.1.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from './fixtures/cli-process';
import { rootWhy, skipNote } from './fixtures/privilege';

// Raw sockets in the child need root (an effective CAP_NET_RAW is not inherited across exec).
const loopbackWhy = rootWhy('raw sockets in the CLI child process');

const cli = (args: string[]) => runCli(args);

beforeAll(ensureCliBuilt, 130_000);

const sequences = (stdout: string) => [...stdout.matchAll(/Echo request id=0x[0-9a-f]{4} seq=(\d+)/g)].map((m) => Number(m[1]));

describe('send --vary and --answers: usage', () => {
  it('refuses a bad --vary naming the flag, the form and the valid names', async () => {
    const cases: [string[], RegExp][] = [
      [['--vary', 'icmp.seq=increment'], /--vary\[0\]\.field: layer 0 \(ICMP\) has no variable field 'seq'; ICMP has: code, checksum, identifier, sequence/],
      [['--vary', 'ipv4.ttl=increment'], /--vary ipv4\.ttl=increment: the packet has no layer ipv4 \(its layers: 0 icmp, 1 payload\)/],
      [['--vary', 'icmp.sequence=list'], /list needs its values/],
      [['--vary', 'icmp.sequence=grow'], /not understood; the form is LAYER\.FIELD=MODE/],
      [['--vary', 'icmp.sequence=increment:0'], /STEP must be a whole number of at least 1/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['send', '127.0.0.1', '--template', 'icmp-echo', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe.skipIf(loopbackWhy !== '')(`send --vary and --answers on 127.0.0.1${skipNote(loopbackWhy)}`, () => {
  it('-c 3 increments the echo sequence by default; --no-vary sends identical packets; --vary steps', async () => {
    const varied = await cli(['send', '127.0.0.1', '--template', 'icmp-echo', '-c', '3']);
    expect(varied.code, varied.stderr).toBe(0);
    expect(sequences(varied.stdout)).toEqual([1, 2, 3]);
    const same = await cli(['send', '127.0.0.1', '--template', 'icmp-echo', '-c', '3', '--no-vary']);
    expect(sequences(same.stdout)).toEqual([1, 1, 1]);
    const stepped = await cli(['send', '127.0.0.1', '--template', 'icmp-echo', '-c', '4', '--vary', 'icmp.sequence=decrement:2:2']);
    expect(sequences(stepped.stdout)).toEqual([1, 65535, 1, 65535]);
  });

  it('--answers prints the pairs and what got no answer, by log row', async () => {
    const result = await cli(['send', '127.0.0.1', '--template', 'icmp-echo', '-c', '2', '--answers', '300']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toContain('2 answered, 0 unanswered');
    const pairs = lines.filter((line) => / → #\d+ /.test(line));
    expect(pairs).toHaveLength(2);
    expect(pairs[0]).toMatch(/^ {2}#\d+ → #\d+ {2}\d+\.\d{3} ms {2}Echo request id=0x[0-9a-f]{4} seq=1 → Echo reply id=0x[0-9a-f]{4} seq=1$/);
    const json = await cli(['send', '127.0.0.1', '--template', 'udp', '-p', '9', '--answers', '100', '--json']);
    const results = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string })
      .find((record) => record.type === 'results');
    // No ICMP socket is open in this process: the port unreachable is not seen, the datagram stays unanswered.
    expect(results).toMatchObject({ final: true, answeredTotal: 0, unansweredTotal: 1 });
  });
});
