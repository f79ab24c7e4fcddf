// `packet-workbench capture EXPRESSION`: the positional words are a capture filter in
// tcpdump's syntax, checked before anything is opened (libpcap's refusal with its
// position, exit 2), and run by the kernel on the packet or raw socket.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureCliBuilt, isRoot, runCli } from './fixtures/cli-process';
import { rootWhy, skipNote } from './fixtures/privilege';

beforeAll(() => ensureCliBuilt(), 180_000);

/** Runs the CLI; once it prints `ready` on stderr, sends UDP datagrams to each port in turn (bounded). */
function captureWhileSending(args: string[], ports: number[], rounds: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let stdout = '';
    let stderr = '';
    let sending = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (sending || !/Capturing/.test(stderr)) return;
      sending = true;
      const socket = createSocket('udp4');
      let n = 0;
      const timer = setInterval(() => {
        socket.send('filter test', ports[n % ports.length], '127.0.0.1');
        if (++n >= rounds * ports.length) {
          clearInterval(timer);
          socket.close();
        }
      }, 20);
    });
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('capture EXPRESSION', () => {
  it('refuses a filter libpcap cannot compile before opening anything: exit 2, the position named', async () => {
    const syntax = await runCli(['capture', 'tcp port 80 and and host x']);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toBe('packet-workbench capture: capture filter: syntax error at position 16 ("and"): tcp port 80 and and host x\n');
    const port = await runCli(['capture', '--json', 'tcp', 'port', 'eighty']);
    expect(port.code).toBe(2);
    expect(JSON.parse(port.stdout)).toMatchObject({ type: 'error', exitCode: 2, message: "capture filter: unknown port 'eighty' (position 9): tcp port eighty" });
  });

  it.skipIf(!isRoot)(`a packet socket on lo with 'udp dst port P' (words joined) prints only that port${skipNote(rootWhy('packet sockets'))}`, async () => {
    const port = 41000 + Math.floor(Math.random() * 9000);
    const result = await captureWhileSending(['capture', '-i', 'lo', '-c', '3', '--timeout', '20', '--json', 'udp', 'dst', 'port', String(port)], [port + 1, port], 20);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`matching 'udp dst port ${port}'`);
    const packets = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; info?: string }).filter((record) => record.type === 'packet');
    expect(packets.map((packet) => /→ (\d+)/.exec(packet.info ?? '')?.[1])).toEqual([String(port), String(port), String(port)]);
  });

  it.skipIf(!isRoot)(`a raw UDP socket (--protocol udp) takes the filter too${skipNote(rootWhy('raw sockets'))}`, async () => {
    const port = 41000 + Math.floor(Math.random() * 9000);
    const result = await captureWhileSending(['capture', '--protocol', 'udp', '-c', '2', '--timeout', '20', '--json', `udp dst port ${port}`], [port + 1, port], 20);
    expect(result.code, result.stderr).toBe(0);
    const packets = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; info?: string }).filter((record) => record.type === 'packet');
    expect(packets.map((packet) => /→ (\d+)/.exec(packet.info ?? '')?.[1])).toEqual([String(port), String(port)]);
  });
});
