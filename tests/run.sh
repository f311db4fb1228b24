#!/usr/bin/env bash
# The project's one test command: installs what is missing, builds, runs the unit tests
# natively and the integration tests where kernel SCTP exists (natively if the host kernel has
# it, otherwise inside the QEMU VM of tests/vm/run-in-vm.sh), then the systemd operator test.
# Ends with one line "N passed, N failed" (individual tests; a build or a step that could not
# run counts as one failure) and exits non-zero if anything failed.
#
# Usage: tests/run.sh
# Environment:
#   BUILD_DIR     build directory (default <repo>/build)
#   TEST_TIMEOUT  hard limit for everything, in seconds (default 2100 = 35 min)
#   SKIP_APT=1    never call apt-get (missing packages then fail the run)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO_ROOT
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
readonly TOTAL_TIMEOUT=${TEST_TIMEOUT:-2100}
readonly DEADLINE=$((SECONDS + TOTAL_TIMEOUT))

passed=0
failed=0
failures=()

say() { printf '\n==== %s\n' "$*"; }

record_failure() {  # WHAT [COUNT]
  failed=$((failed + ${2:-1}))
  failures+=("$1")
}

# Seconds left before the overall deadline (at least 1, so timeout(1) still gets a value).
remaining() {
  local left=$((DEADLINE - SECONDS))
  echo $((left > 0 ? left : 1))
}

out_of_time() { [[ $((DEADLINE - SECONDS)) -le 0 ]]; }

# Runs a command under what is left of the overall time limit.
bounded() {
  timeout --kill-after=15 "$(remaining)" "$@"
}

# ---- (a) dependencies ---------------------------------------------------------------------

# The package list lives in one place, shared with tools/demo.sh.
install_dependencies() {
  if [[ ${SKIP_APT:-} == 1 ]]; then
    SKIP_APT=1 bounded "$REPO_ROOT/tools/install-deps.sh" --check
  else
    bounded "$REPO_ROOT/tools/install-deps.sh"
  fi
}

# ---- (b) build ----------------------------------------------------------------------------

build() {
  bounded cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    && bounded cmake --build "$BUILD_DIR" -j2
}

# ---- (c, d) test suites -------------------------------------------------------------------

# Adds the counts from ctest's summary ("NN% tests passed, F tests failed out of T") in LOG.
# A run that ended without a summary (crash, timeout, VM failure) counts as one failure.
count_ctest_results() {  # SUITE_NAME LOG_FILE EXIT_STATUS
  local suite=$1 log=$2 rc=$3 summary failed_n total_n
  summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1) || true
  if [[ -z $summary ]]; then
    record_failure "$suite: no test results (exit status $rc)"
    return
  fi
  failed_n=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$summary")
  total_n=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  passed=$((passed + total_n - failed_n))
  [[ $failed_n -eq 0 ]] || record_failure "$suite: $failed_n of $total_n tests failed" "$failed_n"
  if [[ $failed_n -eq 0 && $rc -ne 0 ]]; then
    record_failure "$suite: ctest exited with status $rc"
  fi
}

run_unit_tests() {
  local log=$BUILD_DIR/unit-tests.log rc=0
  bounded ctest --test-dir "$BUILD_DIR" -L unit --output-on-failure --no-tests=error -j2 \
    2>&1 | tee "$log" || rc=$?
  count_ctest_results "unit tests" "$log" "$rc"
}

host_has_sctp() {
  python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, socket.IPPROTO_SCTP)' \
    2>/dev/null
}

run_integration_tests() {
  local log=$BUILD_DIR/integration-tests.log rc=0
  local ctest_cmd=(ctest --test-dir "$BUILD_DIR" -L integration --output-on-failure --no-tests=error)
  if host_has_sctp; then
    echo "host kernel has SCTP: running natively"
    bounded "${ctest_cmd[@]}" 2>&1 | tee "$log" || rc=$?
  else
    echo "host kernel has no SCTP: running inside the QEMU VM (tests/vm/run-in-vm.sh)"
    # The VM's own limit stays below ours so it reports a clear timeout message itself.
    "$REPO_ROOT/tests/vm/run-in-vm.sh" --timeout "$(($(remaining) > 60 ? $(remaining) - 30 : 30))" \
      --share "$BUILD_DIR" -- "${ctest_cmd[@]}" 2>&1 | tee "$log" || rc=$?
  fi
  count_ctest_results "integration tests" "$log" "$rc"
}

# ---- (e) systemd operator test ------------------------------------------------------------

run_operator_test() {
  local script=$REPO_ROOT/tests/integration/systemd_operator_test.sh rc=0
  if [[ ! -f $script ]]; then
    echo "no $script: skipped"
    return
  fi
  BUILD_DIR=$BUILD_DIR VM_TIMEOUT=$(($(remaining) > 60 ? $(remaining) - 30 : 30)) \
    bounded bash "$script" || rc=$?
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
  else
    record_failure "systemd operator test (exit status $rc)"
  fi
}

# ---- main ---------------------------------------------------------------------------------

# A step that must succeed for the later ones to make sense. (Called in a condition, so
# `set -e` is off inside: the steps chain their commands with && instead.)
required_step() {  # NAME FUNCTION
  say "$1"
  if out_of_time || ! "$2"; then
    record_failure "$1"
    return 1
  fi
}

# A test step; counts are recorded by the step itself.
test_step() {  # NAME FUNCTION
  say "$1"
  if out_of_time; then
    record_failure "$1: not run, the ${TOTAL_TIMEOUT}s time limit was reached"
    return
  fi
  "$2" || record_failure "$1: the step itself failed"
}

print_summary() {
  local f
  say "summary"
  for f in "${failures[@]}"; do
    echo "FAILED: $f"
  done
  out_of_time && echo "note: the overall time limit of ${TOTAL_TIMEOUT}s was reached"
  echo "$passed passed, $failed failed"
}

main() {
  cd "$REPO_ROOT"
  if required_step "dependencies (apt)" install_dependencies \
    && required_step "build ($BUILD_DIR)" build; then
    BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)
    test_step "unit tests" run_unit_tests
    test_step "integration tests" run_integration_tests
    test_step "systemd operator test" run_operator_test
  fi
  print_summary
  [[ $failed -eq 0 ]]
}

main "$@"
