#!/usr/bin/env bash
# Scale-out behind IPVS (docs/scale-out.md): two sctprelayd instances as the real servers of an
# IPVS SCTP virtual service that keepalived runs and health-checks; one of them is killed -9 under
# load.
#
# Network namespaces joined by veth pairs, with the addresses of
# tools/keepalived/keepalived.conf.example, which keepalived runs here unchanged as balancer lb1
# but for the health check's path:
#
#   client 192.0.2.50 --- eth0: lb1 192.0.2.2, VIP 192.0.2.100 (VRRP)         IPVS: SCTP, rr, NAT
#                         eth1 (a bridge): lb1 198.51.100.2, gateway 198.51.100.1 (VRRP)
#                           |- relay-a 198.51.100.11:36412 -\
#                           |- relay-b 198.51.100.12:36412 --+-> sink 198.51.100.50:38412
#                           \- sink
#
# NAT because it works over plain routed links: each relay keeps its own address, sees the
# clients' real addresses, and answers through its default route, the balancer's gateway address.
# (DR would need the VIP on every relay and ARP kept quiet there; docs/scale-out.md compares them.)
#
# 20 associations (sctprelay-client, one process each, fed "cNN seq=N" lines by
# scale_out/clients.sh) go to the VIP and send continuously; the sink (sctprelay-client listen)
# shows which relay forwarded each message. Asserted: both relays get associations (sctprelayctl
# assocs); after kill -9 of relay-a, keepalived's SCTP health check takes it out of IPVS within a
# deadline; relay-a's clients see their associations end; relay-b's notice nothing and keep
# sending; new associations all land on relay-b; every message of every association that stayed
# up arrives exactly once and in order (scale_out/verify.awk). Prints the failover timeline and
# `ipvsadm -Ln` before and after.
#
# Needs root, kernel SCTP, IPVS with SCTP (ip_vs, ip_vs_rr), veth, bridge, ipvsadm and keepalived:
# it runs in the project's VM with the other integration tests (label `integration`):
#   tests/vm/run-in-vm.sh --share BUILD -- ctest --test-dir BUILD -L integration -R scale_out
# Every program started costs a good part of a second under the VM's emulated CPU, so the waiting
# and the bookkeeping use bash builtins and awk, not Python.
#
# Usage: scale_out_ipvs_test.sh SCTPRELAYD SCTPRELAY_CLIENT SCTPRELAYCTL SCTP_HEALTH_CHECK
# Environment: SCALE_OUT_KEEP=1 keeps the work directory (every output) when the test passes too.
# Exit status: 0 passed, 1 failed (the reason on the FAIL line, diagnostics after it).
set -euo pipefail

