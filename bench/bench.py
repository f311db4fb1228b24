#!/usr/bin/python3
"""Runs every benchmark workload inside the SCTP VM and writes the raw numbers as JSON.

Started by bench/run.sh (through tests/vm/run-in-vm.sh); bench/report.py turns the JSON into the
markdown table and the chart. All files live under bench/results/ (the VM's /tmp is not the
host's). Timed workloads run variant after variant, round after round, so that drifts of the
emulated machine hit every variant alike; exact metrics (instructions, allocations, syscalls,
memory) run once, at two message counts, and are reported as differences.
"""
import argparse
import glob
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BENCH_BUILD", os.path.join(REPO, "build-bench"))
LOADGEN = os.path.join(BUILD, "bench", "sctp-loadgen")
C_RELAY = os.path.join(BUILD, "bench", "c_relay")
RELAYD = os.path.join(BUILD, "daemon", "sctprelayd")
# An older build of the daemon (bench/run.sh with BENCH_BASELINE=COMMIT builds one): its
# instructions per message are counted next to the current build's, in the same VM run.
OLD_RELAYD = os.environ.get("BENCH_OLD_RELAYD", "")
OLD_LABEL = os.environ.get("BENCH_OLD_LABEL", "old")
RESULTS = os.path.join(REPO, "bench", "results")
WORK = os.path.join(RESULTS, "work")
HZ = os.sysconf("SC_CLK_TCK")
PPID = 46
STREAMS = 4  # sources spread their messages over streams 0..3

VARIANTS = ["direct", "c-relay", "socat", "sctprelayd"]
RELAYS = ["c-relay", "socat", "sctprelayd"]
OLD = "sctprelayd-old"  # the variant that runs OLD_RELAYD with the same generated file


def is_relayd(variant):
    return variant in ("sctprelayd", OLD)


def log(*args):
    print("[bench %6.1fs]" % (time.monotonic() - T0), *args, file=sys.stderr, flush=True)


T0 = time.monotonic()
_next_port = [20000]


def port():
    _next_port[0] += 1
    return _next_port[0]


# ---- processes ---------------------------------------------------------------------------------


class Proc:
    """A child process whose stdout is read line by line (JSON lines from sctp-loadgen)."""

    def __init__(self, cmd, name, stdin=False, stderr_file=None, env=None, process_group=None):
        self.name = name
        self.cmd = cmd
        err = open(stderr_file, "w") if stderr_file else subprocess.DEVNULL if name == "socat" else None
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stderr=err, text=True, env=env, bufsize=1, process_group=process_group)
        self.fd = self.p.stdout.fileno()
        self.buf = b""
        self.lines = []
        self.rusage = None

    @property
    def pid(self):
        return self.p.pid

    def read_line(self, timeout):
        """The next stdout line; None on timeout, "" at EOF. Unbuffered, so select() tells the truth."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return ""
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        self.lines.append(line.decode(errors="replace"))
        return self.lines[-1]

    def wait_line(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.read_line(max(0.01, deadline - time.monotonic()))
            if line is None:
                break
            if line == "":
                raise RuntimeError("%s exited (rc=%s) before the expected line" % (self.name, self.p.poll()))
            if pred(line):
                return line
        raise RuntimeError("%s: no expected line within %ss; got %r" % (self.name, timeout, self.lines[-3:]))

    def json_result(self, timeout, key="mode"):
        line = self.wait_line(lambda l: l.startswith("{") and ('"%s"' % key) in l, timeout)
        return json.loads(line)

    def reap(self, timeout):
        """Waits for exit and keeps the child's rusage (its CPU time after it is gone)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, ru = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:  # already reaped by Popen (send_signal polls first)
                return self.p.returncode
            if pid == self.pid:
                self.rusage = ru
                self.p.returncode = os.waitstatus_to_exitcode(status)
                return self.p.returncode
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.returncode is None:
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass
            if self.reap(timeout) is None:
                self.p.kill()
                self.reap(5)
        return self.p.returncode


def proc_cpu_ticks(pid):
    """utime+stime+cutime+cstime of pid plus those of its live descendants."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0
    total = sum(int(x) for x in fields[11:15])
    for child in children(pid):
        total += proc_cpu_ticks(child)
    return total


def children(pid):
    out = []
    for path in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(path) as f:
                out += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return out


def memory(pid):
    """Rss/Pss (kB) from smaps_rollup, VmRSS/VmHWM from status."""
    m = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Rss", "Pss", "Private_Dirty", "Anonymous"):
                    m[k.lower() + "_kb"] = int(v.split()[0])
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    m[k.lower() + "_kb"] = int(v.split()[0])
    except FileNotFoundError:
        pass
    return m


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except FileNotFoundError:
        return None


def nofile_limit(pid):
    """[soft, hard] RLIMIT_NOFILE of a process (/proc/PID/limits)."""
    try:
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return [int(x) if x.isdigit() else x for x in line.split()[3:5]]
    except FileNotFoundError:
        pass
    return None


def slab_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return 0


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


# ---- relays ------------------------------------------------------------------------------------


def relayd_config(listen, dests, routes_before=0, queue=None, log_level="info"):
    """A realistic sctprelayd file: one listener, peer destinations, routes, default drop."""
    q = queue or "{max_messages: 10000, max_bytes: 64MiB, when_full: backpressure}"
    lines = ["# generated by bench/bench.py", "log_level: %s" % log_level,
             "limits: {max_message_size: 1MiB, shutdown_drain: 5s}",
             "listeners:", "  - {name: ran, address: 127.0.0.1, port: %d, streams: 16}" % listen,
             "destinations:"]
    for i, d in enumerate(dests):
        lines.append("  - name: core-%d" % i)
        lines.append("    address: 127.0.0.1")
        lines.append("    port: %d" % d)
        lines.append("    return: origin")
        lines.append("    queue: %s" % q)
    lines.append("routes:")
    # Non-matching routes first (PPIDs nobody sends), so the matching one is last in file order.
    for i in range(routes_before):
        lines.append("  - {from: ran, ppid: %d, to: core-0}" % (100000 + i))
    targets = ", ".join("core-%d" % i for i in range(len(dests)))
    lines.append("  - {from: ran, to: [%s]}" % targets)
    lines.append("default: {action: drop}")
    return "\n".join(lines) + "\n"


X_PPID = 47  # the isolation workload's congested source X; everything else is sent with PPID


def isolation_config(listen, fast, slow, slow_queue):
    """One listener; source X's messages (PPID 47) go to `slow`, everything else to `fast`."""
    return "\n".join([
        "# generated by bench/bench.py (slow destination isolation)", "log_level: info",
        "limits: {max_message_size: 1MiB, shutdown_drain: 5s}",
        "listeners:", "  - {name: ran, address: 127.0.0.1, port: %d, streams: 16}" % listen,
        "destinations:",
        "  - {name: fast, address: 127.0.0.1, port: %d, return: origin," % fast,
        "     queue: {max_messages: 10000, max_bytes: 64MiB, when_full: backpressure}}",
        "  - {name: slow, address: 127.0.0.1, port: %d, return: origin, queue: %s}" % (slow, slow_queue),
        "routes:",
        "  - {name: to-slow, from: ran, ppid: %d, to: slow}" % X_PPID,
        "  - {name: to-fast, from: ran, to: fast}",
        "default: {action: drop}"]) + "\n"


