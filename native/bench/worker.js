'use strict';
// One measurement for one library, in a process of its own (run.js starts it):
//   node worker.js <side> <task> <params-json>
// side: "ours" (this package) or "raw-socket" (the scratch install of raw-socket 1.8.1).
// Prints a single JSON line on stdout: the result, or {error}.
// Every loop here is bounded in count and in time.

const path = require('node:path');
const { fail, finish, icmpChecksum, loadLibrary, seededBytes } = require('./common');

const [side, task, paramsText] = process.argv.slice(2);
const params = JSON.parse(paramsText || '{}');
const now = process.hrtime.bigint;


// ---- 1. checksums ------------------------------------------------------------------

// The same inputs on both sides; run.js compares the values.
function verifyChecksums(lib) {
  const cases = [];
  const sizes = [1, 2, 3, 19, 20, 21, 40, 63, 64, 127, 128, 129, 255, 256, 1499, 1500, 4096, 65535, 65536];
  for (let k = 0; k < sizes.length; k++) {
    for (let variant = 0; variant < 3; variant++) {
      const buffer = seededBytes(sizes[k], 1000 * k + variant + 1);
      if (variant === 2) buffer.fill(0xff); // sums that wrap on every word
      cases.push({ size: sizes[k], variant, value: lib.createChecksum(buffer) });
    }
  }
  // The {buffer, offset, length} form and two even-length parts (raw-socket pads odd parts).
  const big = seededBytes(2000, 77);
  cases.push({ size: 'range 13+1400', value: lib.createChecksum({ buffer: big, offset: 13, length: 1400 }) });
  cases.push({ size: 'parts 12+1500', value: lib.createChecksum(seededBytes(12, 5), { buffer: big, offset: 100, length: 1500 }) });
  return { cases };
}

function checksumThroughput(lib, sizes, secondsPerSize, reps) {
  const rows = [];
  for (const size of sizes) {
    const buffer = seededBytes(size, size);
    const createChecksum = lib.createChecksum;
    let sink = 0;
    // Calibrate: double the count until a run takes 20 ms (at most 2^26 calls).
    let iterations = 64;
    let elapsed = 0n;
    for (let round = 0; round < 21; round++) {
      const t0 = now();
      for (let i = 0; i < iterations; i++) sink ^= createChecksum(buffer);
      elapsed = now() - t0;
      if (elapsed >= 20_000_000n || iterations >= 1 << 26) break;
      iterations *= 2;
    }
    const perRep = Math.max(1, Math.round((iterations * (secondsPerSize / reps) * 1e9) / Number(elapsed)));
    const samples = [];
    for (let r = 0; r < reps; r++) {
      const t0 = now();
      for (let i = 0; i < perRep; i++) sink ^= createChecksum(buffer);
      const ns = Number(now() - t0);
      samples.push({ ns, calls: perRep });
    }
    const mbs = samples.map((s) => (s.calls * size) / (s.ns / 1e9) / 1e6).sort((a, b) => a - b);
    const median = mbs[Math.floor(mbs.length / 2)];
    const calls = samples.reduce((a, s) => a + s.calls, 0);
    const seconds = samples.reduce((a, s) => a + s.ns, 0) / 1e9;
    rows.push({ size, mbPerSec: median, nsPerCall: (size / median) * 1e3, calls, seconds, samplesMBs: mbs, sink });
  }
  return { rows };
}

