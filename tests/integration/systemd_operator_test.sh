#!/usr/bin/env bash
# sctprelayd under systemd, as an operator runs it: boots the project's VM with systemd as PID 1
# (tests/vm/run-in-vm.sh --systemd) and there installs the build with `cmake --install`, writes
# /etc/sctprelayd/sctprelayd.yaml, starts the unit, sends through it, reloads it (a good and a
# broken edit) and stops it, asserting each step (tests/integration/systemd/operator_steps.sh).
# The unit's full hardening (DynamicUser, ProtectSystem=strict, RestrictAddressFamilies,
# SystemCallFilter, ...) is in force, so this also proves SCTP works under it.
#
# Usage: [BUILD_DIR=DIR] tests/integration/systemd_operator_test.sh
#   BUILD_DIR  a configured and built tree (default <repo>/build); nothing is built here.
#   VM_TIMEOUT hard limit for the VM run in seconds (default 900).
# Exit status: the guest's (0 all steps passed, 1 a step failed), 2 if the build is missing,
# 124/125 if the VM timed out or failed (see tests/vm/run-in-vm.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
readonly ROOT
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

missing=()
for f in CMakeCache.txt cmake_install.cmake daemon/sctprelayd tools/client/sctprelay-client sctprelayd.service; do
  [[ -e $BUILD_DIR/$f ]] || missing+=("$f")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "systemd_operator_test: $BUILD_DIR is not a built tree (missing: ${missing[*]})." >&2
  echo "  build first: cmake -S $ROOT -B $BUILD_DIR && cmake --build $BUILD_DIR" >&2
  exit 2
fi
BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)
export BUILD_DIR

echo "systemd_operator_test: build $BUILD_DIR, booting the VM with systemd"
start=$SECONDS
rc=0
"$ROOT/tests/vm/run-in-vm.sh" --systemd --timeout "${VM_TIMEOUT:-900}" --share "$BUILD_DIR" -- \
  bash "$ROOT/tests/integration/systemd/operator_steps.sh" || rc=$?
if [[ $rc -eq 0 ]]; then
  echo "systemd_operator_test: PASS ($((SECONDS - start)) s including the VM boot)"
else
  echo "systemd_operator_test: FAIL (exit status $rc, $((SECONDS - start)) s)"
fi
exit "$rc"
