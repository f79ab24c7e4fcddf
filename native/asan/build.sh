#!/usr/bin/env bash
# Builds the addon, the socket helper and the link emulator with ASan + UBSan into
# $ASAN_BUILD_DIR (default /tmp/packet-workbench-asan), never into native/build:
# the same sources and flags as binding.gyp, plus the sanitizers, at -O1 for
# readable stacks. Incremental: an object is rebuilt only when its source is newer.
set -euo pipefail
native="$(cd "$(dirname "$0")/.." && pwd)"
out="${ASAN_BUILD_DIR:-/tmp/packet-workbench-asan}"
mkdir -p "$out/obj"
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1)
node_include="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
addon_api="$(cd "$native" && node -p "require('path').dirname(require.resolve('node-addon-api/package.json'))")"
[ -d "$node_include" ] || node_include="$HOME/.cache/node-gyp/$(node -p process.versions.node)/include/node"
common=(-std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-maybe-uninitialized -fPIC "${sanitize[@]}")
addon_flags=(-I"$node_include" -I"$addon_api" -DNAPI_VERSION=8
  -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -DNAPI_CPP_EXCEPTIONS -fexceptions -DBUILDING_NODE_EXTENSION)
objects=()
for source in addon raw_socket checksum system_error arguments connect_probe descriptor_channel bpf \
  ancillary packet_socket network_namespace; do
  object="$out/obj/$source.o"
  # Rebuild when the source or any header in src/ is newer than the object.
  if [ ! -f "$object" ] || [ -n "$(find "$native/src" -newer "$object" -print -quit)" ]; then
    g++ "${common[@]}" "${addon_flags[@]}" -c "$native/src/$source.cc" -o "$object" &
  fi
  objects+=("$object")
done
wait
g++ -shared "${sanitize[@]}" -o "$out/raw_socket.node" "${objects[@]}" -ldl
if [ "$native/helper/helper.cc" -nt "$out/packet-workbench-helper" ] || [ ! -f "$out/packet-workbench-helper" ]; then
  g++ "${common[@]}" -fPIE -pie -o "$out/packet-workbench-helper" "$native/helper/helper.cc"
fi
if [ "$native/linkemu/linkemu.cc" -nt "$out/packet-workbench-linkemu" ] || [ ! -f "$out/packet-workbench-linkemu" ]; then
  g++ "${common[@]}" -fPIE -pie -o "$out/packet-workbench-linkemu" "$native/linkemu/linkemu.cc"
fi
echo "$out"
