#!/usr/bin/env bash
# npm run test:asan: builds the addon, the socket helper and the link emulator with
# ASan + UBSan (native/asan/build.sh, outside native/build), then runs the native
# test suite, a short engine run, and the helper's and emulator's tests against them.
# Node is not instrumented: libasan is preloaded, and lsan.supp leaves Node's and V8's
# own allocations out, so a leak report names the addon. TEST_ASAN_SHORT=1: the
# lifecycle cases (close during send/receive, GC, worker termination) and checks only.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="$(flock /tmp/pw-native-build.lock bash native/asan/build.sh 2>&1 | tail -n 1)"
[ -f "$out/raw_socket.node" ] || { echo "ASan build failed: $out" >&2; exit 1; }
export PACKET_WORKBENCH_ADDON="$out/raw_socket.node"
export PACKET_WORKBENCH_HELPER="$out/packet-workbench-helper"
export PACKET_WORKBENCH_LINKEMU="$out/packet-workbench-linkemu"
# A sanitizer report makes the process exit 86, which fails the test that ran it.
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:abort_on_error=0:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$root/native/asan/lsan.supp:print_suppressions=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86"
asan="$(gcc -print-file-name=libasan.so)"
if [ -n "${TEST_ASAN_SHORT:-}" ]; then
  native_tests=(native/test/sanitizer-cases.test.ts native/test/lifecycle.test.ts native/test/checksum.test.ts
    native/test/bad-input.test.ts)
  engine_tests=(main/test/engine-send.test.ts)
else
  native_tests=(native/test)
  engine_tests=(main/test/engine-send.test.ts main/test/engine-send-race.test.ts main/engine/helper.test.ts
    main/test/engine-lab-host-helper.test.ts main/lab/topology-lab.test.ts)
fi
# Left out: the bounds on how fast a child process exits (1.4 s): ASan's allocator and
# its leak check add ~0.5 s to every Node start and exit; the tests still run unsanitized.
LD_PRELOAD="$asan" node_modules/.bin/vitest run "${native_tests[@]}" "${engine_tests[@]}" -t '^(?!.*exits on its own: )'

