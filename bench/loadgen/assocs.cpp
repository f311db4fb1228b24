// assocs: opens K associations (one one-to-one socket each), does one echo round trip on each,
// prints a "ready" line and keeps them idle until stdin has a line or closes, then closes them.
//
// Round trips go through streams 0..W-1 with at most one request outstanding per stream, so a
// relay that sends replies back by (destination, stream) -> last sender still pairs them up;
// a reply arriving on the wrong association is counted as misrouted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <vector>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {
namespace {

void set_blocking(int fd, bool blocking) {
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK));
}

}  // namespace

int run_assocs(const Args& a) {
  sockaddr_in to = parse_endpoint(a.required("to"));
  long count = a.num("count", 1000);
  long size = a.num("size", 100);
  long window = a.num("window", 16);
  long connect_batch = a.num("connect-batch", 128);
  double timeout = a.real("timeout", 120);
  if (size < long(kMinSize)) size = kMinSize;
  raise_nofile(rlim_t(count + 64));
  uint64_t start = now_ns(), deadline = start + uint64_t(timeout * 1e9);

  SocketTuning t;
  t.buffer_bytes = 0;  // kernel defaults: thousands of idle sockets
  int ep = epoll_create1(0);
  std::vector<int> fds(size_t(count), -1);
  // --- connect, `connect_batch` handshakes in flight at a time
  long started = 0, done = 0, in_flight = 0;
  std::vector<epoll_event> evs(256);
  while (done < count) {
    while (in_flight < connect_batch && started < count) {
      int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
      if (fd < 0) die("socket %ld: %s", started, strerror(errno));
      tune(fd, t);
      set_blocking(fd, false);
      if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
        die("connect %ld: %s", started, strerror(errno));
      epoll_event e{};
      e.events = EPOLLOUT;
      e.data.u64 = uint64_t(started);
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
      fds[size_t(started++)] = fd;
      ++in_flight;
    }
    int n = epoll_wait(ep, evs.data(), int(evs.size()), 1000);
    if (now_ns() > deadline) die("timeout: %ld of %ld associations up", done, count);
    for (int i = 0; i < n; ++i) {
      int fd = fds[evs[size_t(i)].data.u64];
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) die("association %llu failed: %s", (unsigned long long)evs[size_t(i)].data.u64, strerror(err));
      // Out of the set until every handshake is done: COMM_UP would make it readable and
      // report it here again.
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      set_blocking(fd, true);
      --in_flight;
      ++done;
    }
  }
  uint64_t connected = now_ns();
  for (long i = 0; i < count; ++i) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = uint64_t(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[size_t(i)], &e);
  }

  // --- one round trip per association, one outstanding request per stream
  std::deque<uint16_t> free_streams;
  for (long s = 0; s < window; ++s) free_streams.push_back(uint16_t(s));
  long next = 0, replies = 0, misrouted = 0, bad = 0;
  std::string out, in;
  while (replies < count) {
    while (!free_streams.empty() && next < count) {
      Header h{};
      h.source = uint32_t(next);
      h.stream = free_streams.front();
      h.size = uint32_t(size);
      h.sent_ns = now_ns();
      free_streams.pop_front();
      write_message(out, h, true);
      if (sctp_sendmsg(fds[size_t(next)], out.data(), size_t(size), nullptr, 0, htonl(46), 0, h.stream, 0, 0) < 0)
        die("send on association %ld: %s", next, strerror(errno));
      ++next;
    }
    int n = epoll_wait(ep, evs.data(), int(evs.size()), 1000);
    if (now_ns() > deadline) die("timeout: %ld of %ld replies", replies, count);
    for (int i = 0; i < n; ++i) {
      uint64_t idx = evs[size_t(i)].data.u64;
      Received r;
      if (!receive_message(fds[idx], in, r)) die("association %llu closed by the peer", (unsigned long long)idx);
      if (r.is_notification) continue;  // COMM_UP and friends
      ++replies;
      if (!looks_intact(in.data(), r.size)) {
        ++bad;
        continue;
      }
      Header h = read_header(in.data());
      if (h.source != idx) ++misrouted;
      free_streams.push_back(h.stream);
    }
  }
  uint64_t exchanged = now_ns();
  std::printf(
      "{\"event\":\"ready\",\"assocs\":%ld,\"connect_s\":%.6f,\"exchange_s\":%.6f,\"assocs_per_s\":%.1f,"
      "\"round_trips_per_s\":%.1f,\"misrouted\":%ld,\"bad\":%ld}\n",
      count, double(connected - start) / 1e9, double(exchanged - connected) / 1e9,
      double(count) / (double(connected - start) / 1e9), double(count) / (double(exchanged - connected) / 1e9),
      misrouted, bad);
  char line[64];
  (void)!fgets(line, sizeof line, stdin);  // held idle until told (or stdin closes)
  uint64_t closing = now_ns();
  for (int fd : fds) close(fd);
  std::printf("{\"event\":\"closed\",\"close_s\":%.6f}\n", double(now_ns() - closing) / 1e9);
  return misrouted || bad ? 4 : 0;
}

}  // namespace loadgen