class Relay:
    """One relay variant between a listen port and destination ports (none for direct)."""

    def __init__(self, variant, dests, tool=None, tag="", routes_before=0, queue=None, config=None):
        self.variant = variant
        self.dests = dests
        self.proc = None
        self.tool = tool  # None | "callgrind" | "memcheck" | "strace"
        self.tag = tag or variant
        self.listen = dests[0] if variant == "direct" else port()
        self.log = os.path.join(WORK, "%s.log" % self.tag)
        self.tool_out = os.path.join(WORK, "tool-%s" % self.tag)
        self.routes_before = routes_before
        self.queue = queue
        self.config = config  # sctprelayd: a function listen_port -> file text (else relayd_config)

    def wrap(self, cmd):
        if self.tool == "callgrind":
            # Not instrumented until the relay is up (see instrument_on): start-up code such as
            # parsing 10,000 routes then runs many times faster, and is not counted at all.
            # socat (cheap start, forks per association) is instrumented from the start.
            late = ["--instr-atstart=no"] if self.variant != "socat" else []
            return ["valgrind", "--tool=callgrind", "--trace-children=yes"] + late + [
                "--callgrind-out-file=%s.%%p" % self.tool_out] + cmd
        if self.tool == "memcheck":
            return ["valgrind", "--tool=memcheck", "--trace-children=yes", "--leak-check=no",
                    "--log-file=%s.%%p" % self.tool_out] + cmd
        if self.tool == "strace":
            return ["strace", "-f", "-c", "-o", self.tool_out] + cmd
        return cmd

    def start(self):
        for f in glob.glob(self.tool_out + "*"):
            os.remove(f)
        slow = (600 if self.routes_before else 120) if self.tool in ("callgrind", "memcheck") else 30
        if self.variant == "direct":
            return self
        if self.variant == "c-relay":
            self.proc = Proc(self.wrap([C_RELAY, "--listen", str(self.listen), "--to", "127.0.0.1:%d" % self.dests[0]]),
                             "c_relay", stderr_file=self.log if self.tool else None)
            self.proc.wait_line(lambda l: l == "listening", slow)
            self.instrument_on()
        elif self.variant == "socat":
            # IPPROTO_SCTP=132: SCTP_NODELAY=3 on; SCTP_DELAYED_SACK=16 {assoc 0, delay 0, freq 1}
            nodelay = "setsockopt-int=132:3:1,setsockopt-bin=132:16:x000000000000000001000000"
            bufs = "rcvbuf=1048576,sndbuf=1048576"
            cmd = ["socat", "-b", "1048576",
                   "SCTP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr,%s,%s" % (self.listen, bufs, nodelay),
                   "SCTP-CONNECT:127.0.0.1:%d,%s,%s" % (self.dests[0], bufs, nodelay)]
            self.proc = Proc(self.wrap(cmd), "socat", stderr_file=self.log)
            self.instrument_on()
            # socat has no ready line: the clients retry a refused connect until it listens.
        else:
            cfg = os.path.join(WORK, "%s.yaml" % self.tag)
            with open(cfg, "w") as f:
                f.write(self.config(self.listen) if self.config else
                        relayd_config(self.listen, self.dests, self.routes_before, self.queue))
            binary = OLD_RELAYD if self.variant == OLD else RELAYD
            self.proc = Proc(self.wrap([binary, "--config", cfg]), "sctprelayd", stderr_file=self.log)
            want = len(self.dests)
            wait_until(lambda: self._count_log(r"destination \S+ up") >= want or self.proc.p.poll() is not None,
                       slow, "sctprelayd destinations up")
            if self.proc.p.poll() is not None:
                raise RuntimeError("sctprelayd exited: " + open(self.log).read()[-2000:])
            self.instrument_on()
        return self

    def instrument_on(self):
        """callgrind: start counting now that the relay is ready (before any message)."""
        if self.tool != "callgrind" or not self.proc or self.variant == "socat":
            return
        deadline = time.monotonic() + 120
        while True:  # socat has no ready line: retry until valgrind's server answers
            r = subprocess.run(["callgrind_control", "--instr=on", str(self.proc.pid)], capture_output=True,
                               text=True, timeout=120)
            if r.returncode == 0 and "no active callgrind" not in (r.stdout + r.stderr).lower():
                return
            if time.monotonic() > deadline:
                raise RuntimeError("callgrind_control --instr=on failed: %s %s" % (r.stdout, r.stderr))
            time.sleep(0.2)

    def dump_counts(self):
        """callgrind: writes the counts so far (instrumentation on since the relay was up) to a file
        of their own (OUT.PID.1) and returns its path."""
        r = subprocess.run(["callgrind_control", "--dump=delivered", str(self.proc.pid)], capture_output=True,
                           text=True, timeout=120)
        path = "%s.%d.1" % (self.tool_out, self.proc.pid)
        wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 60,
                   "callgrind dump (%s %s)" % (r.stdout.strip(), r.stderr.strip()))
        return path

    def _count_log(self, pattern):
        try:
            with open(self.log) as f:
                return len(re.findall(pattern, f.read()))
        except FileNotFoundError:
            return 0

    def pid(self):
        return self.proc.pid if self.proc else None

    def target_pid(self):
        """The relay itself: under strace it is strace's child (valgrind runs in the same process)."""
        if self.tool == "strace":
            kids = children(self.proc.pid)
            return kids[0] if kids else None
        return self.proc.pid

    def cpu_ticks(self):
        if not self.proc:
            return 0
        if self.proc.rusage is not None:
            ru = self.proc.rusage
            return round((ru.ru_utime + ru.ru_stime) * HZ)
        return proc_cpu_ticks(self.proc.pid)

    def settle_after_run(self):
        """After the source closed: c_relay exits by itself, socat's forked child exits."""
        if self.variant == "c-relay":
            self.proc.reap(60)
        elif self.variant == "socat":
            parent = self.target_pid()
            wait_until(lambda: not parent or not children(parent), 60, "socat child exit")

    def stats(self, timeout=30):
        """sctprelayd's counters (SIGUSR1 -> a stats line in its log)."""
        if not is_relayd(self.variant):
            return None
        before = self._count_log(r"stats: ")
        os.kill(self.target_pid(), signal.SIGUSR1)
        wait_until(lambda: self._count_log(r"stats: ") > before, timeout, "stats line")
        with open(self.log) as f:
            line = [l for l in f.read().splitlines() if "stats: " in l][-1]
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.split("stats: ", 1)[1])}

    def stop(self):
        if not self.proc:
            return
        if self.tool == "strace" and self.proc.p.returncode is None:
            target = self.target_pid()
            if target:  # strace writes its summary when the traced relay exits
                os.kill(target, signal.SIGTERM)
            if self.proc.reap(60) is not None:
                return
        self.proc.stop(timeout=60 if self.tool else 20)


def start_sink(count, size, rate=0, timeout=120, ppid=PPID, idle=0, hold=False, buffer=None, peel=False):
    p = port()
    args = [LOADGEN, "sink", "--port", str(p), "--count", str(count), "--timeout", str(timeout), "--ppid", str(ppid)]
    if peel:  # a socket per association
        args += ["--peel"]
    if buffer:  # receive buffer, bytes (default 1 MiB)
        args += ["--buffer", str(buffer)]
    if idle:  # count not known in advance: ends once nothing arrived for `idle` seconds
        args += ["--idle", str(idle)]
    else:
        args += ["--bytes", str(count * size)]
    if rate:
        args += ["--rate", str(rate)]
    if hold:  # stays up after its result until SIGUSR2
        args += ["--hold"]
    s = Proc(args, "sink")
    s.wait_line(lambda l: '"listening"' in l, 30)
    s.port = p
    return s


def start_echo():
    p = port()
    e = Proc([LOADGEN, "echo", "--port", str(p)], "echo")
    e.wait_line(lambda l: '"listening"' in l, 30)
    e.port = p
    return e


def run_source(to_port, count, size, timeout=180, start_delay_ms=0, hold=False):
    src = Proc([LOADGEN, "source", "--to", "127.0.0.1:%d" % to_port, "--count", str(count), "--size", str(size),
                "--streams", str(STREAMS), "--ppid", str(PPID), "--timeout", "60",
                "--start-delay-ms", str(start_delay_ms)] + (["--hold"] if hold else []), "source")
    return src


# ---- workloads ---------------------------------------------------------------------------------


