// source: N messages of S bytes over streams 0..K-1 on one association, as fast as the
// association takes them (blocking sends), then a graceful close.
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {

int run_source(const Args& a) {
  sockaddr_in to = parse_endpoint(a.required("to"));
  long count = a.num("count", 1000);
  long size = a.num("size", 100);
  long streams = a.num("streams", 1);
  uint32_t ppid = uint32_t(a.num("ppid", 46));
  double timeout = a.real("timeout", 60);
  if (size < long(kMinSize)) die("--size must be at least %zu", kMinSize);
  if (streams < 1 || streams > 1024) die("--streams must be 1..1024");

  SocketTuning t;
  t.streams = uint16_t(streams < 16 ? 16 : streams);
  uint64_t start = now_ns();
  int fd = connect_one_to_one(to, t, start + uint64_t(timeout * 1e9));
  uint64_t connected = now_ns();

  std::string buf;
  std::vector<uint32_t> next_seq(size_t(streams), 0);
  for (long i = 0; i < count; ++i) {
    Header h{};
    h.source = 0;
    h.stream = uint16_t(i % streams);
    h.seq = next_seq[h.stream]++;
    h.size = uint32_t(size);
    h.sent_ns = now_ns();
    write_message(buf, h, true);
    for (;;) {
      int n = sctp_sendmsg(fd, buf.data(), size_t(size), nullptr, 0, htonl(ppid), 0, h.stream, 0, 0);
      if (n >= 0) break;
      if (errno == EINTR) continue;
      die("send message %ld: %s", i, strerror(errno));
    }
  }
  uint64_t sent = now_ns();
  close(fd);  // graceful SHUTDOWN; the kernel delivers what is still queued
  std::printf("{\"mode\":\"source\",\"sent\":%ld,\"size\":%ld,\"connect_ms\":%.3f,\"send_s\":%.6f}\n", count,
              size, double(connected - start) / 1e6, double(sent - connected) / 1e9);
  return 0;
}

}  // namespace loadgen
