#!/usr/bin/env bash
# The main job, end to end: sctprelayd with the sample config (config/sctprelayd.yaml), two sinks
# standing in for the MMEs core-a and core-b, and the client sending test data on several streams
# and PPIDs. Every line shows where a message went. Where the host kernel has no SCTP, the whole
# run happens inside the project's VM (tests/vm/run-in-vm.sh).
#
# Usage: tools/demo.sh            (installs build dependencies and builds if needed)
set -euo pipefail

readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly BUILD=${BUILD_DIR:-$ROOT/build}
readonly CONFIG=$ROOT/config/sctprelayd.yaml

host_has_sctp() {
  python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, socket.IPPROTO_SCTP)' \
    2>/dev/null
}

prepare() {
  "$ROOT/tools/install-deps.sh"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target sctprelayd sctprelay-client sctprelayctl >/dev/null
}

# Prefixes each line of a command's output with a label, so the streams can be told apart.
labelled() {
  local label=$1
  shift
  "$@" 2>&1 | sed -u "s/^/[$label] /"
}

# Waits (up to 20 s) for a line containing $2 in file $1.
wait_for() {
  local file=$1 needle=$2 i
  for ((i = 0; i < 200; i++)); do
    grep -qF -- "$needle" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: timed out waiting for '$needle'" >&2
  return 1
}

run_demo() {
  local client=$BUILD/tools/client/sctprelay-client daemon=$BUILD/daemon/sctprelayd ctl=$BUILD/tools/ctl/sctprelayctl
  logs=$(mktemp -d)  # global: the EXIT trap runs after this function returns
  trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$logs"' EXIT
  # The sample config, with a control socket and the metrics endpoint (under systemd the socket is
  # /run/sctprelayd/control.sock without saying so).
  local config=$logs/sctprelayd.yaml
  { cat "$CONFIG"; printf '\ncontrol: {socket: %s}\nmetrics: {listen: "127.0.0.1:9464"}\n' "$logs/control.sock"; } >"$config"
  local -a ctl_cmd=("$ctl" --socket "$logs/control.sock")

  echo "== sinks: core-a (echoes every message back: an MME answering) and core-b"
  labelled core-a "$client" listen --bind 127.0.0.1 --echo 38412 >"$logs/core-a" &
  labelled core-b "$client" listen --bind 127.0.0.1 38413 >"$logs/core-b" &
  echo "== sctprelayd --config $CONFIG (+ control socket and metrics)"
  "$daemon" --check --config "$config"
  labelled relay "$daemon" --config "$config" >"$logs/relay" &
  wait_for "$logs/relay" "destination core-a up"
  wait_for "$logs/relay" "destination core-b up"

  echo "== a probe connects to the 'probes' listener: it joins the group probe-sinks and waits for a copy"
  labelled probe "$client" send --wait-replies 1 --timeout 30 127.0.0.1 36422 </dev/null >"$logs/probe" &
  wait_for "$logs/relay" "groups probe-sinks" || { cat "$logs/probe" "$logs/relay"; exit 1; }
  cat "$logs/relay"

  echo
  echo "== client: 8 S1AP messages (PPID 18) on streams 0-7 to the 'ran' listener, waiting for replies"
  echo "   route s1ap-common-copy: stream 0 -> core-a + probe-sinks; s1ap-to-core: streams 1-7 -> core-a;"
  echo "   core-a answers, and return: origin brings each reply back to the client on its stream"
  labelled client "$client" send --count 8 --size 100 --streams 0-7 --ppid 18 --wait-replies 8 127.0.0.1 36412
  echo
  echo "== client: 3 messages with PPID 46 (no route matches) -> default: fallback to core-b"
  printf 'not-s1ap-1\nnot-s1ap-2\nnot-s1ap-3\n' |
    labelled client "$client" send --stream 5 --ppid 46 127.0.0.1 36412
  wait_for "$logs/core-b" "size=10"

  echo
  echo "== what each sink received"
  wait_for "$logs/probe" "summary"
  cat "$logs/core-a" "$logs/core-b" "$logs/probe"
  echo
  echo "== what the operator sees: sctprelayctl status"
  "${ctl_cmd[@]}" status
  echo
  echo "== sctprelayctl routes"
  "${ctl_cmd[@]}" routes
  echo
  echo "== sctprelayctl destinations"
  "${ctl_cmd[@]}" destinations
  echo
  echo "== sctprelayctl assocs"
  "${ctl_cmd[@]}" assocs
  echo
  echo "== sctprelayctl drain core-b; the next no-route messages have nowhere to go (default: fallback core-b)"
  "${ctl_cmd[@]}" drain core-b
  printf 'while-drained\n' | "$client" send --stream 5 --ppid 46 127.0.0.1 36412 >/dev/null
  "${ctl_cmd[@]}" undrain core-b
  echo
  echo "== the metrics endpoint (curl http://127.0.0.1:9464/metrics | grep route_)"
  curl -s http://127.0.0.1:9464/metrics | grep -E '^sctprelay_route_(matched|target)_messages_total'
  echo
  echo "== relay counters (SIGUSR1), then SIGTERM"
  local pid
  pid=$(pgrep -f "$daemon --config $config" | head -1)
  kill -USR1 "$pid"
  wait_for "$logs/relay" "stats:"
  kill -TERM "$pid"
  wait_for "$logs/relay" "stopped"
  grep -E "stats:|stopped" "$logs/relay"
}

main() {
  if [[ ${1:-} == --inside ]]; then
    run_demo
    return
  fi
  prepare
  if host_has_sctp; then
    run_demo
  else
    echo "(this kernel has no SCTP: running the demo inside the project's VM)"
    "$ROOT/tests/vm/run-in-vm.sh" --share "$BUILD" -- env BUILD_DIR="$BUILD" "$ROOT/tools/demo.sh" --inside
  fi
}

main "$@"
