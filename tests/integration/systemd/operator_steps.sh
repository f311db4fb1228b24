#!/usr/bin/env bash
# The guest half of tests/integration/systemd_operator_test.sh: runs as root inside the VM with
# systemd as PID 1 and drives sctprelayd the way an operator does: install, configure, start,
# send, edit + reload, a broken edit + reload, stop. Every step asserts what the operator would
# look at (systemctl, journalctl, ps, what the peers received) and prints PASS or FAIL. The first
# failing step ends the run with exit status 1 after printing the journal for diagnosis.
#
# Environment: BUILD_DIR (required: a configured and built tree; its CMAKE_INSTALL_PREFIX is used,
# by default /usr/local).
# Everything it installs lands in the VM's throwaway overlay.
set -uo pipefail

readonly BUILD_DIR=${BUILD_DIR:?BUILD_DIR must name the build directory}
# Where `cmake --install` puts things: whatever the build tree was configured with (the unit's
# ExecStart= path is filled in at configure time, so a different --prefix here would not work).
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt"; }
PREFIX=$(cache_value CMAKE_INSTALL_PREFIX)
UNIT_DIR=$(cache_value SYSTEMD_UNIT_DIR)
readonly PREFIX=${PREFIX:-/usr/local}
readonly UNIT_DIR=${UNIT_DIR:-$PREFIX/lib/systemd/system}
readonly UNIT=sctprelayd
readonly CONF=/etc/sctprelayd/sctprelayd.yaml
readonly CLIENT=$PREFIX/bin/sctprelay-client
readonly CTL=$PREFIX/sbin/sctprelayctl
# Users for the control socket's permissions: one in the socket's group, one not.
readonly OPERATOR_USER=sctprelay-op OUTSIDER_USER=sctprelay-outsider
readonly LISTEN_PORT=47100 PORT_A=47101 PORT_B=47102
# `systemd-analyze security` of the installed unit may not rise above this (docs/systemd.md).
readonly MAX_EXPOSURE=1.4
# Emulated CPU: everything is slow, so every wait gets a generous deadline.
DEADLINE_S=60  # not readonly: one step waits longer
readonly POLL_S=0.2

WORK=$(mktemp -d /tmp/sctprelayd-operator.XXXXXX)
readonly WORK
SINK_A=$WORK/sink-a.log
SINK_B=$WORK/sink-b.log
sink_pids=()

# ---- reporting and waiting ----------------------------------------------------------------

note() { echo "    $*"; }
bad() { echo "    FAIL: $*"; return 1; }

# check DESCRIPTION COMMAND...: runs COMMAND once; prints ok/FAIL.
check() {
  local what=$1
  shift
  if "$@"; then
    note "ok: $what"
  else
    bad "$what"
  fi
}

# wait_for DESCRIPTION COMMAND...: polls COMMAND until it succeeds, for at most DEADLINE_S.
wait_for() {
  local what=$1 tries i start=$SECONDS
  shift
  tries=$(awk -v d="$DEADLINE_S" -v p="$POLL_S" 'BEGIN { printf "%d", d / p }')
  for ((i = 0; i < tries; i++)); do
    if "$@"; then
      note "ok: $what ($((SECONDS - start)) s)"
      return 0
    fi
    sleep "$POLL_S"
  done
  bad "$what (not within ${DEADLINE_S} s)"
}

# ---- what the operator looks at -----------------------------------------------------------

prop() { systemctl show -p "$1" --value "$UNIT"; }
journal() { journalctl -u "$UNIT" -o cat --no-pager -q; }
# Lines of the unit's journal matching an extended regex.
journal_count() { journal | grep -cE -- "$1"; }
journal_has() { journal | grep -qE -- "$1"; }
journal_count_above() { (($(journal_count "$1") > $2)); }

# Message lines a sink has printed (events such as up/down/summary start with their name).
# A payload with spaces is printed quoted: data="seq=0 stream=0 pqr...".
sink_messages() { grep -c '^assoc=' "$1"; }
sink_count_is() { [[ $(sink_messages "$1") -eq $2 ]]; }
sink_count_at_least() { [[ $(sink_messages "$1") -ge $2 ]]; }
sink_has() { grep -qE -- "$2" "$1"; }
# destination_up NAME: sctprelayctl says the destination is up.
destination_up() {
  "$CTL" --json destinations 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(x["name"] == sys.argv[1] and x["state"] == "up" for x in d["destinations"]) else 1)' "$1"
}

