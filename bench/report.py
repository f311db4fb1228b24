#!/usr/bin/python3
"""Turns bench.py's JSON into bench/results/latest.md (every figure with its ratio to the
baselines) and latest.png (matplotlib, Agg). Runs on the host after the VM run."""
import argparse
import json
import statistics

VARIANTS = ["direct", "c-relay", "socat", "sctprelayd"]
RELAYS = ["c-relay", "socat", "sctprelayd"]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and abs(v) < 10 and digits == 0:
        digits = 2
    return ("{:,.%df}" % digits).format(v)


def ratio(a, b):
    return a / b if a is not None and b else None


def ratios_text(per_round):
    per_round = [r for r in per_round if r is not None]
    if not per_round:
        return "–"
    return "**%.2f** (%s)" % (statistics.median(per_round), ", ".join("%.2f" % r for r in per_round))


def size_name(size):
    return "%d KB" % (size // 1024) if size >= 1024 else "%d B" % size


class Report:
    def __init__(self, data, wall, host=None):
        self.d = data
        self.wall = wall
        self.host = host
        self.out = []

    def w(self, line=""):
        self.out.append(line)

    def by_round(self, runs, key):
        """{round: {variant: run}} for the runs that match key(run)."""
        rounds = {}
        for r in runs:
            if key(r):
                rounds.setdefault(r["round"], {})[r["variant"]] = r
        return rounds

    # ---- sections --------------------------------------------------------------------------------

    def header(self):
        m = self.d["meta"]
        self.w("# sctprelayd benchmark")
        self.w()
        self.w("Run %s – %s%s; VM kernel %s, %d vCPUs under QEMU TCG (emulated: absolute numbers are far below "
               "real hardware; compare the ratios). Whole `bench/run.sh`: **%s s** (VM part %.0f s)." % (
                   m["started"], m.get("finished", "?"), ", tree %s" % m["tree"] if m.get("tree") else "",
                   m["kernel"], m["cpus"], self.wall if self.wall else "?", m.get("vm_wall_s", 0)))
        if self.host:
            self.w()
            self.w("Host: %s." % self.host)
        self.w()
        self.w("* Variants: **direct** (source straight to sink, the ceiling), **c-relay** (`bench/c_relay.c`: "
               "blocking `sctp_recvmsg` → `sctp_sendmsg`, one association each way, the ceiling for any relay), "
               "**socat** (`SCTP-LISTEN,fork` → `SCTP-CONNECT`, `-b 1048576`), **sctprelayd** (one listener, "
               "peer destinations with `return: origin`, bounded backpressure queues, route + `default: drop`).")
        self.w("* socat **loses streams and PPIDs** (everything arrives on stream 0 with PPID 0) and, past the "
               "partial-delivery point, **splits large messages** (see the integrity column).")
        self.w("* Settings: sysctl %s; %s." % (", ".join("%s=%s" % kv for kv in m["sysctl"].items()),
                                                m["socket_options"]))
        sc = m["sizes_counts"]
        self.w("* Counts: %d interleaved round(s), each running every variant back to back; one-way runs %s "
               "over %d streams (PPID %d); latency %d requests (1 outstanding) and %d (%d outstanding) of %d B; "
               "associations %s; exact metrics at two message counts each, 100 B: %s." % (
                   m["rounds"], ", ".join("%s × %s" % (v, size_name(int(k))) for k, v in sc.items()), m["streams"],
                   m["ppid"], m["latency"]["low_count"], m["latency"]["high_count"], m["latency"]["high_outstanding"],
                   m["latency"]["size"], ", ".join("%s (%s round(s))" % (k, m["assoc_rounds"][str(k)])
                                                   for k in m["assoc_counts"]),
                   exact_counts_text(m["exact_counts"])))
        self.w("* Ratios are taken **within a round** (same minute of the same VM) and the median is shown "
               "in bold, the per-round values in parentheses. Time-based figures are medians over rounds.")
        self.w()

    def exact(self):
        ex = self.d.get("exact") or {}
        if not ex:
            return
        self.w("## Exact metrics (primary: repeatable, not timing)")
        self.w()
        self.w("Per relayed 100 B message, as (value at N₂ − value at N₁) / (N₂ − N₁), so start-up and shutdown "
               "cancel. Instructions are user-space only (callgrind, every process of the relay); syscalls "
               "from `strace -f -c`; allocations from memcheck's `total heap usage`.")
        self.w()
        self.w("| metric | c-relay | socat | sctprelayd | sctprelayd ÷ c-relay | sctprelayd ÷ socat |")
        self.w("|---|---:|---:|---:|---:|---:|")
        names = {"callgrind": "instructions / message", "memcheck": "heap allocations / message",
                 "strace": "syscalls / message"}
        for tool in ("callgrind", "memcheck", "strace"):
            t = ex.get(tool) or {}
            # A tool that counted nothing at all (e.g. instrumentation never switched on) is no figure.
            vals = {v: (t.get(v) or {}).get("per_msg") if any(
                r["value"] for r in (t.get(v) or {}).get("runs", [])) else None for v in RELAYS}
            self.w("| %s | %s | %s | %s | %s | %s |" % (
                names[tool], fmt(vals["c-relay"], 2), fmt(vals["socat"], 2), fmt(vals["sctprelayd"], 2),
                fmt(ratio(vals["sctprelayd"], vals["c-relay"]), 2), fmt(ratio(vals["sctprelayd"], vals["socat"]), 2)))
        cg = ex.get("callgrind") or {}
        big = {v: (cg.get(v + "-64k") or {}).get("per_msg") for v in ("c-relay", "sctprelayd")}
        if any(big.values()):
            self.w("| instructions / message, 64 KB | %s | (splits them) | %s | %s | |" % (
                fmt(big["c-relay"], 0), fmt(big["sctprelayd"], 0), fmt(ratio(big["sctprelayd"], big["c-relay"]), 2)))
        if cg.get("sctprelayd-10k-routes"):
            one = (cg.get("sctprelayd") or {}).get("per_msg")
            many = cg["sctprelayd-10k-routes"]["per_msg"]
            self.w("| instructions / message, 10,000 routes (match last) | | | %s | | ×%s vs 1 route |" % (
                fmt(many, 0), fmt(ratio(many, one), 2)))
        elif "sctprelayd-10k-routes" in cg:
            self.w("| instructions / message, 10,000 routes | **failed** (see errors) |||||")
        st = ex.get("strace") or {}
        for v in RELAYS:
            if st.get(v):
                calls = ", ".join("%s %.2f" % kv for kv in list(st[v]["by_syscall"].items())[:6])
                self.w("| syscalls / message, %s | %s |||||" % (v, calls))
        for tool in ("callgrind", "memcheck", "strace"):
            for v, r in (ex.get(tool) or {}).items():
                if r is None and v != "sctprelayd-10k-routes":
                    self.w("| %s %s | **failed** (see errors) |||||" % (names[tool], v))
        self.w()
        self.before_after()
        old = (self.d["meta"].get("old_relayd") or {}).get("label", "old")
        for key, size, who in (("profile", "100 B", "sctprelayd's"), ("profile-64k", "64 KB", "sctprelayd's"),
                               ("profile-old", "100 B", "the %s build's" % old),
                               ("profile-old-64k", "64 KB", "the %s build's" % old)):
            if not ex.get(key):
                continue
            self.w("Where %s instructions per %s message go (self cost per function, same "
                   "difference method; the rest is spread thinly):" % (who, size))
            self.w()
            self.w("| instructions / message | function |")
            self.w("|---:|---|")
            for p in ex[key]:
                self.w("| %s | `%s` |" % (fmt(p["per_msg"], 0), p["function"]))
            self.w()
            copied = sum(p["per_msg"] for p in ex[key] if "memcpy" in p["function"] or "memmove" in p["function"])
            if copied >= 100:
                self.w("(`memcpy`: %s instructions per message on average. The relay copies a message only when the "
                       "kernel hands it over in pieces (partial delivery, when the association's receive buffer "
                       "fills because the relay, slowed by valgrind, falls behind) and it is reassembled. It "
                       "happened more often in the longer run, so the difference counts it.)" % fmt(copied, 0))
                self.w()
        self.assoc_memory()

    def before_after(self):
        """Instructions per message of an older build (BENCH_BASELINE) against this one, same VM run."""
        old = self.d["meta"].get("old_relayd")
        cg = (self.d.get("exact") or {}).get("callgrind") or {}
        if not old or not any(cg.get(k) for k in ("sctprelayd-old", "sctprelayd-old-64k")):
            return
        self.w("Before/after: the build of commit %s (`%s`, same compiler and flags, Release) against this "
               "build, same workload, same VM run:" % (old["label"], old["path"]))
        self.w()
        self.w("| instructions / message | %s | this build | this ÷ %s | c-relay |" % (old["label"], old["label"]))
        self.w("|---|---:|---:|---:|---:|")
        for key, size in (("", "100 B"), ("-64k", "64 KB")):
            was = (cg.get("sctprelayd-old" + key) or {}).get("per_msg")
            now = (cg.get("sctprelayd" + key) or {}).get("per_msg")
            c = (cg.get("c-relay" + key) or {}).get("per_msg")
            self.w("| %s | %s | %s | **%s** | %s |" % (size, fmt(was, 1), fmt(now, 1), fmt(ratio(now, was), 3),
                                                       fmt(c, 1)))
        self.w()
        ex = self.d.get("exact") or {}
        for key, size in (("", "100 B"), ("-64k", "64 KB")):
            before, after = ex.get("profile-old" + key), ex.get("profile" + key)
            if not before or not after:
                continue
            short = lambda name: name.split("(")[0]
            was = {short(p["function"]): p["per_msg"] for p in before}
            now = {short(p["function"]): p["per_msg"] for p in after}
            rows = sorted(set(was) | set(now), key=lambda k: -abs(now.get(k, 0) - was.get(k, 0)))
            self.w("Per function at %s (self cost per message; functions renamed or split by the change show on "
                   "both sides):" % size)
            self.w()
            self.w("| function | %s | this build | difference |" % old["label"])
            self.w("|---|---:|---:|---:|")
            for k in rows[:14]:
                if abs(now.get(k, 0) - was.get(k, 0)) < 1:
                    continue
                self.w("| `%s` | %s | %s | %+.0f |" % (k, fmt(was.get(k), 0) if k in was else "–",
                                                      fmt(now.get(k), 0) if k in now else "–",
                                                      now.get(k, 0) - was.get(k, 0)))
            self.w()

    def assoc_memory(self):
        runs = [a for a in self.d.get("assocs", []) if a["variant"] == "sctprelayd" and a.get("relay_mem_held")]
        if not runs:
            return
        self.w("Memory of the relay process (kB from `/proc/PID/smaps_rollup`; per association = (held − idle) / "
               "associations, held idle after one round trip each):")
        self.w()
        self.w("| associations | round | idle Rss / Pss / Anon kB | held Rss / Pss / Anon kB | per association: Anon "
               "| Rss | Pss | kernel slab (both ends) |")
        self.w("|---:|---:|---|---|---:|---:|---:|---:|")
        for a in sorted(runs, key=lambda a: (a["count"], a["round"])):
            i, h = a["relay_mem_idle"], a["relay_mem_held"]
            self.w("| %s | %d | %s / %s / %s | %s / %s / %s | %s B | %s B | %s B | %s B |" % (
                fmt(a["count"]), a["round"] + 1, i["rss_kb"], i["pss_kb"], i["anonymous_kb"], h["rss_kb"], h["pss_kb"],
                h["anonymous_kb"], fmt(a.get("relay_anon_per_assoc_bytes")), fmt(a.get("relay_rss_per_assoc_bytes")),
                fmt(a.get("relay_pss_per_assoc_bytes")), fmt(a["kernel_slab_kb_delta"] * 1024 / a["count"])))
        self.w()

    def rate(self):
        runs = self.d.get("rate", [])
        if not runs:
            return
        self.w("## One-way message rate")
        self.w()
        self.w("Rate = (messages − 1) / (sink's last − first arrival). Relay CPU = relay process utime+stime "
               "(`/proc/PID/stat`, including the kernel work done in its syscalls) / messages.")
        self.w()
        self.w("| size | variant | msg/s | MB/s | relay CPU µs/msg | ÷ direct (msg/s) | ÷ c-relay (msg/s) "
               "| CPU ÷ c-relay | integrity |")
        self.w("|---|---|---:|---:|---:|---|---|---|---|")
        for size in sorted({r["size"] for r in runs}):
            rounds = self.by_round(runs, lambda r: r["size"] == size)
            for v in VARIANTS:
                mine = [rd[v] for rd in rounds.values() if v in rd]
                if not mine:
                    continue
                rd_ratio = [ratio(rd[v]["msgs_per_s"], rd["direct"]["msgs_per_s"]) for rd in rounds.values()
                            if v in rd and "direct" in rd]
                rc_ratio = [ratio(rd[v]["msgs_per_s"], rd["c-relay"]["msgs_per_s"]) for rd in rounds.values()
                            if v in rd and "c-relay" in rd]
                cpu_ratio = [ratio(rd[v]["relay_cpu_us_per_msg"], rd["c-relay"]["relay_cpu_us_per_msg"])
                             for rd in rounds.values() if v in rd and "c-relay" in rd
                             and rd[v]["relay_cpu_us_per_msg"] is not None]
                self.w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    size_name(size), v, fmt(med([r["msgs_per_s"] for r in mine])),
                    fmt(med([r["mb_per_s"] for r in mine]), 2), fmt(med([r["relay_cpu_us_per_msg"] for r in mine])),
                    ratios_text(rd_ratio) if v != "direct" else "1", ratios_text(rc_ratio) if v not in (
                        "direct", "c-relay") else "–", ratios_text(cpu_ratio) if v in ("socat", "sctprelayd") else "–",
                    integrity(mine)))
        self.w()

    def latency(self):
        runs = self.d.get("latency", [])
        if not runs:
            return
        self.w("## Request/response latency (echo server behind the relay)")
        self.w()
        self.w("| load | variant | p50 µs | p99 µs | replies/s | p50 ÷ direct | p99 ÷ direct | p50 ÷ c-relay |")
        self.w("|---|---|---:|---:|---:|---|---|---|")
        for out in sorted({r["outstanding"] for r in runs}):
            rounds = self.by_round(runs, lambda r: r["outstanding"] == out)
            for v in VARIANTS:
                mine = [rd[v] for rd in rounds.values() if v in rd]
                if not mine:
                    continue
                p50d = [ratio(rd[v]["p50_us"], rd["direct"]["p50_us"]) for rd in rounds.values()
                        if v in rd and "direct" in rd]
                p99d = [ratio(rd[v]["p99_us"], rd["direct"]["p99_us"]) for rd in rounds.values()
                        if v in rd and "direct" in rd]
                p50c = [ratio(rd[v]["p50_us"], rd["c-relay"]["p50_us"]) for rd in rounds.values()
                        if v in rd and "c-relay" in rd]
                self.w("| %s outstanding | %s | %s | %s | %s | %s | %s | %s |" % (
                    out, v, fmt(med([r["p50_us"] for r in mine])), fmt(med([r["p99_us"] for r in mine])),
                    fmt(med([r["replies_per_s"] for r in mine])), ratios_text(p50d) if v != "direct" else "1",
                    ratios_text(p99d) if v != "direct" else "1",
                    ratios_text(p50c) if v not in ("direct", "c-relay") else "–"))
        self.w()

    def fanout_routes(self):
        fo = self.d.get("fanout", [])
        if fo:
            self.w("## Fan-out to 4 destinations (sctprelayd)")
            self.w()
            self.w("| round | 1 destination msg/s | 4 destinations: messages in/s | copies out/s | in ÷ 1-dest "
                   "| CPU µs per message in (1 → 4) | lost |")
            self.w("|---|---:|---:|---:|---:|---|---:|")
            for f in fo:
                one, four = f["one"], f["four"]
                self.w("| %d | %s | %s | %s | %.2f | %s → %s | %d |" % (
                    f["round"] + 1, fmt(one["msgs_per_s"]), fmt(four["msgs_per_s"]), fmt(4 * four["msgs_per_s"]),
                    four["msgs_per_s"] / one["msgs_per_s"], fmt(one["relay_cpu_us_per_msg"]),
                    fmt(four["relay_cpu_us_per_msg"]), four["lost"]))
            self.w("| **median** | | | | **%.2f** | | |" % med([f["four"]["msgs_per_s"] / f["one"]["msgs_per_s"]
                                                             for f in fo]))
            self.w()
        ro = self.d.get("routes", [])
        if ro:
            self.w("## 1 route vs 10,000 routes (sctprelayd; the matching route is last in file order)")
            self.w()
            self.w("| round | 1 route msg/s | 10,000 routes msg/s | ÷ 1 route | CPU µs/msg 1 → 10,000 | CPU ratio |")
            self.w("|---|---:|---:|---:|---|---:|")
            for r in ro:
                one, many = r["one"], r["many"]
                self.w("| %d | %s | %s | %.2f | %s → %s | %s |" % (
                    r["round"] + 1, fmt(one["msgs_per_s"]), fmt(many["msgs_per_s"]),
                    many["msgs_per_s"] / one["msgs_per_s"], fmt(one["relay_cpu_us_per_msg"]),
                    fmt(many["relay_cpu_us_per_msg"]),
                    fmt(ratio(many["relay_cpu_us_per_msg"], one["relay_cpu_us_per_msg"]), 2)))
            self.w("| **median** | | | **%.2f** | | **%s** |" % (
                med([r["many"]["msgs_per_s"] / r["one"]["msgs_per_s"] for r in ro]),
                fmt(med([ratio(r["many"]["relay_cpu_us_per_msg"], r["one"]["relay_cpu_us_per_msg"]) for r in ro]), 2)))
            self.w()

    def assocs(self):
        runs = self.d.get("assocs", [])
        if not runs:
            return
        self.w("## Many associations on one listener (one round trip each, ≤16 in flight)")
        self.w()
        self.w("| associations | variant | set-up s | associations/s | round trips/s | round trips/s ÷ direct "
               "| set-up time ÷ direct | misrouted/bad |")
        self.w("|---:|---|---:|---:|---:|---|---|---|")
        for k in sorted({a["count"] for a in runs}):
            rounds = self.by_round(runs, lambda a: a["count"] == k)
            for v in ("direct", "sctprelayd"):
                mine = [rd[v] for rd in rounds.values() if v in rd]
                if not mine:
                    continue
                rt = [ratio(rd[v]["round_trips_per_s"], rd["direct"]["round_trips_per_s"]) for rd in rounds.values()
                      if v in rd and "direct" in rd]
                su = [ratio(rd[v]["connect_s"], rd["direct"]["connect_s"]) for rd in rounds.values()
                      if v in rd and "direct" in rd]
                self.w("| %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
                    fmt(k), v, fmt(med([a["connect_s"] for a in mine]), 2), fmt(med([a["assocs_per_s"] for a in mine])),
                    fmt(med([a["round_trips_per_s"] for a in mine])), ratios_text(rt) if v != "direct" else "1",
                    ratios_text(su) if v != "direct" else "1", sum(a["misrouted"] for a in mine),
                    sum(a["bad"] for a in mine)))
        self.w()

    def slow(self):
        s = self.d.get("slow")
        if not s:
            return
        samples = s.get("rss_samples_kb") or [0]
        st = s.get("relay_stats") or {}
        self.w("## Slow destination with backpressure (sctprelayd)")
        self.w()
        self.w("The sink reads at most %d messages/s; the source sends %d × %s as fast as it can; destination "
               "queue `%s`." % (s["sink_rate"], s["count"], size_name(s["size"]), s["queue"]))
        self.w()
        self.w("| sent | received | lost | out of order | relay VmRSS min → max kB (%d samples, every 50 ms) | "
               "growth vs bytes sent | backpressure pauses | relay drops | sink rate msg/s |" % len(samples))
        self.w("|---:|---:|---:|---:|---|---:|---:|---:|---:|")
        drops = sum(v for k, v in st.items() if k.startswith("dropped"))
        self.w("| %d | %d | %d | %d | %d → %d | %.1f%% of %.1f MB | %s | %s | %s |" % (
            s["count"], s["received"], s["lost"], s["out_of_order"], min(samples), max(samples),
            (max(samples) - min(samples)) * 1024 / (s["count"] * s["size"]) * 100, s["count"] * s["size"] / 1e6,
            st.get("backpressure_pauses", "–"), drops if st else "–", fmt(s["msgs_per_s"])))
        self.w()

    def isolation(self):
        runs = self.d.get("isolation", [])
        if not runs:
            return
        m = self.d["meta"].get("isolation") or {}
        self.w("## Slow destination isolation (sctprelayd)")
        self.w()
        self.w("One listener. Source X's messages (PPID 47) go to destination `slow`, whose sink reads %s "
               "messages/s behind the queue `%s`; source Y's go to destination `fast` (a normal sink). Y sends "
               "%s × %s; its time runs from its association being up to the last arrival at its sink, (a) with "
               "X absent and (b) with X sending %s messages flat out and held back end to end (its own send "
               "waited ≥ 200 ms for space) before Y starts. Afterwards X stops, the slow sink reads at full "
               "speed, and X's messages are counted and checked." % (
                   m.get("slow_rate"), m.get("slow_queue"), fmt(m.get("y_count")), size_name(m.get("y_size", 0)),
                   size_name(m.get("x_size", 0))))
        self.w()
        self.w("| round | Y alone s | Y with X held back s | (b) ÷ (a) | Y delivered (a) / (b), out of order "
               "| X sent / delivered / lost, out of order | X backlog behind `slow` at its stop (just after Y) "
               "| relay drops |")
        self.w("|---|---:|---:|---:|---|---|---:|---:|")
        rounds = {}
        for r in runs:
            rounds.setdefault(r["round"], {})["b" if r["congested"] else "a"] = r
        for rd in sorted(rounds):
            a, b = rounds[rd].get("a"), rounds[rd].get("b")
            self.w("| %d | %s | %s | %s | %s | %s | %s | %s |" % ((rd + 1,) + iso_cells(a, b)))
        ratios = [ratio(rd["b"]["y_s"], rd["a"]["y_s"]) for rd in rounds.values() if "a" in rd and "b" in rd]
        self.w("| **median** | | | **%s** | | | | |" % fmt(med(ratios), 2))
        self.w()
        old = self.d.get("isolation_old") or []
        if old:
            label = (self.d["meta"].get("old_relayd") or {}).get("label", "old")
            a = next((r for r in old if not r["congested"]), None)
            b = next((r for r in old if r["congested"]), None)
            self.w("The same workload, once, on the build of %s (one listener socket for all its associations, "
                   "paused as a whole):" % label)
            self.w()
            self.w("| build | Y alone s | Y with X held back s | (b) ÷ (a) | Y delivered (a) / (b), out of order "
                   "| X sent / delivered / lost, out of order | X backlog behind `slow` at its stop (just after Y) "
                   "| relay drops |")
            self.w("|---|---:|---:|---:|---|---|---:|---:|")
            self.w("| %s | %s | %s | %s | %s | %s | %s | %s |" % ((label,) + iso_cells(a, b)))
            self.w()

    def workers(self):
        runs = self.d.get("workers", [])
        if not runs:
            return
        m = self.d["meta"].get("workers") or {}
        self.w("## Relay workers: `workers: 1` vs `workers: 2` (sctprelayd)")
        self.w()
        self.w("%s source associations (one `sctp-loadgen source` process each, %d streams, %s messages of %s in "
               "all, split evenly) into one sink: **direct** (the load generators' own ceiling on this VM) and "
               "through sctprelayd (one listener, one peer destination, a route, `default: drop`) with "
               "`workers: 1` and `workers: 2`, back to back in each round, the order turned round every other "
               "round. Every source connects and waits; once the relay has taken every association on, all are "
               "released at once. Rate = messages / (release → the sink's last arrival) (not the sink's first → "
               "last arrival: a sink starved of CPU while the senders fill its buffer reads a whole run from "
               "memory in a fraction of a second). CPU = utime+stime over the same interval, from `/proc/PID/task/TID/stat` for each "
               "relay thread (`sctprelayd` is worker 0, `sctprelayd/1` worker 1) and `/proc/PID/stat` for the "
               "sources (summed) and the sink; *waiting* is the time they were runnable but had no vCPU "
               "(`schedstat`'s run delay); VM busy is the time tasks ran on each vCPU (`/proc/schedstat`; "
               "2 vCPUs = 200%%; `/proc/stat`'s ticks are not used: the emulated guest loses timer ticks on a "
               "busy host). The kernel's SCTP work on loopback is charged to whoever runs at the time (a "
               "sender's syscall usually carries the receiving side's processing too). *other* = VM busy − "
               "relay − sources − sink, with the busiest of those other tasks (kernel threads such as "
               "`ksoftirqd`, the harness). The last columns count the VM's SCTP "
               "retransmissions, DATA a receiver discarded and packets the input backlog dropped over the "
               "interval (`/proc/net/sctp/snmp`, `/proc/net/softnet_stat`): this section runs with %s "
               "(at the default backlog of 1,000 the input queue overflowed by tens of thousands of packets a "
               "run; with the other sections' `rto_min` of 10 ms, receivers that waited for a vCPU longer than "
               "that made their senders time out and send their whole flight again, thousands of chunks a run "
               "discarded as duplicates), a sink receive buffer of %s (with "
               "1 MiB, the kernel discarded tens of thousands of DATA chunks a run at the sink)%s%s%s. A direct run "
               "that is not valid is shown but does not fail the benchmark (no relay is under test). Associations per worker and messages each read from `assocs` on the control "
               "socket (what `sctprelayctl assocs --json` shows), taken while the sources still held their "
               "associations. A run is valid only if every message arrived once, whole, in order per (source "
               "association, stream) with its stream and PPID, and the relay received and forwarded all and "
               "dropped none." % (
                   " and ".join(str(k) for k in m.get("assocs", [])), self.d["meta"].get("streams", 4),
                   fmt(m.get("total")), size_name(m.get("size", 100)),
                   ", ".join("`%s=%s`" % kv for kv in (m.get("sysctl") or {}).items()) or "the VM's defaults",
                   "%d MiB" % (m["sink_buffer"] >> 20) if m.get("sink_buffer") else "1 MiB",
                   ", the kernel's softirq threads (`ksoftirqd/N`) under SCHED_FIFO (as one of dozens of runnable "
                   "tasks on 2 vCPUs they got a sliver of one: loopback packets waited over a second in the input "
                   "queue, and their senders' retransmission timers fired, tens of T3 timeouts a run, each stalling "
                   "an association for a second)" if m.get("softirq_fifo") else "",
                   ", the sources at nice %d (they stand for peers on other machines; at the same weight the "
                   "scheduler gave each of 8 or 64 source processes as much CPU as a relay thread)" % m["sources_nice"]
                   if m.get("sources_nice") else "",
                   (", sources bundling up to %d messages a packet (MSG_MORE)" % m["bundle"] if (m.get("bundle") or 1) > 1
                    else "") +
                   (", the sink reading each association from a socket of its own (`--peel`: into one socket, two "
                    "relay threads delivering at once wait for each other on its lock)" if m.get("sink_peel") else "")))
        self.w()
        ok = [r for r in runs if r.get("valid")]
        self.w("| associations | direct msg/s | workers 1 msg/s | workers 2 msg/s | **workers 2 ÷ workers 1** "
               "(target ≥ 1.3) | ceiling of the ratio here | workers 1 ÷ direct | workers 2 ÷ direct | relay CPU "
               "µs/msg, workers 1 → 2 | relay threads put on a vCPU per 100 msgs, workers 1 → 2 | all CPU µs/msg "
               "(VM busy ÷ messages), workers 1 → 2 | VM busy, workers 1 → 2 |")
        self.w("|---:|---:|---:|---:|---|---|---|---|---|---|---|---|")
        for k in sorted({r["assocs"] for r in runs}):
            rounds = {}
            for r in ok:
                if r["assocs"] == k:
                    rounds.setdefault(r["round"], {})[workers_key(r)] = r
            rate = lambda v: med([rd[v]["msgs_per_s"] for rd in rounds.values() if v in rd])
            per = lambda a, b: [ratio(rd[a]["msgs_per_s"], rd[b]["msgs_per_s"]) for rd in rounds.values()
                                if a in rd and b in rd]
            w21 = per("w2", "w1")
            met = med(w21)
            each = lambda v, f: med([f(rd[v]) for rd in rounds.values() if v in rd])
            relay_us = lambda r: r["cpu_s"].get("relay", 0) / r["count"] * 1e6
            all_us = lambda r: r["vm_busy_s"] / r["count"] * 1e6
            busy = lambda r: 100 * r["vm_busy_s"] / r["window_s"]
            put_on = lambda r: (100 * sum(t.get("runs", 0) for t in r["relay_threads"]) / r["count"]
                              if r.get("relay_threads") and "runs" in r["relay_threads"][0] else None)
            # The most two workers could gain here: the 2 vCPUs full, at what each message cost in
            # all (relay, sources, sink, kernel) with two workers, over the one-worker rate.
            ceiling = [ratio(2 * rd["w2"]["count"] / rd["w2"]["vm_busy_s"], rd["w1"]["msgs_per_s"])
                       for rd in rounds.values() if "w1" in rd and "w2" in rd and rd["w2"].get("vm_busy_s")]
            self.w("| %s | %s | %s | %s | %s%s | %s | %s | %s | %s → %s | %s → %s | %s → %s | %s%% → %s%% |" % (
                k, fmt(rate("direct")), fmt(rate("w1")), fmt(rate("w2")), ratios_text(w21),
                "" if met is None else (" met" if met >= 1.3 else " **not met**"), ratios_text(ceiling),
                ratios_text(per("w1", "direct")),
                ratios_text(per("w2", "direct")), fmt(each("w1", relay_us)), fmt(each("w2", relay_us)),
                fmt(each("w1", put_on)), fmt(each("w2", put_on)),
                fmt(each("w1", all_us)), fmt(each("w2", all_us)), fmt(each("w1", busy)), fmt(each("w2", busy))))
        self.w()
        self.w("*Ceiling of the ratio here*: the rate the VM's 2 vCPUs would carry if they were busy all along at "
               "the CPU each message cost in all (relay, sources, sink, kernel) with two workers, over the one-worker "
               "rate of the same round. On a machine whose load generators run on the relay's own CPUs, two workers "
               "can gain only what one worker left idle; where the measured ratio meets this ceiling, the VM, not "
               "the relay, set it. *Put on a vCPU*: how often the relay's threads were scheduled in (`schedstat`), "
               "per 100 messages: a thread that finds less work each time it wakes costs more per message.")
        self.w()
        self.w("Every run: CPU seconds over the measured interval (in parentheses: % of the interval; a thread "
               "at ~100% had a vCPU to itself all along), then the seconds it waited for a vCPU.")
        self.w()
        self.w("| associations | round | variant | msg/s | interval s | relay CPU per thread, waiting | sources "
               "CPU (all), waiting | sink CPU, waiting | other CPU | VM busy (cpu0, cpu1) | associations "
               "(messages) per worker | retransmitted (T3 timeouts, fast), discarded, backlog drops | valid |")
        self.w("|---:|---:|---|---:|---:|---|---|---|---|---|---|---|---|")
        for r in sorted(runs, key=lambda r: (r["assocs"], r["round"], workers_key(r))):
            win = r["window_s"]
            pct = lambda v: "%.2f (%.0f%%)" % (v, 100 * v / win) if v is not None and win else "–"
            wait = lambda v: ", %.2f" % v if v is not None else ""
            threads = "; ".join("%s %s%s" % (t["name"], pct(t["cpu_s"]), wait(t.get("wait_s")))
                                for t in r.get("relay_threads") or []) or "–"
            ws = r.get("wait_s") or {}
            vm = r["vm_cpu"]
            busy = "%.0f%% (%s)" % (100 * r["vm_busy_s"] / win if win else 0, ", ".join(
                "%.0f%%" % (100 * (vm[c]["busy"] or 0)) for c in sorted(vm)))
            spread = "; ".join("w%s: %d (%s)" % (w, v["accepted"], fmt(v["messages_in"]))
                               for w, v in (r.get("spread") or {}).items()) or "–"
            n = r.get("net") or {}
            net = "%s (%s, %s), %s, %s" % (
                n.get("SctpT3Retransmits", "–"), n.get("SctpT3RtxExpireds", "–"), n.get("SctpFastRetransmits", "–"),
                n.get("SctpInPktDiscards", 0) + n.get("SctpInDataChunkDiscards", 0) if n else "–",
                n.get("backlog_dropped", "–")) if n else "–"
            other = "%.2f" % r["cpu_s"]["other"]
            if r.get("other_tasks"):
                other += " (%s)" % ", ".join("%s %.2f" % (t["name"], t["cpu_s"]) for t in r["other_tasks"][:3])
            self.w("| %d | %d | %s | %s | %.1f | %s | %s%s | %s%s | %s | %s | %s | %s | %s |" % (
                r["assocs"], r["round"] + 1, "direct" if r["variant"] == "direct" else "workers %d" % r["workers"],
                fmt(r["msgs_per_s"]), win, threads, pct(r["cpu_s"]["sources"]), wait(ws.get("sources")),
                pct(r["cpu_s"]["sink"]), wait(ws.get("sink")), other, busy, spread, net,
                "yes" if r.get("valid") else "**INVALID**: " + "; ".join(r.get("problems", []))))
        self.w()
        two = [r for r in runs if r["variant"] == "sctprelayd" and r["workers"] == 2 and r.get("spread")]
        if two:
            self.w("With `workers: 2` the source associations were carried by the two workers as %s (the kernel's "
                   "SO_REUSEPORT hash picks the worker that accepts one; that worker hands it to the one carrying "
                   "the fewest, docs/workers.md); the sink saw %s relay associations (one per worker)." % (
                       "; ".join("%d → %s" % (r["assocs"], "/".join(str(v["accepted"]) for v in r["spread"].values()))
                                 for r in sorted(two, key=lambda r: (r["assocs"], r["round"]))),
                       ", ".join(sorted({str(r["sink"].get("assocs")) for r in two}))))
            self.w()

    def errors(self):
        if self.d.get("errors"):
            self.w("## Runs that failed")
            self.w()
            for e in self.d["errors"]:
                self.w("* " + e)
            self.w()

    def render(self):
        self.header()
        self.exact()
        self.rate()
        self.latency()
        self.fanout_routes()
        self.assocs()
        self.isolation()
        self.workers()
        self.slow()
        self.errors()
        return "\n".join(self.out) + "\n"


