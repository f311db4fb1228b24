#!/usr/bin/env bash
# The benchmark in one command: builds the relay and the benchmark tools (Release), runs every
# workload through every variant inside the SCTP VM (tests/vm/run-in-vm.sh), then writes
# bench/results/latest.json (raw numbers), latest.md (the table) and latest.png (the chart) and
# prints the table. See docs/benchmarks.md.
#
#   bench/run.sh [--rounds N] [--quick] [--only rate,latency,fanout,routes,assocs,isolation,workers,slow,exact]
#   bench/run.sh --only soak,churn,flap    # the long and fault workloads (bench/soak.py), not in the
#                                          # default set: about 30 minutes together; each writes
#                                          # bench/results/<name>.json and <name>.md (never latest.*)
#
# Environment: BENCH_BUILD (build dir, default build-bench), BENCH_10K_ROUNDS (rounds of the
# 10,000-association workload, default 2), BENCH_CALLGRIND_ROUTES=0 (skip counting instructions
# with 10,000 routes), BENCH_BASELINE=COMMIT (also build that commit, `git archive` into
# BENCH_BASELINE_DIR, default /tmp/sctprelayd-COMMIT, Release, and count its instructions per
# message and run the isolation workload on it in the same VM run: before/after figures).
#
# Exit status 3: the report was written, but a run of the workers section failed or lost,
# duplicated or reordered messages (INVALID in the report).
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

# The host's CPU while the VM runs (the emulated vCPUs are host threads: other VMs and builds on
# the host slow them down unevenly). Prints "BUSY IDLE" (clock ticks, all host CPUs).
host_ticks() {
  local _ user nice system idle iowait irq softirq steal
  read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
  echo "$((user + nice + system + irq + softirq + steal)) $((idle + iowait))"
}

# --only is split: soak, churn and flap run through bench/soak.py (own result files), the rest
# through bench/bench.py as before. Without --only only bench.py's default set runs.
main_args=()
long_sections=()
main_sections=()
only_given=0
quick=()
split_args() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --only)
        only_given=1
        local s
        IFS=, read -r -a parts <<<"${2:?--only needs a list}"
        for s in "${parts[@]}"; do
          case $s in
            soak | churn | flap) long_sections+=("$s") ;;
            *) main_sections+=("$s") ;;
          esac
        done
        shift ;;
      --quick) quick=(--quick); main_args+=("$1") ;;
      *) main_args+=("$1") ;;
    esac
    shift
  done
}

main() {
  split_args "$@"
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
  if [[ ${#long_sections[@]} -gt 0 ]]; then
    local list
    list=$(IFS=,; echo "${long_sections[*]}")
    # rto_min 10 ms as below. Writes bench/results/{soak,churn,flap}.{json,md} itself.
    "$REPO/tests/vm/run-in-vm.sh" --timeout 7200 --sysctl net.sctp.rto_min=10 -- \
      /usr/bin/python3 "$REPO/bench/soak.py" --only "$list" "${quick[@]}"
    for s in "${long_sections[@]}"; do cat "$RESULTS/$s.md"; done
    [[ $only_given -eq 1 && ${#main_sections[@]} -eq 0 ]] && return 0
  fi
  local only=()
  if [[ ${#main_sections[@]} -gt 0 ]]; then
    only=(--only "$(IFS=,; echo "${main_sections[*]}")")
  fi
  # rto_min 10 ms: a lost packet costs 10 ms, not the default 1 s, under emulated timing.
  # Status 3: every run finished but a workers run failed or lost, duplicated or reordered
  # messages; the report is still written (it says which), then run.sh exits 3.
  local rc=0 host0 host1 vms load0
  vms=$(pgrep -c "^qemu-system" || true)
  load0=$(cut -d' ' -f1 /proc/loadavg)
  host0=$(host_ticks)
  "$REPO/tests/vm/run-in-vm.sh" --timeout 2400 --sysctl net.sctp.rto_min=10 "${vm_extra[@]}" -- \
    /usr/bin/python3 "$REPO/bench/bench.py" --out "$RESULTS/latest.json" "${main_args[@]}" "${only[@]}" || rc=$?
  [[ $rc -eq 0 || $rc -eq 3 ]] || return "$rc"
  end=$(date +%s)
  host1=$(host_ticks)
  local busy=$((${host1% *} - ${host0% *})) idle=$((${host1#* } - ${host0#* }))
  local host
  host=$(printf '%s host CPUs %d%% busy during the VM run (other qemu-system processes at the start: %s; load average %s at the start, %s at the end)' \
    "$(nproc)" "$((100 * busy / (busy + idle > 0 ? busy + idle : 1)))" "$vms" "$load0" "$(cut -d' ' -f1 /proc/loadavg)")
  /usr/bin/python3 "$REPO/bench/report.py" --json "$RESULTS/latest.json" --md "$RESULTS/latest.md" \
    --png "$RESULTS/latest.png" --wall "$((end - start))" --host "$host"
  cat "$RESULTS/latest.md"
  [[ $rc -eq 0 ]] || echo "bench: FAILED: a workers run failed or was INVALID (see the report's failed runs)" >&2
  return "$rc"
}

main "$@"