send() { "$CLIENT" send --timeout "$DEADLINE_S" 127.0.0.1 "$LISTEN_PORT" "$@" >>"$WORK/send.log" 2>&1; }

# ---- the configuration the operator writes --------------------------------------------------

# write_config TARGET: one listener, peers a and b, every message from the listener to TARGET.
write_config() {
  cat >"$CONF" <<EOF
# sctprelayd for the systemd operator test
log_level: info
limits:
  shutdown_drain: 2s
listeners:
  - name: edge
    address: 127.0.0.1
    port: $LISTEN_PORT
destinations:
  - name: a
    address: 127.0.0.1
    port: $PORT_A
    reconnect: {min: 100ms, max: 1s}
  - name: b
    address: 127.0.0.1
    port: $PORT_B
    reconnect: {min: 100ms, max: 1s}
routes:
  - name: all
    from: edge
    to: $1
default:
  action: drop
control:
  group: sctprelay
EOF
  chmod 0644 "$CONF"
}

# ---- the steps ------------------------------------------------------------------------------

install_quietly() { cmake --install "$BUILD_DIR" >"$WORK/install.log" 2>&1; }

step_install() {
  check "cmake --install $BUILD_DIR (prefix $PREFIX)" install_quietly || { cat "$WORK/install.log"; return 1; }
  check "unit installed at $UNIT_DIR/$UNIT.service" test -f "$UNIT_DIR/$UNIT.service" || return 1
  check "daemon, sctprelayctl and client installed" test -x "$PREFIX/sbin/sctprelayd" -a -x "$CTL" -a -x "$CLIENT" || return 1
  check "group sctprelay created (sysusers.d)" getent group sctprelay || return 1
  check "man sctprelayd.yaml renders" bash -c "man -P cat sctprelayd.yaml 2>/dev/null | grep -q 'listeners'" || return 1
  local page
  for page in sctprelayd sctprelayctl sctprelay-client; do
    check "man $page renders" bash -c "man -P cat $page 2>/dev/null | grep -q 'SYNOPSIS'" || return 1
  done
  check "default config installed at $CONF" test -s "$CONF" || return 1
  check "sysctl drop-in installed at $PREFIX/lib/sysctl.d/60-sctprelayd.conf" \
    test -s "$PREFIX/lib/sysctl.d/60-sctprelayd.conf" || return 1
  # As the README says: without CAP_NET_ADMIN the daemon gets buffers up to these limits only.
  check "sysctl --system applies it" bash -c "sysctl --system >/dev/null" || return 1
  check "net.core.rmem_max = 33554432" test "$(sysctl -n net.core.rmem_max)" = 33554432 || return 1
  check "net.core.wmem_max = 33554432" test "$(sysctl -n net.core.wmem_max)" = 33554432 || return 1
  check "systemctl daemon-reload" systemctl daemon-reload || return 1
  check "systemd knows the unit (LoadState=loaded)" test "$(prop LoadState)" = loaded || return 1
  check "unit points at the installed binary" \
    grep -q "^ExecStart=$PREFIX/sbin/sctprelayd --config $CONF\$" "$UNIT_DIR/$UNIT.service"
}

step_configure() {
  "$CLIENT" listen --bind 127.0.0.1 --timeout 1200 "$PORT_A" >"$SINK_A" 2>&1 &
  sink_pids+=($!)
  "$CLIENT" listen --bind 127.0.0.1 --timeout 1200 "$PORT_B" >"$SINK_B" 2>&1 &
  sink_pids+=($!)
  wait_for "sink a listening on $PORT_A" sink_has "$SINK_A" "^listening port=$PORT_A" || return 1
  wait_for "sink b listening on $PORT_B" sink_has "$SINK_B" "^listening port=$PORT_B" || return 1
  write_config a
  check "config written (routes to a) and accepted by sctprelayd --check" \
    "$PREFIX/sbin/sctprelayd" --check --config "$CONF"
}

MAIN_PID=

