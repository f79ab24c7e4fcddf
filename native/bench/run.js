'use strict';
// npm run bench:native: this package against raw-socket 1.8.1, each library in
// child processes of its own (never one event loop for both). See README.md.
//   1. createChecksum throughput (and the JS/addon crossover behind NATIVE_THRESHOLD)
//   2. ICMP echo flood to 127.0.0.1: send rate, replies delivered, loss
//   3. sequential ping round trip through the API: median and p99
//   4. cold and polymorphic: a fresh process per sample, 50 warm-up pings, createChecksum
//      in every argument shape (what a user's program meets, not a warmed benchmark loop)
//   5. `packet-workbench ping` against iputils ping(8) on 127.0.0.1 (needs dist/main/cli.js)
// `npm run bench:native -- cold ping` runs only the sections named (checksum, flood, rtt, cold, ping).
// Results: printed tables with ratios, PASS/FAIL per target, and native/bench/.results.json.
// Environment: BENCH_NATIVE_DIR=<dir> benchmarks another build of this package as "ours";
// BENCH_CLI=<cli.js> another build of the command line in section 5.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ensureRawSocket, VERSION } = require('./raw-socket-scratch');

const NATIVE = path.join(__dirname, '..');
const OURS_DIR = process.env.BENCH_NATIVE_DIR ? path.resolve(process.env.BENCH_NATIVE_DIR) : NATIVE;
const RESULTS_FILE = path.join(__dirname, '.results.json');
const runStarted = Date.now();

const CONFIG = {
  checksum: { sizes: [20, 1500, 65536], rounds: 3, secondsPerSizePerRound: 0.2, repsPerRound: 2 },
  crossover: { sizes: [8, 16, 20, 32, 48, 64, 96, 128, 160, 192, 256, 384, 512, 1024, 1500], secondsPerPoint: 0.02 },
  flood: { count: 200_000, chunk: 1024, maxInFlight: 4096, receiveBuffer: 32 << 20, timeLimitMs: 15_000, drainIdleMs: 300, drainMaxMs: 2_000 },
  rtt: { rounds: 2, count: 5000, warmup: 3000, timeoutMs: 1000, timeLimitMs: 20_000 },
  cold: { samples: 8, warmup: 50, count: 200, timeLimitMs: 10_000, checksum: { firstCalls: 10_000, chunks: 20, chunkCalls: 5000 } },
  ping: { rounds: 5, count: 20, interval: 0.01 },
};

const TARGETS = {
  checksum20: 10,
  checksum1500: 4,
  checksum65536: 4,
  floodSendRatio: 2,
  rttMedianRatio: 0.75,
  rttP99Ratio: 1,
  coldRttMedianRatio: 1,
  coldChecksum20: 10,
  pingAvgRatio: 1,
};

// ---- output helpers -----------------------------------------------------------------

function log(line = '') {
  process.stdout.write(line + '\n');
}

function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  log(line(cells[0]));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) log(line(r));
}

const fmt = (x, digits = 1) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : Number(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const fmtRatio = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a');
const pct = (x, digits = 2) => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : 'n/a');

// ---- child processes ------------------------------------------------------------------

function worker(side, task, params, hardLimitMs) {
  const full = { ...params, hardLimitMs, oursDir: OURS_DIR, rawSocketDir: rawSocket.dir };
  const child = spawnSync(process.execPath, [path.join(__dirname, 'worker.js'), side, task, JSON.stringify(full)], {
    encoding: 'utf8',
    timeout: hardLimitMs + 10_000,
    maxBuffer: 64 << 20,
  });
  const lines = (child.stdout || '').trim().split('\n');
  let result;
  try {
    result = JSON.parse(lines[lines.length - 1]);
  } catch {
    result = { error: `no result (status ${child.status}, signal ${child.signal}): ${(child.stderr || String(child.error || '')).trim().slice(-2000)}` };
  }
  if (result.error) throw new Error(`${side} ${task}: ${result.error}`);
  return result;
}

