#!/usr/bin/env bash
# The client side of tests/integration/scale_out_ipvs_test.sh, run inside the client's network
# namespace: many sctprelay-client associations sending numbered messages continuously, each
# message saying which association sent it.
#
# Each client is `sctprelay-client send HOST PORT --json` reading its stdin from a pipe this script
# writes: every INTERVAL seconds each running client gets its next line "<name> seq=<n>" (n from 0),
# so the sink can tell which association a message came from and check their order. The loop uses
# bash builtins only: under the test VM's emulated CPU every program started costs a good part of
# a second.
#
# Outputs in DIR: <name>.jsonl and <name>.err (each client's stdout and stderr); events.log, one
# "<unix time> <name> <event> <details>" line per started and exited client (seen within one
# INTERVAL); written-<label>.txt after `mark`; result.txt at the end, one
# "<name> <exit status> <messages sent> <lines written>" line per client, status and sent from the
# client's own summary line (`-` where it printed none).
#
# Commands, one per line on stdin:
#   spawn PREFIX COUNT  start COUNT more clients: PREFIX00, PREFIX01, ...
#   mark LABEL          write written-LABEL.txt: "<name> <lines written so far>" per client
#   stop                stop feeding: each client sends what it has, waits until the relay has
#                       acknowledged all of it, shuts down and exits; then result.txt, and exit 0
# End of stdin counts as stop.
#
# Usage: clients.sh CLIENT HOST PORT DIR INTERVAL
set -uo pipefail

[[ $# -eq 5 ]] || { echo "usage: clients.sh CLIENT HOST PORT DIR INTERVAL" >&2; exit 1; }
readonly CLIENT=$1 HOST=$2 PORT=$3 DIR=$4 INTERVAL=$5
readonly STOP_GRACE_S=60

names=() pids=() fds=() written=() running=()

# A client that has ended closes its pipe: writing to it then fails with EPIPE instead of a signal.
trap '' PIPE
# The test's cleanup stops us with SIGTERM: take the clients along.
on_term() {
  local pid
  for pid in "${pids[@]}"; do
    [[ $pid == - ]] || kill "$pid" 2>/dev/null
  done
  exit 143
}
trap on_term TERM

event() { printf '%s %s %s\n' "$EPOCHREALTIME" "$1" "$2" >>"$DIR/events.log"; }

# A read that never gets data: `read -t` on it is a sleep without starting a program.
mkfifo "$DIR/.tick"
exec {tick_fd}<>"$DIR/.tick"
pause() { read -r -t "$1" -u "$tick_fd" _; }

spawn() {  # PREFIX COUNT
  local prefix=$1 count=$2 first=0 i n name fd
  for n in "${names[@]}"; do
    [[ $n == "$prefix"[0-9][0-9] ]] && first=$((first + 1))
  done
  for ((i = first; i < first + count; i++)); do
    printf -v name '%s%02d' "$prefix" "$i"
    exec {fd}> >(exec "$CLIENT" send "$HOST" "$PORT" --json --timeout 600 \
      >"$DIR/$name.jsonl" 2>"$DIR/$name.err")
    names+=("$name") pids+=("$!") fds+=("$fd") written+=(0) running+=(1)
    event "$name" "started pid=$!"
  done
}

finished() {  # INDEX: the client no longer reads, or has exited
  local fd=${fds[$1]}
  running[$1]=0
  exec {fd}>&-
}

# Notices clients that have exited; returns 0 while any is still running.
reap() {
  local i any=1
  for i in "${!names[@]}"; do
    [[ ${pids[i]} == - ]] && continue
    if kill -0 "${pids[i]}" 2>/dev/null; then
      any=0
    else
      [[ ${running[i]} == 1 ]] && finished "$i"
      event "${names[i]}" "exited written=${written[i]}"
      pids[i]=-
    fi
  done
  return "$any"
}

feed() {
  local i line
  for i in "${!names[@]}"; do
    [[ ${running[i]} == 1 ]] || continue
    printf -v line '%s seq=%d\n' "${names[i]}" "${written[i]}"
    if printf '%s' "$line" 1>&"${fds[i]}" 2>/dev/null; then
      written[i]=$((written[i] + 1))
    else
      finished "$i"
    fi
  done
}

mark() {  # LABEL
  local i out=
  for i in "${!names[@]}"; do
    out+="${names[i]} ${written[i]}"$'\n'
  done
  printf '%s' "$out" >"$DIR/written-$1.tmp"
  # The test waits for this name: it appears whole.
  mv -f "$DIR/written-$1.tmp" "$DIR/written-$1.txt"
}

# The client's summary line into REPLY: "<exit status> <messages sent>" ("- -" if there is none).
summary_of() {  # NAME
  local line sent=- status=-
  while IFS= read -r line; do
    [[ $line == *'"event":"summary"'* ]] || continue
    [[ $line =~ \"sent\":([0-9]+) ]] && sent=${BASH_REMATCH[1]}
    [[ $line =~ \"exit\":([0-9]+) ]] && status=${BASH_REMATCH[1]}
  done <"$DIR/$1.jsonl"
  REPLY="$status $sent"
}

stop_all() {
  local i deadline=$((SECONDS + STOP_GRACE_S)) out=
  event - "stop"
  for i in "${!names[@]}"; do
    [[ ${running[i]} == 1 ]] && finished "$i"
  done
  while reap; do
    if [[ $SECONDS -ge $deadline ]]; then
      for i in "${!names[@]}"; do
        [[ ${pids[i]} == - ]] && continue
        event "${names[i]}" "killed: still running ${STOP_GRACE_S}s after stop"
        kill -9 "${pids[i]}" 2>/dev/null
      done
      deadline=$((SECONDS + 5))
    fi
    pause 0.1
  done
  for i in "${!names[@]}"; do
    summary_of "${names[i]}"
    out+="${names[i]} $REPLY ${written[i]}"$'\n'
  done
  printf '%s' "$out" >"$DIR/result.tmp"
  mv -f "$DIR/result.tmp" "$DIR/result.txt"
  event - "done"
}

main() {
  local line words rc partial=''
  while :; do
    # The wait for a command is the pace. A timeout can strike in the middle of a line: read then
    # returns what it got so far, which starts the next line.
    if IFS= read -r -t "$INTERVAL" line; then
      line=$partial$line partial=''
      read -r -a words <<<"$line"
      case ${words[0]:-}:${#words[@]} in
        spawn:3) spawn "${words[1]}" "${words[2]}" ;;
        mark:2) mark "${words[1]}" ;;
        stop:1) break ;;
        *) echo "clients.sh: unknown command '$line'" >&2 ;;
      esac
    else
      rc=$?
      [[ $rc -gt 128 ]] || break  # end of input: stop
      partial+=$line
    fi
    reap
    feed
  done
  stop_all
}

main
