#!/usr/bin/python3
"""The long-running and fault workloads: soak, churn and destination flapping.

Started by bench/run.sh (`--only soak,churn,flap`, through tests/vm/run-in-vm.sh); each workload
writes bench/results/<name>.json (every raw number and sample) and <name>.md (the summary), so the
main benchmark's latest.* are never touched. See docs/benchmarks.md.

  soak   1,000 source associations (4 processes of 250) sending together, paced, for 10 minutes
         through the Release relay to one sink destination; the relay's VmRSS and descriptor count
         sampled every few seconds and compared with the post-warm-up baseline; every message
         checked at the sink (loss, duplicates, order per (association, stream)).
  churn  100,000 associations set up and torn down (4 connector processes, 32 in flight each),
         one message each that must arrive; half close (SHUTDOWN), half ABORT (SO_LINGER 0) once
         the relay's kernel has acknowledged the message.
         Relay RSS baseline, peak and after; descriptors before and after.
  flap   a few paced sources sending continuously while the destination (a sink that records
         every message it reads into a memory-mapped file) is killed -9 and restarted every 2 s
         for 60 s: sources keep their associations, order per stream holds across restarts,
         duplicates are within what the relay counted, and the lost messages are compared with
         what the dead sinks' kernels had acknowledged and the processes had not read.
"""
import argparse
import collections
import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (the processes, relay and /proc helpers of the main benchmark)

LOADGEN = B.LOADGEN
RESULTS = B.RESULTS
WORK = B.WORK
log = B.log


def now():
    return time.monotonic()


def sample(pid):
    m = B.memory(pid)
    return {"rss_kb": m.get("vmrss_kb"), "anon_kb": m.get("anonymous_kb"), "fds": B.open_fds(pid),
            "cpu_s": B.proc_cpu_ticks(pid) / B.HZ}