[[ $# -eq 4 ]] || { echo "usage: $0 SCTPRELAYD SCTPRELAY_CLIENT SCTPRELAYCTL SCTP_HEALTH_CHECK" >&2; exit 1; }
readonly DAEMON=$1 CLIENT=$2 CTL=$3 HEALTH_CHECK=$4
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly HERE
readonly KEEPALIVED_EXAMPLE=$HERE/../../tools/keepalived/keepalived.conf.example
readonly INSTALLED_HEALTH_CHECK=/usr/local/libexec/sctprelayd/sctp-health-check

# The example's addresses.
readonly VIP=192.0.2.100 PORT=36412 CLIENT_ADDR=192.0.2.50 LB_FRONT=192.0.2.2
readonly GATEWAY=198.51.100.1 LB_BACK=198.51.100.2 RELAY_A=198.51.100.11 RELAY_B=198.51.100.12
readonly SINK_ADDR=198.51.100.50 SINK_PORT=38412
readonly FIRST_CLIENTS=20 NEW_CLIENTS=6
readonly SEND_INTERVAL_S=0.1  # each client: a message every 0.1 s
readonly MIN_AFTER_KILL=20    # relay-b's clients keep sending: at least 2 s worth after the kill
# Emulated CPU (and AddressSanitizer builds, where 20 clients take a minute to start): generous
# deadlines; every wait ends as soon as its event is seen.
readonly POLL_S=0.2 SETUP_DEADLINE_S=120 FAILOVER_DEADLINE_S=20

readonly NS_CLIENT=so$$-client NS_LB=so$$-lb NS_A=so$$-relay-a NS_B=so$$-relay-b NS_SINK=so$$-sink

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scale-out-ipvs.XXXXXX")
readonly WORK
readonly EVENTS=$WORK/clients/events.log SINK_OUT=$WORK/sink.jsonl
namespaces=()
pids=()  # every background process started here, stopped on exit
cmd_fd=''
relay_a_pid='' relay_b_pid='' feeder_pid=''
readonly T0=${EPOCHREALTIME/./}

# ---- time, logging, waiting (no programs started) --------------------------------------------

# Microseconds since the epoch.
now_us() { REPLY=${EPOCHREALTIME/./}; }
# Seconds with two decimals from a (non-negative) number of microseconds.
seconds() { printf -v REPLY '%d.%02d' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }
log() {
  local t
  now_us
  seconds $((REPLY - T0))
  printf -v t '%(%T)T' -1
  printf '%s [scale-out +%6ss] %s\n' "$t" "$REPLY" "$*"
}
step() { printf '\n'; log "== $*"; }

# A FIFO opened read-write never has data: `read -t` on it sleeps without starting a program.
mkfifo "$WORK/.tick"
exec {tick_fd}<>"$WORK/.tick"
pause() { read -r -t "$1" -u "$tick_fd" _ || true; }

fail() {
  log "FAIL: $*"
  show_diagnostics
  exit 1
}

show_tail() {  # FILE LINES
  [[ -s $1 ]] || return 0
  echo "---- last $2 lines of $1"
  tail -n "$2" "$1"
}

show_diagnostics() {
  echo "==== diagnostics (work dir $WORK)"
  if [[ " ${namespaces[*]} " == *" $NS_LB "* ]]; then
    echo "---- ipvsadm -Ln"
    ip netns exec "$NS_LB" ipvsadm -Ln 2>&1 || true
    echo "---- ipvsadm -Lnc (connections)"
    ip netns exec "$NS_LB" ipvsadm -Lnc 2>&1 | head -n 40 || true
  fi
  show_tail "$WORK/keepalived.log" 30
  show_tail "$WORK/relay-a.log" 15
  show_tail "$WORK/relay-b.log" 15
  show_tail "$WORK/sink.err" 10
  show_tail "$EVENTS" 40
  show_tail "$WORK/clients.log" 10
  local f
  for f in "$WORK"/clients/*.err; do
    [[ -s $f ]] && show_tail "$f" 3
  done
  return 0
}

wait_gone() {  # PID SECONDS
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [[ $SECONDS -lt $deadline ]] || return 1
    pause "$POLL_S"
  done
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds; fails the test with
# DESCRIPTION when SECONDS pass first.
wait_until() {
  local limit_us=$(($1 * 1000000)) what=$2 start
  shift 2
  now_us
  start=$REPLY
  while ! "$@"; do
    now_us
    [[ $((REPLY - start)) -le $limit_us ]] || fail "$what: not within $((limit_us / 1000000)) s"
    pause "$POLL_S"
  done
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  local rc=$? pid ns
  set +e
  [[ -n $cmd_fd ]] && exec {cmd_fd}>&-
  # Our processes first (SIGTERM: keepalived then removes its IPVS rules and addresses)...
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    wait_gone "$pid" 10 || kill -9 "$pid" 2>/dev/null
  done
  # ... then whatever they left in our namespaces (clients, health checks), by pid.
  for ns in "${namespaces[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -9 "$pid" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
  done
  if [[ $rc -eq 0 && ${SCALE_OUT_KEEP:-} != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "scale_out_ipvs_test: outputs kept in $WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Programs in a namespace run as `ip netns exec NS PROGRAM`, never through a shell function:
# started in the background that way, $! is the program's own pid (ip execs it), the one to kill.

# ---- preconditions ---------------------------------------------------------------------------

check_preconditions() {
  step "preconditions: root, kernel SCTP and IPVS, tools"
  [[ $(id -u) -eq 0 ]] \
    || fail "needs root (network namespaces, IPVS): run it in the VM: tests/vm/run-in-vm.sh --share BUILD -- ctest --test-dir BUILD -R scale_out"
  [[ -d /proc/sys/net/sctp ]] || modprobe sctp 2>/dev/null \
    || fail "no kernel SCTP (modprobe sctp failed); on a host without it run this in the VM (tests/vm/run-in-vm.sh)"
  local tool
  for tool in ip ipvsadm keepalived setpriv; do
    command -v "$tool" >/dev/null \
      || fail "$tool not found: tools/install-deps.sh installs it (apt-get install ipvsadm keepalived iproute2 util-linux)"
  done
  for tool in "$DAEMON" "$CLIENT" "$CTL" "$HEALTH_CHECK"; do
    [[ -x $tool ]] || fail "$tool is not built"
  done
  # Debian builds IPVS's SCTP support into ip_vs itself (CONFIG_IP_VS_PROTO_SCTP=y): there is no
  # ip_vs_sctp module, its sysctl shows it is there. ip_vs pulls in nf_conntrack; named anyway.
  modprobe -a veth bridge nf_conntrack ip_vs ip_vs_rr 2>"$WORK/modprobe.err" \
    || fail "kernel modules missing (need veth, bridge, nf_conntrack, ip_vs, ip_vs_rr): $(<"$WORK/modprobe.err")"
  [[ -e /proc/sys/net/ipv4/vs/sloppy_sctp ]] \
    || fail "ip_vs is loaded but without SCTP (no net.ipv4.vs.sloppy_sctp): the kernel needs CONFIG_IP_VS_PROTO_SCTP"
  local loaded=() module
  while read -r module _; do
    case $module in veth | bridge | nf_conntrack | ip_vs | ip_vs_rr | sctp) loaded+=("$module") ;; esac
  done </proc/modules
  log "kernel modules: ${loaded[*]}; IPVS with SCTP (net.ipv4.vs.sloppy_sctp present)"
  # keepalived runs the check as nobody (script_user in the example): it must be able to.
  setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$HEALTH_CHECK" --help >/dev/null 2>&1 \
    || fail "user nobody cannot run $HEALTH_CHECK (keepalived's script_user): make the build tree readable and searchable by others"
}

# ---- the network -----------------------------------------------------------------------------

build_network() {
  step "network: client, balancer lb1, relay-a, relay-b, sink (veth pairs; a bridge on the relay side)"
  # One `ip -batch` per namespace: a few programs instead of dozens.
  ip -batch - <<EOF
netns add $NS_CLIENT
netns add $NS_LB
netns add $NS_A
netns add $NS_B
netns add $NS_SINK
link add eth0 netns $NS_CLIENT type veth peer name eth0 netns $NS_LB
link add eth0 netns $NS_A type veth peer name port-a netns $NS_LB
link add eth0 netns $NS_B type veth peer name port-b netns $NS_LB
link add eth0 netns $NS_SINK type veth peer name port-sink netns $NS_LB
EOF
  namespaces=("$NS_CLIENT" "$NS_LB" "$NS_A" "$NS_B" "$NS_SINK")
  ip -n "$NS_CLIENT" -batch - <<EOF
link set lo up
addr add $CLIENT_ADDR/24 dev eth0
link set eth0 up
EOF
  # The relay side is one segment, as in the example: a bridge named eth1 on the balancer.
  ip -n "$NS_LB" -batch - <<EOF
link set lo up
addr add $LB_FRONT/24 dev eth0
link set eth0 up
link add eth1 type bridge
addr add $LB_BACK/24 dev eth1
link set eth1 up
link set port-a master eth1
link set port-b master eth1
link set port-sink master eth1
link set port-a up
link set port-b up
link set port-sink up
EOF
  # NAT: the relays' answers to the clients go back through the balancer (the VRRP gateway).
  local spec ns addr
  for spec in "$NS_A $RELAY_A" "$NS_B $RELAY_B" "$NS_SINK $SINK_ADDR"; do
    read -r ns addr <<<"$spec"
    ip -n "$ns" -batch - <<EOF
link set lo up
addr add $addr/24 dev eth0
link set eth0 up
$([[ $ns == "$NS_SINK" ]] || echo "route add default via $GATEWAY")
EOF
  done
  # The balancer's sysctls (docs/scale-out.md).
  ip netns exec "$NS_LB" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.vs.expire_nodest_conn=1
  log "client $CLIENT_ADDR | lb1 $LB_FRONT, $LB_BACK | relay-a $RELAY_A | relay-b $RELAY_B | sink $SINK_ADDR"
}

# ---- keepalived and IPVS ---------------------------------------------------------------------

on_a=() on_b=() via_a=() via_b=()
ipvs_table() { ip netns exec "$NS_LB" ipvsadm -Ln; }
ipvs_has() { [[ $(ipvs_table) == *"-> $1:$PORT "* ]]; }
ipvs_lacks() { [[ $(ipvs_table) != *"-> $1:$PORT "* ]]; }
both_relays_in() { ipvs_has "$RELAY_A" && ipvs_has "$RELAY_B"; }
vip_up() { [[ $(ip -n "$NS_LB" -o addr show dev eth0) == *" $VIP/"* ]]; }

# Started before the relays: VRRP's election (3 advertisement intervals) runs meanwhile, and with
# `alpha` no relay is in the virtual service before its first check passed.
start_keepalived() {
  step "keepalived as lb1 (the example's configuration): VRRP, virtual service $VIP:$PORT (SCTP, rr, NAT)"
  [[ $(<"$KEEPALIVED_EXAMPLE") == *"$INSTALLED_HEALTH_CHECK"* ]] \
    || fail "$KEEPALIVED_EXAMPLE no longer runs $INSTALLED_HEALTH_CHECK: update this test with it"
  local conf
  conf=$(<"$KEEPALIVED_EXAMPLE")
  printf '%s\n' "${conf//"$INSTALLED_HEALTH_CHECK"/"$HEALTH_CHECK"}" >"$WORK/keepalived.conf"
  now_us
  t_keepalived=$REPLY
  ip netns exec "$NS_LB" keepalived --dont-fork --log-console --log-detail --no-syslog --config-id lb1 \
    --use-file "$WORK/keepalived.conf" --pid "$WORK/keepalived.pid" --vrrp_pid "$WORK/vrrp.pid" \
    --checkers_pid "$WORK/checkers.pid" >"$WORK/keepalived.log" 2>&1 &
  pids+=("$!")
}

wait_balancer() {
  wait_until "$SETUP_DEADLINE_S" "VRRP: lb1 MASTER with $VIP on eth0" vip_up
  now_us
  seconds $((REPLY - t_keepalived))
  log "VRRP: lb1 is MASTER: $VIP and $GATEWAY up, $REPLY s after keepalived started"
  wait_until "$SETUP_DEADLINE_S" "IPVS: both relays in the virtual service (health checks passed)" both_relays_in
  now_us
  seconds $((REPLY - t_keepalived))
  log "IPVS: both real servers in, each after its first passed check, $REPLY s after keepalived started"
}

# ---- the sink and the relays -----------------------------------------------------------------

start_sink() {
  step "sink: sctprelay-client listen on $SINK_ADDR:$SINK_PORT"
  ip netns exec "$NS_SINK" "$CLIENT" listen "$SINK_PORT" --bind "$SINK_ADDR" --json >"$SINK_OUT" 2>"$WORK/sink.err" &
  pids+=("$!")
  wait_until "$SETUP_DEADLINE_S" "the sink listening" file_has "$SINK_OUT" '"event":"listening"'
}

file_has() {  # FILE TEXT (small files only: read by bash itself)
  [[ -e $1 && $(<"$1") == *"$2"* ]]
}

write_relay_config() {  # NAME ADDRESS
  cat >"$WORK/$1.yaml" <<EOF
# $1: one of the instances behind the virtual service; all the clients send goes to the sink.
log_level: info
listeners:
  - name: clients
    address: $2
    port: $PORT
    streams: 16
destinations:
  - name: sink
    address: $SINK_ADDR
    port: $SINK_PORT
    streams: 16
    reconnect: {min: 100ms, max: 1s}
routes:
  - {from: clients, to: sink}
control:
  socket: $WORK/$1.sock
EOF
}

start_relays() {
  step "relays: sctprelayd relay-a on $RELAY_A, relay-b on $RELAY_B, both forwarding to the sink"
  write_relay_config relay-a "$RELAY_A"
  write_relay_config relay-b "$RELAY_B"
  ip netns exec "$NS_A" "$DAEMON" --config "$WORK/relay-a.yaml" 2>"$WORK/relay-a.log" &
  relay_a_pid=$!
  pids+=("$relay_a_pid")
  ip netns exec "$NS_B" "$DAEMON" --config "$WORK/relay-b.yaml" 2>"$WORK/relay-b.log" &
  relay_b_pid=$!
  pids+=("$relay_b_pid")
  wait_until "$SETUP_DEADLINE_S" "relay-a connected to the sink" file_has "$WORK/relay-a.log" "destination sink up"
  wait_until "$SETUP_DEADLINE_S" "relay-b connected to the sink" file_has "$WORK/relay-b.log" "destination sink up"
  log "relay-a pid $relay_a_pid, relay-b pid $relay_b_pid: listening, destination sink up"
}

# How many of the relay's associations are the client's (sctprelayctl assocs --json, one line:
# the open ones under "associations" come first, the recently closed under "closed" after them).
relay_client_assocs() {  # NAME
  "$CTL" --socket "$WORK/$1.sock" --json assocs --listener clients >"$WORK/$1.assocs.json" \
    || fail "sctprelayctl assocs on $1 failed"
  REPLY=$(awk -v peer="\"peers\":[\"$CLIENT_ADDR:" '
    { i = index($0, "\"closed\":"); if (i) $0 = substr($0, 1, i - 1)
      while ((j = index($0, peer)) > 0) { n++; $0 = substr($0, j + length(peer)) } }
    END { print n + 0 }' "$WORK/$1.assocs.json")
}

# ---- the clients -----------------------------------------------------------------------------

count_events() {  # PREFIX EVENT
  local t name event n=0
  [[ -e $EVENTS ]] || { REPLY=0; return; }
  while read -r t name event _; do
    [[ $name == "$1"[0-9][0-9] && $event == "$2" ]] && n=$((n + 1))
  done <"$EVENTS"
  REPLY=$n
}
feeder_alive() {
  kill -0 "$feeder_pid" 2>/dev/null || fail "clients.sh exited: $(tail -n 5 "$WORK/clients.log")"
}

# Which relay forwarded each client's messages to the sink: the arrays via_a and via_b.
sink_routes() {
  local name relay
  via_a=() via_b=()
  while read -r name relay; do
    case $relay in
      "$RELAY_A") via_a+=("$name") ;;
      "$RELAY_B") via_b+=("$name") ;;
      *) fail "$name's messages came from $relay, neither relay" ;;
    esac
  done < <(awk 'match($0, /"peer":"[^"]*"/) {
      relay = substr($0, RSTART + 8, RLENGTH - 9); sub(/:[0-9]+$/, "", relay)
      if (match($0, /"data":"[a-z][0-9][0-9] seq=/)) {
        key = substr($0, RSTART + 8, 3) " " relay
        if (!(key in seen)) { seen[key]; print key } } }' "$SINK_OUT" | sort)
}
# Messages at the sink from clients named PREFIXnn: how many clients, how many messages in all, and
# the fewest of any one client ("clients messages fewest").
sink_counts() {  # PREFIX
  REPLY=$(awk -v p="\"data\":\"$1[0-9][0-9] seq=" '
    match($0, p) { n[substr($0, RSTART + 8, 3)]++; total++ }
    END { fewest = -1; for (c in n) { k++; if (fewest < 0 || n[c] < fewest) fewest = n[c] }
          print k + 0, total + 0, fewest < 0 ? 0 : fewest }' "$SINK_OUT")
}

clients_up() {  # PREFIX COUNT
  feeder_alive
  count_events "$1" exited
  [[ $REPLY -eq 0 ]] || fail "$REPLY client(s) ended before all were up: $(grep ' exited ' "$EVENTS" | head -n 3)"
  local up=0 f
  for f in "$WORK/clients/$1"[0-9][0-9].jsonl; do
    [[ -e $f && $(<"$f") == *'"event":"up"'* ]] && up=$((up + 1))
  done
  # The first new association after the failover: when it is first seen up.
  if [[ $1 == n && $up -gt 0 && -z $t_first_new ]]; then
    now_us
    t_first_new=$REPLY
  fi
  [[ $up -ge $2 ]]
}

flowing() {  # PREFIX CLIENTS MESSAGES_EACH: every client's messages at the sink, at least that many
  feeder_alive
  local clients fewest
  sink_counts "$1"
  read -r clients _ fewest <<<"$REPLY"
  [[ $clients -ge $2 && $fewest -ge $3 ]]
}

start_clients() {
  step "clients: $FIRST_CLIENTS associations to $VIP:$PORT, each sending 'cNN seq=N' every $SEND_INTERVAL_S s"
  mkdir -p "$WORK/clients"
  mkfifo "$WORK/clients.cmd"
  ip netns exec "$NS_CLIENT" bash "$HERE/scale_out/clients.sh" "$CLIENT" "$VIP" "$PORT" "$WORK/clients" "$SEND_INTERVAL_S" \
    <"$WORK/clients.cmd" >"$WORK/clients.log" 2>&1 &
  feeder_pid=$!
  pids+=("$feeder_pid")
  exec {cmd_fd}>"$WORK/clients.cmd"
  echo "spawn c $FIRST_CLIENTS" >&"$cmd_fd"
  wait_until "$SETUP_DEADLINE_S" "all $FIRST_CLIENTS associations up" clients_up c "$FIRST_CLIENTS"
  wait_until "$SETUP_DEADLINE_S" "10 messages of each of the $FIRST_CLIENTS clients at the sink" \
    flowing c "$FIRST_CLIENTS" 10
  local total fewest
  sink_counts c
  read -r _ total fewest <<<"$REPLY"
  log "all $FIRST_CLIENTS up and sending: $total messages at the sink so far, at least $fewest from each"
}

check_spread() {
  step "spread: each relay's associations (sctprelayctl assocs) and which relay forwarded each client"
  local a b
  relay_client_assocs relay-a
  a=$REPLY
  relay_client_assocs relay-b
  b=$REPLY
  log "associations from $CLIENT_ADDR: relay-a $a, relay-b $b (sctprelayctl assocs --json)"
  [[ $a -gt 0 && $b -gt 0 ]] || fail "the virtual service did not spread the associations: relay-a $a, relay-b $b"
  [[ $((a + b)) -eq $FIRST_CLIENTS ]] || fail "relay-a $a + relay-b $b associations from the client, expected $FIRST_CLIENTS"
  sink_routes
  on_a=("${via_a[@]}") on_b=("${via_b[@]}")
  log "at the sink through relay-a: ${#on_a[@]} clients (${on_a[*]})"
  log "at the sink through relay-b: ${#on_b[@]} clients (${on_b[*]})"
  [[ ${#on_a[@]} -eq $a && ${#on_b[@]} -eq $b ]] \
    || fail "the sink's view (clients through each relay) differs from sctprelayctl's"
  echo "---- ipvsadm -Ln before the failover"
  ipvs_table | tee "$WORK/ipvsadm-before.txt"
}

# ---- the failover ----------------------------------------------------------------------------

t_kill='' t_first_end='' t_last_end='' t_removed='' t_first_new='' t_keepalived='' t_spawn='' ended=0

# Reads the clients' events: relay-a's that have exited (count, first and last time) and any
# other client that has ended (a failure).
scan_ends() {
  local t name event n=0 first='' last='' c
  declare -A on_relay_a=()
  for c in "${on_a[@]}"; do on_relay_a[$c]=1; done
  while read -r t name event _; do
    [[ $event == exited ]] || continue
    [[ -n ${on_relay_a[$name]:-} ]] || fail "$name, a client of the surviving relay-b, ended: $(<"$WORK/clients/$name.err")"
    n=$((n + 1))
    [[ -n $first ]] || first=${t/./}
    last=${t/./}
  done <"$EVENTS"
  ended=$n t_first_end=$first t_last_end=$last
}

failover_done() {
  feeder_alive
  if [[ -z $t_removed ]] && ipvs_lacks "$RELAY_A"; then
    now_us
    t_removed=$REPLY
  fi
  scan_ends
  [[ -n $t_removed && $ended -eq ${#on_a[@]} ]]
}

# How relay-a's clients saw their associations end: by the last "down" event each printed
# (COMM_LOST: an ABORT; SHUTDOWN_COMP: a graceful shutdown), or, with none, by a send that failed
# first; and the first client's error line.
how_they_ended() {
  local c line state summary='' example=''
  declare -A n=()
  for c in "${on_a[@]}"; do
    state='no down event, a send failed first'
    while IFS= read -r line; do
      [[ $line =~ \"event\":\"down\".*\"state\":\"([A-Z_]+)\" ]] && state=${BASH_REMATCH[1]}
    done <"$WORK/clients/$c.jsonl"
    n[$state]=$((${n[$state]:-0} + 1))
    [[ -n $example || ! -s $WORK/clients/$c.err ]] || read -r example <"$WORK/clients/$c.err"
  done
  for state in "${!n[@]}"; do
    summary+="${summary:+; }${n[$state]}: $state"
  done
  log "how relay-a's clients saw the end: $summary${example:+ (e.g. \"${example#* }\")}"
}

kill_relay_a() {
  step "failover: kill -9 relay-a (pid $relay_a_pid) under load"
  echo "mark kill" >&"$cmd_fd"
  wait_until 10 "the clients' written counts at the kill" test -e "$WORK/clients/written-kill.txt"
  disown "$relay_a_pid"  # no "Killed" job notice from bash
  now_us
  t_kill=$REPLY
  kill -9 "$relay_a_pid"
  log "killed relay-a"
  wait_until "$FAILOVER_DEADLINE_S" \
    "relay-a taken out of IPVS by keepalived's health check, and all its clients' associations ended" failover_done
  seconds $((t_removed - t_kill))
  log "keepalived removed $RELAY_A $REPLY s after the kill; relay-a's ${#on_a[@]} clients saw their associations end"
  how_they_ended
  grep -E 'Misc check .*198\.51\.100\.11.*(failed|timed out)|Removing service \[198\.51\.100\.11\]' \
    "$WORK/keepalived.log" | tail -n 2 | sed 's/^/    keepalived: /' || true
}

new_associations() {
  step "after the failover: $NEW_CLIENTS new associations to $VIP:$PORT"
  now_us
  t_spawn=$REPLY
  echo "spawn n $NEW_CLIENTS" >&"$cmd_fd"
  wait_until "$SETUP_DEADLINE_S" "$NEW_CLIENTS new associations up" clients_up n "$NEW_CLIENTS"
  wait_until "$SETUP_DEADLINE_S" "10 messages of each new association at the sink" flowing n "$NEW_CLIENTS" 10
  local b
  sink_routes
  [[ " ${via_a[*]}" != *" n"* ]] || fail "new associations went to the dead relay-a: ${via_a[*]}"
  relay_client_assocs relay-b
  b=$REPLY
  log "relay-b now has $b associations from $CLIENT_ADDR (sctprelayctl assocs --json): its ${#on_b[@]} and the $NEW_CLIENTS new ones"
  [[ $b -eq $((${#on_b[@]} + NEW_CLIENTS)) ]] \
    || fail "relay-b has $b associations from the client, expected its ${#on_b[@]} plus the $NEW_CLIENTS new ones"
  echo "---- ipvsadm -Ln after the failover"
  ipvs_table | tee "$WORK/ipvsadm-after.txt"
}

stop_clients() {
  step "stop: each client sends what it has, waits for the relay's acknowledgement, shuts down"
  echo stop >&"$cmd_fd"
  exec {cmd_fd}>&-
  cmd_fd=''
  wait_gone "$feeder_pid" 90 || fail "the clients did not finish within 90 s of stop"
  wait "$feeder_pid" || fail "clients.sh failed: $(tail -n 5 "$WORK/clients.log")"
  [[ -s $WORK/clients/result.txt ]] || fail "clients.sh wrote no result"
}

verify() {  # MODE: report, or complete (only whether all that should be there is)
  awk -f "$HERE/scale_out/verify.awk" -v killed="$RELAY_A" -v survivor="$RELAY_B" \
    -v min_after="$MIN_AFTER_KILL" -v mode="$1" \
    "$WORK/clients/result.txt" "$WORK/clients/written-kill.txt" "$SINK_OUT"
}

# relay-b's clients and the new ones noticed nothing: their output holds their "up", the "down"
# of the shutdown they started at the end, the summary, and nothing else (no ABORT, no path
# event, no failed send).
check_survivors_quiet() {
  local c f line
  for c in "${on_b[@]}" $(printf 'n%02d ' $(seq 0 $((NEW_CLIENTS - 1)))); do
    f=$WORK/clients/$c.jsonl
    while IFS= read -r line; do
      case $line in
        *'"event":"up"'* | *'"event":"summary"'*'"exit":0'* | *'"event":"down"'*'"state":"SHUTDOWN_COMP"'*) ;;
        *) fail "$c, whose association stayed up, printed: $line" ;;
      esac
    done <"$f"
  done
  log "relay-b's ${#on_b[@]} clients and the $NEW_CLIENTS new ones: up, then only their own shutdown at the end"
}

verify_delivery() {
  step "delivery: every message of every association that stayed up, exactly once, in order"
  check_survivors_quiet
  # The survivor may still be forwarding the last messages its clients sent.
  wait_until 30 "every message of the clients that ended cleanly at the sink" verify complete
  verify report | tee "$WORK/verify.txt" || fail "delivery check failed (the PROBLEM lines above)"
}

stop_relay_b() {
  step "relay-b: SIGTERM, clean exit, no sanitizer report"
  kill -TERM "$relay_b_pid"
  wait_gone "$relay_b_pid" 30 || fail "relay-b did not exit within 30 s of SIGTERM"
  local rc=0
  wait "$relay_b_pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "relay-b exited with status $rc"
  if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/relay-a.log" "$WORK/relay-b.log"; then
    fail "a sanitizer report in a relay's log"
  fi
}

print_timeline() {
  step "failover timeline (from kill -9 of relay-a)"
  local line
  timeline_line() {  # TIME_US TEXT
    local sign='+' d=$(($1 - t_kill))
    [[ $d -ge 0 ]] || { sign='-' d=$((-d)); }
    seconds "$d"
    printf '  %s%6s s  %s\n' "$sign" "$REPLY" "$2"
  }
  timeline_line "$t_kill" "kill -9 relay-a ($RELAY_A, pid $relay_a_pid)"
  timeline_line "$t_first_end" "first of relay-a's clients saw its association end (client exited)"
  timeline_line "$t_last_end" "last of relay-a's ${#on_a[@]} clients saw its association end"
  timeline_line "$t_removed" "keepalived removed $RELAY_A:$PORT from the virtual service (ipvsadm -Ln)"
  timeline_line "$t_spawn" "the test starts $NEW_CLIENTS new clients"
  timeline_line "$t_first_new" "first new association up (seen in its client's output), on relay-b"
  line=$(awk '$2 == "killed" && $8 ~ /^[0-9]+$/ { s += $8 } END { print s + 0 }' "$WORK/verify.txt")
  log "relay-b's clients: nothing lost, duplicated or reordered; relay-a's: $line message(s) they sent never reached the sink (lost with relay-a)"
}

main() {
  check_preconditions
  build_network
  start_keepalived
  start_sink
  start_relays
  wait_balancer
  start_clients
  check_spread
  kill_relay_a
  new_associations
  stop_clients
  verify_delivery
  stop_relay_b
  print_timeline
  log "PASS"
}

main
