#!/usr/bin/env bash
# The benchmark in one command: builds the relay and the benchmark tools (Release), runs every
# workload through every variant inside the SCTP VM (tests/vm/run-in-vm.sh), then writes
# bench/results/latest.json (raw numbers), latest.md (the table) and latest.png (the chart) and
# prints the table. See docs/benchmarks.md.
#
#   bench/run.sh [--rounds N] [--quick] [--only rate,latency,fanout,routes,assocs,isolation,slow,exact]
#
# Environment: BENCH_BUILD (build dir, default build-bench), BENCH_10K_ROUNDS (rounds of the
# 10,000-association workload, default 2), BENCH_CALLGRIND_ROUTES=0 (skip counting instructions
# with 10,000 routes), BENCH_BASELINE=COMMIT (also build that commit, `git archive` into
# BENCH_BASELINE_DIR, default /tmp/sctprelayd-COMMIT, Release, and count its instructions per
# message and run the isolation workload on it in the same VM run: before/after figures).
set -euo pipefail

readonly REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
export BENCH_BUILD=${BENCH_BUILD:-$REPO/build-bench}
readonly RESULTS=$REPO/bench/results

install_missing() {
  local missing=()
  command -v valgrind >/dev/null || missing+=(valgrind)
  command -v strace >/dev/null || missing+=(strace)
  command -v socat >/dev/null || missing+=(socat)
  /usr/bin/python3 -c 'import matplotlib' 2>/dev/null || missing+=(python3-matplotlib)
  [[ ${#missing[@]} -eq 0 ]] && return
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The baseline: the tree at BENCH_BASELINE (read from git, nothing in the work tree changes),
# built Release with the same compiler and flags. Its directory is shared into the VM.
vm_extra=()
build_baseline() {
  [[ -n ${BENCH_BASELINE:-} ]] || return 0
  local commit dir
  commit=$(git -C "$REPO" rev-parse --short "$BENCH_BASELINE^{commit}")
  dir=${BENCH_BASELINE_DIR:-/tmp/sctprelayd-$commit}
  if [[ ! -f $dir/CMakeLists.txt ]]; then
    mkdir -p "$dir"
    git -C "$REPO" archive "$commit" | tar -x -C "$dir"
  fi
  cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$dir/build" -j2 --target sctprelayd >/dev/null
  export BENCH_OLD_RELAYD=$dir/build/daemon/sctprelayd BENCH_OLD_LABEL=$commit
  vm_extra+=(--share "$dir")
}

main() {
  install_missing
  cmake -S "$REPO" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$BENCH_BUILD" -j2 --target sctprelayd sctp-loadgen c_relay >/dev/null
  build_baseline
  # Which tree this is (read-only git: no index refresh).
  BENCH_TREE=$(git --no-optional-locks -C "$REPO" rev-parse --short HEAD)
  git --no-optional-locks -C "$REPO" diff --quiet HEAD -- lib daemon CMakeLists.txt ||
    BENCH_TREE+=" with uncommitted changes in lib/, daemon/ or CMakeLists.txt"
  export BENCH_TREE
  mkdir -p "$RESULTS/work"
  local start end
  start=$(date +%s)
  # rto_min 10 ms: a lost packet costs 10 ms, not the default 1 s, under emulated timing.
  "$REPO/tests/vm/run-in-vm.sh" --timeout 2400 --sysctl net.sctp.rto_min=10 "${vm_extra[@]}" -- \
    /usr/bin/python3 "$REPO/bench/bench.py" --out "$RESULTS/latest.json" "$@"
  end=$(date +%s)
  /usr/bin/python3 "$REPO/bench/report.py" --json "$RESULTS/latest.json" --md "$RESULTS/latest.md" \
    --png "$RESULTS/latest.png" --wall "$((end - start))"
  cat "$RESULTS/latest.md"
}

main "$@"
