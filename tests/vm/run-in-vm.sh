#!/usr/bin/env bash
# Runs one command inside a throwaway QEMU VM that has real kernel SCTP.
#
# The VM boots the host's newest installed Debian kernel with a tiny cached initramfs
# (build-initramfs.sh) and uses the host's own filesystem as its root: read-only over virtio-9p
# with a tmpfs overlay, so every host binary (bash, python3, ip, socat, the project's build)
# works inside unchanged. The work tree, --share dirs and the caller's cwd are mounted
# read-write at the same paths. The command's stdout/stderr are streamed back over two
# virtio-serial ports (kernel and boot messages go to a separate console log), and its exit
# status becomes this script's exit status.
#
# Exit status: the command's own; 124 if the time limit expired; 125 if the VM itself failed.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd -P)
readonly VM_DIR REPO_ROOT
readonly EXIT_TIMEOUT=124
readonly EXIT_VM_FAILED=125

usage() {
  cat <<'EOF'
Usage: tests/vm/run-in-vm.sh [OPTIONS] -- COMMAND [ARGS...]

Runs COMMAND as root in a QEMU VM with the host's root filesystem (read-only + tmpfs overlay),
the repository and the cwd shared read-write at their host paths, and kernel SCTP loaded.

Options:
  --systemd          boot the host's systemd as PID 1; COMMAND runs from a unit after
                     multi-user.target (systemctl works inside)
  --timeout SECONDS  hard limit for the whole VM run (default 1200, env VM_TIMEOUT)
  --mem MB           guest memory (default 2048, env VM_MEM)
  --smp N            guest CPUs (default 2, env VM_SMP)
  --share DIR        also share DIR read-write (repeatable)
  --sysctl KEY=VAL   set a sysctl in the guest before COMMAND (repeatable),
                     e.g. --sysctl net.sctp.rto_min=10 (kernel defaults otherwise)
  -h, --help         show this help

Environment: exported variables are passed on (except a few host-session ones such as TMPDIR),
and RUN_IN_VM=1 is set. VM_CONSOLE_LOG=FILE keeps the guest console log. VM_CACHE_DIR
overrides the kernel/initramfs cache (default: <repo>/.vm-cache). VM_CPU sets QEMU's -cpu
(default max).
Exit status: COMMAND's; 124 on timeout; 125 if the VM failed to run it.
EOF
}

die() {
  echo "run-in-vm: $*" >&2
  exit "$EXIT_VM_FAILED"
}

# ---- options ------------------------------------------------------------------------------

mode=shell
timeout_s=${VM_TIMEOUT:-1200}
mem_mb=${VM_MEM:-2048}
smp=${VM_SMP:-2}
extra_shares=()
sysctls=()
command_args=()