// Ours only: where does the addon call start to beat the JS loop? (checksum.ts's
// NATIVE_THRESHOLD). The JS loop is a copy of checksum.ts's sumBytes; the addon is the internal binding.
function checksumCrossover(sizes, secondsPerPoint) {
  const { binding } = require(path.join(params.oursDir || path.join(__dirname, '..'), 'dist', 'binding.js'));
  const checksumSum = binding.checksumSum;
  // checksum.ts's sumBytes loop (even and odd bytes summed apart), without its parity bit.
  function sumInJs(bytes, offset, length) {
    let high = 0;
    let low = 0;
    const end = offset + (length & ~1);
    for (let i = offset; i < end; i += 2) {
      high += bytes[i];
      low += bytes[i + 1];
    }
    let sum = (high << 8) + low; // at most 1500 bytes here: no overflow
    if (length & 1) sum += bytes[end] << 8;
    sum = (sum & 0xffff) + (sum >>> 16);
    return (sum & 0xffff) + (sum >>> 16);
  }
  const variants = {
    js: (b) => sumInJs(b, 0, b.length),
    addon: (b) => checksumSum(b, 0, b.length),
  };
  function measure(fn, buffer) {
    let sink = 0;
    let iterations = 256;
    let elapsed = 0n;
    for (let round = 0; round < 21; round++) {
      const t0 = now();
      for (let i = 0; i < iterations; i++) sink ^= fn(buffer);
      elapsed = now() - t0;
      if (elapsed >= 10_000_000n || iterations >= 1 << 26) break;
      iterations *= 2;
    }
    const calls = Math.max(1, Math.round((iterations * secondsPerPoint * 1e9) / Number(elapsed)));
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = now();
      for (let i = 0; i < calls; i++) sink ^= fn(buffer);
      best = Math.min(best, Number(now() - t0) / calls);
    }
    return { ns: best, sink };
  }
  // Warm both up on every size first so neither is measured cold.
  for (const size of sizes) for (const fn of Object.values(variants)) for (let i = 0; i < 20000; i++) fn(seededBytes(size, 1));
  const rows = [];
  for (const size of sizes) {
    const buffer = seededBytes(size, size + 3);
    if (variants.js(buffer) !== variants.addon(buffer)) throw new Error(`JS and addon sums differ at ${size} bytes`);
    rows.push({ size, jsNs: measure(variants.js, buffer).ns, addonNs: measure(variants.addon, buffer).ns });
  }
  return { rows };
}

// ---- ICMP helpers --------------------------------------------------------------------

const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
const PACKET_SIZE = 32; // 8-byte ICMP header + magic(4) nonce(4) seq32(4) padding(12)
const MAGIC = 0x50574231; // "PWB1"

// All N echo requests in one buffer, checksummed in advance (library-neutral), so
// the timed part is only the library's send path. Both libraries take (buffer, offset, length).
function buildRequests(count, identifier, nonce) {
  const all = Buffer.alloc(count * PACKET_SIZE);
  for (let i = 0; i < count; i++) {
    const p = all.subarray(i * PACKET_SIZE, (i + 1) * PACKET_SIZE);
    p[0] = ECHO_REQUEST;
    p.writeUInt16BE(identifier, 4);
    p.writeUInt16BE(i & 0xffff, 6);
    p.writeUInt32BE(MAGIC, 8);
    p.writeUInt32BE(nonce, 12);
    p.writeUInt32BE(i, 16);
    for (let j = 20; j < PACKET_SIZE; j++) p[j] = j;
    p.writeUInt16BE(icmpChecksum(p), 2);
  }
  return all;
}

// -> {type, seq} for an echo request/reply of this run, else null. IPv4 raw sockets
// deliver the IP header too.
function parseEcho(buffer, identifier, nonce) {
  if (buffer.length < 20) return null;
  const ihl = (buffer[0] & 0x0f) * 4;
  if (buffer.length < ihl + 20) return null;
  const type = buffer[ihl];
  if (type !== ECHO_REQUEST && type !== ECHO_REPLY) return null;
  if (buffer.readUInt16BE(ihl + 4) !== identifier) return null;
  if (buffer.readUInt32BE(ihl + 8) !== MAGIC || buffer.readUInt32BE(ihl + 12) !== nonce) return null;
  return { type, seq: buffer.readUInt32BE(ihl + 16) };
}

function runIdentity() {
  const identifier = (process.pid ^ (Math.random() * 0x10000)) & 0xffff;
  const nonce = (Math.random() * 0x100000000) >>> 0;
  return { identifier, nonce };
}

