#!/usr/bin/env bash
# Installs, from Debian's packages, everything needed to build sctprelayd, run its tests (including
# the VM that provides kernel SCTP where the host has none) and its demo. Does nothing when all of
# it is already installed, so it is cheap to call before every build.
set -euo pipefail

readonly PACKAGES=(
  # build
  build-essential cmake pkg-config
  libevent-dev libsctp-dev libyaml-cpp-dev libsystemd-dev libgtest-dev libgmock-dev
  # real SCTP peers and tools used by tests and the demo
  lksctp-tools socat ncat python3 iproute2 procps
  # the test VM: a kernel with sctp.ko, an emulator, and what the initramfs is made of
  qemu-system-x86 linux-image-amd64 busybox-static kmod cpio systemd
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
