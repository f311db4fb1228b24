// source: N messages of S bytes over streams 0..K-1 on one association, as fast as the
// association takes them (blocking sends), then a graceful close.
//
// For the slow-destination isolation workload a source can also run "until told": SIGUSR1 makes
// it stop after the message being sent, close gracefully and print its result (how many messages
// the kernel accepted), and --blocked-ms M prints one {"event":"blocked"} line the first time a
// single send waited M ms or more for send space (the path behind it is full, end to end). With
// --hold it keeps its association up after the last message until SIGUSR1.
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {
namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop(int) { g_stop = 1; }

}  // namespace

int run_source(const Args& a) {
  sockaddr_in to = parse_endpoint(a.required("to"));
  long count = a.num("count", 1000);
  long size = a.num("size", 100);
  long streams = a.num("streams", 1);
  uint32_t ppid = uint32_t(a.num("ppid", 46));
  double timeout = a.real("timeout", 60);
  double blocked_ms = a.real("blocked-ms", 0);
  double start_delay_ms = a.real("start-delay-ms", 0);
  const bool hold = a.flag("hold");
  const bool wait_start = a.flag("wait-start");
  uint32_t id = uint32_t(a.num("id", 0));  // Header.source: several sources can share one sink
  double rate = a.real("rate", 0);           // messages per second (0: as fast as the kernel takes them)
  // --bundle B: MSG_MORE on all but every B-th message (and the last), so the kernel packs up to B
  // messages in a packet, as a busy application's stack does: the source then costs less per
  // message than what it sends to (1: a packet per message, SCTP_NODELAY's way).
  long bundle = a.num("bundle", 1);
  if (size < long(kMinSize)) die("--size must be at least %zu", kMinSize);
  if (streams < 1 || streams > 1024) die("--streams must be 1..1024");
  if (bundle < 1 || bundle > 1024) die("--bundle must be 1..1024");

  // No SA_RESTART: a blocked sctp_sendmsg returns EINTR (nothing sent) and the loop sees the flag.
  struct sigaction sa{};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
  // --wait-start: SIGUSR2 stays pending (blocked) until sigwaitinfo takes it, however early it comes.
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR2);
  if (wait_start) sigprocmask(SIG_BLOCK, &go, nullptr);

  SocketTuning t;
  t.streams = uint16_t(streams < 16 ? 16 : streams);
  uint64_t start = now_ns();
  int fd = connect_one_to_one(to, t, start + uint64_t(timeout * 1e9));
  uint64_t connected = now_ns();
  if (start_delay_ms > 0) {
    // Lets a relay under valgrind (about 50x slower) take the association on (sctp_peeloff)
    // before data and SHUTDOWN arrive: see bench.py's exact metrics.
    timespec pause{time_t(start_delay_ms / 1000), long(std::fmod(start_delay_ms, 1000.0) * 1e6)};
    nanosleep(&pause, nullptr);
    connected = now_ns();
  }
  if (wait_start) {
    std::printf("{\"event\":\"connected\",\"id\":%u}\n", id);
    while (!g_stop && sigwaitinfo(&go, nullptr) != SIGUSR2) {
    }  // EINTR: SIGUSR1 (stop) ran its handler
    connected = now_ns();
  }

  std::string buf;
  std::vector<uint32_t> next_seq(size_t(streams), 0);
  long sent = 0;
  bool reported_block = false;
  uint64_t longest_send = 0;
  for (long i = 0; i < count && !g_stop; ++i) {
    Header h{};
    h.source = id;
    if (rate > 0) {  // paced: message i is due at i / rate seconds after the start
      uint64_t due = connected + uint64_t(double(i) / rate * 1e9);
      uint64_t at = now_ns();
      if (due > at) {
        timespec pause{time_t((due - at) / 1000000000u), long((due - at) % 1000000000u)};
        nanosleep(&pause, nullptr);
        if (g_stop) break;
      }
    }
    h.stream = uint16_t(i % streams);
    h.seq = next_seq[h.stream];
    h.size = uint32_t(size);
    h.sent_ns = now_ns();
    write_message(buf, h, true);
    bool ok = false;
    while (!g_stop) {
      int n;
      if (bundle == 1) {
        n = sctp_sendmsg(fd, buf.data(), size_t(size), nullptr, 0, htonl(ppid), 0, h.stream, 0, 0);
      } else {
        sctp_sndinfo info{};
        info.snd_sid = h.stream;
        info.snd_ppid = htonl(ppid);
        iovec iov{buf.data(), size_t(size)};
        const bool more = (i + 1) % bundle != 0 && i + 1 < count;
        n = sctp_sendv(fd, &iov, 1, nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, more ? MSG_MORE : 0);
      }
      if (n >= 0) {
        ok = true;
        break;
      }
      if (errno == EINTR) continue;
      die("send message %ld: %s", i, strerror(errno));
    }
    if (!ok) break;  // stopped while waiting for send space: this message was not sent
    ++next_seq[h.stream];
    ++sent;
    if (blocked_ms > 0) {
      uint64_t took = now_ns() - h.sent_ns;
      if (took > longest_send) longest_send = took;
      if (!reported_block && double(took) >= blocked_ms * 1e6) {
        reported_block = true;
        std::printf("{\"event\":\"blocked\",\"sent\":%ld,\"send_ms\":%.3f}\n", sent, double(took) / 1e6);
      }
    }
  }
  uint64_t done = now_ns();
  if (hold && !g_stop) {
    // Keeps the association up after the last message until SIGUSR1 (at most 10 minutes), so
    // that a profiler can take its counts while nothing but the messages has happened.
    // Asleep until then (no polling: with 64 sources holding, their wake-ups took the emulated
    // VM's CPU from the others): SIGUSR1 is blocked here and taken by sigtimedwait, or, if it
    // came before the block, its handler has set g_stop already.
    std::printf("{\"event\":\"all_sent\",\"sent\":%ld}\n", sent);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGUSR1);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    timespec limit{600, 0};
    while (!g_stop) {
      int got = sigtimedwait(&stop, nullptr, &limit);
      if (got == SIGUSR1 || (got < 0 && errno == EAGAIN)) g_stop = 1;  // released, or 10 minutes passed
    }
  }
  close(fd);  // graceful SHUTDOWN; the kernel delivers what is still queued
  std::printf(
      "{\"mode\":\"source\",\"sent\":%ld,\"size\":%ld,\"stopped\":%s,\"connect_ms\":%.3f,\"send_s\":%.6f,"
      "\"connected_ns\":%llu,\"done_ns\":%llu,\"longest_send_ms\":%.3f}\n",
      sent, size, g_stop ? "true" : "false", double(connected - start) / 1e6, double(done - connected) / 1e9,
      (unsigned long long)connected, (unsigned long long)done, double(longest_send) / 1e6);
  return 0;
}

}  // namespace loadgen