function createIcmpSocket(lib) {
  const options = { protocol: lib.Protocol.ICMP, addressFamily: lib.AddressFamily.IPv4 };
  if (side === 'ours') options.mode = 'raw'; // never the datagram fallback: same socket type as raw-socket
  return lib.createSocket(options);
}

function receiveBufferSize(lib, socket) {
  const b = Buffer.alloc(4);
  socket.getOption(lib.SocketLevel.SOL_SOCKET, lib.SocketOption.SO_RCVBUF, b, 4);
  return b.readInt32LE(0);
}

// ---- 2. flood ------------------------------------------------------------------------

function flood(lib, p) {
  const { count, chunk, maxInFlight, receiveBuffer, timeLimitMs, drainIdleMs, drainMaxMs } = p;
  const { identifier, nonce } = runIdentity();
  const requests = buildRequests(count, identifier, nonce);
  const sender = createIcmpSocket(lib);
  const receiver = createIcmpSocket(lib);
  // The sender's own copies of the traffic are not part of the measurement (same call in both APIs).
  sender.pauseRecv();
  receiver.setOption(lib.SocketLevel.SOL_SOCKET, lib.SocketOption.SO_RCVBUF, receiveBuffer);
  const effectiveReceiveBuffer = receiveBufferSize(lib, receiver);

  const seen = new Uint8Array(count);
  let replies = 0;
  let duplicates = 0;
  let requestsSeen = 0;
  let otherMessages = 0;
  let lastReplyAt = 0n;
  let receiveErrors = 0;
  let messages = 0;
  receiver.on('message', (buffer) => {
    messages++;
    const echo = parseEcho(buffer, identifier, nonce);
    if (echo === null) {
      otherMessages++;
      return;
    }
    if (echo.type === ECHO_REQUEST) {
      requestsSeen++;
      return;
    }
    if (echo.seq >= count) return;
    if (seen[echo.seq]) {
      duplicates++;
      return;
    }
    seen[echo.seq] = 1;
    replies++;
    lastReplyAt = now();
  });
  receiver.on('error', () => receiveErrors++);
  sender.on('error', () => {});

  return new Promise((resolve) => {
    let issued = 0;
    let completed = 0;
    let sendErrors = 0;
    let firstError = null;
    let sentOk = 0;
    let sendDoneAt = 0n;
    let timedOut = false;
    let maxObservedInFlight = 0;
    let pumps = 0;
    const startedAt = now();
    const deadline = startedAt + BigInt(timeLimitMs) * 1_000_000n;

    function afterSend(error) {
      completed++;
      if (error) {
        sendErrors++;
        if (firstError === null) firstError = String(error.message || error);
      } else {
        sentOk++;
      }
      if (completed === issued && (issued === count || timedOut) && sendDoneAt === 0n) {
        sendDoneAt = now();
        drain();
      }
    }

    function pump() {
      pumps++;
      if (now() > deadline) {
        timedOut = true;
        if (completed === issued && sendDoneAt === 0n) {
          sendDoneAt = now();
          drain();
        }
        return;
      }
      let n = 0;
      while (issued < count && n < chunk && issued - completed < maxInFlight) {
        sender.send(requests, issued * PACKET_SIZE, PACKET_SIZE, '127.0.0.1', afterSend);
        issued++;
        n++;
      }
      if (issued - completed > maxObservedInFlight) maxObservedInFlight = issued - completed;
      if (issued < count) setImmediate(pump);
    }

    function drain() {
      const drainStart = now();
      const timer = setInterval(() => {
        const t = now();
        const idle = lastReplyAt === 0n ? t - drainStart : t - (lastReplyAt > drainStart ? lastReplyAt : drainStart);
        const done = replies >= sentOk || idle >= BigInt(drainIdleMs) * 1_000_000n || t - drainStart >= BigInt(drainMaxMs) * 1_000_000n;
        if (!done) return;
        clearInterval(timer);
        sender.close();
        receiver.close();
        const sendSeconds = Number(sendDoneAt - startedAt) / 1e9;
        const receiveSeconds = lastReplyAt === 0n ? NaN : Number(lastReplyAt - startedAt) / 1e9;
        resolve({
          identifier,
          count,
          issued,
          sentOk,
          sendErrors,
          firstError,
          timedOut,
          sendSeconds,
          sentPerSec: sentOk / sendSeconds,
          replies,
          duplicates,
          receiveSeconds,
          repliesPerSec: replies / receiveSeconds,
          loss: sentOk > 0 ? 1 - replies / sentOk : NaN,
          requestsSeen,
          otherMessages,
          messages,
          receiveErrors,
          effectiveReceiveBuffer,
          maxObservedInFlight,
          pumps,
          drainSeconds: Number(now() - drainStart) / 1e9,
        });
      }, 10);
    }

    pump();
  });
}

