// createTopologyLab on real namespaces (root): what the file asks for is what the
// kernel holds (MTU, sysctls, nft rules, qdiscs), impairments go through the one
// ImpairLink interface or, without netem, the userspace link emulator, and destroy
// leaves nothing (no namespace, no emulator process).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isLabSupported } from './namespace';
import { isLinkEmulator } from './emulator';
import { kernelImpairment, type ImpairedDirection, type Impairment } from './impairment';
import { parseTopology, type TopologyFile } from './topology';
import { createTopologyLab } from './topology-lab';
import { labWhy, skipNote } from '../test/fixtures/privilege';

const supported = typeof process.getuid === 'function' && process.getuid() === 0 && isLabSupported();
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const file: TopologyFile = {
  name: 'unit-pair',
  hosts: [
    { name: 'client', role: 'host' },
    { name: 'r1', role: 'router', icmpRateLimit: { intervalMs: 1000, types: ['destination-unreachable', 'time-exceeded'] } },
    { name: 'target', role: 'host' },
  ],
  links: [
    { ends: [{ host: 'client', addresses: ['198.19.7.1/24', 'fd42:7:1::1/64'] }, { host: 'r1', addresses: ['198.19.7.2/24', 'fd42:7:1::2/64'] }], mtu: 1400 },
    {
      ends: [{ host: 'r1', addresses: ['198.19.8.1/24', 'fd42:7:2::1/64'] }, { host: 'target', addresses: ['198.19.8.2/24', 'fd42:7:2::2/64'] }],
      impairments: [{ from: 'target', rateKbit: 50_000 }, { from: 'r1', delayMs: 5 }],
    },
  ],
  routes: [
    { host: 'client', to: 'default', via: ['198.19.7.2'] },
    { host: 'client', to: 'default', via: ['fd42:7:1::2'] },
    { host: 'target', to: '198.19.7.0/24', via: ['198.19.8.1'] },
    { host: 'target', to: 'fd42:7:1::/64', via: ['fd42:7:2::1'] },
  ],
  firewall: [{ host: 'r1', hook: 'forward', match: { protocol: 'tcp', dport: 9 }, action: 'reject', rejectWith: 'tcp-reset' }],
};