def exact_counts_text(counts):
    if isinstance(counts, dict):
        return ", ".join("%s N₁=%s N₂=%s" % (t, a, b) for t, (a, b) in counts.items())
    return "N₁=%s N₂=%s" % tuple(counts)


def workers_key(r):
    return "direct" if r["variant"] == "direct" else "w%d" % r["workers"]


def relay_drops(stats):
    return sum(v for k, v in (stats or {}).items() if k.startswith("dropped")) if stats else None


def iso_cells(a, b):
    """Cells of one isolation row: (a) alone and (b) with X held back."""
    ya = a["y_s"] if a else None
    yb = b["y_s"] if b else None
    if b and b.get("y_timed_out"):
        yb_text = "> %s (%s of %s in time)" % (fmt(b["y_sink"]["span_s"], 1), fmt(b["y_delivered"]),
                                                fmt(b["y_count"]))
    else:
        yb_text = fmt(yb, 2)
    delivered = "%s / %s, %s" % (fmt(a["y_delivered"]) if a else "–", fmt(b["y_delivered"]) if b else "–",
                                 (a["y_out_of_order"] if a else 0) + (b["y_out_of_order"] if b else 0))
    if b and "x_sent" in b:
        x = "%s / %s / %s, %s" % (fmt(b["x_sent"]), fmt(b["x_delivered"]), fmt(b["x_lost"]), b["x_out_of_order"])
        at = b.get("x_delivered_before_unthrottle")
        backlog = fmt(b["x_sent"] - at) if at is not None and at >= 0 else "–"
    else:
        x, backlog = "–", "–"
    drops = [relay_drops(r.get("relay_stats")) for r in (a, b) if r]
    drops_text = " / ".join(fmt(d) for d in drops)
    return (fmt(ya, 2), yb_text, fmt(ratio(yb, ya), 2) if yb else "–", delivered, x, backlog, drops_text)


