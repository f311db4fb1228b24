#!/usr/bin/env bash
# Installs, from Debian's packages, everything needed to build sctprelayd, run its tests (including
# the VM that provides kernel SCTP where the host has none) and its demo. Does nothing when all of
# it is already installed, so it is cheap to call before every build.
#
# Usage: tools/install-deps.sh [--check]    (--check: only report what is missing, exit 1 if any)
set -euo pipefail

readonly PACKAGES=(
  # build
  build-essential cmake pkg-config
  libevent-dev libsctp-dev libyaml-cpp-dev libsystemd-dev libgtest-dev libgmock-dev
  nlohmann-json3-dev libcli11-dev libssl-dev  # JSON (control socket, --json), command lines, the client's digest
  clang libclang-rt-14-dev  # the fuzz targets: libFuzzer, ASan, UBSan (fuzz/run.sh)
  # real SCTP peers and tools used by tests and the demo
  lksctp-tools socat ncat python3 iproute2 procps
  valgrind  # the daemon under memcheck (tests/integration/valgrind_test.cpp)
  prometheus curl  # promtool checks the metrics endpoint's text; curl scrapes it
  man-db groff-base  # the man pages render (tests/man_pages_test.sh, the systemd operator test)
  ipvsadm keepalived  # an IPVS SCTP virtual service in front of two relays (tests/integration/scale_out_ipvs_test.sh)
  # the test VM: a kernel with sctp.ko, an emulator, and what the initramfs is made of
  qemu-system-x86 linux-image-amd64 busybox-static kmod cpio xz-utils systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [[ ${1:-} == --check ]]; then
  echo "install-deps: missing ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
