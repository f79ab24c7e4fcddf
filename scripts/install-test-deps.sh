#!/usr/bin/env bash
# The Debian packages the tests use: the C++ toolchain for the addon, Chromium for
# e2e, tshark as an independent decoder (tcpdump to compare captures with), iproute2/util-linux/iputils for namespace
# labs and setpriv, libcap2-bin (setcap/getcap) and libxml2-utils (xmllint) for the
# packaging test, sudo for the elevated-launch tests, libpcap0.8 for capture filters, nftables for lab firewall rules, xvfb for the Electron e2e project's virtual display, clang for the libFuzzer harnesses (npm run fuzz:native). Installs what is missing when run as root; otherwise says how.
set -euo pipefail
packages=(python3 make g++ chromium tshark tcpdump iproute2 util-linux iputils-ping procps libcap2-bin libxml2-utils sudo libpcap0.8 nftables xvfb clang)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing test dependencies: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
