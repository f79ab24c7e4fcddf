'use strict';
// Helpers shared by run.js and the child processes (worker.js, cold.js).
const path = require('node:path');

/** Deterministic pseudo-random bytes (xorshift32), so both sides checksum the same data. */
function seededBytes(length, seed) {
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** RFC 1071 checksum in plain JS, used to build packets before any clock starts. */
function icmpChecksum(bytes) {
  let sum = 0;
  const end = bytes.length & ~1;
  for (let i = 0; i < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) sum += bytes[end] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The library a child process measures: "ours" (this package, or params.oursDir) or the scratch raw-socket 1.8.1. */
function loadLibrary(side, params) {
  if (side === 'ours') return require(params.oursDir || path.join(__dirname, '..'));
  if (side === 'raw-socket') return require(path.join(params.rawSocketDir, 'node_modules', 'raw-socket'));
  throw new Error(`unknown side ${side}`);
}

/** A child's one JSON line on stdout, then its exit. */
function finish(result) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

function fail(error) {
  process.stdout.write(JSON.stringify({ error: String((error && error.stack) || error) }) + '\n', () => process.exit(1));
}

module.exports = { seededBytes, icmpChecksum, loadLibrary, finish, fail };