def one_way(variant, count, size, tool=None, tag=None, routes_before=0, sinks=1, rate=0, queue=None,
            sample_rss=False, start_delay_ms=0):
    """Source -> [relay] -> sink(s). Returns the sinks' numbers and the relay's CPU time."""
    # callgrind: the counts are taken (dumped) once every message has arrived, while the source
    # and the sinks still hold their associations: the relay's teardown (the sink leaving,
    # reconnect attempts, their log lines, stopping) varies with timing and is left out. socat
    # forks a process per association: its whole run is counted.
    dump = tool == "callgrind" and variant not in ("socat", "direct")
    sink_procs = [start_sink(count, size, rate, hold=dump) for _ in range(sinks)]
    relay = Relay(variant, [s.port for s in sink_procs], tool=tool, tag=tag, routes_before=routes_before,
                  queue=queue).start()
    rss_samples = []
    stop_sampling = threading.Event()
    if sample_rss and relay.pid():
        def sampler():
            while not stop_sampling.is_set():
                m = memory(relay.pid())
                if m:
                    rss_samples.append((time.monotonic(), m.get("vmrss_kb", 0)))
                stop_sampling.wait(0.05)
        threading.Thread(target=sampler, daemon=True).start()
    cpu0 = relay.cpu_ticks()
    mem0 = memory(relay.pid()) if relay.pid() else {}
    t0 = time.monotonic()
    src = run_source(relay.listen, count, size, start_delay_ms=start_delay_ms, hold=dump)
    results = [s.json_result(300 + start_delay_ms / 1000) for s in sink_procs]
    dump_file = relay.dump_counts() if dump else None
    if dump:  # now the sinks and the source may close
        for s in sink_procs:
            s.p.send_signal(signal.SIGUSR2)
        src.p.send_signal(signal.SIGUSR1)
    wall = time.monotonic() - t0
    src_result = src.json_result(60)
    src.reap(30)
    for s in sink_procs:
        s.reap(10)
    stats = relay.stats(timeout=120 if tool else 30)
    if not is_relayd(variant) and relay.proc:
        relay.settle_after_run()
    cpu1 = relay.cpu_ticks()
    stop_sampling.set()
    mem1 = memory(relay.pid()) if relay.pid() else {}
    relay.stop()
    out = {"variant": variant, "count": count, "size": size, "wall_s": wall, "source": src_result,
           "sinks": results, "relay_stats": stats, "relay_cpu_s": (cpu1 - cpu0) / HZ,
           "relay_cpu_us_per_msg": (cpu1 - cpu0) / HZ / count * 1e6 if relay.proc else None,
           "mem_before": mem0, "mem_after": mem1}
    first = min(r["first_ns"] for r in results)
    last = max(r["last_ns"] for r in results)
    span = (last - first) / 1e9
    out["msgs_per_s"] = (count - 1) / span if span > 0 else 0
    out["mb_per_s"] = (count * size) / span / 1e6 if span > 0 else 0
    out["received"] = sum(r["received"] for r in results)
    out["bytes"] = sum(r["bytes"] for r in results)
    out["lost_bytes"] = count * size * sinks - out["bytes"]
    out["lost"] = max(0, count * sinks - out["received"]) if out["lost_bytes"] > 0 else 0
    out["out_of_order"] = sum(r["out_of_order"] for r in results)
    out["bad"] = sum(r["bad"] for r in results)
    out["stream_changed"] = sum(r["stream_changed"] for r in results)
    out["ppid_changed"] = sum(r["ppid_changed"] for r in results)
    if rss_samples:
        out["rss_samples_kb"] = [round(v) for _, v in rss_samples]
    if relay.tool:
        out["tool_files"] = [dump_file] if dump_file else sorted(glob.glob(relay.tool_out + "*"))
    return out


def isolation(congested, y_count, y_size, x_size, slow_rate, slow_queue, variant="sctprelayd", y_timeout=120):
    """Slow destination isolation: source Y's time to send y_count messages and have them all at the
    fast destination's sink, with source X (a) absent or (b) sending flat out into the slow
    destination (sink reading slow_rate msg/s) until it is held back end to end: the relay's queue
    for `slow` is at its limit, the relay has stopped reading X, and X's own sends wait for space.

    Y's time is from its association being up (connect returned) to the last arrival at its sink.
    Afterwards X is stopped, the slow sink reads at full speed, and X's sent and delivered counts
    and order are checked (nothing lost)."""
    tag = "isolation-%s-%s" % (variant, "b" if congested else "a")
    # The X backlog is drained at full speed after the measurement: its sink ends after 3 s idle.
    slow_sink = start_sink(10 ** 9, x_size, rate=slow_rate, timeout=600, ppid=X_PPID, idle=3)
    # The sink's clock starts now, before X fills the path (at most 180 s): Y gets y_timeout at least.
    fast_sink = start_sink(y_count, y_size, timeout=y_timeout + 180)
    relay = Relay(variant, [fast_sink.port, slow_sink.port], tag=tag,
                  config=lambda listen: isolation_config(listen, fast_sink.port, slow_sink.port, slow_queue)).start()
    out = {"variant": variant, "congested": congested, "y_count": y_count, "y_size": y_size, "x_size": x_size,
           "slow_rate": slow_rate, "slow_queue": slow_queue}
    x = None
    try:
        if congested:
            x = Proc([LOADGEN, "source", "--to", "127.0.0.1:%d" % relay.listen, "--count", str(10 ** 8), "--size",
                      str(x_size), "--streams", str(STREAMS), "--ppid", str(X_PPID), "--timeout", "60",
                      "--blocked-ms", "200"], "source-x")
            t = time.monotonic()
            blocked = x.json_result(180, key="event")
            out["x_fill_s"] = time.monotonic() - t
            out["x_blocked"] = blocked
            out["stats_before_y"] = relay.stats()
        ticks0 = relay.cpu_ticks()
        y = run_source(relay.listen, y_count, y_size)
        fast = fast_sink.json_result(y_timeout + 240)
        if fast["timed_out"]:  # Y held back with X (a relay without isolation): stop it, count what it sent
            y.p.send_signal(signal.SIGUSR1)
        y_res = y.json_result(60)
        y.reap(30)
        out["relay_cpu_s_during_y"] = (relay.cpu_ticks() - ticks0) / HZ
        out["y_source"] = y_res
        out["y_sink"] = fast
        out["y_timed_out"] = fast["timed_out"]
        out["y_s"] = (fast["last_ns"] - y_res["connected_ns"]) / 1e9 if fast["received"] and not fast[
            "timed_out"] else None
        out["y_msgs_per_s"] = fast["received"] / out["y_s"] if out["y_s"] else 0
        out["y_sent"] = y_res["sent"]
        out["y_delivered"] = fast["received"]
        out["y_lost"] = y_res["sent"] - fast["received"]
        out["y_out_of_order"] = fast["out_of_order"] + fast["bad"]
        if congested:
            out["stats_after_y"] = relay.stats()
            # Was X still held back while Y ran? The relay kept pausing it, and its sink kept up its rate.
            b, a = out["stats_before_y"] or {}, out["stats_after_y"] or {}
            out["x_pauses_during_y"] = a.get("backpressure_pauses", 0) - b.get("backpressure_pauses", 0)
            x.p.send_signal(signal.SIGUSR1)  # X: stop sending, close gracefully
            x_res = x.json_result(120)
            x.reap(30)
            slow_sink.p.send_signal(signal.SIGUSR1)  # drain X's backlog at full speed
            slow_res = slow_sink.json_result(600)
            out["x_source"] = x_res
            out["x_sink"] = slow_res
            out["x_sent"] = x_res["sent"]
            out["x_delivered"] = slow_res["received"]
            out["x_lost"] = x_res["sent"] - slow_res["received"]
            out["x_out_of_order"] = slow_res["out_of_order"] + slow_res["bad"]
            out["x_ppid_changed"] = slow_res["ppid_changed"]
            out["x_delivered_before_unthrottle"] = slow_res.get("unthrottled_at")
        out["relay_stats"] = relay.stats()
        out["relay_mem"] = memory(relay.pid())
    finally:
        if x:
            x.stop()
        relay.stop()
        slow_sink.stop()
        fast_sink.stop()
    return out


def latency(variant, count, outstanding, size=100):
    echo = start_echo()
    relay = Relay(variant, [echo.port]).start()
    cpu0 = relay.cpu_ticks()
    cli = Proc([LOADGEN, "latency", "--to", "127.0.0.1:%d" % relay.listen, "--count", str(count), "--size",
                str(size), "--outstanding", str(outstanding), "--timeout", "120"], "latency")
    res = cli.json_result(180)
    cli.reap(10)
    if not is_relayd(variant) and relay.proc:
        relay.settle_after_run()
    cpu1 = relay.cpu_ticks()
    relay.stop()
    echo.stop()
    res["variant"] = variant
    res["relay_cpu_us_per_msg"] = (cpu1 - cpu0) / HZ / (2 * count) * 1e6 if relay.proc else None
    return res


