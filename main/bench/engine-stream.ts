// bench:engine, stream section: the send rate of the same N packets sent identical and with two
// variable fields (IPv4 identification and UDP source port, so the IPv4 header checksum and the
// UDP checksum with its pseudo header are updated per packet), and the bytes the JS heap grew by
// per packet. Runs in a child process with a new space large enough that no scavenge runs while
// measured (each run checks that; a run with a GC in it is reported as such), on an IPPROTO_RAW
// socket (send only: nothing comes back) to a bound UDP port on 127.0.0.1 that never answers.
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { PerformanceObserver } from 'node:perf_hooks';
import type { ParamsIn, SendJobInfo } from '../../common/contract';
import { validateParams } from '../../common/validate';
import { planVariations, writeVariant } from '../../packets/variation';
import { Workbench } from '../engine';

const STREAM = {
  /** Packets per run. */
  count: Number(process.env.BENCH_STREAM_COUNT ?? 100_000),
  rounds: Number(process.env.BENCH_STREAM_ROUNDS ?? 5),
  payload: 32,
  target: 0.9,
  /** writeVariant alone, calls. */
  writes: 1_000_000,
};

export interface StreamResult {
  rounds: { identical: Run; varied: Run }[];
  /** Median over rounds of varied rate / identical rate (each round runs both back to back). */
  ratio: number;
  /** Median over rounds of the heap bytes per packet the variable fields added (varied - identical). */
  extraBytesPerPacket: number;
  writeVariantBytesPerPacket: number;
  pass: boolean;
}

interface Run {
  rate: number;
  seconds: number;
  bytesPerPacket: number;
  gcs: number;
}

const gcCount = { value: 0 };

async function runOnce(workbench: Workbench, socketId: string, port: number, varied: boolean): Promise<Run> {
  const params: ParamsIn<'send'> = {
    socketId,
    address: '127.0.0.1',
    packet: { layers: [{ kind: 'ipv4', fields: { src: '127.0.0.1' } }, { kind: 'udp', fields: { srcPort: 20000, dstPort: port } }, { kind: 'payload', data: '00'.repeat(STREAM.payload) }] },
    count: STREAM.count,
    variations: varied
      ? [
          { layer: 0, field: 'identification', mode: 'increment' },
          { layer: 1, field: 'srcPort', mode: 'increment', step: 3 },
        ]
      : [],
  };
  (global as { gc?: () => void }).gc?.();
  // The observer hears of that collection on a later turn: let it, so that it is not counted below.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const gcsBefore = gcCount.value;
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const job = await workbench.send(validateParams('send', params));
  const done = await new Promise<SendJobInfo>((resolve) => {
    const poll = setInterval(async () => {
      const info = (await workbench.listSendJobs()).find((candidate) => candidate.jobId === job.jobId)!;
      if (info.state !== 'running') {
        clearInterval(poll);
        resolve(info);
      }
    }, 5);
  });
  const seconds = (performance.now() - started) / 1000;
  const heapAfter = process.memoryUsage().heapUsed;
  if (done.sent !== STREAM.count) throw new Error(`sent ${done.sent} of ${STREAM.count}: ${done.error?.message ?? done.state}`);
  return { rate: STREAM.count / seconds, seconds, bytesPerPacket: (heapAfter - heapBefore) / STREAM.count, gcs: gcCount.value - gcsBefore };
}

