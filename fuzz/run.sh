#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; see docs/fuzzing.md) and runs them.
#
# Usage: fuzz/run.sh [--quick [SECONDS] | --long [SECONDS]] [--no-build | --build-only] [TARGET...]
#   --quick S  (the default; S = 10) each target S seconds from its seed corpus (fuzz/corpus/TARGET),
#              new inputs kept in a temporary directory: what tests/run.sh runs
#   --long S   each target S seconds (default 3600), one after another, at low CPU priority,
#              growing the corpus kept in $FUZZ_BUILD_DIR/corpus/TARGET
#   --no-build use the targets as built;  --build-only  build them and stop
#   TARGET     config, receive or client (default: all three)
# A crash, sanitizer report, broken invariant, input slower than 10 s or allocation above 512 MiB
# stops that target: its input lands in $FUZZ_BUILD_DIR/artifacts/TARGET/ and the target fails.
# Prints "fuzz: PASS TARGET …" or "fuzz: FAIL TARGET …" per target (with executions and coverage)
# and exits 1 if any failed.
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz), FUZZ_NICE (default 15 with --long, else 0)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BUILD=${FUZZ_BUILD_DIR:-$REPO_ROOT/build-fuzz}
ALL_TARGETS=(config receive client)

mode=quick seconds=10 build=1 targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick|--long)
      mode=${1#--}
      [[ $mode == long ]] && seconds=3600
      if [[ ${2:-} =~ ^[0-9]+$ ]]; then seconds=$2; shift; fi ;;
    --no-build) build=0 ;;
    --build-only) build=only ;;
    config|receive|client) targets+=("$1") ;;
    *) echo "usage: fuzz/run.sh [--quick [SECONDS] | --long [SECONDS]] [--no-build | --build-only]" \
            "[config|receive|client ...]" >&2
       exit 2 ;;
  esac
  shift
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
if [[ $mode == long ]]; then nice_level=${FUZZ_NICE:-15}; else nice_level=${FUZZ_NICE:-0}; fi

# Only the library and the targets are built (not the daemon, the tools or the tests).
if [[ $build != 0 ]]; then
  CC=clang CXX=clang++ cmake -S "$REPO_ROOT" -B "$BUILD" -DSCTPRELAY_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
  cmake --build "$BUILD" -j2 --target "${targets[@]/#/fuzz_}"
  [[ $build != only ]] || exit 0
fi

# Every report stops the run; leaks are reported too (LeakSanitizer, at the end of each input).
# A 32 MiB quarantine for freed memory (ASan's default: 256 MiB) halves the CPU time of these
# small inputs, most of it page faults on memory the quarantine keeps cycling through.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}:quarantine_size_mb=32
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

tmp=
trap '[[ -z $tmp ]] || rm -rf "$tmp"' EXIT
[[ $mode == long ]] || tmp=$(mktemp -d)

failed=0
for t in "${targets[@]}"; do
  seeds=$REPO_ROOT/fuzz/corpus/$t
  artifacts=$BUILD/artifacts/$t
  log=$BUILD/logs/$t-$mode.log
  if [[ $mode == long ]]; then corpus=$BUILD/corpus/$t; else corpus=$tmp/$t; fi
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512
           -artifact_prefix="$artifacts/" -print_final_stats=1)
  [[ -f $REPO_ROOT/fuzz/dict/$t.dict ]] && options+=(-dict="$REPO_ROOT/fuzz/dict/$t.dict")
  [[ $t == config ]] && options+=(-max_len=8192)  # the sample configuration is about 5 KB
  echo "fuzz: $t for ${seconds}s (log: $log)"
  rc=0
  # The new inputs go to the first directory; the seeds are only read.
  nice -n "$nice_level" "$BUILD/fuzz/fuzz_$t" "${options[@]}" "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
  summary="$t: ${execs:-?} executions, ${rate:-?}/s, ${cov:-no coverage reported}"
  if [[ $rc -eq 0 ]]; then
    echo "fuzz: PASS $summary"
  else
    failed=1
    echo "fuzz: FAIL $summary (exit status $rc); the end of its log:"
    grep -vE '^#[0-9]+' "$log" | tail -n 40
    echo "the input that failed: $(ls -t "$artifacts" 2>/dev/null | head -n 1 | sed "s|^|$artifacts/|")"
  fi
done
exit "$failed"