// ---- environment ----------------------------------------------------------------------

function newestMtime(dir, filter) {
  let newest = 0;
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!filter(name)) continue;
    newest = Math.max(newest, fs.statSync(path.join(dir, name)).mtimeMs);
  }
  return newest;
}

function staleBuildWarnings() {
  const warnings = [];
  const addon = path.join(OURS_DIR, 'build', 'Release', 'raw_socket.node');
  if (!fs.existsSync(addon)) warnings.push(`${addon} is missing: run npm run build:native`);
  else if (newestMtime(path.join(OURS_DIR, 'src'), (n) => /\.(cc|h)$/.test(n)) > fs.statSync(addon).mtimeMs) {
    warnings.push('native/src is newer than build/Release/raw_socket.node: run npm run build:native first');
  }
  const distNewest = newestMtime(path.join(OURS_DIR, 'dist'), (n) => n.endsWith('.js'));
  if (newestMtime(path.join(OURS_DIR, 'lib'), (n) => n.endsWith('.ts')) > distNewest) {
    warnings.push('native/lib is newer than native/dist: run npm run build:native first (the benchmark loads dist/)');
  }
  return warnings;
}

function nativeThreshold() {
  try {
    const text = fs.readFileSync(path.join(OURS_DIR, 'dist', 'checksum.js'), 'utf8');
    const match = /NATIVE_THRESHOLD\s*=\s*(\d+)/.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---- 1. checksums -----------------------------------------------------------------------

function checksumSection(results) {
  log('== 1. createChecksum throughput (MB/s; best of ' + CONFIG.checksum.rounds * CONFIG.checksum.repsPerRound + ' timed runs per side, alternating processes) ==');
  const ours = worker('ours', 'verify', {}, 30_000);
  let verified = null;
  if (rawSocket.available) {
    const theirs = worker('raw-socket', 'verify', {}, 30_000);
    const mismatches = ours.cases.filter((c, i) => c.value !== theirs.cases[i].value).map((c, i) => ({ ...c, rawSocket: theirs.cases[i].value }));
    verified = { cases: ours.cases.length, mismatches };
    log(mismatches.length === 0
      ? `checksum values: identical on ${ours.cases.length} inputs (1 B .. 64 KiB, offset/length form, two parts)`
      : `checksum values: ${mismatches.length} of ${ours.cases.length} DIFFER: ${JSON.stringify(mismatches.slice(0, 5))}`);
  } else {
    log('checksum values: not compared (raw-socket unavailable)');
  }

  const samples = { ours: {}, 'raw-socket': {} };
  const sides = rawSocket.available ? ['ours', 'raw-socket'] : ['ours'];
  for (let round = 0; round < CONFIG.checksum.rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const r = worker(side, 'checksum', {
        sizes: CONFIG.checksum.sizes,
        secondsPerSize: CONFIG.checksum.secondsPerSizePerRound,
        reps: CONFIG.checksum.repsPerRound,
      }, 60_000);
      for (const row of r.rows) (samples[side][row.size] ||= []).push(...row.samplesMBs);
    }
  }
  const rows = [];
  const out = [];
  for (const size of CONFIG.checksum.sizes) {
    const o = samples.ours[size] || [];
    const t = samples['raw-socket'][size] || [];
    const best = (a) => (a.length ? Math.max(...a) : NaN);
    const median = (a) => (a.length ? [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] : NaN);
    const entry = {
      size,
      oursMBs: best(o),
      rawSocketMBs: best(t),
      ratio: ratio(best(o), best(t)),
      oursMedianMBs: median(o),
      rawSocketMedianMBs: median(t),
      medianRatio: ratio(median(o), median(t)),
      oursNsPerCall: (size / best(o)) * 1e3,
      rawSocketNsPerCall: (size / best(t)) * 1e3,
    };
    out.push(entry);
    rows.push([
      size === 65536 ? '64 KiB' : `${size} B`,
      fmt(entry.oursMBs),
      fmt(entry.rawSocketMBs),
      fmtRatio(entry.ratio),
      fmtRatio(entry.medianRatio),
      fmt(entry.oursNsPerCall),
      fmt(entry.rawSocketNsPerCall),
    ]);
  }
  table(['buffer', 'ours MB/s', 'raw-socket MB/s', 'ratio', 'median ratio', 'ours ns/call', 'raw-socket ns/call'], rows);
  results.checksum = { config: CONFIG.checksum, verified, rows: out };

  log('');
  log('-- JS loop vs addon call, ours only (ns per call; checksum.ts sums below NATIVE_THRESHOLD in JS) --');
  const cross = worker('ours', 'crossover', CONFIG.crossover, 60_000);
  const threshold = nativeThreshold();
  table(['bytes', 'JS loop ns', 'addon ns', 'JS/addon', 'used now'], cross.rows.map((r) => [
    r.size,
    fmt(r.jsNs),
    fmt(r.addonNs),
    fmtRatio(r.jsNs / r.addonNs),
    threshold === undefined ? '?' : r.size < threshold ? 'JS' : 'addon',
  ]));
  const firstAddonWin = cross.rows.find((r, i) => cross.rows.slice(i).every((s) => s.addonNs < s.jsNs));
  log(`addon faster from ${firstAddonWin ? firstAddonWin.size + ' bytes' : 'never (in this range)'}; NATIVE_THRESHOLD is ${threshold ?? 'unknown'}`);
  results.crossover = { rows: cross.rows, addonFasterFrom: firstAddonWin ? firstAddonWin.size : null, nativeThreshold: threshold };
  log('');
}

// ---- 2. flood ---------------------------------------------------------------------------

function floodSection(results) {
  const c = CONFIG.flood;
  log(`== 2. ICMP echo flood to 127.0.0.1: ${c.count.toLocaleString('en-US')} requests, sender + receiver socket (SO_RCVBUF ${c.receiveBuffer >> 20} MiB asked), ${c.chunk} sends per turn of the loop, at most ${c.maxInFlight} in flight ==`);
  const ours = worker('ours', 'flood', c, c.timeLimitMs + c.drainMaxMs + 15_000);
  const theirs = rawSocket.available ? worker('raw-socket', 'flood', c, c.timeLimitMs + c.drainMaxMs + 15_000) : null;
  const get = (r, f) => (r ? f(r) : NaN);
  const rows = [
    ['sent/s', fmt(ours.sentPerSec, 0), fmt(get(theirs, (r) => r.sentPerSec), 0), fmtRatio(ratio(ours.sentPerSec, get(theirs, (r) => r.sentPerSec)))],
    ['replies delivered/s', fmt(ours.repliesPerSec, 0), fmt(get(theirs, (r) => r.repliesPerSec), 0), fmtRatio(ratio(ours.repliesPerSec, get(theirs, (r) => r.repliesPerSec)))],
    ['sent (ok)', ours.sentOk, get(theirs, (r) => r.sentOk), ''],
    ['send errors', ours.sendErrors, get(theirs, (r) => r.sendErrors), ''],
    ['unique echo replies received', ours.replies, get(theirs, (r) => r.replies), ''],
    ['replies lost (1 - replies/sent)', pct(ours.loss), pct(get(theirs, (r) => r.loss)), ''],
    ['echo requests seen by receiver', ours.requestsSeen, get(theirs, (r) => r.requestsSeen), ''],
    ['duplicate replies', ours.duplicates, get(theirs, (r) => r.duplicates), ''],
    ['send phase (s)', fmt(ours.sendSeconds, 3), fmt(get(theirs, (r) => r.sendSeconds), 3), ''],
    ['effective SO_RCVBUF (bytes)', ours.effectiveReceiveBuffer, get(theirs, (r) => r.effectiveReceiveBuffer), ''],
    ['timed out', ours.timedOut, get(theirs, (r) => r.timedOut), ''],
  ];
  table(['', 'ours', 'raw-socket', 'ratio'], rows.map((r) => r.map((x) => (typeof x === 'number' && Number.isNaN(x) ? 'n/a' : x))));
  if (ours.firstError) log(`ours first send error: ${ours.firstError}`);
  if (theirs && theirs.firstError) log(`raw-socket first send error: ${theirs.firstError}`);
  results.flood = { config: c, ours, rawSocket: theirs, sendRatio: ratio(ours.sentPerSec, get(theirs, (r) => r.sentPerSec)) };
  log('');
}

// ---- 3. rtt -----------------------------------------------------------------------------

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;
}

