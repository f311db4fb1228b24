// sink: receives on a one-to-many socket until --count messages have arrived, checking each
// message's size and fill and the order per (source, stream); optionally reads at a limited
// rate (a slow destination); with --peel each association is read from a socket of its own.
// Prints "listening", one "up" per association, then the result.
//
// For counts not known in advance (the isolation workload's congested source): --idle SEC ends
// the run once nothing has arrived for SEC seconds after the first message, and SIGUSR1 lifts the
// rate limit (the backlog then drains at full speed). With --hold it keeps its associations up
// after printing its result until SIGUSR2.
//
// Per (source, stream) it also keeps how many messages arrived and the highest seq + 1, and the
// result sums them up: with every message there exactly once, each key's count equals its
// highest seq + 1 and equals what its source sent on that stream (the caller knows that).
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {
namespace {

volatile sig_atomic_t g_unthrottle = 0;
volatile sig_atomic_t g_release = 0;

void on_unthrottle(int) { g_unthrottle = 1; }
void on_release(int) { g_release = 1; }

}  // namespace

int run_sink(const Args& a) {
  uint16_t port = uint16_t(a.num("port", 0));
  long count = a.num("count", 1000);
  double rate = a.real("rate", 0);
  // A relay that splits or merges messages (socat does, past the partial delivery point) changes
  // the message count: with --bytes the sink stops when that many bytes have arrived instead.
  uint64_t want_bytes = uint64_t(a.num("bytes", 0));
  double timeout = a.real("timeout", 60);
  uint32_t want_ppid = uint32_t(a.num("ppid", 46));
  double idle = a.real("idle", 0);
  struct sigaction sa{};
  sa.sa_handler = on_unthrottle;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
  sa.sa_handler = on_release;
  sigaction(SIGUSR2, &sa, nullptr);
  const bool hold = a.flag("hold");
  // --buffer: the receive (and send) buffer. Many associations into this one socket each get a
  // window of their own while they share its memory, and 100 B messages take ten times their size
  // of it: past what the buffer holds the kernel discards DATA and the senders retransmit.
  SocketTuning tuning;
  tuning.buffer_bytes = int(a.num("buffer", tuning.buffer_bytes));
  int fd = listen_one_to_many(port, tuning);
  std::printf("{\"event\":\"listening\",\"port\":%u}\n", port);

  struct Key {
    uint32_t expect = 0;  // next seq in order
    uint32_t top = 0;     // highest seq seen + 1
    uint32_t n = 0;       // messages received
  };
  std::unordered_map<uint64_t, Key> keys;  // (source << 16 | stream)
  std::string buf;
  long received = 0, bad = 0, out_of_order = 0, stream_changed = 0, ppid_changed = 0, ups = 0;
  uint64_t bytes = 0, first = 0, last = 0;
  uint64_t deadline = now_ns() + uint64_t(timeout * 1e9);
  timeval tv{1, 0};
  if (idle > 0 && idle < 1) tv = timeval{0, suseconds_t(idle * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);  // wake up to check the deadline
  // --peel: each association gets a socket of its own (sctp_peeloff at COMM_UP), read as poll
  // finds them ready. Into one socket, every sender's packets take that socket's lock; on
  // loopback the senders' own CPUs do that work, so two relay threads delivering at once wait
  // for each other there, which a destination on another machine would not make them do.
  const bool peel = a.flag("peel");
  std::vector<pollfd> polled{pollfd{fd, POLLIN, 0}};
  std::vector<int> ready;  // sockets poll found readable, not yet read dry
  if (peel) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  bool timed_out = false, went_idle = false;
  long unthrottled_at = -1;
  while (want_bytes ? bytes < want_bytes : received < long(count)) {
    uint64_t now = now_ns();
    if (now > deadline) {
      timed_out = true;
      break;
    }
    if (idle > 0 && received > 0 && double(now - last) >= idle * 1e9) {
      went_idle = true;
      break;
    }
    if (g_unthrottle && rate > 0) {
      rate = 0;
      unthrottled_at = received;
      std::printf("{\"event\":\"unthrottled\",\"received\":%ld}\n", received);
    }
    // One whole message (partial deliveries joined): from the one socket, waiting up to its
    // receive timeout; with --peel, from a socket poll found ready (nothing there: read dry).
    sctp_sndrcvinfo info{};
    int flags = 0;
    if (buf.size() < (2u << 20)) buf.resize(2u << 20);
    size_t have = 0;
    bool got = false;
    int from = fd;
    if (peel) {
      if (ready.empty()) {
        for (auto& p : polled) p.revents = 0;
        int n = poll(polled.data(), polled.size(), int(tv.tv_sec * 1000 + tv.tv_usec / 1000));
        if (n < 0 && errno != EINTR) die("poll: %s", strerror(errno));
        for (const auto& p : polled)
          if (p.revents) ready.push_back(p.fd);
        if (ready.empty()) continue;
      }
      from = ready.back();
    }
    for (;;) {
      int n = sctp_recvmsg(from, buf.data() + have, buf.size() - have, nullptr, nullptr, &info, &flags);
      if (n < 0) {
        if (errno == EINTR) continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && have == 0) break;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {  // the rest of a message is on its way
          pollfd rest{from, POLLIN, 0};
          poll(&rest, 1, 1000);
          continue;
        }
        die("recvmsg: %s", strerror(errno));
      }
      if (n == 0 && have == 0 && from != fd) {  // a peeled-off association ended
        std::erase_if(polled, [from](const pollfd& p) { return p.fd == from; });
        close(from);
        break;
      }
      have += size_t(n);
      if (flags & MSG_EOR) {
        got = true;
        break;
      }
      if (buf.size() < have + (1u << 20)) buf.resize(have + (1u << 20));
    }
    if (!got) {
      if (peel) ready.pop_back();  // read dry: back to poll once the others are
      continue;
    }
    if (flags & MSG_NOTIFICATION) {
      auto* n = reinterpret_cast<sctp_notification*>(buf.data());
      if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE && n->sn_assoc_change.sac_state == SCTP_COMM_UP) {
        ++ups;
        if (peel) {
          int own = sctp_peeloff(fd, n->sn_assoc_change.sac_assoc_id);
          if (own < 0) die("sctp_peeloff: %s", strerror(errno));
          fcntl(own, F_SETFL, fcntl(own, F_GETFL) | O_NONBLOCK);
          polled.push_back(pollfd{own, POLLIN, 0});
        }
        std::printf("{\"event\":\"up\",\"assocs\":%ld}\n", ups);
      }
      continue;
    }
    uint64_t t = now_ns();
    if (received == 0) first = t;
    last = t;
    ++received;
    bytes += have;
    if (!looks_intact(buf.data(), have)) {
      ++bad;
    } else {
      Header h = read_header(buf.data());
      Key& k = keys[(uint64_t(h.source) << 16) | h.stream];
      if (h.seq != k.expect) ++out_of_order;
      k.expect = h.seq + 1;
      if (h.seq + 1 > k.top) k.top = h.seq + 1;
      ++k.n;
      if (info.sinfo_stream != h.stream) ++stream_changed;
      if (ntohl(info.sinfo_ppid) != want_ppid) ++ppid_changed;
    }
    if (rate > 0 && !g_unthrottle) {  // a slow reader: stay at or below `rate` messages per second
      uint64_t due = first + uint64_t(double(received) / rate * 1e9);
      uint64_t at = now_ns();
      if (due > at) {
        timespec pause{time_t((due - at) / 1000000000u), long((due - at) % 1000000000u)};
        nanosleep(&pause, nullptr);
      }
    }
  }
  // Per key: fewer messages than its highest seq + 1 is a loss, more is a duplicate.
  long missing = 0, extra = 0;
  uint32_t n_min = keys.empty() ? 0 : UINT32_MAX, n_max = 0;
  for (const auto& [key, k] : keys) {
    if (k.n < k.top) missing += long(k.top - k.n);
    if (k.n > k.top) extra += long(k.n - k.top);
    n_min = k.n < n_min ? k.n : n_min;
    n_max = k.n > n_max ? k.n : n_max;
  }
  double span = received > 1 ? double(last - first) / 1e9 : 0;
  double mps = span > 0 ? double(received - 1) / span : 0;
  std::printf(
      "{\"mode\":\"sink\",\"received\":%ld,\"expected\":%ld,\"bytes\":%llu,\"span_s\":%.6f,"
      "\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"bad\":%ld,\"out_of_order\":%ld,\"stream_changed\":%ld,"
      "\"ppid_changed\":%ld,\"assocs\":%ld,\"first_ns\":%llu,\"last_ns\":%llu,\"timed_out\":%s,\"idle_end\":%s,"
      "\"unthrottled_at\":%ld,\"keys\":%zu,\"key_count_min\":%u,\"key_count_max\":%u,\"key_missing\":%ld,"
      "\"key_extra\":%ld}\n",
      received, count, (unsigned long long)bytes, span, mps, span > 0 ? double(bytes) / span / 1e6 : 0, bad,
      out_of_order, stream_changed, ppid_changed, ups, (unsigned long long)first, (unsigned long long)last, timed_out ? "true" : "false",
      went_idle ? "true" : "false", unthrottled_at, keys.size(), n_min, n_max, missing, extra);
  // --hold: the associations stay up after the result until SIGUSR2 (at most 10 minutes), so a
  // relay sees nothing but the messages until its profiler has taken its counts.
  for (int i = 0; hold && i < 60000 && !g_release; ++i) {
    timespec pause{0, 10 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  for (size_t i = 1; i < polled.size(); ++i) close(polled[i].fd);
  close(fd);
  return timed_out ? 3 : (bad || out_of_order || missing || extra) ? 4 : 0;
}

}  // namespace loadgen