def write(name, data, md):
    with open(os.path.join(RESULTS, name + ".json"), "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(RESULTS, name + ".md"), "w") as f:
        f.write(md)
    log("wrote bench/results/%s.json and %s.md" % (name, name))


def meta():
    return {"kernel": os.uname().release, "cpus": os.cpu_count(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "tree": os.environ.get("BENCH_TREE"), "relayd": B.RELAYD,
            "sysctl": {k: open("/proc/sys/net/" + k.replace(".", "/")).read().strip()
                       for k in ["sctp.rto_min", "core.rmem_max", "core.wmem_max"]}}


def relay_log_lines(relay, needle):
    try:
        with open(relay.log) as f:
            return [line.rstrip("\n") for line in f if needle in line]
    except FileNotFoundError:
        return []


def fmt(v, digits=0):
    if v is None:
        return "–"
    return ("{:,.%df}" % digits).format(v)


# ---- soak --------------------------------------------------------------------------------------


def soak(assocs, procs, rate, duration, warmup, interval, size=100, streams=4):
    sink = B.start_sink(10 ** 9, size, timeout=duration + 900, idle=20)
    relay = B.Relay("sctprelayd", [sink.port], tag="soak").start()
    pid = relay.pid()
    out = {"meta": meta(), "assocs": assocs, "processes": procs, "rate": rate, "duration_s": duration,
           "warmup_s": warmup, "interval_s": interval, "size": size, "streams": streams,
           "relay_nofile": B.nofile_limit(pid), "idle": sample(pid)}
    per = assocs // procs
    gens = []
    for i in range(procs):
        gens.append(B.Proc([LOADGEN, "soak", "--to", "127.0.0.1:%d" % relay.listen, "--assocs", str(per),
                            "--rate", str(rate / procs), "--duration", str(duration), "--size", str(size),
                            "--streams", str(streams), "--id-base", str(i * per), "--timeout", "600"],
                           "soak-%d" % i))
    for g in gens:
        out.setdefault("connect", []).append(g.json_result(600, key="event"))
    t0 = now()
    log("soak: %d associations up (relay fds %s), sending %d msg/s for %d s" % (
        assocs, B.open_fds(pid), rate, duration))
    samples = []
    stats_series = []
    next_stats = t0
    while now() - t0 < duration:
        s = sample(pid)
        s["t"] = round(now() - t0, 1)
        # What the relay holds in its queues at the same moment (SIGUSR1): memory that follows
        # the destination falling behind is the queue's, bounded by its limits, not a leak.
        try:
            st = relay.stats(timeout=120)
        except RuntimeError:  # a loop (or a VM) too busy to answer in time: a gap in the series
            st = {}
        s["queued_bytes"] = st.get("queued_bytes")
        s["received"] = st.get("received")
        s["backpressure_pauses"] = st.get("backpressure_pauses")
        samples.append(s)
        if now() >= next_stats:
            stats_series.append({"t": s["t"], "stats": st})
            log("  t=%4.0fs rss %s kB fds %s received %s forwarded %s queued %s pauses %s" % (
                s["t"], s["rss_kb"], s["fds"], st.get("received"), st.get("forwarded"), st.get("queued"),
                st.get("backpressure_pauses")))
            next_stats += 60
        time.sleep(max(0.0, interval - ((now() - t0) % interval)))
    gen_results = [g.json_result(300) for g in gens]
    for g in gens:
        g.reap(30)
    t_closed = now() - t0
    sink_res = sink.json_result(900)
    sink.reap(10)
    time.sleep(3)
    after = sample(pid)
    after["t"] = round(now() - t0, 1)
    stats = relay.stats()
    downs = relay_log_lines(relay, "association down: listener")
    relay.stop()

    sent = sum(r["sent"] for r in gen_results)
    post = [s for s in samples if s["t"] >= warmup]
    base_window = [s for s in post if s["t"] < warmup + 30] or post[:1]
    base_rss = statistics.median(s["rss_kb"] for s in base_window)
    base_fds = statistics.median(s["fds"] for s in base_window)
    dev_rss = max(abs(s["rss_kb"] - base_rss) for s in post) / base_rss
    dev_fds = max(abs(s["fds"] - base_fds) for s in post) / base_fds
    empty = [s for s in post if not s.get("queued_bytes")]
    dev_rss_empty = max(abs(s["rss_kb"] - base_rss) for s in empty) / base_rss if empty else None
    out.update(generators=gen_results, sink=sink_res, samples=samples, stats_series=stats_series,
               relay_stats=stats, after_close=after, closed_at_s=t_closed,
               listener_assoc_downs=len(downs), sent=sent, received=sink_res["received"],
               lost=sent - sink_res["received"], out_of_order=sink_res["out_of_order"], bad=sink_res["bad"],
               baseline={"rss_kb": base_rss, "fds": base_fds, "window_s": [warmup, warmup + 30]},
               max_dev={"rss": dev_rss, "fds": dev_fds, "rss_queue_empty": dev_rss_empty,
                        "queue_empty_samples": len(empty), "samples": len(post)},
               queued_bytes_max=max((s.get("queued_bytes") or 0) for s in post),
               rss_kb_range=[min(s["rss_kb"] for s in post), max(s["rss_kb"] for s in post)],
               fds_range=[min(s["fds"] for s in post), max(s["fds"] for s in post)],
               flat=dev_rss <= 0.05 and dev_fds <= 0.05)
    # Growth trend: least-squares slope of RSS over the post-warm-up samples, kB per hour.
    if len(post) > 2:
        ts = [s["t"] for s in post]
        ys = [s["rss_kb"] for s in post]
        mt, my = statistics.mean(ts), statistics.mean(ys)
        slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / sum((t - mt) ** 2 for t in ts)
        out["rss_slope_kb_per_hour"] = slope * 3600
    log("soak: sent %d received %d lost %d out of order %d; RSS baseline %d kB max dev %.2f%%, fds %d max dev %.2f%%" % (
        sent, out["received"], out["lost"], out["out_of_order"], base_rss, dev_rss * 100, base_fds, dev_fds * 100))
    write("soak", out, soak_md(out))
    return out


def soak_md(r):
    # Runs that read the counters once a minute only: those readings stand in for the per-sample
    # queue figures at the samples they were taken with.
    by_t = {x["t"]: x["stats"] for x in r.get("stats_series", [])}
    for smp in r["samples"]:
        if "queued_bytes" not in smp and smp["t"] in by_t:
            st0 = by_t[smp["t"]] or {}
            smp.update(queued_bytes=st0.get("queued_bytes"), received=st0.get("received"),
                       backpressure_pauses=st0.get("backpressure_pauses"))
    if r["max_dev"].get("rss_queue_empty") is None:
        post = [x for x in r["samples"] if x["t"] >= r["warmup_s"] and "queued_bytes" in x]
        empty = [x for x in post if not x.get("queued_bytes")]
        base = r["baseline"]["rss_kb"]
        if empty:
            r["max_dev"].update(rss_queue_empty=max(abs(x["rss_kb"] - base) for x in empty) / base,
                                queue_empty_samples=len(empty), samples=len(post))
        if post:
            r["queued_bytes_max"] = max(x.get("queued_bytes") or 0 for x in post)
    lines = ["# Soak: %d associations × %d s through sctprelayd" % (r["assocs"], r["duration_s"]), "",
             "Run %s, tree %s, VM kernel %s, %d vCPUs under QEMU TCG (emulated and shared with other work: "
             "read flatness, not speed). Produced by `bench/run.sh --only soak` (`bench/soak.py`)." % (
                 r["meta"]["started"], r["meta"]["tree"], r["meta"]["kernel"], r["meta"]["cpus"]), "",
             "%d source associations (%d `sctp-loadgen soak` processes of %d, one-to-one sockets) send %d B "
             "messages on %d streams each, paced to %g msg/s together, for %d s through one listener to one peer "
             "destination (a sink; queue `{max_messages: 10000, max_bytes: 64MiB, when_full: backpressure}`). "
             "The relay's VmRSS and open descriptors are sampled every %d s. Baseline = median of the samples "
             "from %d s to %d s (after the warm-up); deviation = |sample − baseline| ÷ baseline, every sample after "
             "the warm-up." % (r["assocs"], r["processes"], r["assocs"] // r["processes"], r["size"], r["streams"],
                               r["rate"], r["duration_s"], r["interval_s"], r["baseline"]["window_s"][0],
                               r["baseline"]["window_s"][1]), "",
             "| figure | value |", "|---|---:|",
             "| relay VmRSS idle (before the sources) | %s kB |" % fmt(r["idle"]["rss_kb"]),
             "| relay VmRSS baseline (post-warm-up) | %s kB |" % fmt(r["baseline"]["rss_kb"]),
             "| relay VmRSS range after warm-up | %s – %s kB |" % (fmt(r["rss_kb_range"][0]), fmt(r["rss_kb_range"][1])),
             "| **max RSS deviation from baseline** | **%.2f %%** |" % (r["max_dev"]["rss"] * 100),
             "| max RSS deviation, samples with the relay's queues empty (%s of %s) | %s |" % (
                 r["max_dev"].get("queue_empty_samples"), r["max_dev"].get("samples"),
                 "%.2f %%" % (r["max_dev"]["rss_queue_empty"] * 100) if r["max_dev"].get("rss_queue_empty") is not None
                 else "–"),
             "| most bytes queued in the relay at a sample (`queued_bytes`) / peak (`queued_bytes_peak`) | %s / %s B |" % (
                 fmt(r.get("queued_bytes_max")), fmt((r["relay_stats"] or {}).get("queued_bytes_peak"))),
             "| RSS trend after warm-up (least squares) | %s kB/hour |" % fmt(r.get("rss_slope_kb_per_hour"), 1),
             "| relay descriptors idle / baseline | %s / %s |" % (r["idle"]["fds"], fmt(r["baseline"]["fds"])),
             "| relay descriptors range after warm-up | %s – %s |" % tuple(r["fds_range"]),
             "| **max descriptor deviation** | **%.2f %%** |" % (r["max_dev"]["fds"] * 100),
             "| relay after all sources closed: VmRSS / descriptors | %s kB / %s |" % (
                 fmt(r["after_close"]["rss_kb"]), r["after_close"]["fds"]),
             "| messages sent (sources) | %s |" % fmt(r["sent"]),
             "| messages received (sink) | %s |" % fmt(r["received"]),
             "| **lost** | **%s** |" % fmt(r["lost"]),
             "| **out of order / duplicated** (per association and stream) | **%s** |" % fmt(r["out_of_order"]),
             "| damaged (size or fill) | %s |" % fmt(r["bad"]),
             "| source associations that failed / were not established at the end | %s / %s |" % (
                 sum(g["failed"] for g in r["generators"]), sum(g["not_established"] for g in r["generators"])),
             "| sends that met a full send buffer (retried) | %s |" % fmt(sum(g["eagain"] for g in r["generators"])),
             "| achieved send rate | %s msg/s |" % fmt(sum(g["msgs_per_s"] for g in r["generators"])),
             "| relay CPU over the run | %s s |" % fmt(r["samples"][-1]["cpu_s"] - r["samples"][0]["cpu_s"], 1),
             "| verdict | %s |" % (
                 "flat: RSS and descriptors within 5 % of the baseline" if r["flat"] else
                 "descriptors flat; RSS outside 5 % at some samples (see the queue-empty figure and the time series: "
                 "memory follows what the relay held in its queues)" if r["max_dev"]["fds"] <= 0.05 else "NOT flat"), "",
             "Relay counters at the end (`SIGUSR1`): `%s`" % " ".join(
                 "%s=%s" % kv for kv in (r["relay_stats"] or {}).items()), "",
             "## Time series (one sample a minute and every sample where VmRSS moved; every %d s sample is in soak.json)" % r["interval_s"], "",
             "| t s | VmRSS kB | Anon kB | descriptors | relay CPU s | messages received by the relay | queued bytes | backpressure pauses |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    last_min = -1
    rows = [s for s in r["samples"]]
    for i, s in enumerate(rows):
        m = int(s["t"] // 60)
        # One a minute, plus every sample where memory moved.
        moved = i > 0 and s["rss_kb"] != rows[i - 1]["rss_kb"]
        if m == last_min and not moved and i != len(rows) - 1 and s.get("received") is None:
            continue
        last_min = m
        lines.append("| %s | %s | %s | %s | %.1f | %s | %s | %s |" % (
            fmt(s["t"]), fmt(s["rss_kb"]), fmt(s["anon_kb"]), s["fds"], s["cpu_s"], fmt(s.get("received")),
            fmt(s.get("queued_bytes")), fmt(s.get("backpressure_pauses"))))
    return "\n".join(lines) + "\n"


# ---- churn -------------------------------------------------------------------------------------


def churn(total, connectors, parallel, warm):
    sink = B.start_sink(total + warm, 100, timeout=7200, idle=60)
    relay = B.Relay("sctprelayd", [sink.port], tag="churn")
    # 2 log lines per association (up, down): kept on the VM's tmpfs, not the 9p share (a write
    # per line over 9p costs more than the association); copied to the work dir at the end.
    relay.log = "/tmp/churn-relay.log"
    relay.start()
    pid = relay.pid()
    out = {"meta": meta(), "total": total, "connectors": connectors, "parallel_each": parallel, "warmup": warm,
           "idle": sample(pid)}

    def run_churners(count, n, base):
        procs = []
        for i in range(n):
            c = count // n + (1 if i < count % n else 0)
            procs.append(B.Proc([LOADGEN, "churn", "--to", "127.0.0.1:%d" % relay.listen, "--count", str(c),
                                 "--parallel", str(parallel), "--id-base", str(base + i), "--id-step", str(n),
                                 "--timeout", "7200"], "churn-%d" % i))
        return procs

    def settle(target_fds, timeout=120):
        deadline = now() + timeout
        while now() < deadline and B.open_fds(pid) > target_fds:
            time.sleep(0.5)
        time.sleep(3)

    # Warm-up: the allocator's pools and the relay's tables grow to their working size first.
    fds0 = out["idle"]["fds"]
    for p in run_churners(warm, connectors, 1000000):
        p.json_result(3600)
        p.reap(30)
    settle(fds0)
    out["baseline"] = sample(pid)
    log("churn: warm-up of %d done; baseline rss %s kB fds %s; now %d" % (
        warm, out["baseline"]["rss_kb"], out["baseline"]["fds"], total))
    t0 = now()
    procs = run_churners(total, connectors, 0)
    samples = []
    peak_fds = 0
    while any(p.p.poll() is None for p in procs):
        s = sample(pid)
        s["t"] = round(now() - t0, 1)
        samples.append(s)
        peak_fds = max(peak_fds, s["fds"] or 0)
        if len(samples) % 30 == 0:
            log("  t=%5.0fs rss %s kB fds %s" % (s["t"], s["rss_kb"], s["fds"]))
        time.sleep(1)
    results = [p.json_result(60) for p in procs]
    for p in procs:
        p.reap(30)
    wall = now() - t0
    sink_res = sink.json_result(600)
    sink.reap(10)
    settle(out["baseline"]["fds"])
    after = sample(pid)
    stats = relay.stats(timeout=120)
    relay.stop()
    subprocess.run(["sh", "-c", "tail -n 200 %s > %s" % (relay.log, os.path.join(WORK, "churn-relay-tail.log"))])
    rss = [s["rss_kb"] for s in samples]
    out.update(results=results, wall_s=wall, per_s=total / wall, sink=sink_res, samples=samples, after=after,
               relay_stats=stats, peak_rss_kb=max(rss) if rss else None, peak_fds=peak_fds,
               expected=total + warm, received=sink_res["received"],
               lost=total + warm - sink_res["received"], out_of_order=sink_res["out_of_order"],
               bad=sink_res["bad"], graceful=sum(r["graceful"] for r in results),
               aborted=sum(r["aborted_linger"] + r["aborted_flag"] for r in results),
               dry_timeouts=sum(r["dry_timeouts"] for r in results))
    out["rss_after_vs_baseline"] = (after["rss_kb"] - out["baseline"]["rss_kb"]) / out["baseline"]["rss_kb"]
    log("churn: %d in %.0f s (%.0f/s); received %d/%d; rss baseline %s peak %s after %s; fds %s -> %s" % (
        total, wall, out["per_s"], sink_res["received"], total + warm, out["baseline"]["rss_kb"],
        out["peak_rss_kb"], after["rss_kb"], out["baseline"]["fds"], after["fds"]))
    write("churn", out, churn_md(out))
    return out


def churn_md(r):
    st = r["relay_stats"] or {}
    lines = ["# Churn: %s association set-ups and teardowns through sctprelayd" % fmt(r["total"]), "",
             "Run %s, tree %s, VM kernel %s, %d vCPUs under QEMU TCG (emulated and shared with other work: the "
             "rate is what this machine gave, not a property of the relay). Produced by `bench/run.sh --only churn` "
             "(`bench/soak.py`)." % (r["meta"]["started"], r["meta"]["tree"], r["meta"]["kernel"], r["meta"]["cpus"]),
             "",
             "%d `sctp-loadgen churn` processes, %d associations in flight each (one-to-one sockets, non-blocking, "
             "epoll). Each association connects, sends one 100 B message (its own id in the header), and ends: even "
             "ones with `close()` (SHUTDOWN; the kernel delivers the message first), odd ones with an ABORT once the "
             "relay's kernel has acknowledged the message (`SCTP_SENDER_DRY_EVENT`, checked with `SCTP_STATUS`), "
             "by `SO_LINGER {1, 0}` + `close()`. Every message "
             "must reach the sink. First a warm-up of %s associations, then the baseline sample, then the count; "
             "the relay's VmRSS and descriptors sampled every second; \"after\" once the relay's descriptors are back "
             "and 3 s have passed." % (r["connectors"], r["parallel_each"], fmt(r["warmup"])), "",
             "| figure | value |", "|---|---:|",
             "| associations (after the warm-up) | %s (%s closed, %s aborted) |" % (
                 fmt(r["total"]), fmt(r["graceful"]), fmt(r["aborted"])),
             "| wall time / rate | %.0f s / **%s associations/s** |" % (r["wall_s"], fmt(r["per_s"])),
             "| messages expected / received at the sink (warm-up included) | %s / %s |" % (
                 fmt(r["expected"]), fmt(r["received"])),
             "| **lost** | **%s** |" % fmt(r["lost"]),
             "| duplicated or out of order | %s |" % fmt(r["out_of_order"]),
             "| ABORTs sent without the acknowledgement (SENDER_DRY wait timed out) | %s |" % fmt(r["dry_timeouts"]),
             "| relay VmRSS idle (before the warm-up) | %s kB |" % fmt(r["idle"]["rss_kb"]),
             "| relay VmRSS **baseline** (after the warm-up) | **%s kB** |" % fmt(r["baseline"]["rss_kb"]),
             "| relay VmRSS **peak** during the churn | **%s kB** |" % fmt(r["peak_rss_kb"]),
             "| relay VmRSS **after** | **%s kB** (%+.2f %% vs baseline) |" % (
                 fmt(r["after"]["rss_kb"]), r["rss_after_vs_baseline"] * 100),
             "| relay Anonymous baseline / after | %s / %s kB |" % (fmt(r["baseline"]["anon_kb"]),
                                                                   fmt(r["after"]["anon_kb"])),
             "| relay descriptors idle / baseline / peak / after | %s / %s / %s / %s |" % (
                 r["idle"]["fds"], r["baseline"]["fds"], r["peak_fds"], r["after"]["fds"]),
             "| relay counters: assoc_up / assoc_down_shutdown / assoc_down_abort | %s / %s / %s |" % (
                 fmt(st.get("assoc_up")), fmt(st.get("assoc_down_shutdown")), fmt(st.get("assoc_down_abort"))),
             "", "Per connector: %s" % "; ".join(
                 "%s in %.0f s (%s/s)" % (fmt(x["count"]), x["seconds"], fmt(x["per_s"])) for x in r["results"]), "",
             "Relay counters at the end (`SIGUSR1`): `%s`" % " ".join("%s=%s" % kv for kv in st.items()), ""]
    return "\n".join(lines) + "\n"


# ---- destination flapping ---------------------------------------------------------------------

REC_HEAD = struct.Struct("<QQiiQ")  # count, capacity, listen fd, pid, ups (RecordFileHeader)
REC = struct.Struct("<IIHHI")       # source, seq, stream, rcv_stream, assoc_id


def read_records(path):
    with open(path, "rb") as f:
        head = f.read(REC_HEAD.size)
        count = REC_HEAD.unpack(head)[0]
        data = f.read(count * REC.size)
    return [REC.unpack_from(data, i * REC.size) for i in range(count)]


def proc_status(pid):
    """A process's scheduler state, wait channel and CPU ticks (what a sink was doing)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read().strip()
        with open("/proc/%d/syscall" % pid) as f:
            sc = f.read().split()[:1]
        return {"state": fields[0], "utime": int(fields[11]), "stime": int(fields[12]), "wchan": wchan,
                "syscall": sc[0] if sc else None}
    except (FileNotFoundError, PermissionError, ProcessLookupError) as e:
        return {"error": str(e)}


def flap_config(listen, dest):
    return "\n".join([
        "# generated by bench/soak.py (destination flapping)", "log_level: info",
        "limits: {max_message_size: 1MiB, shutdown_drain: 5s}",
        "listeners:", "  - {name: ran, address: 127.0.0.1, port: %d, streams: 16}" % listen,
        "destinations:",
        "  - {name: core, address: 127.0.0.1, port: %d, return: origin, reconnect: {min: 50ms, max: 250ms}," % dest,
        "     queue: {max_messages: 10000, max_bytes: 64MiB, when_full: backpressure}}",
        "routes:", "  - {from: ran, to: core}", "default: {action: drop}"]) + "\n"


def flap(sources, rate_each, duration, period, streams=4):
    rec_dir = "/dev/shm/sctprelayd-flap"
    os.makedirs(rec_dir, exist_ok=True)
    for f in os.listdir(rec_dir):
        os.remove(os.path.join(rec_dir, f))
    sink_port = B.port()
    instances = []

    def start_sink_instance():
        k = len(instances)
        path = os.path.join(rec_dir, "sink-%03d.rec" % k)
        p = B.Proc([LOADGEN, "record-sink", "--port", str(sink_port), "--record", path], "record-sink-%d" % k)
        line = json.loads(p.wait_line(lambda l: '"listening"' in l, 30))
        instances.append({"k": k, "proc": p, "path": path, "fd": line["fd"], "started": round(now() - T[0], 3)})

    T = [now()]
    start_sink_instance()
    relay = B.Relay("sctprelayd", [sink_port], tag="flap", config=lambda listen: flap_config(listen, sink_port)).start()
    srcs = [B.Proc([LOADGEN, "source", "--to", "127.0.0.1:%d" % relay.listen, "--count", str(10 ** 9), "--size", "100",
                    "--streams", str(streams), "--id", str(i), "--rate", str(rate_each), "--timeout", "60"],
                   "source-%d" % i) for i in range(sources)]
    time.sleep(period)  # every source up and flowing before the first kill
    T[0] = now()
    kills = []
    t_next = T[0] + period
    while now() - T[0] < duration:
        time.sleep(max(0.0, t_next - now()))
        t_next += period
        inst = instances[-1]
        pid = inst["proc"].pid
        # Stop it, read what its kernel has taken in (acknowledged) per association, then kill -9.
        # Acknowledged minus read is what the relay can never recover (at most once, by design).
        proc_state = proc_status(pid)
        # kstats --kill: kill -9 the sink while its own copy of the sink's socket keeps the socket
        # open, read the kernel's per-association counts, then close it (the socket's real end:
        # ABORT when anything is unread). Counts and end are a syscall apart.
        ks = subprocess.run([LOADGEN, "kstats", "--pid", str(pid), "--fd", str(inst["fd"]), "--kill"],
                            capture_output=True, text=True)
        if inst["proc"].p.poll() is None and inst["proc"].reap(0.5) is None:
            os.kill(pid, signal.SIGKILL)  # kstats failed: kill -9 it anyway
        inst["proc"].reap(10)
        recs = read_records(inst["path"])
        try:
            kernel = json.loads(ks.stdout)["assocs"]
        except ValueError:
            kernel = None
        took = sum(a["iodchunks"] + a["iuodchunks"] for a in kernel) if kernel is not None else None
        kills.append({"k": inst["k"], "t": round(now() - T[0], 3), "read": len(recs), "kernel_accepted": took,
                      "kernel_assocs": kernel, "unread_acknowledged": None if took is None else took - len(recs),
                      "kstats_error": ks.stderr.strip() or None, "process_before_stop": proc_state})
        start_sink_instance()
    t_end = now() - T[0]
    # Every source still connected? A source whose association the relay dropped dies on its
    # next send ("send message N: ...") before SIGUSR1.
    alive = [s.p.poll() is None for s in srcs]
    downs_during = relay_log_lines(relay, "association down: listener")
    stats_before_stop = relay.stats()
    for s in srcs:
        if s.p.poll() is None:
            s.p.send_signal(signal.SIGUSR1)
    src_res = []
    for s in srcs:
        try:
            src_res.append(s.json_result(120))
        except RuntimeError as e:
            src_res.append({"error": str(e), "stderr": None})
        s.reap(30)
    # The last sink takes everything still queued; done once its count has not moved for 5 s.
    last = instances[-1]
    stable_since, prev = now(), -1
    while now() - stable_since < 5:
        c = len(read_records(last["path"]))
        if c != prev:
            prev, stable_since = c, now()
        time.sleep(0.5)
    stats = relay.stats()
    relay.stop()
    last["proc"].stop(signal.SIGKILL)

    # ---- analysis: every record of every instance, in reading order
    sent = {}
    for i, r in enumerate(src_res):
        n = r.get("sent", 0)
        for s in range(streams):
            sent[(i, s)] = (n - s + streams - 1) // streams if n > s else 0
    seen = collections.defaultdict(set)
    reader = collections.defaultdict(dict)  # key -> {seq: instance that read it first}
    max_seq = {}
    dups = reordered = damaged = stream_changed = 0
    dup_by_instance = collections.Counter()
    reorder_examples = []
    per_instance_read = []
    for inst in instances:
        recs = read_records(inst["path"])
        per_instance_read.append(len(recs))
        for (source, seq, stream, rcv_stream, assoc_id) in recs:
            if source == 0xffffffff:
                damaged += 1
                continue
            if stream != rcv_stream:
                stream_changed += 1
            key = (source, stream)
            if seq in seen[key]:
                dups += 1
                dup_by_instance[inst["k"]] += 1
                continue
            if key in max_seq and seq < max_seq[key]:
                reordered += 1  # a new message older than one already read: out of order
                if len(reorder_examples) < 10:
                    reorder_examples.append({"instance": inst["k"], "key": list(key), "seq": seq,
                                             "after": max_seq[key]})
            seen[key].add(seq)
            reader[key][seq] = inst["k"]
            max_seq[key] = max(seq, max_seq.get(key, -1))
    lost = 0
    lost_by_kill = collections.Counter()
    lost_set = set()
    lost_ranges = []
    beyond = 0
    for key, n in sent.items():
        got = seen.get(key, set())
        beyond += sum(1 for q in got if q >= n)
        missing = [q for q in range(n) if q not in got]
        lost += len(missing)
        lost_set.update((key[0], key[1], q) for q in missing)
        # Which kill lost it: the instance that had read the last message of its stream before it.
        got_sorted = sorted(got)
        import bisect
        for q in missing:
            i = bisect.bisect_left(got_sorted, q)
            k = reader[key][got_sorted[i - 1]] if i > 0 else -1
            lost_by_kill[k] += 1
        # Group into ranges for the report.
        start = prev = None
        for q in missing + [None]:
            if q is not None and prev is not None and q == prev + 1:
                prev = q
                continue
            if start is not None:
                lost_ranges.append({"key": list(key), "from": start, "to": prev})
            start = prev = q
    total_records = sum(per_instance_read)
    unread_ack = [k["unread_acknowledged"] for k in kills if k["unread_acknowledged"] is not None]
    # The relay's view: copies handed to a sink's kernel and not handed back (forwarded - requeued),
    # minus what the sinks read (a duplicate's first copy was read and also handed back, so it is
    # added back): what sink kernels acknowledged and no process read.
    relay_view = stats.get("forwarded", 0) - stats.get("requeued", 0) - total_records + dups
    # How each destination association ended, in order (the relay's log): "lost" = ABORT (the dead
    # socket had unread data), "shutdown" = the dead socket closed gracefully (nothing unread), so
    # its kernel went on accepting what the relay's kernel still had in flight for it, during the
    # SHUTDOWN, and dropped it: acknowledged, never read, after the count was taken.
    downs = [("shutdown" if "down: shutdown" in l else "abort") for l in
             relay_log_lines(relay, "destination core down")]
    with_assoc = [k for k in kills if k["kernel_assocs"]]
    for k, how in zip(with_assoc, downs):
        k["relay_saw"] = how
    for k in kills:
        k["lost_attributed"] = lost_by_kill.get(k["k"], 0)
    ups = relay_log_lines(relay, "destination core up")
    connect_fail = relay_log_lines(relay, "could not be started")
    out = {"meta": meta(), "sources": sources,
           # Accepted by a dead sink's kernel and not read, less those the relay was handed back
           # and sent again without their turning up twice (accepted but not cumulatively
           # acknowledged, waiting behind a gap: never delivered to the dead socket, not lost).
           "inherent_loss_estimate": (sum(unread_ack) - (stats.get("redelivered_maybe_duplicate", 0) - dups))
           if unread_ack else None,
           "instances_that_read": sum(1 for n in per_instance_read if n),
           "lost_by_kill": {str(k): v for k, v in sorted(lost_by_kill.items())},
           "kills_ended_by_abort": sum(1 for k in kills if k.get("relay_saw") == "abort"),
           "kills_ended_by_shutdown": sum(1 for k in kills if k.get("relay_saw") == "shutdown"),
           "lost_at_abort_kills": sum(k["lost_attributed"] for k in kills if k.get("relay_saw") == "abort"),
           "lost_at_shutdown_kills": sum(k["lost_attributed"] for k in kills if k.get("relay_saw") == "shutdown"),
           "accepted_unread_at_abort_kills": sum(k["unread_acknowledged"] or 0 for k in kills
                                                 if k.get("relay_saw") == "abort"),
           "destination_ups": len(ups), "destination_connect_failures": len(connect_fail), "rate_each": rate_each, "duration_s": duration, "period_s": period,
           "streams": streams, "instances": len(instances), "kills": kills, "per_instance_read": per_instance_read,
           "sources_alive_at_end": sum(alive), "source_results": src_res,
           "listener_assoc_downs_during": len(downs_during), "listener_assoc_down_lines": downs_during[:20],
           "sent": sum(sent.values()), "unique_received": sum(len(v) for v in seen.values()),
           "records": total_records, "duplicates": dups, "duplicates_by_instance": dict(dup_by_instance),
           "reordered": reordered, "reorder_examples": reorder_examples, "damaged": damaged,
           "stream_changed": stream_changed, "received_beyond_sent": beyond, "lost": lost,
           "lost_ranges": lost_ranges[:200], "lost_range_count": len(lost_ranges),
           "inherent_loss_kernel_estimate": sum(unread_ack) if unread_ack else None,
           "inherent_loss_relay_view": relay_view, "relay_stats_before_stop": stats_before_stop,
           "relay_stats": stats, "flap_window_s": t_end}
    log("flap: %d kills; sent %d unique received %d lost %d (kernel-acknowledged unread %s, relay view %d); "
        "duplicates %d (relay counted maybe %d); reordered %d; sources alive %d/%d; listener downs %d" % (
            len(kills), out["sent"], out["unique_received"], lost, out["inherent_loss_kernel_estimate"], relay_view,
            dups, stats.get("redelivered_maybe_duplicate", 0), reordered, sum(alive), sources, len(downs_during)))
    write("flap", out, flap_md(out))
    return out


def flap_md(r):
    st = r["relay_stats"] or {}
    ok_src = all("error" not in s and not s.get("error") for s in r["source_results"])
    lines = ["# Destination flapping: the sink killed -9 and restarted every %g s for %g s" % (
        r["period_s"], r["duration_s"]), "",
        "Run %s, tree %s, VM kernel %s, %d vCPUs under QEMU TCG. Produced by `bench/run.sh --only flap` "
        "(`bench/soak.py`)." % (r["meta"]["started"], r["meta"]["tree"], r["meta"]["kernel"], r["meta"]["cpus"]), "",
        "%d sources (`sctp-loadgen source --rate %g`, 100 B messages round-robin over %d streams, per-(source, "
        "stream) sequence numbers) send through one listener to the peer destination `core` (queue "
        "`{max_messages: 10000, max_bytes: 64MiB, when_full: backpressure}`, `reconnect: {min: 50ms, max: 250ms}`). "
        "The destination is `sctp-loadgen record-sink`, which appends a record of every message it reads to a "
        "memory-mapped file in the VM's /dev/shm, so what an instance had read when it died is known exactly. "
        "Every %g s `sctp-loadgen kstats --kill` takes a copy of the running instance's socket "
        "(`pidfd_getfd`), kills the instance with SIGKILL, reads the kernel's count of DATA chunks accepted per "
        "association (`SCTP_GET_ASSOC_STATS`) and closes the copy — the socket's real end (ABORT when anything is "
        "unread), a syscall after the count — and a new instance starts on the same port. What the dead process "
        "had read is in its file; accepted minus read is what its kernel took and nobody will read: a kill -9 "
        "loses it whatever the relay does (SCTP has no application-level acknowledgement). "
        "After the last kill the sources stop and the last instance takes what is left." % (
            r["sources"], r["rate_each"], r["streams"], r["period_s"]), "",
        "| figure | value |", "|---|---:|",
        "| sink instances (kills) | %d (%d) |" % (r["instances"], len(r["kills"])),
        "| **sources that kept their association** to the end | **%d / %d** %s|" % (
            r["sources_alive_at_end"], r["sources"], "" if ok_src else "(a source failed) "),
        "| listener associations that went down during the flapping (relay log) | %d |" % r[
            "listener_assoc_downs_during"],
        "| relay: destination associations up / connection attempts that failed | %d / %d |" % (
            r["destination_ups"], r["destination_connect_failures"]),
        "| sink instances that read at least one message | %d of %d |" % (r["instances_that_read"], r["instances"]),
        "| messages sent (sources) | %s |" % fmt(r["sent"]),
        "| messages read by the sinks (all instances, duplicates included) | %s |" % fmt(r["records"]),
        "| distinct messages read | %s |" % fmt(r["unique_received"]),
        "| **reordered within a (source, stream)** | **%s** |" % fmt(r["reordered"]),
        "| damaged / stream changed | %s / %s |" % (fmt(r["damaged"]), fmt(r["stream_changed"])),
        "| **duplicates** read | **%s** |" % fmt(r["duplicates"]),
        "| relay: `redelivered_maybe_duplicate` (sent again, may have reached the peer) | %s |" % fmt(
            st.get("redelivered_maybe_duplicate")),
        "| relay: `requeued` (handed back by a dying association, sent again) | %s |" % fmt(st.get("requeued")),
        "| **lost** (sent, never read by any instance) | **%s** in %s runs |" % (
            fmt(r["lost"]), fmt(r["lost_range_count"])),
        "| (a) DATA chunks a dead sink's kernel had accepted minus what its process read (Σ over kills, at the socket's end) | %s |" % fmt(
            r["inherent_loss_kernel_estimate"]),
        "| (b) of those, handed back to the relay and sent again without turning up twice (`redelivered_maybe_duplicate` − duplicates: accepted behind a gap, never delivered to the dead socket) | %s |" % fmt(
            (st.get("redelivered_maybe_duplicate") or 0) - r["duplicates"]),
        "| **inherent loss estimate (a) − (b)**: acknowledged, delivered to a dead sink's socket, never read | **%s** |" % fmt(
            r["inherent_loss_estimate"]),
        "| inherent loss, relay's view: forwarded − requeued − read + duplicates | %s |" % fmt(
            r["inherent_loss_relay_view"]),
        "| **lost beyond the inherent loss estimate** (lost − ((a) − (b))) | **%s** |" % fmt(
            r["lost"] - r["inherent_loss_estimate"] if r.get("inherent_loss_estimate") is not None else None),
        "| messages the relay handed to its kernel and kept (forwarded − requeued) / DATA chunks all sink kernels accepted (Σ kills + what the last instance read) | %s / %s |" % (
            fmt(st.get("forwarded", 0) - st.get("requeued", 0)),
            fmt(sum(k["kernel_accepted"] or 0 for k in r["kills"]) + r["per_instance_read"][-1])),
        "| kills the relay saw as ABORT (unread data in the dead socket) / as SHUTDOWN (nothing unread) | %d / %d |" % (
            r["kills_ended_by_abort"], r["kills_ended_by_shutdown"]),
        "| lost at ABORT kills / their Σ (accepted − read) | %s / %s |" % (
            fmt(r["lost_at_abort_kills"]), fmt(r["accepted_unread_at_abort_kills"])),
        "| lost at SHUTDOWN kills (what the relay's kernel had in flight, accepted and dropped by the closed socket during the SHUTDOWN, after the count) | %s |" % fmt(
            r["lost_at_shutdown_kills"]),
        "| relay drops (all `dropped_*` counters) | %s |" % fmt(sum(v for k, v in st.items() if k.startswith("dropped_"))),
        "", "Per kill (t from the first kill's start; read = records of that instance; kernel = DATA chunks its "
        "associations accepted; unread = kernel − read):", "",
        "| instance | killed at t s | read | kernel accepted | accepted − read | lost (attributed) | relay saw | the sink was (state, wait channel) |",
        "|---:|---:|---:|---:|---:|---:|---|---|"]
    for k in r["kills"]:
        ps = k.get("process_before_stop") or {}
        lines.append("| %d | %.1f | %s | %s | %s | %s | %s | %s %s |" % (
            k["k"], k["t"], fmt(k["read"]), fmt(k["kernel_accepted"]), fmt(k["unread_acknowledged"]),
            fmt(k.get("lost_attributed")), k.get("relay_saw", "no association"), ps.get("state", ""),
            ps.get("wchan", "")))
    lines += ["", "Relay counters at the end (`SIGUSR1`): `%s`" % " ".join("%s=%s" % kv for kv in st.items()), ""]
    return "\n".join(lines) + "\n"


# ---- the plan ----------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="soak,churn,flap")
    ap.add_argument("--quick", action="store_true", help="small counts and short durations (a smoke test)")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    q = args.quick
    sections = [s for s in args.only.split(",") if s]
    rc = 0
    for s in sections:
        try:
            if s == "soak":
                soak(assocs=int(os.environ.get("SOAK_ASSOCS", 100 if q else 1000)), procs=4,
                     rate=float(os.environ.get("SOAK_RATE", 200 if q else 500)),
                     duration=float(os.environ.get("SOAK_SECONDS", 40 if q else 600)),
                     warmup=float(os.environ.get("SOAK_WARMUP", 10 if q else 60)),
                     interval=1 if q else 5)
            elif s == "churn":
                churn(total=int(os.environ.get("CHURN_COUNT", 2000 if q else 100000)),
                      connectors=int(os.environ.get("CHURN_CONNECTORS", 4)),
                      parallel=int(os.environ.get("CHURN_PARALLEL", 32)),
                      warm=int(os.environ.get("CHURN_WARMUP", 200 if q else 2000)))
            elif s == "flap":
                flap(sources=int(os.environ.get("FLAP_SOURCES", 4)),
                     rate_each=float(os.environ.get("FLAP_RATE", 50)),
                     duration=float(os.environ.get("FLAP_SECONDS", 10 if q else 60)),
                     period=float(os.environ.get("FLAP_PERIOD", 2)))
            else:
                log("unknown section %s" % s)
                rc = 2
        except Exception as e:  # one failed workload does not stop the others
            import traceback
            log("FAILED %s: %s" % (s, e))
            log(traceback.format_exc())
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
