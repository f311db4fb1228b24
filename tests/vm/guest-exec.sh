#!/bin/sh
# Runs the requested command inside the VM (host root, /vm-ctl mounted), in either mode:
# chrooted by the initramfs (shell mode) or started by vm-command.service (systemd mode).
# Its stdout/stderr go to the virtio-serial ports that run-in-vm.sh streams to the caller; its
# exit status goes to /vm-ctl/status. Then the VM powers off.
readonly CTL=/vm-ctl

# Device node of the virtio-serial port with the given name (set by run-in-vm.sh). Looked up in
# sysfs because the /dev/virtio-ports/NAME links exist only when udev runs.
port_device() {
  for dir in /sys/class/virtio-ports/*; do
    if [ "$(cat "$dir/name" 2>/dev/null)" = "$1" ]; then
      echo "/dev/${dir##*/}"
      return 0
    fi
  done
  return 1
}

run_command() {
  if ! out=$(port_device stdout) || ! err=$(port_device stderr); then
    echo "guest-exec: virtio-serial ports stdout/stderr not found" >&2
    return 125
  fi
  bash "$CTL/command.sh" </dev/null >"$out" 2>"$err"
}

run_command
echo $? >"$CTL/status.tmp"
mv "$CTL/status.tmp" "$CTL/status"
sync

# Under systemd, power off from here (--force: no orderly stop of units, nothing to save).
# In shell mode the initramfs powers off once this script returns.
# Should that fail, the second --force powers off at once (everything is already synced).
if [ -d /run/systemd/system ]; then
  systemctl poweroff --force || systemctl poweroff --force --force
fi
