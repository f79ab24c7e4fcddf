#!/usr/bin/env bash
# npm run fuzz:native: builds the libFuzzer harnesses (clang -fsanitize=fuzzer,address,
# undefined) and runs each for FUZZ_SECONDS (default 60; CI: 20) from an empty corpus in
# a temporary folder. A crash, a sanitizer report or a broken invariant fails the run;
# the input that did it is kept in $FUZZ_OUT (default /tmp/packet-workbench-fuzz).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
seconds="${FUZZ_SECONDS:-60}"
out="${FUZZ_OUT:-/tmp/packet-workbench-fuzz}"
command -v clang++ > /dev/null || { echo "fuzz:native needs clang (apt-get install -y clang)" >&2; exit 1; }
mkdir -p "$out"
node_include="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
[ -d "$node_include" ] || node_include="$HOME/.cache/node-gyp/$(node -p process.versions.node)/include/node"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  -I"$node_include" -I"$(cd "$fuzz/.." && node -p "require('path').dirname(require.resolve('node-addon-api/package.json'))")" -DNAPI_VERSION=8
  -DNAPI_CPP_EXCEPTIONS -fexceptions)
clang++ "${flags[@]}" -o "$out/checksum_fuzzer" "$fuzz/checksum_fuzzer.cc" "$fuzz/../src/checksum.cc" "$fuzz/napi_stubs.cc"
clang++ "${flags[@]}" -o "$out/send_request_fuzzer" "$fuzz/send_request_fuzzer.cc" "$fuzz/../src/checksum.cc" "$fuzz/napi_stubs.cc"
for harness in checksum_fuzzer send_request_fuzzer; do
  corpus="$(mktemp -d "$out/corpus-$harness.XXXXXX")"
  echo "== $harness: ${seconds} s"
  # -max_len: the largest request buffer plus the fields; -print_final_stats: the README's figures.
  status=0
  "$out/$harness" "$corpus" -max_total_time="$seconds" -max_len=4200 -print_final_stats=1 \
    -artifact_prefix="$out/$harness-" > "$out/$harness.log" 2>&1 || status=$?
  grep -E "^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|SUMMARY)" "$out/$harness.log" || true
  # Coverage: the last status line's cov: (edges) and ft: (features).
  grep -E "^#[0-9]+" "$out/$harness.log" | tail -n 1 || true
  rm -rf "$corpus"
  [ "$status" -eq 0 ] || { echo "$harness failed (exit $status); reproducer in $out/$harness-*" >&2; exit 1; }
done
