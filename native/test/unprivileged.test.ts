// Without CAP_NET_RAW: as user nobody (no groups, no capabilities) inside network
// namespaces, where net.ipv4.ping_group_range is per namespace. In one the range
// admits every group, so mode 'auto' falls back to the ICMP datagram ("ping")
// socket; in the other it keeps the kernel default '1 0' (nobody), so every ICMP
// socket is refused with a remedy naming CAP_NET_RAW and ping_group_range.
import { constants, accessSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, labSupport, NOBODY, readableCopy, type Namespace, type ReadableCopy } from '../../main/lab';

const fixture = path.join(__dirname, 'fixtures', 'unprivileged-ping.js');
const support = labSupport();

interface ErrorReport {
  name: string;
  code: string;
  errno: number;
  syscall: string;
  message: string;
  isRawSocketError: boolean;
}
interface Attempt {
  opened: boolean;
  mode?: 'raw' | 'datagram';
  error?: ErrorReport;
}
interface Reply {
  sequence: number;
  sent: number;
  from: string;
  type: number;
  code: number;
  identifier: number;
  payloadMatches: boolean;
  length: number;
}
interface PingReport extends Attempt {
  replies?: Reply[];
  timeouts?: number;
  unrelated?: number;
}
interface Report {
  uid: number;
  gid: number;
  groups: number[];
  pingGroupRange: [number, number];
  ipv4: PingReport;
  ipv6: PingReport;
  rawIcmp: Attempt;
  rawIcmpv6: Attempt;
  datagram: Attempt;
  udp: Attempt;
}

