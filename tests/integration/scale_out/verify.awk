# Checks what the sink of tests/integration/scale_out_ipvs_test.sh received against what each
# client association sent. awk, not Python: under the test VM's emulated CPU a Python interpreter
# takes seconds to start.
#
#   awk -f verify.awk -v killed=ADDR -v survivor=ADDR [-v min_after=N] [-v mode=complete] \
#       RESULT WRITTEN_AT_KILL SINK
#
# RESULT: clients.sh's result.txt, "<name> <exit status> <sent> <written>" per client.
# WRITTEN_AT_KILL: its written-kill.txt, "<name> <lines written>" just before the kill.
# SINK: `sctprelay-client listen --json`, one line per message with the address of the relay that
# forwarded it ("peer") and the payload "<name> seq=<n>".
#
# Every client's messages must arrive exactly once and in order (seq 0, 1, 2, ...), all through one
# relay. A client whose association stayed up (exit 0) must have all it sent at the sink, must not
# be one of the killed relay's, and if it was running at the kill it must have sent at least
# min_after messages since. A client that did not end cleanly must be one of the killed relay's;
# the sink then holds a prefix of what it sent, the rest acknowledged by the dead relay and lost
# with it.
# Prints a table and one PROBLEM line per problem; exit status 0 if there is none, 1 otherwise.
# With mode=complete it only tells, by its exit status, whether every client that ended cleanly
# is complete at the sink yet (the relay may still be forwarding the last messages).

FILENAME == ARGV[1] {
  names[++nclients] = $1
  status[$1] = $2
  sent[$1] = $3
  written[$1] = $4
  next
}

FILENAME == ARGV[2] {
  at_kill[$1] = $2
  next
}

# The sink's lines.
!/"event":"message"/ { next }
{
  if (!match($0, /"data":"[a-z][0-9][0-9] seq=[0-9]+"/)) {
    if (nstrays++ < 3) problem("sink: a message no client sent: " $0)
    next
  }
  payload = substr($0, RSTART, RLENGTH)
  name = substr(payload, 9, 3)
  seq = substr(payload, 17, RLENGTH - 17) + 0
  relay = "?"
  if (match($0, /"peer":"[^"]*"/)) {
    relay = substr($0, RSTART + 8, RLENGTH - 9)
    sub(/:[0-9]+$/, "", relay)
    gsub(/[][]/, "", relay)
  }
  if (relay == killed) relay = "killed"
  else if (relay == survivor) relay = "survivor"
  if (seq != got[name] && !(name in disorder))
    disorder[name] = "arrival " got[name] " is seq=" seq
  got[name]++
  if (!((name, relay) in seen_via)) {
    seen_via[name, relay] = 1
    if (name in via) via[name] = via[name] "+" relay
    else via[name] = relay
  }
}

function problem(text) {
  problems[++nproblems] = text
}

END {
  if (mode == "complete") {
    for (i = 1; i <= nclients; i++) {
      n = names[i]
      if (status[n] == 0 && got[n] < sent[n]) exit 1
    }
    exit 0
  }
  fmt = "%-6s %-9s %5s %7s %6s %10s %6s %5s\n"
  printf fmt, "CLIENT", "RELAY", "EXIT", "WRITTEN", "SENT", "AFTER KILL", "SINK", "LOST"
  for (i = 1; i <= nclients; i++) {
    n = names[i]
    v = (n in via) ? via[n] : "-"
    after = (n in at_kill) ? sent[n] - at_kill[n] : "-"
    lost = (sent[n] == "-") ? "-" : sent[n] - got[n]
    printf fmt, n, v, status[n], written[n], sent[n], after, got[n] + 0, lost
    if (n in disorder) problem(n ": not exactly once in order: " disorder[n])
    if (v ~ /\+/) problem(n ": one association, yet its messages came through " v)
    if (status[n] == "0") {
      if (sent[n] != written[n]) problem(n ": sent " sent[n] " of the " written[n] " lines it was given")
      if (got[n] != sent[n]) problem(n ": sent " sent[n] " (all acknowledged by its relay), the sink got " got[n] + 0)
      if (v == "killed") problem(n ": its relay was killed, yet its association ended cleanly")
      if ((n in at_kill) && after < min_after)
        problem(n ": sent " after " messages after the kill, expected it to keep sending (at least " min_after ")")
    } else {
      if (v != "killed") problem(n ": ended with status " status[n] " on relay " v " (only the killed relay's may end)")
      if (sent[n] != "-" && got[n] > sent[n]) problem(n ": the sink got " got[n] ", more than the " sent[n] " sent")
    }
  }
  for (i = 1; i <= nproblems; i++) print "PROBLEM: " problems[i]
  exit nproblems > 0
}
