#!/usr/bin/env bash
# npm run test:asan: builds the addon, the socket helper and the link emulator with
# ASan + UBSan (native/asan/build.sh, outside native/build), then runs the native
# test suite, a short engine run, and the helper's and emulator's tests against them.
# Node is not instrumented: libasan is preloaded, and lsan.supp leaves Node's and V8's
# own allocations and other programs' out (reports.mjs), so a failing report names ours. TEST_ASAN_SHORT=1: the
# lifecycle cases (close during send/receive, GC, worker termination) and checks only.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="$(flock /tmp/pw-native-build.lock bash native/asan/build.sh 2>&1 | tail -n 1)"
[ -f "$out/raw_socket.node" ] || { echo "ASan build failed: $out" >&2; exit 1; }
export PACKET_WORKBENCH_ADDON="$out/raw_socket.node"
export PACKET_WORKBENCH_HELPER="$out/packet-workbench-helper"
export PACKET_WORKBENCH_LINKEMU="$out/packet-workbench-linkemu"
# Every process's reports go to files (libasan is preloaded into all, python3 and ip
# included, and some leak by design); reports.mjs fails the run on any error and on
# leaks with the addon's, helper's or emulator's frames. Exit code 0 so those other
# programs are not failed by their own leaks: an error still stops the process at once.
reports="$out/reports"
rm -rf "$reports" && mkdir -p "$reports" && chmod 1777 "$reports"  # tests run some programs as nobody
export ASAN_OPTIONS="detect_leaks=1:exitcode=0:log_path=$reports/asan:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
asan="$(gcc -print-file-name=libasan.so)"
if [ -n "${TEST_ASAN_SHORT:-}" ]; then
  native_tests=(native/test/sanitizer-cases.test.ts native/test/lifecycle.test.ts native/test/checksum.test.ts
    native/test/bad-input.test.ts)
  engine_tests=(main/test/engine-send.test.ts)
else
  native_tests=(native/test)
  engine_tests=(main/test/engine-send.test.ts main/test/engine-send-race.test.ts main/engine/helper.test.ts
    main/test/engine-lab-host-helper.test.ts main/lab/topology-lab.test.ts)
  # The lab-host test builds the CLI first when stale (tsc, as in main/test/fixtures/cli-process.ts): done here
  # without libasan, which makes tsc several times slower (its 120 s bound was hit). Emits even with type errors.
  node node_modules/typescript/bin/tsc -p tsconfig.json > /dev/null || true
fi
# Left out (they run unsanitized in npm test): bounds that ASan itself breaks. Node
# starts and exits ~0.5 s slower (a child must exit within 1.4 s; a fake helper must
# print its pid within 300 ms), and freed memory waits in ASan's quarantine (RSS bounds).
skip='exits on its own: |no hello within timeoutMs|open/close cycles of a'
status=0
LD_PRELOAD="$asan" node_modules/.bin/vitest run "${native_tests[@]}" "${engine_tests[@]}" -t "^(?!.*($skip))" || status=$?
node native/asan/reports.mjs "$reports" || status=1
exit "$status"