function rttSection(results) {
  const c = CONFIG.rtt;
  log(`== 3. Sequential ping round trip through the API (send() -> 'message'; ${c.rounds} x ${c.count} pings per side after ${c.warmup} warm-up, alternating processes) ==`);
  const pooled = { ours: [], 'raw-socket': [] };
  const lost = { ours: 0, 'raw-socket': 0 };
  const sides = rawSocket.available ? ['ours', 'raw-socket'] : ['ours'];
  for (let round = 0; round < c.rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const r = worker(side, 'rtt', c, c.timeLimitMs + 15_000);
      pooled[side].push(...r.samplesUs);
      lost[side] += r.lost;
    }
  }
  const stats = (a) => {
    const s = [...a].sort((x, y) => x - y);
    return { n: s.length, min: s[0], median: percentile(s, 0.5), p90: percentile(s, 0.9), p99: percentile(s, 0.99), max: s[s.length - 1] };
  };
  const o = stats(pooled.ours);
  const t = rawSocket.available ? stats(pooled['raw-socket']) : { n: 0 };
  const rows = ['min', 'median', 'p90', 'p99', 'max'].map((k) => [`${k} (µs)`, fmt(o[k], 1), fmt(t[k], 1), fmtRatio(ratio(o[k], t[k]))]);
  rows.push(['pings measured', o.n, t.n || 'n/a', '']);
  rows.push(['pings lost (1 s timeout)', lost.ours, rawSocket.available ? lost['raw-socket'] : 'n/a', '']);
  table(['', 'ours', 'raw-socket', 'ratio'], rows);
  results.rtt = { config: c, ours: { ...o, lost: lost.ours }, rawSocket: rawSocket.available ? { ...t, lost: lost['raw-socket'] } : null };
  log('');
}

