#!/usr/bin/env bash
# The benchmark in one command: builds the relay and the benchmark tools (Release), runs every
# workload through every variant inside the SCTP VM (tests/vm/run-in-vm.sh), then writes
# bench/results/latest.json (raw numbers), latest.md (the table) and latest.png (the chart) and
# prints the table. See docs/benchmarks.md.
#
#   bench/run.sh [--rounds N] [--quick] [--only rate,latency,fanout,routes,assocs,slow,exact]
#
# Environment: BENCH_BUILD (build dir, default build-bench), BENCH_10K_ROUNDS (rounds of the
# 10,000-association workload, default 2), BENCH_CALLGRIND_ROUTES=1 (also count instructions
# with 10,000 routes; adds minutes).
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

main() {
  install_missing
  cmake -S "$REPO" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$BENCH_BUILD" -j2 --target sctprelayd sctp-loadgen c_relay >/dev/null
  mkdir -p "$RESULTS/work"
  local start end
  start=$(date +%s)
  # rto_min 10 ms: a lost packet costs 10 ms, not the default 1 s, under emulated timing.
  "$REPO/tests/vm/run-in-vm.sh" --timeout 1500 --sysctl net.sctp.rto_min=10 -- \
    /usr/bin/python3 "$REPO/bench/bench.py" --out "$RESULTS/latest.json" "$@"
  end=$(date +%s)
  /usr/bin/python3 "$REPO/bench/report.py" --json "$RESULTS/latest.json" --md "$RESULTS/latest.md" \
    --png "$RESULTS/latest.png" --wall "$((end - start))"
  cat "$RESULTS/latest.md"
}

main "$@"