parse_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --systemd) mode=systemd ;;
      --timeout) timeout_s=${2:?--timeout needs a value}; shift ;;
      --mem) mem_mb=${2:?--mem needs a value}; shift ;;
      --smp) smp=${2:?--smp needs a value}; shift ;;
      --share) extra_shares+=("${2:?--share needs a directory}"); shift ;;
      --sysctl) sysctls+=("${2:?--sysctl needs KEY=VALUE}"); shift ;;
      -h | --help) usage; exit 0 ;;
      --) shift; break ;;
      *) usage >&2; die "unknown option '$1' (put the command after --)" ;;
    esac
    shift
  done
  [[ $# -gt 0 ]] || { usage >&2; die "no command given"; }
  command_args=("$@")
  [[ $timeout_s =~ ^[0-9]+$ && $timeout_s -gt 0 ]] || die "bad --timeout '$timeout_s'"
  [[ $mem_mb =~ ^[0-9]+$ ]] || die "bad --mem '$mem_mb'"
  [[ $smp =~ ^[0-9]+$ ]] || die "bad --smp '$smp'"
  local s
  for s in "${extra_shares[@]}"; do
    [[ -d $s ]] || die "--share $s: not a directory"
  done
  for s in "${sysctls[@]}"; do
    [[ $s =~ ^[A-Za-z0-9_.-]+=.*$ ]] || die "bad --sysctl '$s' (want KEY=VALUE)"
  done
}

require_command() {  # COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null || die "$1 not found (apt-get install $2)"
}

# ---- kernel and initramfs -----------------------------------------------------------------

# The newest installed Debian kernel. Deliberately not `uname -r`: the host may itself run some
# other (e.g. container or microVM) kernel without SCTP, and that is why we boot a VM at all.
find_kernel() {
  local image
  image=$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)
  [[ -e $image ]] || die "no /boot/vmlinuz-* found (apt-get install linux-image-amd64)"
  [[ -r $image ]] || die "$image is not readable (Debian makes it root-only: run as root)"
  kernel_image=$image
  kernel_version=${image#/boot/vmlinuz-}
  [[ -d /lib/modules/$kernel_version ]] || die "no /lib/modules/$kernel_version for $image"
}

readonly CACHE_DIR=${VM_CACHE_DIR:-$REPO_ROOT/.vm-cache}

# Cached by content: kernel version and the scripts that shape the image.
ensure_initramfs() {
  local key
  key=$({
    echo "$kernel_version"
    stat -c '%s %Y' "/lib/modules/$kernel_version/modules.dep" "$(command -v busybox)"
    cat "$VM_DIR/build-initramfs.sh" "$VM_DIR/guest-init.sh"
  } | sha256sum | cut -c1-16)
  initramfs=$CACHE_DIR/initramfs-$kernel_version-$key.cpio
  if [[ ! -s $initramfs ]]; then
    mkdir -p "$CACHE_DIR"
    "$VM_DIR/build-initramfs.sh" "$kernel_version" "$initramfs" \
      || die "building the initramfs failed"
    prune_cache 'initramfs-*' "$initramfs"
  fi
}

# Drops images built for older scripts or kernels. Only old ones: a concurrent run may still
# be about to boot a file that has just been superseded.
prune_cache() {  # NAME_PATTERN KEEP
  find "$CACHE_DIR" -maxdepth 1 -name "$1" ! -path "$2" -mmin +60 -delete 2>/dev/null || true
}

# Debian's bzImage is XZ-compressed. Booting the uncompressed ELF through its PVH entry point
# skips the firmware boot path and the decompression under emulation: about 2 s per VM.
# Anything unexpected just keeps booting the bzImage.
use_uncompressed_kernel_if_possible() {
  grep -q '^CONFIG_PVH=y' "/boot/config-$kernel_version" 2>/dev/null || return 0
  local vmlinux offset
  vmlinux=$CACHE_DIR/vmlinux-$kernel_version-$(stat -c %Y "$kernel_image")
  if [[ ! -s $vmlinux ]]; then
    offset=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$kernel_image" | head -n 1 | cut -d: -f1) || true
    [[ -n $offset ]] || return 0
    mkdir -p "$CACHE_DIR"
    # Process substitution, not a pipe: xz stops at the stream end, and tail's SIGPIPE would
    # fail the pipeline under pipefail.
    xz -dc --single-stream < <(tail -c +$((offset + 1)) "$kernel_image") >"$vmlinux.tmp.$$" 2>/dev/null \
      && [[ $(head -c 4 "$vmlinux.tmp.$$") == $'\x7fELF' ]] \
      && mv -f "$vmlinux.tmp.$$" "$vmlinux" \
      && prune_cache 'vmlinux-*' "$vmlinux"
    rm -f "$vmlinux.tmp.$$"
    [[ -s $vmlinux ]] || return 0
  fi
  kernel_image=$vmlinux
}

# ---- shared directories -------------------------------------------------------------------

# Prints the read-write shares, one absolute path per line, parents before children and with
# directories inside another share dropped (they are visible through it already).
list_shares() {
  local dir real
  {
    echo "$REPO_ROOT"
    for dir in "${extra_shares[@]}"; do
      realpath -e "$dir"
    done
    realpath -e "$PWD"
  } | LC_ALL=C sort -u | while read -r real; do
    [[ $real == / ]] && continue  # / is already there (read-only + overlay)
    echo "$real"
  done | awk '{ for (p in kept) if (index($0, p "/") == 1) next; kept[$0]; print }'
}

# QEMU option values treat "," as a separator; a literal comma is written as ",,".
qemu_escape() { echo "${1//,/,,}"; }

# ---- the command script run in the guest --------------------------------------------------

# Exported variables that describe this host session rather than the command's environment.
is_host_session_var() {
  case $1 in
    BASH* | SHELLOPTS | PWD | OLDPWD | SHLVL | _ | TMPDIR | TMP | TEMP | XDG_RUNTIME_DIR | \
    DBUS_* | SSH_* | DISPLAY | WAYLAND_DISPLAY | INVOCATION_ID | JOURNAL_STREAM | \
    NOTIFY_SOCKET | LISTEN_* | MANAGERPID | SYSTEMD_EXEC_PID | WATCHDOG_*) return 0 ;;
  esac
  return 1
}

# Writes the bash script the guest runs: sysctls, environment, cwd, then exec of the command.
# Every value is quoted with printf %q, so any content survives.
write_command_script() {
  local name setting
  echo '#!/bin/bash'
  echo '# Generated by tests/vm/run-in-vm.sh.'
  cat <<'EOF'
set_sysctl() {
  printf '%s\n' "$2" >"/proc/sys/${1//.//}" && return
  echo "run-in-vm: cannot set sysctl $1=$2" >&2; exit 125
}
EOF
  for setting in "${sysctls[@]}"; do
    printf 'set_sysctl %q %q\n' "${setting%%=*}" "${setting#*=}"
  done
  while read -r name; do
    is_host_session_var "$name" && continue
    [[ $(declare -p "$name" 2>/dev/null) =~ ^declare\ -[a-zA-Z]*r ]] && continue  # read-only
    printf 'export %s=%q\n' "$name" "${!name}"
  done < <(compgen -e)
  echo 'export RUN_IN_VM=1'
  printf 'cd -- %q || exit 125\n' "$PWD"
  printf 'exec'
  printf ' %q' "${command_args[@]}"
  echo
}

