// The userspace link emulator (native/linkemu) on its own: every bad argument refused
// with a message naming it (no root needed), the lab's argument mapping, and as root:
// frames cross between two namespaces (with no capability left), stop() and a deleted namespace each end the
// process and its devices, and a builder that dies before keep() takes it along.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emulatorArguments, isLinkEmulator, linkEmulatorMode, linkEmulatorPath, startLinkEmulator } from './emulator';
import { createNamespace, isLabSupported } from './namespace';
import { labWhy, skipNote } from '../test/fixtures/privilege';

const program = linkEmulatorPath();
const built = program !== undefined;
const supported = built && typeof process.getuid === 'function' && process.getuid() === 0 && isLabSupported();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(built)(`packet-workbench-linkemu arguments${skipNote(built ? '' : 'needs npm run build:native')}`, () => {
  const refused: Array<[string[], string]> = [
    [[], '--a: missing (the TAP device of end A)'],
    [['--a', 'x'], '--b: missing (the TAP device of end B)'],
    [['--a', 'x', '--b', 'x'], '--a and --b: must be two different devices'],
    [['--a', 'x', '--b', 'y', '--a', 'z'], '--a: given twice'],
    [['--a', 'abcdefghijklmnop', '--b', 'y'], "--a: 'abcdefghijklmnop' is not a device name"],
    [['--a', '-x', '--b', 'y'], "--a: '-x' is not a device name"],
    [['--a', 'x/y', '--b', 'y'], "--a: 'x/y' is not a device name"],
    [['--a', 'x', '--b', 'y', '--ab-loss', '100.5'], "--ab-loss: must be a number from 0 to 100, not '100.5'"],
    [['--a', 'x', '--b', 'y', '--ba-loss', '-1'], "--ba-loss: must be a number from 0 to 100, not '-1'"],
    [['--a', 'x', '--b', 'y', '--ab-delay', '0x10'], "--ab-delay: must be a number from 0 to 60000, not '0x10'"],
    [['--a', 'x', '--b', 'y', '--ab-delay', 'nan'], "--ab-delay: must be a number from 0 to 60000, not 'nan'"],
    [['--a', 'x', '--b', 'y', '--ab-jitter', '60001'], "--ab-jitter: must be a number from 0 to 60000, not '60001'"],
    [['--a', 'x', '--b', 'y', '--ab-rate', '7'], "--ab-rate: must be a whole number from 8 to 100000000, not '7'"],
    [['--a', 'x', '--b', 'y', '--ab-rate', '1.5'], "--ab-rate: must be a whole number from 8 to 100000000, not '1.5'"],
    [['--a', 'x', '--b', 'y', '--ba-queue', '0'], "--ba-queue: must be a whole number from 1 to 1000000, not '0'"],
    [['--a', 'x', '--b', 'y', '--seed', '18446744073709551616'], '--seed: must be a whole number from 0 to 18446744073709551615'],
    [['--a', 'x', '--b', 'y', '--ab-delay'], '--ab-delay: needs a value'],
    [['--a', 'x', '--b', 'y', '--ab-drop', '5'], 'unknown option --ab-drop'],
    [['--a', 'x', '--b', 'y', 'extra'], "unexpected argument 'extra'"],
    [['--a', 'x', '--b', 'y', '--stats', ''], '--stats: needs a file path'],
  ];
  it.each(refused)('%j is refused: %s', (args, message) => {
    const result = spawnSync(program as string, args, { encoding: 'utf8', timeout: 5_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`packet-workbench-linkemu: ${message}`);
    expect(result.stdout).toBe('');
  });

  it('--help answers on stdout with exit 0', () => {
    const result = spawnSync(program as string, ['--help'], { encoding: 'utf8', timeout: 5_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/--a TAP --b TAP .*--ab-loss PCT/);
  });
});

describe('emulator arguments from the lab', () => {
  it('maps each direction, the seed and the stats file', () => {
    expect(emulatorArguments('pwe1a', 'pwe1b', { ab: { delayMs: 40, jitterMs: 5, lossPercent: 20 }, ba: { rateKbit: 1000 }, seed: 7n }, '/run/x.json')).toEqual([
      '--a', 'pwe1a', '--b', 'pwe1b',
      '--ab-delay', '40', '--ab-jitter', '5', '--ab-loss', '20',
      '--ba-rate', '1000',
      '--seed', '7', '--stats', '/run/x.json', '--lifeline',
    ]);
  });

  it('PACKET_WORKBENCH_LINK_EMULATOR chooses the mode, and a wrong value is refused', () => {
    expect(linkEmulatorMode({})).toBe('auto');
    expect(linkEmulatorMode({ PACKET_WORKBENCH_LINK_EMULATOR: 'always' })).toBe('always');
    expect(() => linkEmulatorMode({ PACKET_WORKBENCH_LINK_EMULATOR: 'yes' })).toThrow(new RangeError("PACKET_WORKBENCH_LINK_EMULATOR must be auto, always or never, not 'yes'"));
  });
});

describe.runIf(supported)(`link emulator between two namespaces${skipNote(labWhy() || (built ? '' : 'needs npm run build:native'))}`, { timeout: 60_000 }, () => {
  async function pair() {
    const left = await createNamespace({ prefix: 'pwemu' });
    const right = await createNamespace({ prefix: 'pwemu' });
    return { left, right };
  }
  const up = async (ns: Awaited<ReturnType<typeof createNamespace>>, address: string) => {
    await ns.exec(['ip', 'address', 'add', address, 'dev', 'peer']);
    await ns.exec(['ip', 'link', 'set', 'dev', 'peer', 'up']);
  };
  const rootTaps = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').filter((l) => / pwe([0-9a-f]{8}|test\d)[ab][:@]/.test(l));

  it('carries frames both ways, counts them, and stop() ends it with its devices', async () => {
    const { left, right } = await pair();
    try {
      const emulator = await startLinkEmulator({ a: { namespace: left.name, device: 'peer' }, b: { namespace: right.name, device: 'peer' }, ab: { delayMs: 20 }, seed: 1n });
      expect(isLinkEmulator(emulator.pid)).toBe(true);
      // Its devices open, it keeps no capability.
      expect(readFileSync(`/proc/${emulator.pid}/status`, 'utf8')).toMatch(/^CapEff:\s+0+$/m);
      expect(rootTaps()).toEqual([]);
      await up(left, '198.18.250.1/24');
      await up(right, '198.18.250.2/24');
      const ping = await left.exec(['ping', '-n', '-c', '5', '-i', '0.05', '-W', '2', '198.18.250.2'], { check: false, timeoutMs: 10_000 });
      expect(ping.code, ping.stdout).toBe(0);
      // 20 ms one way, nothing the other way.
      const average = Number(/= [\d.]+\/([\d.]+)\//.exec(ping.stdout)?.[1]);
      expect(average).toBeGreaterThanOrEqual(19.5);
      expect(average).toBeLessThan(60);
      const counters = await emulator.counters();
      expect(counters?.ab.sent).toBeGreaterThanOrEqual(5);
      expect(counters?.ba.sent).toBeGreaterThanOrEqual(5);
      expect(counters?.ab.lost).toBe(0);
      const final = await emulator.stop();
      expect(final?.ab.received).toBeGreaterThanOrEqual(counters?.ab.received ?? 0);
      expect(isLinkEmulator(emulator.pid)).toBe(false);
      expect(existsSync(emulator.statsFile)).toBe(false);
      expect((await left.exec(['ip', 'link', 'show', 'peer'], { check: false })).code).not.toBe(0);
    } finally {
      await left.destroy();
      await right.destroy();
    }
  });

  it('jitter spreads the delay (in order); a slow rate with a 5-frame queue drops what does not fit, and counts it', async () => {
    const { left, right } = await pair();
    try {
      const emulator = await startLinkEmulator({ a: { namespace: left.name, device: 'peer' }, b: { namespace: right.name, device: 'peer' }, ab: { delayMs: 20, jitterMs: 10 }, ba: { rateKbit: 100 }, queueFrames: 5 });
      await up(left, 'fd42:250::1/64');
      await up(right, 'fd42:250::2/64');
      // 100 probes 30 ms apart: wider apart than the jitter, so order never holds one back.
      const jittered = await left.exec(['ping', '-6', '-n', '-q', '-c', '100', '-i', '0.03', '-W', '2', 'fd42:250::2'], { check: false, timeoutMs: 20_000 });
      const [min, average, max] = (/= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(jittered.stdout) ?? []).slice(1).map(Number);
      expect(min, jittered.stdout).toBeGreaterThanOrEqual(9.5);
      expect(average).toBeGreaterThanOrEqual(15);
      expect(average).toBeLessThanOrEqual(35);
      // Uniform ±10 ms over 100 probes spans about 19 ms; without jitter it is about 1.
      expect(max - min).toBeGreaterThanOrEqual(10);
      // 1 kB echo replies take 83 ms each at 100 kbit/s; 20 asked for in 0.2 s cannot all wait in 5 places.
      await left.exec(['ping', '-6', '-n', '-q', '-c', '20', '-i', '0.01', '-s', '1000', '-W', '3', 'fd42:250::2'], { check: false, timeoutMs: 20_000 });
      const counters = await emulator.counters();
      expect(counters?.ba.queueDrops).toBeGreaterThanOrEqual(10);
      const ba = counters!.ba;
      expect(ba.received).toBe(ba.sent + ba.lost + ba.queueDrops + ba.writeErrors + ba.queued);
      await emulator.stop();
    } finally {
      await left.destroy();
      await right.destroy();
    }
  });

  it('SIGTERM under steady traffic ends it cleanly (final counters), not through the SIGKILL fallback', async () => {
    const { left, right } = await pair();
    try {
      const emulator = await startLinkEmulator({ a: { namespace: left.name, device: 'peer' }, b: { namespace: right.name, device: 'peer' } });
      await up(left, '198.18.251.1/24');
      await up(right, '198.18.251.2/24');
      // UDP as fast as Python sends, for 5 s at most: a frame is always waiting when the emulator looks.
      const blast = 'import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nend = time.time() + 5\nwhile time.time() < end: s.sendto(bytes(1000), ("198.18.251.2", 9))';
      const flood = left.spawn(['python3', '-c', blast], { stdio: 'ignore' });
      // Python may take a second to start on a busy machine.
      for (let i = 0; i < 100 && ((await emulator.counters())?.ab.received ?? 0) < 1000; i++) await sleep(100);
      const started = Date.now();
      const final = await emulator.stop();
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(final?.ab.received).toBeGreaterThan(1000);
      flood.kill('SIGKILL');
    } finally {
      await left.destroy();
      await right.destroy();
    }
  });

  it('ends by itself when a namespace holding one of its devices is deleted', async () => {
    const { left, right } = await pair();
    try {
      const emulator = await startLinkEmulator({ a: { namespace: left.name, device: 'peer' }, b: { namespace: right.name, device: 'peer' } });
      emulator.keep();
      await left.destroy();
      for (let i = 0; i < 50 && isLinkEmulator(emulator.pid); i++) await sleep(50);
      expect(isLinkEmulator(emulator.pid)).toBe(false);
    } finally {
      await left.destroy();
      await right.destroy();
    }
  });

  it('the lifeline: stdin closing before SIGUSR2 (the builder died) ends it; after SIGUSR2 (kept) it stays', async () => {
    const start = (tag: string) => spawn(program as string, ['--a', `pwetest${tag}a`, '--b', `pwetest${tag}b`, '--lifeline'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const ready = (child: ReturnType<typeof start>) => new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`emulator ended at once (${code})`)));
    });
    const ended = (child: ReturnType<typeof start>) => new Promise<boolean>((resolve) => {
      if (child.exitCode !== null) resolve(true);
      child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), 2_000);
    });
    const dropped = start('1');
    const kept = start('2');
    try {
      await Promise.all([ready(dropped), ready(kept)]);
      // The worst order: stopped (as if not scheduled), it gets SIGUSR2 and then EOF, and sees both at once.
      kept.kill('SIGSTOP');
      kept.kill('SIGUSR2');
      kept.stdin?.end();
      dropped.stdin?.end();
      await sleep(200);
      kept.kill('SIGCONT');
      expect(await ended(dropped)).toBe(true);
      expect(dropped.exitCode).toBe(0);
      expect(await ended(kept)).toBe(false);
      expect(isLinkEmulator(kept.pid as number)).toBe(true);
      kept.kill('SIGTERM');
      expect(await ended(kept)).toBe(true);
      expect(kept.exitCode).toBe(0);
    } finally {
      dropped.kill('SIGKILL');
      kept.kill('SIGKILL');
    }
    expect(rootTaps()).toEqual([]);
  });
});
