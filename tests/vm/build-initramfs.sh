#!/usr/bin/env bash
# Builds the tiny initramfs that boots the test VM: a static busybox, the /init script
# (guest-init.sh) and the kernel modules the guest needs before it can reach the host's root
# over virtio-9p. Debian's kernel ships virtio, 9p and overlayfs as modules, so they must be
# insmod-ed by hand, in dependency order, from inside the initramfs.
#
# Usage: build-initramfs.sh KERNEL_VERSION OUTPUT_FILE
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly VM_DIR

# Modules loaded at boot. sctp is included so the guest has kernel SCTP without depending on
# modprobe working inside the chroot; virtio_console gives the stdout/stderr channels.
readonly MODULES=(virtio_pci 9pnet_virtio 9p overlay virtio_console virtio_rng sctp)

die() { echo "build-initramfs: $*" >&2; exit 1; }

# Prints the .ko paths for MODULES in load order (dependencies first), without duplicates.
# `modprobe --show-depends` prints "insmod PATH" lines; "builtin NAME" lines need nothing.
module_paths_in_load_order() {
  local kver=$1 module
  for module in "${MODULES[@]}"; do
    modprobe --set-version "$kver" --show-depends "$module" \
      || die "module $module not found for kernel $kver (is linux-image-$kver installed?)"
  done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# Copies busybox and creates a symlink for every applet, so /init can call them by name.
install_busybox() {
  local root=$1 applet
  local busybox
  busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
  # The initramfs has no libc, so busybox must be the static build.
  if command -v dpkg-query >/dev/null; then
    dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' \
      || die "busybox must be statically linked (apt-get install busybox-static)"
  fi
  mkdir -p "$root/bin"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
  done
}

# Copies the modules (keeping their /lib/modules paths) and writes the load order to
# /modules.order, one path per line. Compressed modules are unpacked because busybox insmod
# cannot read them.
install_modules() {
  local root=$1 kver=$2 path
  : >"$root/modules.order"
  while read -r path; do
    mkdir -p "$root$(dirname "$path")"
    case $path in
      *.ko.xz)  xz -dc "$path" >"$root${path%.xz}";   path=${path%.xz} ;;
      *.ko.zst) zstd -qdc "$path" >"$root${path%.zst}"; path=${path%.zst} ;;
      *.ko.gz)  gzip -dc "$path" >"$root${path%.gz}";  path=${path%.gz} ;;
      *)        cp "$path" "$root$path" ;;
    esac
    echo "$path" >>"$root/modules.order"
  done < <(module_paths_in_load_order "$kver")
}

main() {
  [[ $# -eq 2 ]] || die "usage: build-initramfs.sh KERNEL_VERSION OUTPUT_FILE"
  local kver=$1 output=$2
  staging=$(mktemp -d)  # global: the EXIT trap runs after main returns
  trap 'rm -rf "$staging"' EXIT

  mkdir -p "$staging"/{dev,proc,sys,newroot,lower,rw}
  install_busybox "$staging"
  install_modules "$staging" "$kver"
  install -m 0755 "$VM_DIR/guest-init.sh" "$staging/init"

  # Uncompressed on purpose: decompressing under TCG emulation costs more than reading it.
  (cd "$staging" && find . -print0 | LC_ALL=C sort -z | cpio --null --quiet -o -H newc) \
    >"$output.tmp.$$"
  mv -f "$output.tmp.$$" "$output"  # atomic, so concurrent runs never see a partial file
}

main "$@"