// ---- 4. cold and polymorphic ----------------------------------------------------------

function coldSample(side) {
  const c = CONFIG.cold;
  const full = { ...c, oursDir: OURS_DIR, rawSocketDir: rawSocket.dir };
  const child = spawnSync(process.execPath, [path.join(__dirname, 'cold.js'), side, JSON.stringify({ ...full, hardLimitMs: 30_000 })], {
    encoding: 'utf8',
    timeout: 40_000,
  });
  const lines = (child.stdout || '').trim().split('\n');
  let result;
  try {
    result = JSON.parse(lines[lines.length - 1]);
  } catch {
    result = { error: `no result (status ${child.status}, signal ${child.signal}): ${(child.stderr || '').trim().slice(-2000)}` };
  }
  if (result.error) throw new Error(`${side} cold: ${result.error}`);
  return result;
}

function coldSection(results) {
  const c = CONFIG.cold;
  log(`== 4. Cold and polymorphic (a fresh process per sample, ${c.samples} per side alternating; ${c.warmup} warm-up pings, then ${c.count} measured; createChecksum at 20 B in every shape, one call site each) ==`);
  const sides = rawSocket.available ? ['ours', 'raw-socket'] : ['ours'];
  const pooled = { ours: { rtt: [], first: [], steady: [], lost: 0 }, 'raw-socket': { rtt: [], first: [], steady: [], lost: 0 } };
  for (let i = 0; i < c.samples; i++) {
    for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
      const r = coldSample(side);
      pooled[side].rtt.push(...r.rttUs);
      pooled[side].first.push(r.checksumFirstNs);
      pooled[side].steady.push(r.checksumSteadyNs);
      pooled[side].lost += r.lost;
    }
  }
  const sorted = (a) => [...a].sort((x, y) => x - y);
  const summary = (p) => {
    const rtt = sorted(p.rtt);
    return { n: rtt.length, rttMedian: percentile(rtt, 0.5), rttP90: percentile(rtt, 0.9), rttP99: percentile(rtt, 0.99), lost: p.lost,
      checksumFirstNs: percentile(sorted(p.first), 0.5), checksumSteadyNs: percentile(sorted(p.steady), 0.5) };
  };
  const o = summary(pooled.ours);
  const t = rawSocket.available ? summary(pooled['raw-socket']) : {};
  table(['', 'ours', 'raw-socket', 'ratio'], [
    ['send -> message median (µs)', fmt(o.rttMedian), fmt(t.rttMedian), fmtRatio(ratio(o.rttMedian, t.rttMedian))],
    ['send -> message p90 (µs)', fmt(o.rttP90), fmt(t.rttP90), fmtRatio(ratio(o.rttP90, t.rttP90))],
    ['send -> message p99 (µs)', fmt(o.rttP99), fmt(t.rttP99), fmtRatio(ratio(o.rttP99, t.rttP99))],
    ['pings measured / lost', `${o.n} / ${o.lost}`, rawSocket.available ? `${t.n} / ${t.lost}` : 'n/a', ''],
    ['createChecksum 20 B, first 10,000 calls (ns/call)', fmt(o.checksumFirstNs), fmt(t.checksumFirstNs), `${fmtRatio(ratio(t.checksumFirstNs, o.checksumFirstNs))} faster`],
    ['createChecksum 20 B, then: best chunk (ns/call)', fmt(o.checksumSteadyNs), fmt(t.checksumSteadyNs), `${fmtRatio(ratio(t.checksumSteadyNs, o.checksumSteadyNs))} faster`],
  ]);
  results.cold = { config: c, ours: o, rawSocket: rawSocket.available ? t : null };
  log('');
}

