#!/bin/sh
# /init of the test VM's initramfs (busybox sh, PID 1).
#
# It builds the guest's root from the host's own filesystem: the host's / arrives read-only over
# virtio-9p and gets a tmpfs overlay on top, so the guest can write anywhere (even /etc) without
# touching the host. The directories run-in-vm.sh shares (work tree, build dirs) are mounted
# read-write over 9p at their host paths, and the control dir from run-in-vm.sh (command, unit
# files, exit status) at /vm-ctl.
#
# Then, in "shell" mode, it runs /vm-ctl/guest-exec.sh chrooted into that root and powers off;
# in "systemd" mode it switches root to the host's systemd, which runs guest-exec.sh from a unit.
# Any fatal problem powers off at once: run-in-vm.sh then reports the missing exit status
# together with the console log, which is where these messages go.
export PATH=/bin

readonly NEWROOT=/newroot
readonly CTL=$NEWROOT/vm-ctl
# The largest 9p message size the 6.1 virtio transport accepts; bigger messages mean fewer
# round trips through the (emulated) virtqueue.
readonly MSIZE=512000

log() { echo "vm-init: $*"; }

halt_vm() {
  sync
  poweroff -f
  sleep 10  # poweroff -f does not return; never let PID 1 exit (that would panic)
}

fail() {
  log "FATAL: $*"
  halt_vm
}

mount_9p() {  # TAG DIR EXTRA_OPTIONS
  mount -t 9p -o "trans=virtio,version=9p2000.L,msize=$MSIZE,$3" "$1" "$2"
}

# Errors are only logged: a missing helper such as crc32c-intel has a generic fallback, and
# a truly missing module shows up as a clear failure right after.
load_modules() {
  while read -r ko; do
    insmod "$ko" || log "insmod $ko failed"
  done </modules.order
}

# Host root (read-only, cached: it does not change under us) + tmpfs upper layer.
mount_root() {
  mount_9p hostroot /lower ro,cache=loose || fail "cannot mount the host root over 9p"
  mount -t tmpfs -o mode=0755 tmpfs /rw || fail "cannot mount tmpfs"
  mkdir -p /rw/upper /rw/work
  mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work "$NEWROOT" \
    || fail "cannot mount the overlay root"
  # Container markers of the host (e.g. when the host is itself a Docker container) would make
  # systemd believe it runs in a container: it then ignores the kernel command line and
  # skips udev. The guest is a real machine, so hide them.
  rm -f "$NEWROOT/.dockerenv" "$NEWROOT/.containerenv"
  mkdir -p "$CTL"
  mount_9p vmctl "$CTL" cache=none || fail "cannot mount the control dir"
}

# Read-write shares, one "TAG PATH" per line, parents listed before their children.
# cache=mmap keeps shared writable mmap working while reads/writes still go to the host.
mount_shares() {
  while read -r tag path; do
    mkdir -p "$NEWROOT$path"
    mount_9p "$tag" "$NEWROOT$path" cache=mmap || fail "cannot mount share $path"
  done <"$CTL/shares"
}

# What a normal boot would provide; only needed in shell mode (systemd mounts its own).
mount_api_filesystems() {
  mount -t proc proc "$NEWROOT/proc"
  mount -t sysfs sysfs "$NEWROOT/sys"
  mount -t devtmpfs devtmpfs "$NEWROOT/dev"
  mkdir -p "$NEWROOT/dev/pts" "$NEWROOT/dev/shm"
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$NEWROOT/dev/pts"
  mount -t tmpfs -o mode=1777 tmpfs "$NEWROOT/dev/shm"
  # devtmpfs lacks these links; bash process substitution needs /dev/fd.
  ln -sf /proc/self/fd "$NEWROOT/dev/fd"
  ln -sf /proc/self/fd/0 "$NEWROOT/dev/stdin"
  ln -sf /proc/self/fd/1 "$NEWROOT/dev/stdout"
  ln -sf /proc/self/fd/2 "$NEWROOT/dev/stderr"
  mount -t tmpfs -o mode=1777 tmpfs "$NEWROOT/tmp"
  mount -t tmpfs -o mode=0755 tmpfs "$NEWROOT/run"
}

run_shell_mode() {
  # /tmp and /run first, so shares below /tmp (e.g. a mktemp dir) are not hidden by them.
  mount_api_filesystems
  mount_shares
  ip link set lo up || fail "cannot bring up lo"
  hostname sctp-vm
  chroot "$NEWROOT" /bin/sh /vm-ctl/guest-exec.sh
  halt_vm
}

# Files written here land in the overlay's tmpfs upper layer, i.e. only in this VM.
prepare_systemd_root() {
  etc=$NEWROOT/etc
  # The host's fstab names the host's disks; waiting for them would stall the boot.
  echo "# test VM: root and shares are mounted by the initramfs" >"$etc/fstab"
  echo sctp-vm >"$etc/hostname"
  mkdir -p "$etc/systemd/system/multi-user.target.wants"
  cp "$CTL/vm-command.service" "$etc/systemd/system/vm-command.service"
  ln -sf /etc/systemd/system/vm-command.service \
    "$etc/systemd/system/multi-user.target.wants/vm-command.service"
  grep -v -e '^#' -e '^[[:space:]]*$' "$CTL/masked-units" | while read -r unit; do
    ln -sf /dev/null "$etc/systemd/system/$unit"
  done
  # tmp.conf's `D /tmp` empties /tmp at boot: here that is the host's /tmp under the overlay, and
  # systemd-tmpfiles walked all of it over 9p (whatever builds and clones it holds), whiting out
  # every file: 3 minutes 14 seconds of a 3.5-minute boot. /tmp is only made here, not emptied.
  mkdir -p "$etc/tmpfiles.d"
  echo "d /tmp 1777 root root -" >"$etc/tmpfiles.d/tmp.conf"
}

run_systemd_mode() {
  mount_shares
  prepare_systemd_root
  for fs in dev proc sys; do
    mount --move "/$fs" "$NEWROOT/$fs" || fail "cannot move /$fs"
  done
  exec switch_root "$NEWROOT" /lib/systemd/systemd
}

main() {
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  load_modules
  mount_root
  case $(cat "$CTL/mode") in
    shell) run_shell_mode ;;
    systemd) run_systemd_mode ;;
    *) fail "unknown mode in $CTL/mode" ;;
  esac
  fail "unreachable"
}

main
