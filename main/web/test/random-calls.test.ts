// Random JSON calls over a real browser host's WebSocket on loopback (issue 11): every
// call the contract's validators refuse is answered with that refusal (INVALID_ARGUMENT,
// UNKNOWN_METHOD or BAD_REQUEST, by its id), never INTERNAL; the host stays up, and a good
// client on another connection keeps being served throughout. The engine is the fake one:
// a random call that happens to be valid must not send real packets anywhere.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { methodNames } from '../../../common/contract';
import { isMethodName, validateParams } from '../../../common/validate';
import { Random } from '../../../packets/fuzz/random';
import { startBrowserHost, type BrowserHost } from '../host';
import { createFakeEngine } from './fake-engine';
import { openWireClient, type WireAnswer, type WireClient } from './wire-client';

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 0x1_0000_0000) >>> 0;
const CALLS = Number(process.env.RANDOM_CALLS ?? 5000);
/** Calls in flight at once: under the host's per-client limit, so BUSY never hides an answer. */
const WINDOW = 8;

// Field names and values the contract uses, so many random calls come close to valid ones.
const keys = ['socketId', 'family', 'protocol', 'mode', 'packet', 'layers', 'kind', 'fields', 'data', 'destination', 'source', 'count', 'intervalMs', 'limit', 'offset', 'filter', 'name', 'value', 'level', 'option', 'ttl', 'host', 'lab', 'topology', 'lesson', 'jobId', 'runId', 'exportId', 'importId', 'format', 'bytes', 'id', 'hex', 'timeoutMs'];
const strings = ['', 's1', 'ipv4', 'ipv6', 'icmp', 'udp', 'tcp', 'raw', 'auto', 'datagram', '127.0.0.1', '::1', '198.18.0.1', 'payload', '45000054', 'pcapng', 'line', 'client', 'ip_ttl', 'x'.repeat(70_000)];

function randomJson(random: Random, depth = 0): unknown {
  switch (random.int(depth > 3 ? 5 : 7)) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return random.pick([0, 1, -1, 0.5, 255, 256, 65535, 65536, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, random.int(2000)]);
    case 3:
      return random.pick(strings);
    case 4:
      return String.fromCharCode(...Array.from({ length: random.int(12) }, () => random.int(0x3000)));
    case 5:
      return Array.from({ length: random.int(4) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: random.int(5) }, () => [random.chance(0.9) ? random.pick(keys) : String(random.next()), randomJson(random, depth + 1)]));
  }
}

/** One request frame: mostly well-framed calls with random params, some broken frames. */
function randomFrame(random: Random, id: number): { text: string; method?: unknown; params?: unknown; framed: boolean } {
  const method = random.chance(0.9) ? random.pick(methodNames) : random.pick([random.pick(strings), 42, null, ['capabilities'], '__proto__', 'constructor', 'toString']);
  const params = random.chance(0.1) ? undefined : random.chance(0.8) ? randomJson(random, 1) : randomJson(random);
  switch (random.int(20)) {
    case 0:
      return { text: '{"id": ' + id + ', "method": ', framed: false };
    case 1:
      return { text: JSON.stringify([id, method, params]), framed: false };
    case 2:
      return { text: JSON.stringify({ id: random.pick([0, -1, 1.5, '7', null]), method, params }), framed: false };
    default:
      return { text: JSON.stringify({ id, method, ...(params === undefined ? {} : { params }) }), method, params, framed: true };
  }
}

/** The refusal the contract expects, or undefined when the call is valid. */
function expectedRefusal(method: unknown, params: unknown): string | undefined {
  if (!isMethodName(method)) return 'UNKNOWN_METHOD';
  try {
    validateParams(method, params);
    return undefined;
  } catch (error) {
    return (error as { code: string }).code;
  }
}

let dir: string;
let host: BrowserHost;
const engine = createFakeEngine();
/** Methods the fake engine has no handler for yet (new in the contract): their valid calls are not judged. */
const unimplemented = new Set<string>();
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'random-calls-'));
  mkdirSync(path.join(dir, 'dist'));
  writeFileSync(path.join(dir, 'dist', 'index.html'), '<!doctype html><title>Packet Workbench</title>');
  host = await startBrowserHost({ engine, port: 0, host: '127.0.0.1', staticDir: path.join(dir, 'dist') });
});
afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