// ---- 5. ping(8) ------------------------------------------------------------------------

// BENCH_CLI=<cli.js> measures another build of the command line (e.g. an earlier one).
const CLI = process.env.BENCH_CLI ? path.resolve(process.env.BENCH_CLI) : path.join(__dirname, '..', '..', 'dist', 'main', 'cli.js');

function averageMs(text) {
  const match = /min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\//.exec(text || '');
  return match ? Number(match[1]) : NaN;
}

function pingSection(results) {
  const c = CONFIG.ping;
  log(`== 5. packet-workbench ping vs iputils ping(8): -c ${c.count} -i ${c.interval} 127.0.0.1, ${c.rounds} rounds alternating which goes first ==`);
  const version = spawnSync('ping', ['-V'], { encoding: 'utf8', timeout: 5000 });
  if (!/iputils/.test(version.stdout || '')) return log('skipped: iputils ping not found\n');
  if (!fs.existsSync(CLI)) return log(`skipped: ${path.relative(process.cwd(), CLI)} missing (npm run build:main)\n`);
  const args = ['-c', String(c.count), '-i', String(c.interval), '127.0.0.1'];
  const runs = { ours: [], ping: [] };
  const once = (who) => {
    const child = who === 'ours'
      ? spawnSync(process.execPath, [CLI, 'ping', ...args], { encoding: 'utf8', timeout: 30_000 })
      : spawnSync('ping', ['-q', ...args], { encoding: 'utf8', timeout: 30_000 });
    const avg = averageMs(child.stdout);
    if (!Number.isFinite(avg)) throw new Error(`${who}: no rtt summary (status ${child.status}): ${(child.stderr || child.stdout || '').trim().slice(-500)}`);
    runs[who].push(avg);
  };
  for (let round = 0; round < c.rounds; round++) for (const who of round % 2 === 0 ? ['ping', 'ours'] : ['ours', 'ping']) once(who);
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const o = median(runs.ours);
  const t = median(runs.ping);
  table(['avg RTT (ms)', 'packet-workbench', 'ping(8)', 'ratio'], [
    ['median of rounds', o.toFixed(3), t.toFixed(3), fmtRatio(ratio(o, t))],
    ['rounds', runs.ours.map((x) => x.toFixed(3)).join(' '), runs.ping.map((x) => x.toFixed(3)).join(' '), ''],
  ]);
  log('(ours: kernel transmit to kernel receive timestamp; ping(8): user-space clock before sendmsg to kernel receive timestamp)');
  results.ping = { config: c, ours: runs.ours, ping: runs.ping, oursMedian: o, pingMedian: t, ratio: ratio(o, t) };
  log('');
}