describe.runIf(supported)(`createTopologyLab${skipNote(labWhy())}`, { timeout: 60_000 }, () => {
  it('builds what the file says, through the impairment interface, and removes it all', async () => {
    const calls: Array<[ImpairedDirection, Impairment]> = [];
    const lab = await createTopologyLab(parseTopology(JSON.stringify(file)), {
      impair: async (direction, impairment) => {
        calls.push([direction, impairment]);
        // An emulator would take over here; the kernel path handles the rate.
        return impairment.rateKbit ? kernelImpairment(direction, impairment) : { how: 'emulator', reason: 'test emulator' };
      },
    });
    try {
      const sysctl = async (host: string, key: string) => (await lab.exec(host, ['sysctl', '-n', key])).stdout.trim();
      expect(await sysctl('r1', 'net.ipv4.icmp_ratelimit')).toBe('1000');
      expect(await sysctl('r1', 'net.ipv6.icmp.ratelimit')).toBe('1000');
      expect(await sysctl('r1', 'net.ipv4.icmp_ratemask')).toBe(String((1 << 3) | (1 << 11)));
      expect(await sysctl('r1', 'net.ipv4.ip_forward')).toBe('1');
      expect(await sysctl('client', 'net.ipv4.ip_forward')).toBe('0');
      expect(await sysctl('client', 'net.ipv6.conf.all.accept_dad')).toBe('0');
      expect((await lab.exec('client', ['ip', '-o', 'link', 'show', 'dev', 'r1'])).stdout).toMatch(/ mtu 1400 /);
      expect((await lab.exec('r1', ['nft', 'list', 'ruleset'])).stdout).toMatch(/tcp dport 9 reject with tcp reset/);

      // Both directions went through `impair`, each as the sending side.
      expect(calls.map(([d, i]) => [d.from, d.to, d.device, i])).toEqual([
        ['target', 'r1', 'r1', { rateKbit: 50_000 }],
        ['r1', 'target', 'target', { delayMs: 5 }],
      ]);
      expect(calls[0][0].namespace).toBe(lab.namespaces.target);
      const qdisc = (await lab.exec('target', ['tc', 'qdisc', 'show', 'dev', 'r1'])).stdout;
      expect(qdisc).toMatch(/qdisc (netem|tbf) .*rate 50Mbit/);
      expect(lab.map.links[1].impairments.map((i) => i.how)).toEqual([qdisc.includes('netem') ? 'netem' : 'tbf', 'emulator']);

      // Static routes: the client reaches the target.
      const ping = await lab.exec('client', ['ping', '-6', '-n', '-c1', '-W1', 'fd42:7:2::2'], { check: false });
      expect(ping.code, ping.stdout).toBe(0);
    } finally {
      await lab.destroy();
    }
    expect(namespaces()).not.toContain(lab.id);
  });

  it('the kernel path (emulator never): delay without netem is reported, not silently dropped', async () => {
    const lab = await createTopologyLab(parseTopology(JSON.stringify({ ...file, name: 'unit-delay', firewall: undefined })), { readyTimeoutMs: 0, linkEmulator: 'never' });
    try {
      const delayed = lab.map.links[1].impairments.find((i) => i.from === 'r1')!;
      const qdisc = (await lab.exec('r1', ['tc', 'qdisc', 'show', 'dev', 'target'])).stdout;
      if (delayed.how === 'netem') expect(qdisc).toMatch(/netem .*delay 5ms/);
      else {
        expect(delayed).toMatchObject({ how: 'unsupported', reason: 'needs netem or the userspace link emulator; this kernel has no netem' });
        expect(qdisc).not.toMatch(/netem|tbf/);
      }
    } finally {
      await lab.destroy();
    }
  });

  it('auto: without netem, links that delay or lose are joined by the link emulator (both directions), the others stay veths', async () => {
    const lab = await createTopologyLab(parseTopology(JSON.stringify({ ...file, name: 'unit-auto', firewall: undefined })), { linkEmulator: 'auto' });
    try {
      const netem = lab.map.links[1].impairments.some((i) => i.how === 'netem');
      const details = async (host: string, device: string) => (await lab.exec(host, ['ip', '-d', 'link', 'show', 'dev', device])).stdout;
      expect(await details('client', 'r1')).toMatch(/veth/);
      if (netem) {
        expect(lab.emulators).toEqual([]);
        expect(await details('r1', 'target')).toMatch(/veth/);
      } else {
        expect(lab.map.links[1].impairments).toMatchObject([
          { from: 'target', to: 'r1', rateKbit: 50_000, how: 'emulator', reason: 'userspace link emulator (this kernel has no netem)' },
          { from: 'r1', to: 'target', delayMs: 5, how: 'emulator', reason: 'userspace link emulator (this kernel has no netem)' },
        ]);
        expect(lab.emulators.map((e) => e.link)).toEqual(['r1—target']);
        expect(isLinkEmulator(lab.emulators[0].pid)).toBe(true);
        // The TAP ends carry what the veth would have: name, addresses, MTU.
        expect(await details('r1', 'target')).toMatch(/mtu 1500 .*\n[\s\S]*tun type tap/);
        expect((await lab.exec('target', ['ip', '-o', 'address', 'show', 'dev', 'r1'])).stdout).toMatch(/198\.19\.8\.2\/24[\s\S]*fd42:7:2::2\/64/);
      }
    } finally {
      await lab.destroy();
    }
    for (const emulator of lab.emulators) expect(isLinkEmulator(emulator.pid)).toBe(false);
    expect(namespaces()).not.toContain(lab.id);
  });

  it('always, with no emulator program: refused, and nothing is left', async () => {
    const saved = process.env.PACKET_WORKBENCH_LINKEMU;
    process.env.PACKET_WORKBENCH_LINKEMU = '/nonexistent/packet-workbench-linkemu';
    let made: string[] = [];
    try {
      await expect(createTopologyLab(parseTopology(JSON.stringify({ ...file, name: 'unit-noemu', firewall: undefined })), { linkEmulator: 'always', onNamespaces: (n) => (made = n) })).rejects.toThrow(
        'the link emulator (packet-workbench-linkemu) is not built: npm run build:native',
      );
    } finally {
      if (saved === undefined) delete process.env.PACKET_WORKBENCH_LINKEMU;
      else process.env.PACKET_WORKBENCH_LINKEMU = saved;
    }
    const left = namespaces();
    for (const name of made) expect(left).not.toContain(name);
  });

  it('a failed build removes what it made', async () => {
    const broken = parseTopology(JSON.stringify({ ...file, name: 'unit-broken' }));
    let made: string[] = [];
    await expect(
      createTopologyLab(broken, {
        onNamespaces: (names) => (made = names),
        impair: async () => {
          throw new Error('emulator failed');
        },
      }),
    ).rejects.toThrow('emulator failed');
    expect(made).toHaveLength(3);
    const left = namespaces();
    for (const name of made) expect(left).not.toContain(name);
  });
});