def many_assocs(variant, count):
    """K associations through one listener, one round trip each, then held idle for memory."""
    echo = start_echo()
    relay = Relay(variant, [echo.port], tag="%s-assocs-%d" % (variant, count)).start()
    idle = memory(relay.pid()) if relay.pid() else {}
    nofile = nofile_limit(relay.pid()) if relay.pid() else None
    slab0 = slab_kb()
    cli = Proc([LOADGEN, "assocs", "--to", "127.0.0.1:%d" % relay.listen, "--count", str(count), "--timeout", "300"],
               "assocs", stdin=True)
    res = cli.json_result(400, key="event")
    time.sleep(0.5)  # idle moment before the memory reading (associations quiet, SACKs done)
    held = memory(relay.pid()) if relay.pid() else {}
    fds = open_fds(relay.pid()) if relay.pid() else None  # one per association since the peel-off
    slab1 = slab_kb()
    cli.p.stdin.write("close\n")
    cli.p.stdin.flush()
    closed = cli.json_result(300, key="event")
    cli.reap(30)
    # The relay sees each association end on its own socket: with 10,000 of them ending at once its
    # loop is busy for a while (under emulation tens of seconds) before it answers SIGUSR1.
    t = time.monotonic()
    stats = relay.stats(timeout=300)
    settle = time.monotonic() - t
    relay.stop()
    echo.stop()
    res.update(variant=variant, count=count, relay_mem_idle=idle, relay_mem_held=held, close=closed,
               kernel_slab_kb_delta=slab1 - slab0, relay_stats=stats, relay_fds_held=fds, relay_nofile=nofile,
               relay_stats_after_close_s=settle)
    if idle and held:
        res["relay_pss_per_assoc_bytes"] = (held["pss_kb"] - idle["pss_kb"]) * 1024 / count
        res["relay_rss_per_assoc_bytes"] = (held["rss_kb"] - idle["rss_kb"]) * 1024 / count
        res["relay_anon_per_assoc_bytes"] = (held["anonymous_kb"] - idle["anonymous_kb"]) * 1024 / count
    return res


# ---- workers: one relay, N event loops -----------------------------------------------------------


