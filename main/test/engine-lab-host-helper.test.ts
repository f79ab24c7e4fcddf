// An unprivileged engine acting inside a lab host: run as user nobody (no capabilities) from a
// readable copy of the build, it may not enter the host's namespace itself (PERMISSION with the
// remedy), so it starts the socket helper elevated with --namespaces (sudo, a NOPASSWD rule for
// this copy's helper) and the helper opens the socket inside the namespace. An echo to an
// address only the namespace has is answered and logged with host 'client'.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabMap, LogRow, SocketInfo } from '../../common/contract';
import { createNamespace, labSupport, NOBODY, readableCopy, runAsPrefix, sudoersRule, type Namespace, type ReadableCopy } from '../lab';
import { ensureCliBuilt } from './fixtures/cli-process';

const support = labSupport();
const why = !support.supported ? support.reason : !existsSync('/usr/bin/sudo') ? 'sudo is not installed' : '';
const LAB_ONLY = '198.18.99.9';

interface Report {
  before?: { code?: string; message?: string; opened?: string };
  helper?: { state: string; capabilities: string[] };
  socket?: SocketInfo;
  reply?: LogRow;
  error?: { code: string; message: string };
}

describe.skipIf(why !== '')(`unprivileged engine in a lab host through the helper${why ? ` (skipped: ${why})` : ''}`, () => {
  let copy: ReadableCopy;
  let host: Namespace;
  let removeRule: () => void = () => undefined;

  beforeAll(async () => {
    ensureCliBuilt();
    copy = readableCopy('pw-lab-host-helper');
    removeRule = sudoersRule(`pw-lab-host-${process.pid}`, `nobody ALL=(root) NOPASSWD: ${copy.helper} --elevated --namespaces`);
    // Named as a topology lab's host is (pwl-LAB-PID-ID-HOST): the helper takes only the workbench's own.
    host = await createNamespace({ prefix: 'pwl-t', suffix: 'client' });
    await host.exec(['ip', 'addr', 'add', `${LAB_ONLY}/32`, 'dev', 'lo']);
  }, 120_000);

  afterAll(async () => {
    removeRule();
    await host?.destroy();
    copy?.remove();
  });

  it('refused alone with the remedy; through the helper the socket is in the host and the reply is logged with host client', { timeout: 60_000 }, async () => {
    const map: LabMap = { name: 'lab', hosts: [{ name: 'client', role: 'host', addresses: [`${LAB_ONLY}/32`], namespace: host.name }], links: [] };
    const fixture = copy.add(path.join(__dirname, 'fixtures', 'lab-host-helper.js'));
    const argv = [...runAsPrefix(NOBODY), process.execPath, fixture, copy.root, JSON.stringify({ namespace: host.name, address: LAB_ONLY, map })];
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(argv[0], argv.slice(1), { timeout: 45_000, cwd: '/', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C', PACKET_WORKBENCH_HELPER: copy.helper } }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      ),
    );
    const report = JSON.parse(stdout.trim().split('\n').pop() as string) as Report;
    expect(report.error).toBeUndefined();
    expect(report.before).toMatchObject({ code: 'PERMISSION' });
    expect(report.before?.message).toMatch(/namespaces: true/);
    expect(report.helper).toMatchObject({ state: 'running', capabilities: ['net_raw', 'sys_admin'] });
    expect(report.socket).toMatchObject({ via: 'helper', host: 'client' });
    expect(report.reply).toMatchObject({ host: 'client', source: LAB_ONLY });
  });
});
