#!/usr/bin/env bash
# The project's one test command: installs what is missing, builds, runs the unit tests
# natively and the integration tests where kernel SCTP exists (natively if the host kernel has
# it, otherwise inside the QEMU VM of tests/vm/run-in-vm.sh), then the systemd operator test.
# Then it builds everything again with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DSCTPRELAY_SANITIZE=ON, in ASAN_BUILD_DIR) and runs the unit and integration tests from that
# build, with sanitizer options that make any report (leaks included) fail the test.
# Last, the libFuzzer targets (fuzz/, built with clang in FUZZ_BUILD_DIR, where the daemon and the
# tools are compiled with clang too) each run briefly from their seed corpora; each target counts
# as one test.
# Ends with one line "N passed, N failed" (individual tests; a build or a step that could not
# run counts as one failure) and exits non-zero if anything failed.
#
# Usage: tests/run.sh
# Environment:
#   BUILD_DIR     build directory (default <repo>/build)
#   ASAN_BUILD_DIR  sanitizer build directory (default <repo>/build-asan)
#   FUZZ_BUILD_DIR  fuzz targets' build directory (default <repo>/build-fuzz)
#   FUZZ_SECONDS  how long each fuzz target runs (default 10)
#   TEST_TIMEOUT  hard limit for everything, in seconds (default 2400 = 40 min)
#   SKIP_APT=1    never call apt-get (missing packages then fail the run)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly REPO_ROOT
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-$REPO_ROOT/build-asan}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-$REPO_ROOT/build-fuzz}
readonly TOTAL_TIMEOUT=${TEST_TIMEOUT:-2400}
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

run_unit_tests() {  # [SUITE_NAME BUILD_DIR]
  local suite=${1:-unit tests} dir=${2:-$BUILD_DIR} rc=0
  local log=$dir/unit-tests.log
  bounded ctest --test-dir "$dir" -L unit --output-on-failure --no-tests=error -j2 \
    2>&1 | tee "$log" || rc=$?
  count_ctest_results "$suite" "$log" "$rc"
}

host_has_sctp() {
  python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, socket.IPPROTO_SCTP)' \
    2>/dev/null
}

run_integration_tests() {  # [SUITE_NAME BUILD_DIR [CTEST_ARGS...]]
  local suite=${1:-integration tests} dir=${2:-$BUILD_DIR} rc=0
  local log=$dir/integration-tests.log
  local ctest_cmd=(ctest --test-dir "$dir" -L integration --output-on-failure --no-tests=error "${@:3}")
  if host_has_sctp; then
    echo "host kernel has SCTP: running natively"
    bounded "${ctest_cmd[@]}" 2>&1 | tee "$log" || rc=$?
  else
    echo "host kernel has no SCTP: running inside the QEMU VM (tests/vm/run-in-vm.sh)"
    # The VM's own limit stays below ours so it reports a clear timeout message itself.
    "$REPO_ROOT/tests/vm/run-in-vm.sh" --timeout "$(($(remaining) > 60 ? $(remaining) - 30 : 30))" \
      --share "$dir" -- "${ctest_cmd[@]}" 2>&1 | tee "$log" || rc=$?
  fi
  count_ctest_results "$suite" "$log" "$rc"
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

# ---- (f) sanitizer build and its tests -----------------------------------------------------

# Only what the tests run (the daemon, the client, the test binaries); not the benchmark tools.
# -O1 -g1: what the sanitizers are usually run at; it compiles about a third faster than -O2 -g.
build_asan() {
  bounded cmake -S "$REPO_ROOT" -B "$ASAN_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DSCTPRELAY_SANITIZE=ON \
    && bounded cmake --build "$ASAN_BUILD_DIR" -j2 --target unit_tests integration_tests
}

# The sanitizer build is compiled in the background, at the lowest CPU priority, while the VM runs
# the first integration suite and the systemd test (the emulated machine leaves host CPU idle
# whenever a test waits); its tests run after. Its output goes to a log, shown if it fails.
asan_build_pid=
start_asan_build() {
  mkdir -p "$ASAN_BUILD_DIR"
  ( renice -n 19 "$BASHPID" >/dev/null && build_asan ) >"$ASAN_BUILD_DIR/build.log" 2>&1 &
  asan_build_pid=$!
}

wait_asan_build() {
  local rc=0
  if [[ -z $asan_build_pid ]]; then
    build_asan || rc=$?
  else
    wait "$asan_build_pid" || rc=$?
    tail -n 5 "$ASAN_BUILD_DIR/build.log"
    [[ $rc -eq 0 ]] || tail -n 60 "$ASAN_BUILD_DIR/build.log"
  fi
  return "$rc"
}

# Exported, so every process the tests start inherits them (the daemon, the client; run-in-vm.sh
# passes exported variables into the VM). Any report stops the program with an error: ASan and
# UBSan at the fault, LeakSanitizer at exit (the harness stops each daemon with SIGTERM for that,
# and fails the test if a report appears in the daemon's output).
export_sanitizer_options() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
}