// ---- summary ----------------------------------------------------------------------------

function summary(results) {
  log('== Targets ==');
  const lines = [];
  const add = (name, value, pass, text) => {
    const verdict = pass === null ? 'N/A ' : pass ? 'PASS' : 'FAIL';
    lines.push({ name, value, verdict: verdict.trim(), text });
    log(`${verdict}  ${text}`);
  };
  const unavailable = !rawSocket.available;
  const cs = (size) => results.checksum && results.checksum.rows.find((r) => r.size === size);
  if (results.checksum && results.checksum.verified) {
    add('checksum-values', results.checksum.verified.mismatches.length, results.checksum.verified.mismatches.length === 0, `checksum values identical to raw-socket's (${results.checksum.verified.mismatches.length} mismatches)`);
  }
  for (const [size, key, label] of results.checksum ? [[20, 'checksum20', '20 B'], [1500, 'checksum1500', '1500 B'], [65536, 'checksum65536', '64 KiB']] : []) {
    const r = cs(size);
    const value = r ? r.ratio : NaN;
    add(`checksum-${size}`, value, unavailable || !r ? null : value >= TARGETS[key], `createChecksum ${label}: ${fmtRatio(value)} raw-socket's throughput (target >= ${TARGETS[key]}x)`);
  }
  const f = results.flood;
  if (f) {
    add('flood-send', f.sendRatio, unavailable ? null : f.sendRatio >= TARGETS.floodSendRatio, `flood send rate: ${fmtRatio(f.sendRatio)} raw-socket's (${fmt(f.ours.sentPerSec, 0)}/s vs ${f.rawSocket ? fmt(f.rawSocket.sentPerSec, 0) : 'n/a'}/s; target >= ${TARGETS.floodSendRatio}x)`);
    const lostReplies = f.ours.sentOk - f.ours.replies;
    add('flood-loss', lostReplies, lostReplies === 0 && f.ours.sentOk === f.ours.count, `flood replies lost by ours: ${lostReplies} of ${f.ours.sentOk} (${pct(f.ours.loss, 3)}; raw-socket ${f.rawSocket ? pct(f.rawSocket.loss) : 'n/a'}; target 0)`);
  }
  const r = results.rtt;
  if (r) {
    const med = r.rawSocket ? ratio(r.ours.median, r.rawSocket.median) : NaN;
    const p99 = r.rawSocket ? ratio(r.ours.p99, r.rawSocket.p99) : NaN;
    add('rtt-median', med, unavailable ? null : med <= TARGETS.rttMedianRatio, `ping RTT median: ${fmtRatio(med)} raw-socket's (${fmt(r.ours.median)} µs vs ${r.rawSocket ? fmt(r.rawSocket.median) : 'n/a'} µs; target <= ${TARGETS.rttMedianRatio}x)`);
    add('rtt-p99', p99, unavailable ? null : p99 <= TARGETS.rttP99Ratio, `ping RTT p99: ${fmtRatio(p99)} raw-socket's (${fmt(r.ours.p99)} µs vs ${r.rawSocket ? fmt(r.rawSocket.p99) : 'n/a'} µs; target <= ${TARGETS.rttP99Ratio}x)`);
  }
  const cold = results.cold;
  if (cold) {
    const med = cold.rawSocket ? ratio(cold.ours.rttMedian, cold.rawSocket.rttMedian) : NaN;
    const faster = cold.rawSocket ? ratio(cold.rawSocket.checksumSteadyNs, cold.ours.checksumSteadyNs) : NaN;
    add('cold-rtt-median', med, unavailable ? null : med <= TARGETS.coldRttMedianRatio, `cold ping RTT median: ${fmtRatio(med)} raw-socket's (${fmt(cold.ours.rttMedian)} µs vs ${cold.rawSocket ? fmt(cold.rawSocket.rttMedian) : 'n/a'} µs; target <= ${TARGETS.coldRttMedianRatio}x)`);
    add('cold-checksum-20', faster, unavailable ? null : faster >= TARGETS.coldChecksum20, `cold polymorphic createChecksum 20 B: ${fmtRatio(faster)} faster than raw-socket (${fmt(cold.ours.checksumSteadyNs)} ns vs ${cold.rawSocket ? fmt(cold.rawSocket.checksumSteadyNs) : 'n/a'} ns; target >= ${TARGETS.coldChecksum20}x)`);
  }
  if (results.ping) {
    const p = results.ping;
    add('ping-avg', p.ratio, p.ratio <= TARGETS.pingAvgRatio, `packet-workbench ping avg RTT: ${fmtRatio(p.ratio)} ping(8)'s (${p.oursMedian.toFixed(3)} ms vs ${p.pingMedian.toFixed(3)} ms; target <= ${TARGETS.pingAvgRatio}x)`);
  }
  if (unavailable) log(`(comparisons unavailable: raw-socket ${VERSION} could not be built)`);
  results.targets = lines;
}