def integrity(runs):
    """Loss/order/metadata problems summed over rounds; 'ok' when there were none."""
    notes = []
    for key, label in (("lost", "lost"), ("bad", "split/merged"), ("out_of_order", "out of order"),
                       ("stream_changed", "stream changed"), ("ppid_changed", "PPID changed")):
        n = sum(r.get(key, 0) for r in runs)
        if n:
            notes.append("%s %s" % (fmt(n), label))
    lost_bytes = sum(max(0, r.get("lost_bytes", 0)) for r in runs)
    if lost_bytes:
        notes.append("%s bytes missing" % fmt(lost_bytes))
    return ", ".join(notes) if notes else "ok"


def chart(data, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    colors = {"direct": "#888888", "c-relay": "#4c72b0", "socat": "#dd8452", "sctprelayd": "#55a868"}

    ax = axes[0][0]
    runs = data.get("rate", [])
    sizes = sorted({r["size"] for r in runs})
    width = 0.27
    for i, v in enumerate(RELAYS):
        vals = []
        for size in sizes:
            rounds = {}
            for r in runs:
                if r["size"] == size:
                    rounds.setdefault(r["round"], {})[r["variant"]] = r
            vals.append(med([ratio(rd[v]["msgs_per_s"], rd["direct"]["msgs_per_s"]) for rd in rounds.values()
                             if v in rd and "direct" in rd]) or 0)
        ax.bar([x + (i - 1) * width for x in range(len(sizes))], vals, width, label=v, color=colors[v])
    ax.set_xticks(range(len(sizes)), [size_name(s) for s in sizes])
    ax.axhline(1, color="black", lw=0.8)
    ax.set_title("One-way rate ÷ direct (median of per-round ratios)")
    ax.legend()

    ax = axes[0][1]
    lat = data.get("latency", [])
    outs = sorted({r["outstanding"] for r in lat})
    width = 0.2
    for i, v in enumerate(VARIANTS):
        p50 = [med([r["p50_us"] for r in lat if r["variant"] == v and r["outstanding"] == o]) or 0 for o in outs]
        p99 = [med([r["p99_us"] for r in lat if r["variant"] == v and r["outstanding"] == o]) or 0 for o in outs]
        xs = [x + (i - 1.5) * width for x in range(len(outs))]
        ax.bar(xs, p99, width, color=colors[v], alpha=0.35)
        ax.bar(xs, p50, width, color=colors[v], label=v)
    ax.set_xticks(range(len(outs)), ["%d outstanding" % o for o in outs])
    ax.set_yscale("log")
    ax.set_ylabel("µs (solid p50, light p99)")
    ax.set_title("Request/response latency")
    ax.legend()

    ex = data.get("exact") or {}
    for ax, tool, title in ((axes[1][0], "callgrind", "User-space instructions per message (callgrind)"),
                            (axes[1][1], "strace", "Syscalls per message (strace)")):
        t = ex.get(tool) or {}
        names, keys, cols = list(RELAYS), list(RELAYS), [colors[v] for v in RELAYS]
        if (t.get("sctprelayd-old") or {}).get("per_msg"):  # BENCH_BASELINE: the older build beside it
            names.append("sctprelayd\n%s" % (data["meta"].get("old_relayd") or {}).get("label", "old"))
            keys.append("sctprelayd-old")
            cols.append("#a6d5b0")
        vals = [(t.get(v) or {}).get("per_msg") or 0 for v in keys]
        bars = ax.bar(names, vals, color=cols)
        ax.bar_label(bars, labels=["%.3g" % v for v in vals])
        ax.set_title(title)
    fig.suptitle("sctprelayd benchmark (QEMU TCG VM, %s)" % data["meta"].get("started", ""))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--png")
    ap.add_argument("--wall", type=int, default=0)
    ap.add_argument("--host", help="what the host was doing meanwhile (bench/run.sh measures it)")
    a = ap.parse_args()
    with open(a.json) as f:
        data = json.load(f)
    if a.host:
        data["meta"]["host"] = a.host  # kept with the numbers
        with open(a.json, "w") as f:
            json.dump(data, f, indent=1)
    text = Report(data, a.wall, data["meta"].get("host")).render()
    with open(a.md, "w") as f:
        f.write(text)
    if a.png:
        chart(data, a.png)


if __name__ == "__main__":
    main()