/** The child: measures and reports its result. */
export async function measureStream(): Promise<StreamResult> {
  new PerformanceObserver((list) => {
    gcCount.value += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  // writeVariant alone: the heap must not grow.
  const plan = planVariations(
    [{ kind: 'ipv4', fields: { src: '127.0.0.1', dst: '127.0.0.1' } }, { kind: 'udp', fields: { srcPort: 20000, dstPort: 9 } }, { kind: 'payload', data: '00'.repeat(STREAM.payload) }],
    [
      { layer: 0, field: 'identification', mode: 'increment' },
      { layer: 1, field: 'srcPort', mode: 'increment', step: 3 },
    ],
  );
  const target = plan.template.slice();
  for (let k = 0; k < 300_000; k++) writeVariant(plan, k, target); // warm up: optimized code (compiled beside the loop, slow on a busy machine)
  (global as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let k = 0; k < STREAM.writes; k++) writeVariant(plan, k, target);
  const writeVariantBytesPerPacket = (process.memoryUsage().heapUsed - before) / STREAM.writes;

  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const workbench = new Workbench({ logCapacity: 10_000 });
  try {
    const socket = await workbench.openSocket(validateParams('openSocket', { family: 'ipv4', protocol: 255, mode: 'raw' }));
    const port = silent.address().port;
    await runOnce(workbench, socket.socketId, port, true); // warm up
    const rounds: StreamResult['rounds'] = [];
    for (let round = 0; round < STREAM.rounds; round++) {
      // Which goes first alternates, so that a machine getting busier does not favour one.
      const first = await runOnce(workbench, socket.socketId, port, round % 2 === 1);
      const second = await runOnce(workbench, socket.socketId, port, round % 2 === 0);
      rounds.push(round % 2 === 0 ? { identical: first, varied: second } : { identical: second, varied: first });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ratio = median(rounds.map((round) => round.varied.rate / round.identical.rate));
    const extraBytesPerPacket = median(rounds.map((round) => round.varied.bytesPerPacket - round.identical.bytesPerPacket));
    return { rounds, ratio, extraBytesPerPacket, writeVariantBytesPerPacket, pass: ratio >= STREAM.target };
  } finally {
    await workbench.close();
    silent.close();
  }
}

/** The orchestrator's side: runs the child and prints the section. */
export async function streamSection(log: (line?: string) => void): Promise<StreamResult> {
  const child = fork(__filename, ['--stream-child'], { execArgv: ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = await new Promise<StreamResult>((resolve, reject) => {
    child.once('message', (message: { result?: StreamResult; error?: string }) => (message.result ? resolve(message.result) : reject(new Error(message.error))));
    child.once('exit', (code) => reject(new Error(`the stream bench child exited with ${code}`)));
  });
  const number = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  log(`stream: ${number(STREAM.count)} IPv4/UDP packets of ${20 + 8 + STREAM.payload} bytes to 127.0.0.1 (IPPROTO_RAW), identical vs 2 variable fields (IPv4 identification +1, UDP source port +3), ${STREAM.rounds} rounds`);
  for (const [i, round] of result.rounds.entries()) {
    for (const [name, run] of [['identical', round.identical], ['2 variable fields', round.varied]] as const) {
      log(`  #${i + 1} ${name.padEnd(17)} ${number(run.rate).padStart(9)} packets/s  heap +${number(run.bytesPerPacket, 1)} bytes/packet${run.gcs > 0 ? ` (${run.gcs} GC ran: the heap figure is a lower bound)` : ''}`);
    }
  }
  log(`  writeVariant alone: ${number(result.writeVariantBytesPerPacket, 3)} bytes/packet over ${number(STREAM.writes)} packets`);
  log(
    `${result.pass ? 'PASS' : 'FAIL'}: variable fields keep ${(result.ratio * 100).toFixed(1)}% of the identical rate (median round; target >= ${STREAM.target * 100}%) ` +
      `and add ${number(result.extraBytesPerPacket, 1)} heap bytes per packet (median round; the rest is the send path's own, the same for identical packets)`,
  );
  return result;
}

if (process.argv.includes('--stream-child')) {
  measureStream().then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
  );
} else if (require.main === module) {
  streamSection((line = '') => process.stdout.write(`${line}\n`)).then(
    (result) => {
      process.exitCode = result.pass ? 0 : 1;
    },
    (error: unknown) => {
      process.stderr.write(`bench:engine stream failed: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
