// --lab-host HOST on the command line: with the shipped 'line' lab up (`lab up line`, as root),
// ping, traceroute, send and capture act from inside a lab host (198.18.0.0/15 only); without a lab,
// or with a host the lab lacks, a usage error names what is up.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSupport } from '../lab';
import { CLI, ensureCliBuilt, runCli } from './fixtures/cli-process';

const support = labSupport();

const records = (stdout: string): Record<string, unknown>[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe.skipIf(!support.supported)(`--lab-host${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  beforeAll(async () => {
    ensureCliBuilt();
    const down = await runCli(['ping', '--lab-host', 'client', '-c', '1', '198.18.4.2']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/--lab-host client: no lab is up/);
    const up = await runCli(['lab', 'up', 'line'], 60_000);
    expect(up.code, up.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await runCli(['lab', 'down', 'line'], 30_000);
  });

  it('ping and traceroute from client reach the target through r1, r2, r3', { timeout: 60_000 }, async () => {
    const ping = await runCli(['ping', '--lab-host', 'client', '-c', '2', '-i', '0.2', '--json', '198.18.4.2'], 30_000);
    expect(ping.code, ping.stderr).toBe(0);
    expect(records(ping.stdout).filter((record) => record.type === 'reply')).toHaveLength(2);
    const trace = await runCli(['traceroute', '-I', '-q', '1', '-w', '2', '--lab-host', 'client', '--json', '198.18.4.2'], 30_000);
    expect(trace.code, trace.stderr).toBe(0);
    const result = records(trace.stdout).find((record) => record.type === 'result') as { hops: { probes: { responder?: string }[] }[] };
    expect(result.hops.map((hop) => hop.probes[0].responder)).toEqual(['198.18.1.2', '198.18.2.2', '198.18.3.2', '198.18.4.2']);
  });

  it('send from client is answered; a capture inside r2 sees it cross', { timeout: 60_000 }, async () => {
    const capture = spawn(process.execPath, [CLI, 'capture', '--lab-host', 'r2', '-c', '2', '--timeout', '20', '--json', 'icmp and host 198.18.1.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    capture.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    capture.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const ended = new Promise<number | null>((resolve) => capture.once('exit', resolve));
    // Capturing once it says so on stderr.
    for (let i = 0; i < 200 && !/Capturing/.test(err); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(err).toMatch(/of lab host r2/);
    const send = await runCli(['send', '--lab-host', 'client', '--template', 'icmp-echo', '--answers', '1000', '198.18.4.2'], 30_000);
    expect(send.code, send.stderr).toBe(0);
    expect(send.stdout).toMatch(/1 answered, 0 unanswered/);
    expect(await ended).toBe(0);
    const packets = records(out).filter((record) => record.type === 'packet');
    expect(packets.map((packet) => [packet.source, packet.destination])).toEqual([
      ['198.18.1.1', '198.18.4.2'],
      ['198.18.1.1', '198.18.4.2'],
    ]);
  });

  it('a host the lab lacks: a usage error listing the lab and its hosts', async () => {
    const result = await runCli(['ping', '--lab-host', 'nohost', '-c', '1', '198.18.4.2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no lab up has that host \(up: line \(client, r1, r2, r3, target\)\)/);
  });
});
