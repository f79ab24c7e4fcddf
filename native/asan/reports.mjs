// Reads the sanitizer reports a test:asan run left (ASAN_OPTIONS log_path: one file per
// process) and fails when one is the project's: any ASan or UBSan error, and any leak
// whose allocation stack passes through the addon, the helper or the link emulator.
// Leaks with none of those frames are Node's, V8's or another program's (python3, ip:
// libasan is preloaded into every process the tests start), counted but not failed.
// Usage: node reports.mjs <reports folder>
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const OURS = /raw_socket\.node|packet-workbench-helper|packet-workbench-linkemu/;
const folder = process.argv[2];
let failures = 0;
let othersLeaks = 0;
for (const name of readdirSync(folder)) {
  const text = readFileSync(path.join(folder, name), 'utf8');
  // A report: "==pid==ERROR: ..." (ASan, LeakSanitizer) or "runtime error:" (UBSan).
  for (const error of text.split(/(?===\d+==ERROR: )/)) {
    if (!/==ERROR: |runtime error:/.test(error)) continue;
    if (!error.includes('LeakSanitizer')) {
      failures++;
      console.error(`${name}:\n${error.slice(0, 6000)}`);
      continue;
    }
    for (const leak of error.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1)) {
      if (OURS.test(leak)) {
        failures++;
        console.error(`${name}:\n${leak.slice(0, 4000)}`);
      } else {
        othersLeaks++;
      }
    }
  }
}
console.log(`sanitizer reports: ${failures} in the addon, helper or emulator; ${othersLeaks} leak stack(s) of Node, V8 or other programs ignored`);
process.exit(failures === 0 ? 0 : 1);
