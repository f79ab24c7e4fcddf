#!/bin/sh
# Builds a committed tree (default HEAD) into DIR for `BENCH_ROOT=DIR npm run bench:ui`: the
# figures of a commit, not of a work tree that others are editing while the benchmark runs.
#   sh e2e/bench/snapshot.sh [REV] [DIR]
set -eu
rev=${1:-HEAD}
dir=${2:-/tmp/packet-workbench-bench}
here=$(git rev-parse --show-toplevel)
rm -rf "$dir"
mkdir -p "$dir"
git -C "$here" archive "$rev" | tar -x -C "$dir"
# The same dependencies and native build (the raw socket addon is not part of the snapshot).
ln -s "$here/node_modules" "$dir/node_modules"
cd "$dir"
npx tsc -p tsconfig.json
VITE_CONFIG_NATIVE_IGNORE_WARNING=true npx vite build renderer --logLevel warn
echo "bench snapshot of $(git -C "$here" rev-parse --short "$rev") in $dir: BENCH_ROOT=$dir npm run bench:ui"
