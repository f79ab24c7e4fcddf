// A packet socket inside a lab namespace: client — router1 — target. The capture runs in
// the client's namespace (fixtures/packet-capture-lab.js) while the client pings the
// target; on the client's veth each packet appears once, the request outbound and the
// reply inbound, whole, with the TTL / hop limit it had on the wire (64 out, 63 back
// through the router).
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, type Lab } from '../../main/lab';

const NATIVE_DIR = path.resolve(__dirname, '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'packet-capture-lab.js');
const support = labSupport();

interface CapturedEcho {
  family: 4 | 6;
  type: number;
  direction: string;
  packetType: string;
  interface: string;
  interfaceIndex: number;
  protocol: number;
  source: string;
  destination: string;
  address: string;
  hopLimit: number;
  length: number;
  totalLength: number;
}

interface Report {
  answered: { ipv4: boolean; ipv6: boolean };
  interfaceIndex: number;
  link: CapturedEcho[];
  all: CapturedEcho[];
}

describe.skipIf(!support.supported)(`packet socket in a lab namespace${support.supported ? '' : ` (skipped: ${support.reason})`}`, () => {
  let lab: Lab | undefined;
  let report: Report;

  beforeAll(async () => {
    lab = await createLab({ routers: 1 });
    const config = {
      interface: lab.client.interfaces[0].name,
      ipv4: lab.target.addresses.ipv4[0],
      ipv6: lab.target.addresses.ipv6[0],
      timeoutMs: 2000,
    };
    const result = await lab.exec('client', [process.execPath, FIXTURE, NATIVE_DIR, JSON.stringify(config)], { check: false, timeoutMs: 20_000 });
    expect(result, result.stderr).toMatchObject({ code: 0, timedOut: false });
    report = JSON.parse(result.stdout) as Report;
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('the pings were answered', () => {
    expect(report.answered).toEqual({ ipv4: true, ipv6: true });
  });

  it("on the client's link: the request once outbound, the reply once inbound, whole, with their hop limits", () => {
    const l = lab as Lab;
    const link = l.client.interfaces[0].name;
    const client = l.client.addresses;
    const target = l.target.addresses;
    const seen = report.link.map((p) => ({ family: p.family, type: p.type, direction: p.direction, source: p.source, destination: p.destination, hopLimit: p.hopLimit }));
    expect(seen).toEqual([
      { family: 4, type: 8, direction: 'outbound', source: client.ipv4[0], destination: target.ipv4[0], hopLimit: 64 },
      { family: 4, type: 0, direction: 'inbound', source: target.ipv4[0], destination: client.ipv4[0], hopLimit: 63 },
      { family: 6, type: 128, direction: 'outbound', source: client.ipv6[0], destination: target.ipv6[0], hopLimit: 64 },
      { family: 6, type: 129, direction: 'inbound', source: target.ipv6[0], destination: client.ipv6[0], hopLimit: 63 },
    ]);
    for (const packet of report.link) {
      expect(packet).toMatchObject({ interface: link, interfaceIndex: report.interfaceIndex, protocol: packet.family === 4 ? 0x0800 : 0x86dd });
      expect(packet.packetType).toBe(packet.direction === 'outbound' ? 'outgoing' : 'host');
      expect(packet.address).toBe(packet.source);
      expect(packet.length).toBe(packet.totalLength); // the whole packet, header included
    }
  });

  it('a socket on every interface sees the same packets, on the link and nowhere else', () => {
    expect(report.all).toEqual(report.link);
  });
});
