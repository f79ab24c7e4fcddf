// Workspaces on a real engine: a session with real loopback sockets, a logged exchange and
// a finished ping run is saved (through readExport, as clients read it), read by tshark,
// and loaded into a second engine; a table of broken files is each refused with its
// message while the log and the sockets stay as they were.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRun, LogPage, SocketInfo } from '../../common/contract';
import { validateParams } from '../../common/validate';
import type { WorkspaceClientPart } from '../../common/workspace';
import { readPcapng, writePcapng } from '../../packets/pcapng';
import { workspaceBlock } from '../../packets/workspace-file';
import { Workbench } from './workbench';
import { parseWorkspace } from './workspace';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const CLIENT_PART: WorkspaceClientPart = {
  editor: {
    layers: [
      { id: 'l1', kind: 'icmp', values: { type: '8', identifier: '77' }, manual: { checksum: false } },
      { id: 'l2', kind: 'payload', mode: 'text', text: 'hello' },
    ],
    saved: { 'echo 77': [{ id: 's1', kind: 'icmp', values: { type: '8' }, manual: {} }] },
  },
  lab: { topology: 'lossy', host: 'client' },
  lesson: { name: 'ping-rtt', step: 2 },
  layout: { main: 0.4 },
};

type Call = <T>(method: string, params: unknown) => Promise<T>;
const caller = (workbench: Workbench): Call => async (method, params) =>
  (workbench as unknown as Record<string, (p: unknown) => Promise<never>>)[method].call(workbench, validateParams(method as never, params));

/** Saves the workspace of `workbench` the way a client does: saveWorkspace, then readExport until done. */
async function save(call: Call): Promise<Uint8Array> {
  const { exportId } = await call<{ exportId: string }>('saveWorkspace', CLIENT_PART);
  const pieces: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const piece = await call<{ data: string; done: boolean }>('readExport', { exportId });
    pieces.push(Buffer.from(piece.data, 'base64'));
    if (piece.done) return new Uint8Array(Buffer.concat(pieces));
  }
  throw new Error('readExport never said done');
}

/** The file with its workspace block's JSON replaced by `json`. */
function withJson(file: Uint8Array, json: string): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset);
  const section = view.getUint32(4, true);
  const custom = view.getUint32(section + 4, true);
  return Buffer.concat([file.subarray(0, section), workspaceBlock(json), file.subarray(section + custom)]);
}

function editedJson(file: Uint8Array, edit: (document: Record<string, unknown>) => void): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset);
  const section = view.getUint32(4, true);
  const custom = view.getUint32(section + 4, true);
  const document = JSON.parse(Buffer.from(file.subarray(section + 12, section + custom - 4)).toString('utf8')) as Record<string, unknown>;
  edit(document);
  return withJson(file, JSON.stringify(document));
}

