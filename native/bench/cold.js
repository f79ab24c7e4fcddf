'use strict';
// One cold sample for one library, in a fresh process (run.js starts one per sample):
//   node cold.js <side> <params-json>
// What a user's program meets: the library loaded just now, 50 warm-up pings, and
// createChecksum called with every documented argument shape in turn (one Buffer,
// {buffer, offset, length}, several parts, odd lengths), never one shape alone.
// Prints one JSON line: {rttUs: [...], checksum20Ns, ...} or {error}. Bounded in count and time.

const { fail, finish, loadLibrary } = require('./common');

const [side, paramsText] = process.argv.slice(2);
const params = JSON.parse(paramsText || '{}');
const now = process.hrtime.bigint;


const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
const PACKET_SIZE = 20; // 8-byte ICMP header + 12 bytes: the 20 B checksum size the targets name

function buildEcho(lib, shape, identifier, sequence) {
  const packet = Buffer.alloc(PACKET_SIZE);
  packet[0] = ECHO_REQUEST;
  packet.writeUInt16BE(identifier, 4);
  packet.writeUInt16BE(sequence & 0xffff, 6);
  packet.writeUInt32BE(0x50574243, 8); // "PWBC"
  packet.writeUInt32BE(sequence, 12);
  // The checksum through the library, in a different argument shape each ping.
  const sum =
    shape === 0
      ? lib.createChecksum(packet)
      : shape === 1
        ? lib.createChecksum({ buffer: packet, offset: 0, length: PACKET_SIZE })
        : lib.createChecksum(packet.subarray(0, 8), { buffer: packet, offset: 8, length: PACKET_SIZE - 8 });
  lib.writeChecksum(packet, 2, sum);
  return packet;
}

function pings(lib, warmup, count, timeLimitMs) {
  const identifier = (process.pid ^ (Math.random() * 0x10000)) & 0xffff;
  const options = { protocol: lib.Protocol.ICMP, addressFamily: lib.AddressFamily.IPv4 };
  if (side === 'ours') options.mode = 'raw';
  const socket = lib.createSocket(options);
  const samples = [];
  let current = -1;
  let sentAt = 0n;
  let timer = null;
  let lost = 0;
  const deadline = now() + BigInt(timeLimitMs) * 1_000_000n;
  return new Promise((resolve) => {
    function next() {
      if (timer !== null) clearTimeout(timer);
      current++;
      if (current >= warmup + count || now() > deadline) {
        socket.close();
        return resolve({ samples, lost });
      }
      const packet = buildEcho(lib, current % 3, identifier, current);
      timer = setTimeout(() => {
        lost++;
        next();
      }, 1000);
      sentAt = now();
      socket.send(packet, 0, PACKET_SIZE, '127.0.0.1', () => {});
    }
    socket.on('message', (buffer) => {
      const t = now();
      const ihl = (buffer[0] & 0x0f) * 4;
      if (buffer.length < ihl + PACKET_SIZE || buffer[ihl] !== ECHO_REPLY) return;
      if (buffer.readUInt16BE(ihl + 4) !== identifier || buffer.readUInt32BE(ihl + 12) !== current) return;
      if (current >= warmup) samples.push(Number(t - sentAt) / 1e3);
      next();
    });
    socket.on('error', () => {});
    next();
  });
}

/**
 * createChecksum over 20 bytes in the shapes raw-socket documents, one call site per
 * shape (Buffers only: raw-socket reads a Uint8Array's .buffer as a range object), in
 * turn: ns per call over the first `firstCalls` calls (tiering up), and then in the best
 * of `chunks` chunks of `chunkCalls` calls (optimized, having seen every shape).
 */
function checksumCold(lib, { firstCalls, chunks, chunkCalls }) {
  const data = Buffer.alloc(64);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 0xff;
  const whole = data.subarray(7, 27); // 20 B at an odd address
  const head = Buffer.from(data.subarray(7, 15));
  const tail = Buffer.from(data.subarray(15, 27));
  const range = { buffer: data, offset: 7, length: 20 };
  const tailRange = { buffer: data, offset: 15, length: 12 };
  const c = lib.createChecksum;
  const expected = c(whole);
  function run(calls) {
    let sink = 0;
    for (let i = 0; i < calls; i++) {
      switch (i % 5) {
        case 0: sink ^= c(whole); break;
        case 1: sink ^= c(range); break;
        case 2: sink ^= c(head, tail); break;
        case 3: sink ^= c(head, tailRange); break;
        default: sink ^= c({ buffer: data, offset: 7, length: 20 }); // a fresh object each call
      }
    }
    return sink;
  }
  // Every shape gives the same sum; an odd count of calls XORs to that sum.
  if (run(5 * 201) !== expected) throw new Error('createChecksum shapes disagree');
  let t0 = now();
  run(firstCalls);
  const firstNs = Number(now() - t0) / firstCalls;
  // The best chunk: on a shared machine other work only ever adds time.
  let steadyNs = Infinity;
  for (let k = 0; k < chunks; k++) {
    t0 = now();
    run(chunkCalls);
    steadyNs = Math.min(steadyNs, Number(now() - t0) / chunkCalls);
  }
  return { firstNs, steadyNs };
}

(async () => {
  const budget = setTimeout(() => fail(new Error('cold sample exceeded its time budget')), params.hardLimitMs || 30_000);
  budget.unref();
  try {
    const t0 = now();
    const lib = loadLibrary(side, params);
    const loadMs = Number(now() - t0) / 1e6;
    const { samples, lost } = await pings(lib, params.warmup, params.count, params.timeLimitMs);
    const checksum = checksumCold(lib, params.checksum);
    finish({ loadMs, rttUs: samples, lost, checksumFirstNs: checksum.firstNs, checksumSteadyNs: checksum.steadyNs });
  } catch (error) {
    fail(error);
  }
})();