run_asan_unit_tests() {
  export_sanitizer_options
  run_unit_tests "unit tests (asan)" "$ASAN_BUILD_DIR"
}

# All but the IPVS deployment test: it checks how whole instances behave behind a balancer, its
# relays run code the other tests already take through the sanitizers, and instrumented it takes
# three minutes of the time limit (it passed under ASan when it was written).
run_asan_integration_tests() {
  export_sanitizer_options
  run_integration_tests "integration tests (asan)" "$ASAN_BUILD_DIR" -E '^scale_out_ipvs$'
}

# ---- (g) fuzz targets ----------------------------------------------------------------------

# The libFuzzer targets (fuzz/run.sh, docs/fuzzing.md), built with clang, ASan and UBSan. The build
# runs in the background at the lowest priority while the VM runs the sanitizer build's integration
# tests (or in the foreground when that build failed); then each target runs FUZZ_SECONDS from its
# seed corpus. A crash, a sanitizer report, a broken invariant, one input taking over 10 s or an
# allocation above 512 MiB fails that target.
# The same clang build then compiles the daemon and the tools too: the fuzz targets take lib/ only,
# and daemon/ once compiled with g++ alone for a while (clang refused it). Only compiled, not run;
# a warning fails it as an error would.
build_fuzz() {
  local log=$FUZZ_BUILD_DIR/build.log
  mkdir -p "$FUZZ_BUILD_DIR"
  FUZZ_BUILD_DIR=$FUZZ_BUILD_DIR bounded "$REPO_ROOT/fuzz/run.sh" --build-only >"$log" 2>&1 || return
  bounded cmake --build "$FUZZ_BUILD_DIR" -j2 --target sctprelayd sctprelayctl sctprelay-client >>"$log" 2>&1 || return
  if grep -q 'warning:' "$log"; then
    echo "clang warned (see $log):" >&2
    grep 'warning:' "$log" | head -n 20 >&2
    return 1
  fi
}

fuzz_build_pid=
start_fuzz_build() {
  ( renice -n 19 "$BASHPID" >/dev/null && build_fuzz ) &
  fuzz_build_pid=$!
}

run_fuzz_targets() {
  local rc=0 log=$FUZZ_BUILD_DIR/fuzz-run.log n_pass n_fail
  if [[ -n $fuzz_build_pid ]]; then
    wait "$fuzz_build_pid" || rc=$?
  else
    build_fuzz || rc=$?
  fi
  if [[ $rc -ne 0 ]]; then
    tail -n 60 "$FUZZ_BUILD_DIR/build.log"
    record_failure "fuzz targets: the build failed (exit status $rc; $FUZZ_BUILD_DIR/build.log)"
    return
  fi
  FUZZ_BUILD_DIR=$FUZZ_BUILD_DIR bounded "$REPO_ROOT/fuzz/run.sh" --no-build --quick "${FUZZ_SECONDS:-10}" \
    2>&1 | tee "$log" || rc=$?
  n_pass=$(grep -c '^fuzz: PASS ' "$log") || true
  n_fail=$(grep -c '^fuzz: FAIL ' "$log") || true
  passed=$((passed + n_pass))
  [[ $n_fail -eq 0 ]] || record_failure "fuzz targets: $n_fail failed (see $log)" "$n_fail"
  [[ $n_fail -gt 0 || $rc -eq 0 ]] || record_failure "fuzz targets: fuzz/run.sh exited with status $rc"
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
  if required_step "dependencies (apt)" install_dependencies; then
    if required_step "build ($BUILD_DIR)" build; then
      BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)
      start_asan_build
      test_step "unit tests" run_unit_tests
      test_step "integration tests" run_integration_tests
      test_step "systemd operator test" run_operator_test
    fi
    if required_step "sanitizer build ($ASAN_BUILD_DIR)" wait_asan_build; then
      ASAN_BUILD_DIR=$(cd "$ASAN_BUILD_DIR" && pwd -P)
      start_fuzz_build
      test_step "unit tests (asan)" run_asan_unit_tests
      test_step "integration tests (asan)" run_asan_integration_tests
    fi
    test_step "fuzz targets ($FUZZ_BUILD_DIR)" run_fuzz_targets
  fi
  print_summary
  [[ $failed -eq 0 ]]
}

main "$@"