describe.runIf(isRoot)(`workspaces on real loopback sockets${isRoot ? '' : ' (skipped: raw sockets on loopback need root here)'}`, () => {
  const first = new Workbench();
  const second = new Workbench();
  const call = caller(first);
  let file: Uint8Array;
  let socketId: string;
  let directory: string;
  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'workspace-'));
    const id = randomBytes(2).readUInt16BE(0) | 1;
    ({ socketId } = await call<SocketInfo>('openSocket', { family: 'ipv4', protocol: 1, mode: 'raw', filter: `icmp[4:2] = ${id}` }));
    for (let sequence = 1; sequence <= 3; sequence++) {
      await call('send', { socketId, address: '127.0.0.1', packet: { layers: [{ kind: 'icmp', fields: { type: 8, identifier: id, sequence } }] } });
    }
    const run = await call<ExperimentRun>('ping', { target: '127.0.0.1', count: 2, intervalMs: 50 });
    for (let i = 0; i < 100 && (await call<ExperimentRun[]>('listExperiments', {})).some((r) => r.runId === run.runId && r.state === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    file = await save(call);
  }, 30_000);
  afterAll(async () => {
    await first.close();
    await second.close();
    if (!process.env.KEEP_WORKSPACE) rmSync(directory, { recursive: true, force: true });
  });

  it('saves one pcapng file whose log tshark reads (same packet count) and whose session reads back', () => {
    const { workspace, capture } = parseWorkspace(file);
    expect(capture.packets.length).toBeGreaterThanOrEqual(3 + 4);
    const target = path.join(directory, 'session.pcapng');
    writeFileSync(target, file);
    const tshark = (...args: string[]) => execFileSync('tshark', ['-r', target, ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
    // tshark 4 lists the custom block as record 1, then the log's packets.
    expect(tshark()[0]).toMatch(/Custom Block: PEN = .*\(32473\), will be copied/);
    expect(tshark('-Y', 'ip or ipv6', '-T', 'fields', '-e', 'frame.number')).toHaveLength(capture.packets.length);
    expect(workspace).toMatchObject({ format: 'packet-workbench-workspace', version: 1, ...CLIENT_PART });
    expect(workspace.sockets).toContainEqual(expect.objectContaining({ socketId, family: 'ipv4', protocol: 1, mode: 'raw' }));
    const ping = workspace.experiments.find((run) => run.kind === 'ping');
    expect(ping?.state).toBe('done');
    expect((ping as unknown as ExperimentRun).ping?.replies.length).toBe(2);
  });

  it('loads into another engine: the log, the experiments with their results, and the session', async () => {
    const load = caller(second);
    const { workspace, imported } = await load<{ workspace: WorkspaceClientPart; imported: number }>('loadWorkspace', { data: Buffer.from(file).toString('base64') });
    const capture = readPcapng(file);
    expect(imported).toBe(capture.packets.length);
    expect((await load<LogPage>('queryLog', { limit: 5000 })).total).toBe(capture.packets.length);
    const runs = await load<ExperimentRun[]>('listExperiments', {});
    const saved = (await call<ExperimentRun[]>('listExperiments', {})).find((run) => run.kind === 'ping')!;
    expect(runs.find((run) => run.runId === saved.runId)?.ping).toEqual(saved.ping);
    expect(workspace).toMatchObject(CLIENT_PART);
  });

  // [name, the broken file, what the refusal says]
  const broken: [string, () => Uint8Array, RegExp][] = [
    ['empty', () => new Uint8Array(0), /The file is empty/],
    ['wrong magic', () => new TextEncoder().encode('hello, not a capture'), /Not a workspace: it must start with a pcapng section header.*68 65 6c 6c/],
    ['truncated in the section header', () => file.subarray(0, 8), /Truncated: the file ends inside the section header/],
    ['truncated in a block header', () => file.subarray(0, new DataView(file.buffer, file.byteOffset).getUint32(4, true) + 6), /Truncated: the file ends inside a block header at byte/],
    ['truncated in the JSON', () => file.subarray(0, 200), /Truncated: the block at byte \d+ claims \d+ bytes, only \d+ are left/],
    ['truncated in the last packet', () => file.subarray(0, file.length - 3), /Truncated: the block at byte \d+ claims/],
    ['bad block length', () => {
      const copy = new Uint8Array(file);
      const section = new DataView(copy.buffer).getUint32(4, true);
      new DataView(copy.buffer).setUint32(section + 4, 13, true);
      return copy;
    }, /Damaged: the block at byte \d+ has length 13/],
    ['block lengths disagree', () => {
      const copy = new Uint8Array(file);
      new DataView(copy.buffer).setUint32(copy.length - 4, 4096, true);
      return copy;
    }, /ends with 4096/],
    ['custom block missing (a plain capture)', () => writePcapng([{ data: new Uint8Array(28).fill(0x45, 0, 1), timestampNs: 1n }]), /no workspace block after its section header/],
    ['JSON invalid', () => withJson(file, '{"format": "packet-workbench-workspace", '), /not valid JSON/],
    ['another format', () => editedJson(file, (d) => (d.format = 'something-else')), /format is "something-else"/],
    ['schema-invalid field named', () => editedJson(file, (d) => ((d.lesson as { step: number }).step = -1)), /field lesson\.step is invalid/],
    ['field missing', () => editedJson(file, (d) => delete d.editor), /field editor is invalid/],
    ['newer version', () => editedJson(file, (d) => (d.version = 3)), /Made by a newer Packet Workbench \(format v3; this one reads up to v1\)/],
    ['version not a number', () => editedJson(file, (d) => (d.version = '1')), /workspace version is "1"/],
    ['a second section', () => Buffer.concat([file, writePcapng([])]), /second section starts at byte/],
  ];

  it.each(broken)('refuses %s, and the log and sockets stay as they were', async (_name, make, message) => {
    const before = await call<LogPage>('queryLog', { limit: 5000 });
    const sockets = (await call<SocketInfo[]>('listSockets', {})).map((s) => [s.socketId, s.closed]);
    const runs = (await call<ExperimentRun[]>('listExperiments', {})).map((r) => r.runId);
    // Straight to the engine (no contract check): the empty file reaches the reader too.
    await expect(first.loadWorkspace({ data: Buffer.from(make()).toString('base64') })).rejects.toThrow(message);
    const after = await call<LogPage>('queryLog', { limit: 5000 });
    expect(after.rows.slice(0, before.rows.length).map((row) => row.id)).toEqual(before.rows.map((row) => row.id));
    expect((await call<SocketInfo[]>('listSockets', {})).map((s) => [s.socketId, s.closed])).toEqual(sockets);
    expect((await call<ExperimentRun[]>('listExperiments', {})).map((r) => r.runId)).toEqual(runs);
  });
});