// ---- main -------------------------------------------------------------------------------

let rawSocket = { available: false, dir: undefined };

function main() {
  const cpus = os.cpus();
  log(`bench:native  ours: ${path.relative(process.cwd(), OURS_DIR) || '.'}  vs  raw-socket ${VERSION}`);
  log(`node ${process.version}, ${os.type()} ${os.release()} ${process.arch}, ${cpus.length} x ${cpus[0] ? cpus[0].model.trim() : '?'}`);
  for (const w of staleBuildWarnings()) log(`WARNING: ${w}`);

  rawSocket = ensureRawSocket(log);
  if (rawSocket.available) log(`raw-socket ${VERSION}: ${rawSocket.reused ? 'reusing' : 'built'} ${path.relative(process.cwd(), rawSocket.dir)}`);
  else log(`raw-socket ${VERSION} UNAVAILABLE, comparison skipped: ${rawSocket.reason}`);
  log('');

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0] ? cpus[0].model.trim() : undefined,
    ours: OURS_DIR,
    rawSocket: { version: VERSION, available: rawSocket.available, reason: rawSocket.reason, dir: rawSocket.dir },
    errors: [],
  };
  const only = process.argv.slice(2);
  const sections = [['checksum', checksumSection], ['flood', floodSection], ['rtt', rttSection], ['cold', coldSection], ['ping', pingSection]];
  for (const [name, section] of sections) {
    if (only.length > 0 && !only.includes(name)) continue;
    try {
      section(results);
    } catch (error) {
      log(`!! ${name} failed: ${error.message}`);
      results.errors.push({ section: name, error: error.message });
      log('');
    }
  }
  summary(results);
  results.seconds = (Date.now() - runStarted) / 1000;
  fs.writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
  log(`\n${results.seconds.toFixed(1)} s; results in ${path.relative(process.cwd(), RESULTS_FILE)}`);
  if (results.errors.length > 0) process.exitCode = 1;
}

main();