// ---- 3. sequential ping RTT ------------------------------------------------------------

function rtt(lib, p) {
  const { count, warmup, timeoutMs, timeLimitMs } = p;
  const { identifier, nonce } = runIdentity();
  const total = warmup + count;
  const requests = buildRequests(total, identifier, nonce);
  const socket = createIcmpSocket(lib);
  const samples = new Float64Array(count);
  let measured = 0;
  let lost = 0;
  let current = -1;
  let sentAt = 0n;
  let timer = null;
  let sendErrors = 0;
  const startedAt = now();
  const deadline = startedAt + BigInt(timeLimitMs) * 1_000_000n;

  return new Promise((resolve) => {
    function onSent(error) {
      if (error) sendErrors++;
    }
    function next() {
      if (timer !== null) clearTimeout(timer);
      current++;
      if (current >= total || now() > deadline) return done();
      timer = setTimeout(() => {
        lost++;
        next();
      }, timeoutMs);
      sentAt = now();
      socket.send(requests, current * PACKET_SIZE, PACKET_SIZE, '127.0.0.1', onSent);
    }
    socket.on('message', (buffer) => {
      const t = now();
      const echo = parseEcho(buffer, identifier, nonce);
      if (echo === null || echo.type !== ECHO_REPLY || echo.seq !== current) return;
      if (current >= warmup) samples[measured++] = Number(t - sentAt) / 1e3; // µs
      next();
    });
    socket.on('error', () => {});
    function done() {
      if (timer !== null) clearTimeout(timer);
      socket.close();
      const sorted = Array.from(samples.subarray(0, measured)).sort((a, b) => a - b);
      const pick = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
      resolve({
        count,
        warmup,
        measured,
        lost,
        sendErrors,
        medianUs: pick(0.5),
        p90Us: pick(0.9),
        p99Us: pick(0.99),
        minUs: sorted[0],
        maxUs: sorted[sorted.length - 1],
        meanUs: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
        seconds: Number(now() - startedAt) / 1e9,
        samplesUs: Array.from(samples.subarray(0, measured), (x) => Math.round(x * 1000) / 1000),
      });
    }
    next();
  });
}

// ---- main ------------------------------------------------------------------------------

(async () => {
  // Hard stop: a worker never outlives its budget, whatever happens.
  const budget = setTimeout(() => fail(new Error(`worker exceeded ${params.hardLimitMs} ms`)), params.hardLimitMs || 60_000);
  budget.unref();
  try {
    if (task === 'crossover') return finish(checksumCrossover(params.sizes, params.secondsPerPoint));
    const lib = loadLibrary(side, params);
    if (task === 'verify') return finish(verifyChecksums(lib));
    if (task === 'checksum') return finish(checksumThroughput(lib, params.sizes, params.secondsPerSize, params.reps));
    if (task === 'flood') return finish(await flood(lib, params));
    if (task === 'rtt') return finish(await rtt(lib, params));
    throw new Error(`unknown task ${task}`);
  } catch (error) {
    fail(error);
  }
})();
