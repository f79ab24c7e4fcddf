// `packet-workbench workspace show` and `lesson check --workspace` through the built CLI:
// what a workspace holds (text and --json), a handed-in workspace graded like a capture,
// and refusals (exit 2): a newer format, a plain capture, both or neither of --capture
// and --workspace. No privileges: these read files.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_FORMAT } from '../../common/workspace';
import { build, writePcapng, type PacketStack, type PacketToWrite } from '../../packets';
import { WorkspaceEncoder } from '../../packets/workspace-file';
import { ensureCliBuilt, ROOT, runCli } from './fixtures/cli-process';

const T0 = 1_700_000_000_000_000_000n;
const echo = (src: string, dst: string, type: number, sequence: number) =>
  build([{ kind: 'ipv4', fields: { src, dst } }, { kind: 'icmp', fields: { type, identifier: 9, sequence } }, { kind: 'payload', data: '6869' }] as PacketStack);

let scratch = '';

beforeAll(() => {
  ensureCliBuilt();
  cpSync(path.join(ROOT, 'main', 'lessons', 'shipped'), path.join(ROOT, 'dist', 'main', 'lessons', 'shipped'), { recursive: true });
  cpSync(path.join(ROOT, 'main', 'lab', 'topologies'), path.join(ROOT, 'dist', 'main', 'lab', 'topologies'), { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), 'pw-cli-workspace-'));
}, 180_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** IPv4 pings of the line topology's target, `answered` of `sent` with their reply. */
function pings(sent: number, answered: number): PacketToWrite[] {
  const packets: PacketToWrite[] = [];
  for (let sequence = 1; sequence <= sent; sequence++) {
    const at = T0 + BigInt(sequence) * 1_000_000_000n;
    packets.push({ data: echo('198.18.1.1', '198.18.4.2', 8, sequence), timestampNs: at, direction: 'outbound' });
    if (sequence <= answered) packets.push({ data: echo('198.18.4.2', '198.18.1.1', 0, sequence), timestampNs: at + 3_000_000n, direction: 'inbound' });
  }
  return packets;
}

/** A workspace as the GUI saves it, with these packets in its log. */
function workspaceFile(name: string, packets: PacketToWrite[], change: Record<string, unknown> = {}): string {
  const document = {
    format: WORKSPACE_FORMAT,
    version: 1,
    savedAt: '2026-12-03T19:00:00.000Z',
    editor: { layers: [{ id: 'a', kind: 'icmp', values: { type: '8' }, manual: {} }], saved: { 'my echo': [{ id: 'b', kind: 'icmp', values: {}, manual: {} }] } },
    lab: { topology: 'line', host: 'client' },
    lesson: { name: 'ping-rtt', step: 1 },
    layout: {},
    sockets: [{ socketId: 'socket-1', family: 'ipv4', protocol: 1, mode: 'raw', filter: 'icmp', host: 'client' }],
    experiments: [{ runId: 'run-2', kind: 'ping', target: '198.18.4.2', state: 'done', startedAt: 1, family: 'ipv4' }],
    ...change,
  };
  const encoder = new WorkspaceEncoder(JSON.stringify(document));
  encoder.addInterface({ name: 'socket-1' });
  for (const packet of packets) encoder.addPacket(packet);
  const file = path.join(scratch, name);
  writeFileSync(file, encoder.take());
  return file;
}

describe('packet-workbench workspace', () => {
  it('show: what a workspace holds, in lines and as one --json record', async () => {
    const file = workspaceFile('class.pcapng', pings(3, 2));
    const text = await runCli(['workspace', 'show', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toEqual([
      `workspace ${file}: format v1, saved 2026-12-03T19:00:00.000Z`,
      'log: 5 packets on 1 interface',
      'editor: icmp; 1 saved packet: my echo',
      "sockets: socket-1 ipv4 raw protocol 1 filter 'icmp' in client",
      'experiments: run-2 ping 198.18.4.2 done',
      'lab: line, acting from client',
      'lesson: ping-rtt, step 2',
    ]);
    const json = await runCli(['workspace', 'show', file, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ type: 'workspace', version: 1, packets: 5, editor: { layers: 1, saved: ['my echo'] }, lesson: { name: 'ping-rtt', step: 1 } });
  });

  it('show refuses a newer format and a plain capture with exit 2 and the reason', async () => {
    const newer = await runCli(['workspace', 'show', workspaceFile('newer.pcapng', [], { version: 3 })]);
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(/newer\.pcapng: Made by a newer Packet Workbench \(format v3; this one reads up to v1\)/);
    const plain = path.join(scratch, 'plain.pcapng');
    writeFileSync(plain, writePcapng(pings(1, 1)));
    const refused = await runCli(['workspace', 'show', plain]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no workspace block after its section header/);
  });

  it('lesson check --workspace grades the workspace\'s log: exit 0 all passed on the IPv4 step\'s file, 1 otherwise', async () => {
    const partial = await runCli(['lesson', 'check', 'ping-rtt', '--workspace', workspaceFile('partial.pcapng', pings(3, 1))]);
    expect(partial.code, partial.stderr).toBe(1);
    expect(partial.stdout).toMatch(/^lesson ping-rtt: .*, 4 packets from .*partial\.pcapng$/m);
    expect(partial.stdout).toMatch(/^ {2}FAIL {2}replies +/m);
    const answered = await runCli(['lesson', 'check', 'ping-rtt', '--workspace', workspaceFile('answered.pcapng', pings(3, 3)), '--json']);
    const records = answered.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.find((r) => r.id === 'replies')).toMatchObject({ type: 'check', passed: true });
  });

  it('lesson check: a broken workspace, or both or neither of --capture and --workspace, exit 2', async () => {
    const broken = await runCli(['lesson', 'check', 'ping-rtt', '--workspace', workspaceFile('bad.pcapng', [], { lesson: { name: 'x', step: 'two' } })]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/--workspace .*bad\.pcapng: Damaged: the workspace field lesson\.step is invalid/);
    const file = workspaceFile('ok.pcapng', pings(1, 1));
    for (const args of [['--capture', file, '--workspace', file], []]) {
      const result = await runCli(['lesson', 'check', 'ping-rtt', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--capture FILE or --workspace FILE \(one of them\)/);
    }
  });
});