step_start() {
  # Enabled, as in production. It also keeps the unit loaded once stopped (an unreferenced
  # inactive unit is garbage-collected, and `systemctl show` would then report defaults, not
  # how the daemon exited).
  check "systemctl enable $UNIT" systemctl enable -q "$UNIT" || return 1
  check "is-enabled = enabled" test "$(systemctl is-enabled "$UNIT")" = enabled || return 1
  check "systemctl start $UNIT" timeout "$DEADLINE_S" systemctl start "$UNIT" || return 1
  check "is-active = active" test "$(systemctl is-active "$UNIT")" = active || return 1
  check "SubState = running" test "$(prop SubState)" = running || return 1
  # STATUS= arrives together with READY=1 (Type=notify): proof that the notification got through.
  local status
  status=$(prop StatusText)
  check "READY reached: StatusText='$status'" [ "${status#relaying: }" != "$status" ] || return 1
  note "$(systemctl show -p MainPID -p User -p DynamicUser -p Type -p NRestarts -p ActiveEnterTimestamp "$UNIT" | tr '\n' ' ')"
  # Under the hardened unit (no CAP_NET_ADMIN) the listener gets the receive buffer it asks for.
  check "no buffer warning in the journal (the listener got its 8 MiB)" \
    bash -c "! journalctl -u $UNIT -o cat --no-pager -q | grep -q 'receive buffer is'" || return 1
  MAIN_PID=$(prop MainPID)
  check "MainPID $MAIN_PID is a running sctprelayd" test "$(ps -o comm= -p "$MAIN_PID")" = sctprelayd || return 1
  local uid user
  uid=$(ps -o uid= -p "$MAIN_PID" | tr -d ' ')
  user=$(ps -o user= -p "$MAIN_PID" | tr -d ' ')
  note "daemon runs as user '$user' (uid $uid)"
  check "not root" test "$uid" -ne 0 || return 1
  # systemd allocates DynamicUser= uids from 61184-65519.
  check "uid $uid is a dynamic one (61184-65519)" test "$uid" -ge 61184 -a "$uid" -le 65519 || return 1
  # The sandbox is really in force (so the SCTP traffic below proves it allows SCTP): seccomp
  # filters (SystemCallFilter=, RestrictAddressFamilies=, MemoryDenyWriteExecute=, ...), no new
  # privileges, and no capability beyond CAP_NET_BIND_SERVICE (bit 10).
  check "NoNewPrivs set" grep -qE '^NoNewPrivs:[[:space:]]+1$' "/proc/$MAIN_PID/status" || return 1
  check "seccomp filter mode (Seccomp: 2)" grep -qE '^Seccomp:[[:space:]]+2$' "/proc/$MAIN_PID/status" || return 1
  local cap_eff
  cap_eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$MAIN_PID/status")
  check "effective capabilities $cap_eff: at most CAP_NET_BIND_SERVICE" \
    test $((16#$cap_eff & ~(1 << 10))) -eq 0 || return 1
  wait_for "journal: destination a up" journal_has "^destination a up" || return 1
  wait_for "journal: destination b up" journal_has "^destination b up" || return 1
  wait_for "sink a sees the relay's association" sink_has "$SINK_A" "^up assoc=" || return 1
  wait_for "sink b sees the relay's association" sink_has "$SINK_B" "^up assoc=" || return 1
}

step_send_to_a() {
  check "client sends 20 messages on streams 0-3" send --count 20 --size 100 --streams 0-3 || return 1
  wait_for "20 messages at sink a" sink_count_at_least "$SINK_A" 20 || return 1
  check "exactly 20 at sink a" sink_count_is "$SINK_A" 20 || return 1
  check "none at sink b" sink_count_is "$SINK_B" 0 || return 1
  local n
  for ((n = 0; n < 20; n++)); do
    # Message n was sent on stream n % 4, and the relay keeps the stream.
    sink_has "$SINK_A" "^assoc=.* stream=$((n % 4)) .* data=\"?seq=$n stream=$((n % 4)) " ||
      bad "message seq=$n (stream $((n % 4))) missing or altered at sink a" || return 1
  done
  note "ok: seq=0..19 each arrived once on its own stream"
  check "journal: the client's association was accepted" journal_has "^association up: listener edge" || return 1
  check "the journal has no errors so far" test "$(journal | grep -c '^error:')" -eq 0
}

step_reload_to_b() {
  write_config b
  check "config edited: routes now go to b" grep -q '^    to: b$' "$CONF" || return 1
  # `systemctl reload` returns once the new routes are in force: the client sends at once.
  check "systemctl reload $UNIT" timeout "$DEADLINE_S" systemctl reload "$UNIT" || return 1
  check "client sends 10 messages right after it returns" send --stream 2 < <(printf 'after-reload-%d\n' {1..10}) || return 1
  check "journal: reload applied (generation 2)" journal_has "^reload applied: generation 2: " || return 1
  check "MainPID unchanged ($MAIN_PID)" test "$(prop MainPID)" = "$MAIN_PID" || return 1
  check "is-active = active" test "$(systemctl is-active "$UNIT")" = active || return 1
  wait_for "10 messages at sink b" sink_count_at_least "$SINK_B" 10 || return 1
  check "they are the new ones (after-reload-1..10)" \
    test "$(grep -cE '^assoc=.* stream=2 .* data="?after-reload-([1-9]|10)"?$' "$SINK_B")" -eq 10 || return 1
  check "sink a got nothing new (still 20)" sink_count_is "$SINK_A" 20
}

step_broken_reload() {
  cat >"$CONF" <<EOF
# sctprelayd for the systemd operator test: a typo in the route target
listeners:
  - name: edge
    address: 127.0.0.1
    port: $LISTEN_PORT
destinations:
  - name: a
    address: 127.0.0.1
    port: $PORT_A
  - name: b
    address: 127.0.0.1
    port: $PORT_B
routes:
  - name: all
    from: edge
    to: bb
EOF
  # Where the error must point: the value "bb".
  local line col
  line=$(grep -n '^    to: bb$' "$CONF" | cut -d: -f1)
  col=$(($(sed -n "${line}p" "$CONF" | awk '{ print index($0, "bb") }')))
  local expected="$CONF:$line:$col: routes\\[0\\]\\.to: "
  local rejected_before applied_before
  rejected_before=$(journal_count '^error: reload rejected')
  applied_before=$(journal_count '^reload applied: ')
  if timeout "$DEADLINE_S" systemctl reload "$UNIT" 2>"$WORK/reload.err"; then
    bad "systemctl reload succeeded with a broken config" || return 1
  fi
  note "ok: systemctl reload failed: $(head -n 1 "$WORK/reload.err")"
  # Why: sctprelayctl reload (ExecReload=) printed the daemon's answer, and `systemctl status` shows it.
  check "journal: $CONF:$line:$col: routes[0].to: ..." journal_has "$expected" || return 1
  check "systemctl status shows why" bash -c "systemctl status --no-pager -l $UNIT 2>&1 | grep -qE -- '$expected|reload refused'" || return 1
  note "    $(journal | grep -E -- "$expected" | tail -n 1)"
  check "is-active = active" test "$(systemctl is-active "$UNIT")" = active || return 1
  check "MainPID unchanged ($MAIN_PID)" test "$(prop MainPID)" = "$MAIN_PID" || return 1
  check "client sends 7 messages" send --stream 1 < <(printf 'after-broken-%d\n' {1..7}) || return 1
  wait_for "17 messages at sink b" sink_count_at_least "$SINK_B" 17 || return 1
  check "the 7 new ones are after-broken-1..7" \
    test "$(grep -cE '^assoc=.* stream=1 .* data="?after-broken-[1-7]"?$' "$SINK_B")" -eq 7 || return 1
  check "sink a still has 20" sink_count_is "$SINK_A" 20 || return 1
  check "the daemon refused it once and applied nothing" \
    test "$(journal_count '^error: reload rejected')" -eq $((rejected_before + 1)) -a \
    "$(journal_count '^reload applied: ')" -eq "$applied_before"
}

step_stop() {
  check "systemctl stop $UNIT" timeout "$DEADLINE_S" systemctl stop "$UNIT" || return 1
  check "is-active = inactive" test "$(systemctl is-active "$UNIT")" = inactive || return 1
  note "$(systemctl show -p Result -p ExecMainPID -p ExecMainCode -p ExecMainStatus -p ExecMainExitTimestamp "$UNIT" | tr '\n' ' ')"
  check "Result = success" test "$(prop Result)" = success || return 1
  # The record of this very process (not defaults): its pid, and that it exited (CLD_EXITED = 1) with 0.
  check "ExecMainPID = $MAIN_PID" test "$(prop ExecMainPID)" = "$MAIN_PID" || return 1
  check "ExecMainCode = 1 (exited, not killed)" test "$(prop ExecMainCode)" = 1 || return 1
  check "ExecMainStatus = 0" test "$(prop ExecMainStatus)" = 0 || return 1
  check "process $MAIN_PID is gone" test -z "$(ps -o pid= -p "$MAIN_PID")" || return 1
  wait_for "journal: stopping (drain)" journal_has "^stopping: draining" || return 1
  wait_for "journal: stopped" journal_has "^stopped$" || return 1
  wait_for "sink a: the relay shut its association down gracefully" \
    sink_has "$SINK_A" "^down assoc=[0-9]+ state=SHUTDOWN_COMP" || return 1
  wait_for "sink b: the relay shut its association down gracefully" \
    sink_has "$SINK_B" "^down assoc=[0-9]+ state=SHUTDOWN_COMP"
}

step_security() {
  local report exposure
  report=$(systemd-analyze security --no-pager "$UNIT.service" 2>&1)
  # What is still counted (each is explained in docs/systemd.md), and the score.
  grep -E '✗|Overall' <<<"$report" | sed 's/^/    /'
  exposure=$(sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p' <<<"$report")
  check "systemd-analyze security: exposure ${exposure:-?} (at most $MAX_EXPOSURE)" \
    awk -v e="${exposure:-99}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'
}

# A file whose max_message_size is above 2 x net.core.wmem_max: `systemctl reload` succeeds (a
# warning is not an error) and the daemon, in the unit's sandbox where ProcSubset=pid hides
# /proc/sys, still knows wmem_max and says so in the journal.
step_reload_with_warning() {
  write_config b
  sed -i 's/^  shutdown_drain: 2s$/  shutdown_drain: 2s\n  max_message_size: 100MiB\n  max_reassembly_bytes: 128MiB/' "$CONF"
  check "config edited: max_message_size 100MiB" grep -q '^  max_message_size: 100MiB$' "$CONF" || return 1
  local applied_before
  applied_before=$(journal_count '^reload applied: ')
  check "systemctl reload $UNIT" timeout "$DEADLINE_S" systemctl reload "$UNIT" || return 1
  wait_for "journal: the warning names wmem_max (67108864 = 2 x 33554432)" \
    journal_has "limits.max_message_size: warning: 100MiB .* 2 x net.core.wmem_max = 67108864 bytes" || return 1
  wait_for "journal: reload applied" journal_count_above '^reload applied: ' "$applied_before" || return 1
  check "is-active = active" test "$(systemctl is-active "$UNIT")" = active || return 1
  check "MainPID unchanged ($MAIN_PID)" test "$(prop MainPID)" = "$MAIN_PID"
}

# The control socket: root and members of its group (control.group) may use it, others may not.
step_control_access() {
  id "$OPERATOR_USER" >/dev/null 2>&1 || useradd --no-create-home --groups sctprelay "$OPERATOR_USER" || return 1
  id "$OUTSIDER_USER" >/dev/null 2>&1 || useradd --no-create-home "$OUTSIDER_USER" || return 1
  local sock=/run/sctprelayd/control.sock
  check "control socket $sock exists" test -S "$sock" || return 1
  note "$(stat -c '%A %U:%G %n' "$sock")"
  check "socket mode 0660, group sctprelay" test "$(stat -c '%a %G' "$sock")" = "660 sctprelay" || return 1
  check "root: sctprelayctl status" bash -c "'$CTL' status >'$WORK/ctl-root.out' 2>&1" || { cat "$WORK/ctl-root.out"; return 1; }
  sed 's/^/      /' "$WORK/ctl-root.out" | head -n 20
  check "status names the config file and listener edge" \
    bash -c "grep -q '$CONF' '$WORK/ctl-root.out' && grep -q edge '$WORK/ctl-root.out'" || return 1
  check "$OPERATOR_USER (group sctprelay): sctprelayctl status" \
    runuser -u "$OPERATOR_USER" -- "$CTL" status >/dev/null || return 1
  check "$OPERATOR_USER: sctprelayctl --json assocs lists the client's association" \
    bash -c "runuser -u '$OPERATOR_USER' -- '$CTL' --json assocs | grep -q 'edge'" || return 1
  local rc=0
  runuser -u "$OUTSIDER_USER" -- "$CTL" status >"$WORK/ctl-outsider.out" 2>&1 || rc=$?
  note "$OUTSIDER_USER: exit $rc: $(head -n 1 "$WORK/ctl-outsider.out")"
  check "$OUTSIDER_USER (not in the group) is refused (exit 3)" test "$rc" -eq 3 || return 1
  check "and told why (permission)" grep -qi 'permission' "$WORK/ctl-outsider.out" || return 1
  wait_for "StatusText is the live summary" \
    bash -c "systemctl show -p StatusText --value $UNIT | grep -qE '^relaying: [0-9]+ associations on 1 listeners, destinations 2/2 up'"
}

# A loop that stops turning (SIGSTOP) stops feeding the watchdog: systemd kills the daemon and
# starts a new one, which relays again.
step_watchdog() {
  check "WatchdogUSec = 20s" test "$(prop WatchdogUSec)" = 20s || return 1
  local restarts_before old=$MAIN_PID
  restarts_before=$(prop NRestarts)
  check "SIGSTOP the daemon ($MAIN_PID)" kill -STOP "$MAIN_PID" || return 1
  DEADLINE_S=120 wait_for "a new daemon runs (NRestarts > $restarts_before)" \
    bash -c "test \"\$(systemctl show -p NRestarts --value $UNIT)\" -gt $restarts_before && systemctl is-active -q $UNIT" || return 1
  check "journal: watchdog timeout" bash -c "journalctl -u $UNIT --no-pager -q | grep -qi 'watchdog timeout'" || return 1
  MAIN_PID=$(prop MainPID)
  check "new MainPID $MAIN_PID (was $old)" test "$MAIN_PID" != "$old" -a -n "$MAIN_PID" || return 1
  check "the stopped process is gone" test -z "$(ps -o pid= -p "$old")" || return 1
  wait_for "the new daemon's destination b is up (sctprelayctl destinations)" destination_up b || return 1
  local before
  before=$(sink_messages "$SINK_B")
  check "client sends 5 messages" send --stream 3 < <(printf 'after-watchdog-%d\n' {1..5}) || return 1
  wait_for "they reach sink b" sink_count_at_least "$SINK_B" $((before + 5))
}

# ---- driver ---------------------------------------------------------------------------------

diagnose() {
  echo "==== systemctl status $UNIT"
  systemctl status --no-pager -l "$UNIT" 2>&1 | head -n 30
  echo "==== journalctl -u $UNIT --no-pager"
  journalctl -u "$UNIT" --no-pager 2>&1 | tail -n 150
  local f
  for f in "$SINK_A" "$SINK_B" "$WORK/send.log"; do
    echo "==== $f (last 30 lines)"
    tail -n 30 "$f" 2>/dev/null
  done
}

cleanup() {
  local pid
  for pid in "${sink_pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
  userdel "$OPERATOR_USER" 2>/dev/null
  userdel "$OUTSIDER_USER" 2>/dev/null
}

main() {
  trap cleanup EXIT
  echo "systemd operator test: $(systemctl --version | head -n 1), kernel $(uname -r)"
  local steps=(
    "1 install:step_install"
    "2 configure:step_configure"
    "3 start:step_start"
    "4 security exposure:step_security"
    "5 send to a:step_send_to_a"
    "6 reload to b:step_reload_to_b"
    "7 broken reload:step_broken_reload"
    "8 reload with a warning:step_reload_with_warning"
    "9 control socket access:step_control_access"
    "10 watchdog:step_watchdog"
    "11 stop:step_stop"
  )
  local entry name fn start
  for entry in "${steps[@]}"; do
    name=${entry%%:*}
    fn=${entry#*:}
    echo "== step $name"
    start=$SECONDS
    if ! "$fn"; then
      echo "FAIL step $name ($((SECONDS - start)) s)"
      diagnose
      return 1
    fi
    echo "PASS step $name ($((SECONDS - start)) s)"
  done
  echo "PASS: all steps"
}

main "$@"
