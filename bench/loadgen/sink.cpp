// sink: receives on a one-to-many socket until --count messages have arrived, checking each
// message's size and fill and the order per (source, stream); optionally reads at a limited
// rate (a slow destination). Prints "listening", one "up" per association, then the result.
#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {

int run_sink(const Args& a) {
  uint16_t port = uint16_t(a.num("port", 0));
  long count = a.num("count", 1000);
  double rate = a.real("rate", 0);
  // A relay that splits or merges messages (socat does, past the partial delivery point) changes
  // the message count: with --bytes the sink stops when that many bytes have arrived instead.
  uint64_t want_bytes = uint64_t(a.num("bytes", 0));
  double timeout = a.real("timeout", 60);
  uint32_t want_ppid = uint32_t(a.num("ppid", 46));
  int fd = listen_one_to_many(port, SocketTuning{});
  std::printf("{\"event\":\"listening\",\"port\":%u}\n", port);

  std::unordered_map<uint64_t, uint32_t> next_seq;  // (source << 16 | stream) -> seq expected
  std::string buf;
  long received = 0, bad = 0, out_of_order = 0, stream_changed = 0, ppid_changed = 0, ups = 0;
  uint64_t bytes = 0, first = 0, last = 0;
  uint64_t deadline = now_ns() + uint64_t(timeout * 1e9);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);  // wake up to check the deadline
  bool timed_out = false;
  while (want_bytes ? bytes < want_bytes : received < long(count)) {
    if (now_ns() > deadline) {
      timed_out = true;
      break;
    }
    sctp_sndrcvinfo info{};
    int flags = 0;
    // Inline receive so a receive timeout (EAGAIN) only loops back to the deadline check.
    if (buf.size() < (2u << 20)) buf.resize(2u << 20);
    size_t have = 0;
    bool got = false;
    for (;;) {
      int n = sctp_recvmsg(fd, buf.data() + have, buf.size() - have, nullptr, nullptr, &info, &flags);
      if (n < 0) {
        if (errno == EINTR) continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && have == 0) break;
        if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
        die("recvmsg: %s", strerror(errno));
      }
      have += size_t(n);
      if (flags & MSG_EOR) {
        got = true;
        break;
      }
      if (buf.size() < have + (1u << 20)) buf.resize(have + (1u << 20));
    }
    if (!got) continue;
    if (flags & MSG_NOTIFICATION) {
      auto* n = reinterpret_cast<sctp_notification*>(buf.data());
      if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE && n->sn_assoc_change.sac_state == SCTP_COMM_UP) {
        ++ups;
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
      uint32_t& expect = next_seq[(uint64_t(h.source) << 16) | h.stream];
      if (h.seq != expect) ++out_of_order;
      expect = h.seq + 1;
      if (info.sinfo_stream != h.stream) ++stream_changed;
      if (ntohl(info.sinfo_ppid) != want_ppid) ++ppid_changed;
    }
    if (rate > 0) {  // a slow reader: stay at or below `rate` messages per second
      uint64_t due = first + uint64_t(double(received) / rate * 1e9);
      uint64_t now = now_ns();
      if (due > now) {
        timespec pause{time_t((due - now) / 1000000000u), long((due - now) % 1000000000u)};
        nanosleep(&pause, nullptr);
      }
    }
  }
  double span = received > 1 ? double(last - first) / 1e9 : 0;
  double mps = span > 0 ? double(received - 1) / span : 0;
  std::printf(
      "{\"mode\":\"sink\",\"received\":%ld,\"expected\":%ld,\"bytes\":%llu,\"span_s\":%.6f,"
      "\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"bad\":%ld,\"out_of_order\":%ld,\"stream_changed\":%ld,"
      "\"ppid_changed\":%ld,\"assocs\":%ld,\"first_ns\":%llu,\"last_ns\":%llu,\"timed_out\":%s}\n",
      received, count, (unsigned long long)bytes, span, mps, span > 0 ? double(bytes) / span / 1e6 : 0, bad,
      out_of_order, stream_changed, ppid_changed, ups, (unsigned long long)first, (unsigned long long)last, timed_out ? "true" : "false");
  close(fd);
  return timed_out ? 3 : (bad || out_of_order) ? 4 : 0;
}

}  // namespace loadgen