describe.skipIf(!support.supported)(`unprivileged ICMP${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let permissive: Namespace | undefined;
  let restricted: Namespace | undefined;
  let copy: ReadableCopy | undefined;
  let script = fixture;
  let nativeDir = path.resolve(__dirname, '..');

  async function runAsNobody(namespace: Namespace): Promise<Report> {
    const result = await namespace.exec([process.execPath, script, nativeDir], {
      user: NOBODY,
      check: false,
      timeoutMs: 20_000,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C' },
    });
    expect(result, `fixture failed: ${result.stderr}`).toMatchObject({ code: 0, timedOut: false });
    return JSON.parse(result.stdout) as Report;
  }

  beforeAll(async () => {
    // nobody runs a readable copy of the build and the fixture: the checkout may be in /root (mode 0700).
    copy = readableCopy('pw-unprivileged');
    script = copy.add(fixture);
    nativeDir = copy.nativeDir;
    accessSync(process.execPath, constants.X_OK);

    permissive = await createNamespace({ suffix: 'ping-all', sysctls: { 'net.ipv4.ping_group_range': '0 2147483647' } });
    restricted = await createNamespace({ suffix: 'ping-none' });
  });

  afterAll(async () => {
    await permissive?.destroy();
    await restricted?.destroy();
    copy?.remove();
  });

  it('ping_group_range is per namespace', async () => {
    const read = async (ns: Namespace | undefined): Promise<string> =>
      (await (ns as Namespace).exec(['sysctl', '-n', 'net.ipv4.ping_group_range'])).stdout.trim().replace(/\s+/g, ' ');
    expect(await read(permissive)).toBe('0 2147483647');
    expect(await read(restricted)).toBe('1 0');
  });

  describe("ping_group_range '0 2147483647'", () => {
    let report: Report;

    beforeAll(async () => {
      report = await runAsNobody(permissive as Namespace);
    });

    it('runs as nobody without groups', () => {
      expect(report.uid).toBe(NOBODY.uid);
      expect(report.gid).toBe(NOBODY.gid);
      expect(report.groups.filter((g) => g !== NOBODY.gid)).toEqual([]);
      expect(report.pingGroupRange).toEqual([0, 2147483647]);
    });

    it("mode 'auto' falls back to a datagram socket and pings 127.0.0.1", () => {
      const v4 = report.ipv4;
      expect(v4.error).toBeUndefined();
      expect(v4.opened).toBe(true);
      expect(v4.mode).toBe('datagram');
      expect(v4.timeouts).toBe(0);
      expect(v4.replies).toHaveLength(3);
      for (const [i, reply] of (v4.replies ?? []).entries()) {
        // No IP header: the buffer starts with the ICMP echo reply.
        expect(reply).toMatchObject({ sequence: i + 1, from: '127.0.0.1', type: 0, code: 0, payloadMatches: true, length: 28 });
        expect(reply.sent).toBe(28);
      }
      // The kernel chose the identifier (the socket's "port"): the same for every reply.
      expect(new Set(v4.replies?.map((r) => r.identifier)).size).toBe(1);
    });

    it("mode 'auto' falls back to a datagram socket and pings ::1", () => {
      const v6 = report.ipv6;
      expect(v6.error).toBeUndefined();
      expect(v6.opened).toBe(true);
      expect(v6.mode).toBe('datagram');
      expect(v6.timeouts).toBe(0);
      expect(v6.replies).toHaveLength(3);
      for (const [i, reply] of (v6.replies ?? []).entries()) {
        expect(reply).toMatchObject({ sequence: i + 1, from: '::1', type: 129, code: 0, payloadMatches: true, length: 28 });
      }
    });

    it("mode 'datagram' opens", () => {
      expect(report.datagram).toEqual({ opened: true, mode: 'datagram' });
    });

    it("mode 'raw' throws EPERM naming CAP_NET_RAW", () => {
      for (const attempt of [report.rawIcmp, report.rawIcmpv6]) {
        expect(attempt.opened).toBe(false);
        expect(attempt.error).toMatchObject({ code: 'EPERM', errno: osConstants.errno.EPERM, syscall: 'socket', isRawSocketError: true });
        expect(attempt.error?.message).toContain('CAP_NET_RAW');
      }
    });

    it('a raw UDP socket throws EPERM: only ICMP echo is possible unprivileged', () => {
      expect(report.udp.opened).toBe(false);
      expect(report.udp.error).toMatchObject({ code: 'EPERM', syscall: 'socket', isRawSocketError: true });
      expect(report.udp.error?.message).toContain('CAP_NET_RAW');
      expect(report.udp.error?.message).toMatch(/only ICMP and ICMPv6 echo are possible/);
    });
  });

  describe("ping_group_range '1 0' (the default)", () => {
    let report: Report;

    beforeAll(async () => {
      report = await runAsNobody(restricted as Namespace);
    });

    it('reads the namespace range', () => {
      expect(report.uid).toBe(NOBODY.uid);
      expect(report.pingGroupRange).toEqual([1, 0]);
    });

    it("mode 'auto' throws EPERM/EACCES naming CAP_NET_RAW and net.ipv4.ping_group_range", () => {
      for (const attempt of [report.ipv4, report.ipv6]) {
        expect(attempt.opened).toBe(false);
        expect(['EPERM', 'EACCES']).toContain(attempt.error?.code);
        expect(attempt.error).toMatchObject({ syscall: 'socket', isRawSocketError: true });
        expect(attempt.error?.message).toContain('CAP_NET_RAW');
        expect(attempt.error?.message).toContain('net.ipv4.ping_group_range');
        // The remedy shows this namespace's range.
        expect(attempt.error?.message).toContain("now '1 0'");
      }
    });

    it("mode 'datagram' is refused too, with the same remedy", () => {
      expect(report.datagram.opened).toBe(false);
      expect(['EPERM', 'EACCES']).toContain(report.datagram.error?.code);
      expect(report.datagram.error?.message).toContain('net.ipv4.ping_group_range');
    });

    it("mode 'raw' and raw UDP throw EPERM", () => {
      expect(report.rawIcmp.error).toMatchObject({ code: 'EPERM', syscall: 'socket' });
      expect(report.rawIcmp.error?.message).toContain('CAP_NET_RAW');
      expect(report.udp.error).toMatchObject({ code: 'EPERM', syscall: 'socket' });
      expect(report.udp.error?.message).toMatch(/only ICMP and ICMPv6 echo are possible/);
    });
  });
});