def control(path, request, timeout=60):
    """One request to sctprelayd's control socket (docs/control.md: one JSON line each way). The
    `assocs` answer is what `sctprelayctl assocs --json` prints."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall((json.dumps(request) + "\n").encode())
        data = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    answer = json.loads(data)
    if not answer.get("ok"):
        raise RuntimeError("control %s: %s" % (request, answer.get("error")))
    return answer


def task_cpu(path):
    """[name, utime+stime seconds, seconds waiting on a run queue, times it was put on a CPU] of one
    task (PATH = /proc/PID or /proc/PID/task/TID): `stat` for utime+stime, `schedstat` for the wait
    (ns) and the count, None if gone."""
    try:
        with open(path + "/stat") as f:
            head, _, rest = f.read().rpartition(")")
        with open(path + "/schedstat") as f:
            sched = f.read().split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = rest.split()
    return [head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / HZ, int(sched[1]) / 1e9, int(sched[2])]


def threads_cpu(pid):
    """{tid: task_cpu} of every thread of pid."""
    out = {}
    for d in glob.glob("/proc/%d/task/*" % pid):
        t = task_cpu(d)
        if t:
            out[int(os.path.basename(d))] = t
    return out


def all_tasks_cpu():
    """{tid: [name, utime+stime s]} of every task in the VM (kernel threads too)."""
    out = {}
    for d in glob.glob("/proc/[0-9]*/task/[0-9]*"):
        try:
            with open(d + "/stat") as f:
                head, _, rest = f.read().rpartition(")")
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = rest.split()
        out[int(os.path.basename(d))] = [head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / HZ]
    return out


def vm_cpu():
    """{"cpu0": [running s, waiting s], ...}: per vCPU, the time tasks ran on it and the time tasks
    waited on its run queue (/proc/schedstat, ns; precise). /proc/stat's tick counts are not used:
    under emulation on a busy host the guest loses timer ticks (they undercounted by half)."""
    out = {}
    with open("/proc/schedstat") as f:
        for line in f:
            if line.startswith("cpu"):
                v = line.split()
                out[v[0]] = [int(v[7]) / 1e9, int(v[8]) / 1e9]
    return out


def net_counters():
    """The VM's SCTP counters (/proc/net/sctp/snmp) and the packets the per-CPU input backlog dropped
    (/proc/net/softnet_stat, column 2: loopback traffic goes through it)."""
    out = {}
    with open("/proc/net/sctp/snmp") as f:
        for line in f:
            k, v = line.split()
            out[k] = int(v)
    with open("/proc/net/softnet_stat") as f:
        out["backlog_dropped"] = sum(int(line.split()[1], 16) for line in f)
    return out


# What a workers run reports of net_counters (differences over the run): retransmissions, their
# timeouts, and packets or DATA chunks a receiver threw away.
NET_KEYS = ("SctpT3RtxExpireds", "SctpT3Retransmits", "SctpFastRetransmits", "SctpInPktDiscards",
            "SctpInDataChunkDiscards", "backlog_dropped")


# The workers section raises the per-CPU input backlog (loopback packets queue there until softirq
# takes them): at the default 1,000, 8 or 64 sources released at once overflowed it by tens of
# thousands of packets a run, and the retransmission timeouts that followed (3 s each before an
# association has measured its round trip) were most of what was timed. It also puts the minimum
# retransmission timeout back to the kernel's 1 s: with the 10 ms of the other sections, a
# receiver that waited longer than that for a vCPU (66 processes on 2) made its sender time out
# and send its whole flight again, tens to hundreds of times a run, thousands of chunks the
# receiver then discarded as duplicates. Restored afterwards.
WORKERS_SYSCTL = {"net.core.netdev_max_backlog": "100000", "net.sctp.rto_min": "1000"}
# ... and gives its sink a 64 MiB receive buffer (the kernel doubles it): with 1 MiB, the senders'
# windows (one per association, over memory the socket shares) let them overrun it, and the
# kernel discarded tens of thousands of DATA chunks a run (direct from 64 sources: the run never
# finished).
WORKERS_SINK_BUFFER = 64 << 20
# BENCH_WORKERS_SINK_PEEL=1: the sink peels each association off into a socket of its own.
WORKERS_SINK_PEEL = os.environ.get("BENCH_WORKERS_SINK_PEEL", "0") == "1"
# The sources run at nice 10: they stand for peers on other machines, and at the same weight the
# scheduler gave each of 8 or 64 source processes as much of the 2 vCPUs as a relay thread (the one
# relay thread of `workers: 1` got about 60% of a vCPU while the VM had 30% idle). The sink stays
# at 0 (at 10, two relay threads starved it and it held the whole run back).
WORKERS_SOURCES_NICE = int(os.environ.get("BENCH_WORKERS_SOURCES_NICE", "10"))
# ksoftirqd under SCHED_FIFO (SoftirqFirst); BENCH_WORKERS_SOFTIRQ_FIFO=0 leaves it as it is.
WORKERS_SOFTIRQ_FIFO = os.environ.get("BENCH_WORKERS_SOFTIRQ_FIFO", "1") == "1"
# BENCH_WORKERS_BUNDLE=B: sources send with MSG_MORE, up to B messages a packet (sctp-loadgen
# source --bundle); 1 (the default) is a packet per message, as everywhere else.
WORKERS_BUNDLE = int(os.environ.get("BENCH_WORKERS_BUNDLE", "1"))


def NICE_PREFIX(n):
    return ["nice", "-n", str(n)] if n else []


class SoftirqFirst:
    """For a `with` block, runs the kernel's softirq threads (ksoftirqd/N) under SCHED_FIFO, then
    puts their old policy back. Loopback packets the sending syscall does not process itself wait
    for ksoftirqd; as one of dozens of runnable tasks on 2 emulated vCPUs it got a sliver of one,
    packets waited in the input queue for over a second, and their senders' retransmission timers
    fired (tens of T3 timeouts a run, each stalling an association for a second, and thousands of
    chunks sent twice)."""

    def __init__(self, enabled=True):
        self.enabled = enabled
        self.old = {}

    @staticmethod
    def threads():
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/comm" % d) as f:
                        if f.read().startswith("ksoftirqd/"):
                            out.append(int(d))
                except OSError:
                    pass
        return out

    def __enter__(self):
        if self.enabled:
            for pid in self.threads():
                self.old[pid] = (os.sched_getscheduler(pid), os.sched_getparam(pid))
                os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
        return self

    def __exit__(self, *exc):
        for pid, (policy, param) in self.old.items():
            try:
                os.sched_setscheduler(pid, policy, param)
            except OSError:
                pass


class Sysctls:
    """Sets sysctls for a `with` block and puts the old values back."""

    def __init__(self, values):
        self.values = values
        self.old = {}

    @staticmethod
    def path(key):
        return "/proc/sys/" + key.replace(".", "/")

    def __enter__(self):
        for k, v in self.values.items():
            with open(self.path(k)) as f:
                self.old[k] = f.read().strip()
            with open(self.path(k), "w") as f:
                f.write(v)
        return self

    def __exit__(self, *exc):
        for k, v in self.old.items():
            with open(self.path(k), "w") as f:
                f.write(v)


def per_stream_counts(count, streams):
    """How many of a source's `count` messages go on each stream (it sends message i on i % streams)."""
    return [count // streams + (1 if j < count % streams else 0) for j in range(streams)]


def workers_config(listen, sink_port, workers, control_socket):
    """relayd_config's file (one listener, one peer destination, a route, default drop) with
    `workers: N` and a control socket (to ask which worker carries which association)."""
    return relayd_config(listen, [sink_port]) + "workers: %d\ncontrol: {socket: %s}\n" % (workers, control_socket)


def workers_run(variant, assocs, per_assoc, workers=1, size=100, timeout=180, ctl_dir="/tmp"):
    """`assocs` source associations (one `sctp-loadgen source` each, --id 0..assocs-1, STREAMS
    streams, per_assoc messages of `size` B) into one sink: straight ("direct", the load
    generators' own ceiling) or through sctprelayd with `workers: N`.

    Every source connects and waits (--wait-start); once all are up and (sctprelayd) the relay has
    taken every association on, CPU counters are read, all sources are released at once (SIGUSR2),
    and the counters are read again when the sink has every message (sources and sink still hold
    their associations: --hold). So the CPU figures cover the same interval as the rate, not
    process start-up or teardown. Rate = messages / (release -> the sink's last arrival).

    Valid only if the sink got every message exactly once and in order per (source, stream), each
    key with exactly what its source sent on that stream, whole, on its stream with its PPID; and
    (sctprelayd) the relay received and forwarded every message and dropped none."""
    total = assocs * per_assoc
    tag = "workers-%s-%d%s" % (variant, assocs, "-w%d" % workers if variant == "sctprelayd" else "")
    ctl = os.path.join(ctl_dir, "ctl-%s.sock" % tag)  # not under the repository: 9p cannot hold a socket
    out = {"variant": variant, "assocs": assocs, "workers": workers if variant == "sctprelayd" else None,
           "per_assoc": per_assoc, "count": total, "size": size, "streams": STREAMS}
    sink = start_sink(total, size, timeout=timeout, hold=True, buffer=WORKERS_SINK_BUFFER, peel=WORKERS_SINK_PEEL)
    relay = None
    srcs = []
    try:
        if variant == "sctprelayd":
            if os.path.exists(ctl):
                os.remove(ctl)
            relay = Relay("sctprelayd", [sink.port], tag=tag,
                          config=lambda listen: workers_config(listen, sink.port, workers, ctl)).start()
            # Each worker has its own association to the destination: all of them up first.
            sink.wait_line(lambda l: '"up"' in l and json.loads(l)["assocs"] >= workers, 60)
            if relay.proc.p.poll() is not None:
                raise RuntimeError("sctprelayd exited: " + open(relay.log).read()[-2000:])
            to = relay.listen
        else:
            to = sink.port
        # One process group, released with one signal (one kill(2): none starts ahead of the rest).
        for i in range(assocs):
            srcs.append(Proc(NICE_PREFIX(WORKERS_SOURCES_NICE) + [LOADGEN, "source", "--to", "127.0.0.1:%d" % to, "--count", str(per_assoc), "--size",
                              str(size), "--streams", str(STREAMS), "--ppid", str(PPID), "--timeout", "60",
                              "--id", str(i), "--hold", "--wait-start", "--bundle", str(WORKERS_BUNDLE)], "source-%d" % i,
                             process_group=srcs[0].pid if srcs else 0))
        for s in srcs:
            s.wait_line(lambda l: '"connected"' in l, 180)
        if relay:
            # The relay has taken every association on (accepted on the worker the kernel chose).
            deadline = time.monotonic() + 120
            while True:
                placed = [a for a in control(ctl, {"command": "assocs"})["associations"] if a["role"] == "accepted"]
                if len(placed) >= assocs:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the relay took on %d of %d associations" % (len(placed), assocs))
                time.sleep(0.2)
        def sample():
            return {"vm": vm_cpu(), "vm_at": time.monotonic(), "net": net_counters(), "tasks": all_tasks_cpu(),
                    "relay": threads_cpu(relay.pid()) if relay else {},
                    "sources": [task_cpu("/proc/%d" % s.pid) for s in srcs], "sink": task_cpu("/proc/%d" % sink.pid)}

        before = sample()
        t0 = time.monotonic()
        os.killpg(srcs[0].pid, signal.SIGUSR2)
        res = sink.json_result(timeout + 30)
        t1 = time.monotonic()
        after = sample()
        window = t1 - t0
        out["window_s"] = window
        out["sink"] = res
        # Rate: messages / (release -> last arrival at the sink); both clocks are the VM's CLOCK_MONOTONIC.
        # Not the sink's own first-to-last span: a sink starved of CPU while the senders filled its
        # 64 MiB buffer reads the whole run from memory in a fraction of a second (it showed 100,000 msg/s).
        out["to_last_s"] = res["last_ns"] / 1e9 - t0 if res["received"] else None
        out["msgs_per_s"] = res["received"] / out["to_last_s"] if out["to_last_s"] else 0
        out["sink_span_msgs_per_s"] = res["msgs_per_s"]
        out["received"] = res["received"]
        # CPU over the window, seconds, and the time spent runnable but waiting for a vCPU. The kernel's
        # SCTP work on loopback is charged to whoever runs when it happens (a sender's syscall usually
        # carries the receiving side's processing too).
        pairs = [(a, b) for a, b in zip(before["sources"], after["sources"]) if a and b]
        out["sources_measured"] = len(pairs)
        out["cpu_s"] = {"sources": sum(b[1] - a[1] for a, b in pairs),
                        "sink": after["sink"][1] - before["sink"][1] if before["sink"] and after["sink"] else None}
        out["wait_s"] = {"sources": sum(b[2] - a[2] for a, b in pairs),
                         "sink": after["sink"][2] - before["sink"][2] if before["sink"] and after["sink"] else None}
        if relay:
            threads = []
            for tid, (name, cpu, wait, runs) in sorted(after["relay"].items()):
                _, cpu0, wait0, runs0 = before["relay"].get(tid, [name, 0, 0, 0])
                threads.append({"tid": tid, "name": name, "cpu_s": cpu - cpu0, "wait_s": wait - wait0,
                                "runs": runs - runs0, "util": (cpu - cpu0) / window if window > 0 else None})
            out["relay_threads"] = threads
            out["cpu_s"]["relay"] = sum(t["cpu_s"] for t in threads)
            out["wait_s"]["relay"] = sum(t["wait_s"] for t in threads)
        # The VM's counters cover their own readings' interval (a little longer than the window: the
        # other readings sit between them), scaled to the window.
        vm_span = after["vm_at"] - before["vm_at"]
        vm = {}
        for cpu in after["vm"]:
            run = after["vm"][cpu][0] - before["vm"][cpu][0]
            vm[cpu] = {"busy_s": run * window / vm_span, "wait_s": (after["vm"][cpu][1] - before["vm"][cpu][1]) *
                       window / vm_span, "busy": run / vm_span}
        out["vm_cpu"] = vm
        out["vm_span_s"] = vm_span
        out["net"] = {k: after["net"].get(k, 0) - before["net"].get(k, 0) for k in NET_KEYS}
        vm_busy = sum(v["busy_s"] for v in vm.values())
        out["vm_busy_s"] = vm_busy
        known = sum(v for v in out["cpu_s"].values() if v)
        out["cpu_s"]["other"] = vm_busy - known  # softirq threads, this harness, the rest of the VM
        # Who the others were: the busiest tasks that are not the relay, a source or the sink.
        mine = set(after["relay"]) | {s.pid for s in srcs} | {sink.pid}
        others = {}
        for tid, (name, cpu) in after["tasks"].items():
            if tid not in mine:
                used = cpu - before["tasks"].get(tid, [name, 0])[1]
                others[name] = others.get(name, 0) + used
        out["other_tasks"] = [{"name": k, "cpu_s": round(v, 2)} for k, v in
                              sorted(others.items(), key=lambda kv: -kv[1])[:5] if v > 0]
        if relay:
            # Where the associations were and what each worker carried (sources still connected).
            table = control(ctl, {"command": "assocs"})["associations"]
            spread = {}
            for a in table:
                w = spread.setdefault(a["worker"], {"accepted": 0, "upstream": 0, "messages_in": 0, "messages_out": 0,
                                                    "in_out_of_sequence_tsns": 0, "out_retransmitted_chunks": 0})
                k = a.get("kernel") or {}
                if a["role"] == "accepted":
                    w["accepted"] += 1
                    w["messages_in"] += a["traffic"]["messages_in"]
                    w["in_out_of_sequence_tsns"] += k.get("out_of_sequence_tsns", 0)  # lost on the way in
                else:
                    w["upstream"] += 1
                    w["messages_out"] += a["traffic"]["messages_out"]
                    w["out_retransmitted_chunks"] += k.get("retransmitted_chunks", 0)  # to the sink again
            out["spread"] = {str(k): v for k, v in sorted(spread.items())}
            out["assocs_table"] = [{k: a.get(k) for k in ("id", "role", "worker", "label", "destination")} |
                                   {"messages_in": a["traffic"]["messages_in"],
                                    "messages_out": a["traffic"]["messages_out"]} for a in table]
        os.killpg(srcs[0].pid, signal.SIGUSR1)  # close now
        sink.p.send_signal(signal.SIGUSR2)
        src_res = [s.json_result(60) for s in srcs]
        for s in srcs:
            s.reap(30)
        sink.reap(30)
        out["sent"] = sum(r["sent"] for r in src_res)
        out["sources_short"] = sum(1 for r in src_res if r["sent"] != per_assoc)
        if relay:
            out["relay_stats"] = relay.stats()
    finally:
        for s in srcs:
            s.stop()
        if relay:
            relay.stop()
        sink.stop()
    out["problems"] = workers_problems(out, assocs, per_assoc, workers if relay else assocs)
    out["valid"] = not out["problems"]
    return out


def workers_problems(r, assocs, per_assoc, sink_assocs):
    """Why a workers run is no figure: anything lost, duplicated, reordered, damaged or dropped."""
    s = r["sink"]
    per_key = per_stream_counts(per_assoc, STREAMS)
    want_keys = assocs * sum(1 for n in per_key if n)
    p = []
    if s["timed_out"]:
        p.append("sink timed out")
    if s["received"] != r["count"]:
        p.append("sink received %d of %d" % (s["received"], r["count"]))
    for key, what in (("out_of_order", "out of order"), ("bad", "damaged"), ("key_missing", "lost (per key)"),
                      ("key_extra", "duplicated (per key)"), ("stream_changed", "on another stream"),
                      ("ppid_changed", "with another PPID")):
        if s.get(key):
            p.append("%d %s" % (s[key], what))
    if s.get("keys") != want_keys:
        p.append("%s (source, stream) keys, want %d" % (s.get("keys"), want_keys))
    if (s.get("key_count_min"), s.get("key_count_max")) != (min(n for n in per_key if n), max(per_key)):
        p.append("per key %s..%s messages, want %d..%d" % (s.get("key_count_min"), s.get("key_count_max"),
                                                          min(n for n in per_key if n), max(per_key)))
    if s.get("assocs") != sink_assocs:
        p.append("sink saw %s associations, want %d" % (s.get("assocs"), sink_assocs))
    if r.get("sent") != r["count"] or r.get("sources_short"):
        p.append("sources sent %s of %d" % (r.get("sent"), r["count"]))
    st = r.get("relay_stats")
    if r["variant"] == "sctprelayd":
        if not st:
            p.append("no relay counters")
        else:
            if st.get("received") != r["count"] or st.get("forwarded") != r["count"]:
                p.append("relay received %s forwarded %s of %d" % (st.get("received"), st.get("forwarded"), r["count"]))
            drops = {k: v for k, v in st.items() if k.startswith("dropped") and v}
            if drops or st.get("redelivered_maybe_duplicate"):
                p.append("relay drops %s, maybe duplicated %s" % (drops, st.get("redelivered_maybe_duplicate")))
        placed = sum(w["accepted"] for w in (r.get("spread") or {}).values())
        if placed != assocs:
            p.append("assocs shows %d accepted associations, want %d" % (placed, assocs))
    return p


def log_workers(r):
    name = "direct" if r["variant"] == "direct" else "workers %d" % r["workers"]
    line = "  workers %3d assocs %-9s %8.0f msg/s in %.1f s" % (r["assocs"], name, r["msgs_per_s"], r["window_s"])
    c = r["cpu_s"]
    line += "; cpu s: sources %.2f sink %.2f" % (c["sources"], c["sink"] or 0)
    if r.get("relay_threads"):
        line += " relay %s" % " + ".join("%s %.2f" % (t["name"], t["cpu_s"]) for t in r["relay_threads"])
        line += "; spread %s" % ", ".join("w%s: %d assocs %d msgs" % (k, v["accepted"], v["messages_in"])
                                          for k, v in r["spread"].items())
    line += "; VM busy %.0f%% of %d vCPUs" % (100 * r["vm_busy_s"] / r["window_s"], len(r["vm_cpu"]))
    line += "; net %s" % " ".join("%s=%d" % (k.replace("Sctp", ""), v) for k, v in r["net"].items() if v)
    log(line)
    if not r["valid"]:
        log("  INVALID workers run (%s, %d assocs): %s" % (name, r["assocs"], "; ".join(r["problems"])))


def log_isolation(res):
    line = "  isolation %-14s %-9s Y %d/%d in %s s" % (
        res["variant"], "congested" if res["congested"] else "alone", res["y_delivered"], res["y_sent"],
        "%.2f" % res["y_s"] if res["y_s"] else "-")
    if res["congested"]:
        line += "; X sent %d delivered %d (out of order %d), filled in %.1f s, pauses during Y %d" % (
            res["x_sent"], res["x_delivered"], res["x_out_of_order"], res["x_fill_s"], res["x_pauses_during_y"])
    log(line)


# ---- exact metrics -----------------------------------------------------------------------------


def callgrind_total(files):
    total = 0
    for f in files:
        with open(f) as fh:
            for line in fh:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total += int(line.split()[1])
                    break
    return total


def memcheck_allocs(files):
    allocs = 0
    for f in files:
        with open(f) as fh:
            m = re.search(r"total heap usage: ([\d,]+) allocs", fh.read())
            if m:
                allocs += int(m.group(1).replace(",", ""))
    return allocs


def strace_counts(files):
    calls = {}
    for f in files:
        with open(f) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                    name = parts[-1]
                    # columns: %time seconds usecs/call calls [errors] syscall
                    calls[name] = calls.get(name, 0) + int(parts[3])
    return calls


EXACT_DELAY_MS = 3000


def exact_metric(tool, variant, counts, size=100, routes_before=0, label=None):
    label = label or variant
    if size != 100:
        log("  %s %s: %s messages of %d B" % (tool, label, counts, size))
    per = []
    for n in counts:
        tag = "%s-%s-%d" % (tool, label, n)
        # The source waits 3 s between its association coming up and its first message. Under
        # valgrind the relay runs about 50x slower: a source that sends and closes at once can be
        # gone before the relay has taken its association on (sctp_peeloff then fails and the
        # relay drops what it sent). Idle time costs the same in both runs and cancels.
        r = one_way(variant, n, size, tool=tool, tag=tag, routes_before=routes_before, start_delay_ms=EXACT_DELAY_MS)
        if r["lost"] or r["bad"] or r["out_of_order"] or r["received"] < n:
            # A count over messages that were not relayed is no figure (see the relay's log).
            raise RuntimeError("%s %s n=%d: %d of %d messages arrived (bad %d, out of order %d), see %s" % (
                tool, label, n, r["received"], n, r["bad"], r["out_of_order"], os.path.join(WORK, tag + ".log")))
        files = r["tool_files"]
        if tool == "callgrind":
            value = callgrind_total(files)
        elif tool == "memcheck":
            value = memcheck_allocs(files)
        else:
            value = strace_counts(files)
        per.append({"count": n, "value": value, "received": r["received"], "lost": r["lost"], "files": files})
        log("  %s %s n=%d -> %s" % (tool, label, n, value if tool != "strace" else sum(value.values())))
    a, b = per
    dn = b["count"] - a["count"]
    if tool == "strace":
        names = set(a["value"]) | set(b["value"])
        by_call = {k: (b["value"].get(k, 0) - a["value"].get(k, 0)) / dn for k in names}
        by_call = {k: v for k, v in sorted(by_call.items(), key=lambda kv: -kv[1]) if abs(v) >= 0.01}
        per_msg = (sum(b["value"].values()) - sum(a["value"].values())) / dn
        return {"runs": per, "per_msg": per_msg, "by_syscall": by_call}
    return {"runs": per, "per_msg": (b["value"] - a["value"]) / dn}


def annotate(path):
    """{function: Ir} from callgrind_annotate (self cost, every function)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path], capture_output=True,
                         text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$", line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        name = m.group(2)
        if name.startswith(("./", "/", "???:")):  # "file:function"; paths have no colons
            name = name.split(":", 1)[1]
        name = re.sub(r" \[/[^\]]*\]$", "", name)
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs


def profile_diff(cg):
    """Where sctprelayd's instructions per message go: per-function difference of the two runs."""
    if not cg:
        return None
    (a, b) = cg["runs"]
    fa, fb = annotate(a["files"][0]), annotate(b["files"][0])
    dn = b["count"] - a["count"]
    per = {k: (fb.get(k, 0) - fa.get(k, 0)) / dn for k in set(fa) | set(fb)}
    top = sorted(per.items(), key=lambda kv: -kv[1])[:15]
    return [{"function": k[:140], "per_msg": round(v, 1)} for k, v in top if v >= 1]


# ---- the plan ----------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="tiny counts, one round (a smoke test)")
    ap.add_argument("--only", default="",
                    help="comma list of sections: rate,latency,fanout,routes,assocs,isolation,workers,slow,"
                         "exact,routes-instr")
    ap.add_argument("--out", default=os.path.join(RESULTS, "latest.json"))
    ap.add_argument("--exact-tools", default="callgrind,memcheck,strace",
                    help="the tools of the exact section (e.g. callgrind alone, to look at a profile)")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    q = args.quick
    rounds = 1 if q else args.rounds
    sections = set(args.only.split(",")) if args.only else {"rate", "latency", "fanout", "routes", "assocs",
                                                            "isolation", "workers", "slow", "exact", "routes-instr"}
    if os.environ.get("BENCH_CALLGRIND_ROUTES") == "0":
        sections.discard("routes-instr")
    # Message counts: a few thousand small messages, large ones sized by bytes (16 MB a run).
    sizes = {100: 4000, 1024: 4000, 65536: 256, 262144: 64}
    if q:
        sizes = {100: 500, 1024: 500, 65536: 32, 262144: 8}
    lat_low, lat_high, lat_outstanding = (200, 500, 32) if q else (1000, 3000, 32)
    assoc_counts = [100] if q else [1000, 10000]
    assoc_rounds = {k: rounds if k <= 1000 else min(rounds, int(os.environ.get("BENCH_10K_ROUNDS", "2")))
                    for k in assoc_counts}
    # Two message counts per tool; startup and shutdown cancel in the difference. valgrind under
    # emulation runs at well under 1 M instructions/s, so its counts stay small (still exact).
    exact_counts = {"callgrind": (100, 300), "callgrind-64k": (10, 30), "memcheck": (50, 150),
                    "strace": (200, 600)} if q else \
        {"callgrind": (250, 750), "callgrind-64k": (20, 60), "memcheck": (100, 300), "strace": (1000, 3000)}
    slow = dict(count=500, size=4096, rate=500) if q else dict(count=5000, size=4096, rate=1000)
    # Slow destination isolation: Y sends y_count x y_size to `fast`, alone and while X is held back
    # behind `slow` (a sink reading slow_rate msg/s behind a small backpressure queue).
    iso = dict(y_count=500 if q else 5000, y_size=1024, x_size=1024, slow_rate=200,
               slow_queue="{max_messages: 256, max_bytes: 1MiB, when_full: backpressure}")
    # Workers: 8 and 64 source associations, the same number of 100 B messages in all (each source
    # sends total / associations over STREAMS streams), straight to the sink and through sctprelayd
    # with `workers: 1` and `workers: 2`.
    wk = dict(assocs=[8, 64], total=2000 if q else 48000, size=100, workers=[1, 2], sysctl=WORKERS_SYSCTL,
              sink_buffer=WORKERS_SINK_BUFFER, sink_peel=WORKERS_SINK_PEEL, softirq_fifo=WORKERS_SOFTIRQ_FIFO, sources_nice=WORKERS_SOURCES_NICE,
              bundle=WORKERS_BUNDLE)

    # Inherited by every child: sctprelayd holds one descriptor per association since the peel-off
    # (it raises its soft limit to this hard one at start), and the 10,000-association client one
    # socket per association. Root in the VM, so the hard limit can be raised.
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))

    results = {"meta": {
        "kernel": os.uname().release, "cpus": os.cpu_count(), "rounds": rounds, "quick": q,
        "sizes_counts": sizes, "latency": {"low_count": lat_low, "high_count": lat_high,
                                           "high_outstanding": lat_outstanding, "size": 100},
        "assoc_counts": assoc_counts, "assoc_rounds": assoc_rounds, "exact_counts": exact_counts,
        "slow": slow, "isolation": iso, "workers": wk, "streams": STREAMS, "ppid": PPID,
        "old_relayd": {"label": OLD_LABEL, "path": OLD_RELAYD} if OLD_RELAYD else None,
        "sysctl": {k: open("/proc/sys/net/" + k.replace(".", "/")).read().strip()
                   for k in ["sctp.rto_min", "core.rmem_max", "core.wmem_max"]},
        "socket_options": "SCTP_NODELAY, SCTP_DELAYED_SACK freq 1, SO_RCVBUF/SO_SNDBUF 1 MiB on every loadgen, "
                          "c_relay and sctprelayd socket (many-association clients: kernel default buffers); "
                          "socat: the same three, set with its setsockopt-int/-bin and rcvbuf/sndbuf address options",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"), "tree": os.environ.get("BENCH_TREE"),
    }, "rate": [], "latency": [], "fanout": [], "routes": [], "assocs": [], "isolation": [], "isolation_old": [],
        "workers": [], "slow": None, "exact": {}, "errors": []}

    def attempt(what, fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except Exception as e:  # a failed run is recorded and the benchmark goes on
            log("FAILED %s: %s" % (what, e))
            log("".join(traceback.format_exc().splitlines(True)[-6:]).rstrip())
            results["errors"].append("%s: %s" % (what, e))
            return None

    workers_failed = 0
    ctl_dir = None
    for r in range(rounds):
        log("round %d/%d" % (r + 1, rounds))
        if "rate" in sections:
            for size, count in sizes.items():
                for v in VARIANTS:
                    res = attempt("rate %s %dB round %d" % (v, size, r + 1), one_way, v, count, size)
                    if res:
                        res["round"] = r
                        results["rate"].append(res)
                        log("  rate %-10s %6dB %9.0f msg/s %8.2f MB/s cpu/msg %s lost %d" % (
                            v, size, res["msgs_per_s"], res["mb_per_s"], res["relay_cpu_us_per_msg"], res["lost"]))
        if "latency" in sections:
            for count, outstanding in ((lat_low, 1), (lat_high, lat_outstanding)):
                for v in VARIANTS:
                    res = attempt("latency %s %d round %d" % (v, outstanding, r + 1), latency, v, count, outstanding)
                    if res:
                        res["round"] = r
                        results["latency"].append(res)
                        log("  latency %-10s out=%-3d p50 %8.0f us p99 %8.0f us" % (
                            v, outstanding, res["p50_us"], res["p99_us"]))
        if "fanout" in sections or "routes" in sections:
            # sctprelayd with 1 destination (and 1 route) is the "rate" 100 B run; repeat it here
            # so that every ratio compares runs of the same moment.
            base = attempt("sctprelayd 1 dest round %d" % (r + 1), one_way, "sctprelayd", sizes[100], 100)
            if "fanout" in sections:
                res = attempt("fanout round %d" % (r + 1), one_way, "sctprelayd", sizes[100], 100, sinks=4,
                              tag="fanout")
                if res and base:
                    results["fanout"].append({"round": r, "one": base, "four": res})
                    log("  fanout in %9.0f msg/s vs 1-dest %9.0f" % (res["msgs_per_s"], base["msgs_per_s"]))
            if "routes" in sections:
                res = attempt("routes round %d" % (r + 1), one_way, "sctprelayd", sizes[100], 100,
                              routes_before=9999, tag="routes10k")
                if res and base:
                    results["routes"].append({"round": r, "one": base, "many": res})
                    log("  10k routes %9.0f msg/s vs 1 route %9.0f" % (res["msgs_per_s"], base["msgs_per_s"]))
        if "assocs" in sections:
            for k in assoc_counts:
                if r >= assoc_rounds[k]:
                    continue
                for v in ("direct", "sctprelayd"):
                    res = attempt("assocs %s %d round %d" % (v, k, r + 1), many_assocs, v, k)
                    if res:
                        res["round"] = r
                        results["assocs"].append(res)
                        log("  assocs %-10s %5d connect %.2fs exchange %.2fs pss/assoc %s" % (
                            v, k, res["connect_s"], res["exchange_s"], res.get("relay_pss_per_assoc_bytes")))

        if "isolation" in sections:
            for congested in (False, True):
                what = "isolation %s round %d" % ("congested" if congested else "alone", r + 1)
                res = attempt(what, isolation, congested, iso["y_count"], iso["y_size"], iso["x_size"],
                              iso["slow_rate"], iso["slow_queue"])
                if res:
                    res["round"] = r
                    results["isolation"].append(res)
                    log_isolation(res)

        if "workers" in sections:
            ctl_dir = ctl_dir or tempfile.mkdtemp(prefix="sctprelay-bench-")  # the VM's own /tmp
            # The same association count back to back, its order turned round every other round.
            plan = [("direct", 1)] + [("sctprelayd", w) for w in wk["workers"]]
            if r % 2:
                plan.reverse()
            for k, (v, w) in ((k, vw) for k in wk["assocs"] for vw in plan):
                with Sysctls(WORKERS_SYSCTL), SoftirqFirst(WORKERS_SOFTIRQ_FIFO):
                    name = "direct" if v == "direct" else "workers %d" % w
                    res = attempt("workers %s %d assocs round %d" % (name, k, r + 1), workers_run, v, k,
                                  wk["total"] // k, workers=w, size=wk["size"], ctl_dir=ctl_dir)
                    if res is None and v != "direct":
                        workers_failed += 1
                    else:
                        res["round"] = r
                        results["workers"].append(res)
                        log_workers(res)
                        if not res["valid"] and v != "direct":  # direct: no relay under test, a note
                            workers_failed += 1
                        if not res["valid"]:
                            results["errors"].append("workers %s %d assocs round %d INVALID: %s" % (
                                name, k, r + 1, "; ".join(res["problems"])))

    if "isolation" in sections and OLD_RELAYD:
        # The same workload on the old build, once: without per-association reading, X held back
        # holds back the whole listener, Y with it. Y is given 90 s.
        for congested in (False, True):
            res = attempt("isolation %s %s" % (OLD_LABEL, "congested" if congested else "alone"), isolation,
                          congested, iso["y_count"], iso["y_size"], iso["x_size"], iso["slow_rate"],
                          iso["slow_queue"], variant=OLD, y_timeout=90)
            if res:
                res["round"] = 0
                results["isolation_old"].append(res)
                log_isolation(res)

    if "slow" in sections:
        log("slow destination")
        queue = "{max_messages: 256, max_bytes: 1MiB, when_full: backpressure}"
        res = attempt("slow destination", one_way, "sctprelayd", slow["count"], slow["size"], rate=slow["rate"],
                      queue=queue, sample_rss=True, tag="slow")
        if res:
            res["queue"] = queue
            res["sink_rate"] = slow["rate"]
            results["slow"] = res
            s = res.get("rss_samples_kb") or [0]
            log("  slow: received %d/%d, RSS %d..%d kB" % (res["received"], slow["count"], min(s), max(s)))

    if "exact" in sections:
        log("exact metrics (valgrind, strace), messages of 100 B: %s" % exact_counts)
        ex = results["exact"]
        for tool in [t for t in ("callgrind", "memcheck", "strace") if t in args.exact_tools.split(",")]:
            ex[tool] = {}
            for v in RELAYS:
                ex[tool][v] = attempt("%s %s" % (tool, v), exact_metric, tool, v, exact_counts[tool])
            if tool == "callgrind":
                # Large messages: where copying shows (socat splits them, so not socat).
                for v in ("c-relay", "sctprelayd"):
                    ex[tool][v + "-64k"] = attempt("callgrind %s 64 KB" % v, exact_metric, tool, v,
                                                   exact_counts["callgrind-64k"], size=65536, label=v + "-64k")
                ex["profile"] = attempt("callgrind profile", profile_diff, ex[tool].get("sctprelayd"))
                ex["profile-64k"] = attempt("callgrind profile 64 KB", profile_diff, ex[tool].get("sctprelayd-64k"))
                if OLD_RELAYD:
                    # The old build, same workload, same VM run: before/after of the instructions.
                    log("  callgrind %s (%s)" % (OLD_LABEL, OLD_RELAYD))
                    ex[tool][OLD] = attempt("callgrind %s" % OLD_LABEL, exact_metric, tool, OLD,
                                            exact_counts[tool], label=OLD)
                    ex[tool][OLD + "-64k"] = attempt("callgrind %s 64 KB" % OLD_LABEL, exact_metric, tool, OLD,
                                                     exact_counts["callgrind-64k"], size=65536, label=OLD + "-64k")
                    ex["profile-old"] = attempt("callgrind profile old", profile_diff, ex[tool].get(OLD))
                    ex["profile-old-64k"] = attempt("callgrind profile old 64 KB", profile_diff,
                                                    ex[tool].get(OLD + "-64k"))
    if "routes-instr" in sections:
        # Parsing 10,000 routes under callgrind is slow in the emulated VM (about a minute a run).
        ex = results["exact"]
        ex.setdefault("callgrind", {})["sctprelayd-10k-routes"] = attempt(
            "callgrind 10k routes", exact_metric, "callgrind", "sctprelayd", exact_counts["callgrind"],
            routes_before=9999, label="routes10k")

    results["meta"]["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results["meta"]["vm_wall_s"] = time.monotonic() - T0
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    log("wrote %s" % args.out)
    # A workers run that failed, or lost, duplicated or reordered anything, fails the benchmark (bench/run.sh
    # still writes the report, then exits with this status).
    if workers_failed:
        log("FAILED: %d workers run(s) failed or INVALID (see errors in %s)" % (workers_failed, args.out))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