# The control dir is shared with the guest as /vm-ctl.
prepare_ctl_dir() {
  local tag=0 path
  echo "$mode" >"$ctl/mode"
  : >"$ctl/shares"
  while read -r path; do
    echo "share$tag $path" >>"$ctl/shares"
    tag=$((tag + 1))
  done < <(list_shares)
  write_command_script >"$ctl/command.sh"
  cp "$VM_DIR/guest-exec.sh" "$VM_DIR/vm-command.service" "$VM_DIR/masked-units" "$ctl/"
  mkfifo "$ctl/stdout.fifo" "$ctl/stderr.fifo"
}

# ---- QEMU ---------------------------------------------------------------------------------

build_qemu_command() {
  local cmdline="console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off"
  if [[ $mode == systemd ]]; then
    cmdline+=" systemd.unit=multi-user.target systemd.show_status=0"
    cmdline+=" systemd.default_timeout_start_sec=90s"
  fi
  # shellcheck disable=SC2054  # the commas belong to QEMU's option syntax
  qemu_cmd=(
    qemu-system-x86_64 -nodefaults -no-user-config -display none -monitor none
    # TCG, not KVM: nested KVM guests hang on the hosts we run on.
    -accel tcg -cpu "${VM_CPU:-max}" -smp "$smp" -m "$mem_mb" -no-reboot
    -kernel "$kernel_image" -initrd "$initramfs" -append "$cmdline"
    -chardev "file,id=console,path=$(qemu_escape "$ctl/console.log")" -serial chardev:console
    -device virtio-serial-pci,id=vser
    -chardev "file,id=out,path=$(qemu_escape "$ctl/stdout.fifo")"
    -device virtserialport,bus=vser.0,chardev=out,name=stdout
    -chardev "file,id=err,path=$(qemu_escape "$ctl/stderr.fifo")"
    -device virtserialport,bus=vser.0,chardev=err,name=stderr
    -device virtio-rng-pci
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap,readonly=on
    -virtfs "local,path=$(qemu_escape "$ctl"),mount_tag=vmctl,security_model=none"
  )
  local tag path
  while read -r tag path; do
    qemu_cmd+=(-virtfs "local,path=$(qemu_escape "$path"),mount_tag=$tag,security_model=none,multidevs=remap")
  done <"$ctl/shares"
}

show_console_tail() {
  echo "run-in-vm: ---- last lines of the VM console ($1) ----" >&2
  tail -n 40 "$ctl/console.log" >&2 2>/dev/null || true
  tail -n 20 "$ctl/qemu.log" >&2 2>/dev/null || true
  echo "run-in-vm: ----" >&2
}

# A FIFO reader blocks in open() until a writer appears. If QEMU died before opening its end,
# opening it read-write ourselves (never blocks) and closing it gives the reader its EOF.
release_fifo_readers() {
  local fifo fd
  for fifo in "$ctl/stdout.fifo" "$ctl/stderr.fifo"; do
    exec {fd}<>"$fifo"
    exec {fd}>&-
  done
}

qemu_pid=
ctl=

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null
  if [[ -n $ctl ]]; then
    [[ -n ${VM_CONSOLE_LOG:-} && -f $ctl/console.log ]] && cp "$ctl/console.log" "$VM_CONSOLE_LOG"
    rm -rf "$ctl"
  fi
  return 0
}

run_vm() {
  local readers=() rc
  cat "$ctl/stdout.fifo" &
  readers+=($!)
  cat "$ctl/stderr.fifo" >&2 &
  readers+=($!)

  # timeout(1) enforces the hard limit: TERM first, KILL 10 s later if QEMU ignores it.
  timeout --kill-after=10 "$timeout_s" "${qemu_cmd[@]}" </dev/null >"$ctl/qemu.log" 2>&1 &
  qemu_pid=$!
  rc=0
  wait "$qemu_pid" || rc=$?
  qemu_pid=
  release_fifo_readers
  wait "${readers[@]}" || true

  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    show_console_tail "timed out"
    echo "run-in-vm: TIMEOUT: the VM was killed after ${timeout_s}s (use --timeout to change)" >&2
    return "$EXIT_TIMEOUT"
  fi
  if [[ ! -s $ctl/status ]]; then
    show_console_tail "qemu exit status $rc"
    echo "run-in-vm: the VM stopped without reporting the command's exit status" >&2
    return "$EXIT_VM_FAILED"
  fi
  return "$(<"$ctl/status")"
}

main() {
  parse_args "$@"
  require_command qemu-system-x86_64 qemu-system-x86
  require_command busybox busybox-static
  require_command modprobe kmod
  find_kernel
  ensure_initramfs
  use_uncompressed_kernel_if_possible
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ctl=$(mktemp -d "${TMPDIR:-/tmp}/run-in-vm.XXXXXX")
  prepare_ctl_dir
  build_qemu_command
  local rc=0
  run_vm || rc=$?
  exit "$rc"
}

main "$@"