it(`answers ${CALLS} random calls by their contract (FUZZ_SEED=${seed}); the host stays up and a good client is served`, { timeout: 120_000 }, async () => {
  const bad = await openWireClient(host.port, host.token);
  const good = await openWireClient(host.port, host.token);
  const frameErrors: WireAnswer[] = [];
  bad.ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text.startsWith('{"id":0,')) frameErrors.push(JSON.parse(text) as WireAnswer);
  });
  const counts = { valid: 0, refused: 0, busy: 0, badFrames: 0 };
  let nextId = 1_000_000;
  const one = async (index: number) => {
    const random = new Random(seed, index);
    const id = nextId++;
    const frame = randomFrame(random, id);
    const where = `FUZZ_SEED=${seed} call ${index}: ${frame.text.slice(0, 300)}`;
    if (!frame.framed) {
      counts.badFrames++;
      bad.sendRaw(frame.text);
      return;
    }
    const answer = await sendAndWait(bad, id, frame.text);
    const refusal = expectedRefusal(frame.method, frame.params);
    if (answer.error?.code === 'BUSY') {
      // Admission comes before validation: a heavy call beyond the client's limit is turned away first.
      expect(answer.error.message, where).toMatch(/is a heavy call/);
      counts.busy++;
    } else if (refusal) {
      counts.refused++;
      expect(answer.error?.code, where).toBe(refusal);
      expect(answer.bytes, where).toBeLessThan(8 * 1024);
    } else if (answer.error?.code === 'INTERNAL' && answer.error.message === 'handler is not a function') {
      unimplemented.add(frame.method as string);
    } else {
      counts.valid++;
      // A valid call reaches the engine: a result, or the engine's own refusal (NOT_FOUND...), never a crash.
      expect(answer.error?.code ?? 'result', `${where}\n${JSON.stringify(answer.error)}`).not.toMatch(/^(INTERNAL|INVALID_ARGUMENT|BAD_REQUEST)$/);
    }
  };
  for (let start = 0; start < CALLS; start += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, CALLS - start) }, (_, i) => one(start + i)));
    if (start % 500 === 0) expect((await good.call('capabilities')).result, `good client at call ${start}`).toMatchObject({ platform: 'linux' });
  }
  // Broken frames are answered with id 0 and BAD_REQUEST, one each.
  await expect.poll(() => frameErrors.length, { timeout: 10_000 }).toBe(counts.badFrames);
  expect(frameErrors.every((answer) => answer.error?.code === 'BAD_REQUEST')).toBe(true);
  // Both kinds were exercised, and the host still takes new clients.
  expect(counts.refused).toBeGreaterThan(CALLS / 4);
  expect(counts.valid).toBeGreaterThan(10);
  expect(counts.busy).toBeLessThan(CALLS / 10);
  const late: WireClient = await openWireClient(host.port, host.token);
  expect((await late.call('capabilities')).result).toMatchObject({ platform: 'linux' });
  for (const client of [bad, good, late]) client.close();
  console.log(`random calls (FUZZ_SEED=${seed}): ${counts.refused} refused, ${counts.valid} valid, ${counts.busy} BUSY (heavy), ${counts.badFrames} broken frames; not judged (no fake handler): ${[...unimplemented].join(', ') || 'none'}`);
});

/** Sends a frame as written and waits for the answer that carries its id. */
function sendAndWait(client: WireClient, id: number, text: string): Promise<WireAnswer> {
  return new Promise((resolve) => {
    const listener = (data: Buffer) => {
      const answer = data.toString();
      if (!answer.startsWith(`{"id":${id},`)) return;
      client.ws.off('message', listener);
      resolve({ ...(JSON.parse(answer) as WireAnswer), bytes: data.length });
    };
    client.ws.on('message', listener);
    client.sendRaw(text);
  });
}
