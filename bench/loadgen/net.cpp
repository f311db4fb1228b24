#include "net.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace loadgen {

void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("loadgen: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::exit(2);
}

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

sockaddr_in any_port(uint16_t port, const char* host) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) die("bad IPv4 address '%s'", host);
  return a;
}

sockaddr_in parse_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) die("want HOST:PORT, got '%s'", text.c_str());
  long port = std::strtol(text.c_str() + colon + 1, nullptr, 10);
  if (port <= 0 || port > 65535) die("bad port in '%s'", text.c_str());
  return any_port(uint16_t(port), text.substr(0, colon).c_str());
}

namespace {

void set_int(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) die("setsockopt %s: %s", what, strerror(errno));
}

void set_buffer(int fd, int force_name, int name, int bytes) {
  if (bytes <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, force_name, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, name, &bytes, sizeof bytes);  // not root: capped by rmem_max
}

}  // namespace

void tune(int fd, const SocketTuning& t) {
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, t.buffer_bytes);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, t.buffer_bytes);
  set_int(fd, IPPROTO_SCTP, SCTP_NODELAY, 1, "SCTP_NODELAY");
  sctp_sack_info sack{};
  sack.sack_assoc_id = SCTP_FUTURE_ASSOC;
  sack.sack_delay = 0;  // keep the kernel's delay; frequency 1 acks every packet
  sack.sack_freq = 1;
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sack, sizeof sack) != 0)
    die("SCTP_DELAYED_SACK: %s", strerror(errno));
  sctp_initmsg init{};
  init.sinit_num_ostreams = t.streams;
  init.sinit_max_instreams = t.streams;
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) != 0) die("SCTP_INITMSG: %s", strerror(errno));
  sctp_event_subscribe ev{};
  ev.sctp_data_io_event = 1;
  ev.sctp_association_event = 1;
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) != 0) die("SCTP_EVENTS: %s", strerror(errno));
}

int connect_one_to_one(const sockaddr_in& to, const SocketTuning& t, uint64_t deadline_ns) {
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd < 0) die("socket: %s", strerror(errno));
    tune(fd, t);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) return fd;
    int err = errno;
    close(fd);
    if ((err != ECONNREFUSED && err != ETIMEDOUT && err != ECONNRESET) || now_ns() > deadline_ns)
      die("connect to port %u: %s", ntohs(to.sin_port), strerror(err));
    timespec pause{0, 20 * 1000 * 1000};  // the peer is still starting: try again shortly
    nanosleep(&pause, nullptr);
  }
}

int listen_one_to_many(uint16_t port, const SocketTuning& t) {
  int fd = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
  if (fd < 0) die("socket: %s", strerror(errno));
  set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  tune(fd, t);
  sockaddr_in a = any_port(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind port %u: %s", port, strerror(errno));
  if (listen(fd, 4096) != 0) die("listen: %s", strerror(errno));
  return fd;
}

void raise_nofile(rlim_t n) {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur >= n) return;
  r.rlim_cur = n;
  if (r.rlim_max < n) r.rlim_max = n;
  if (setrlimit(RLIMIT_NOFILE, &r) != 0) die("setrlimit NOFILE %lu: %s", (unsigned long)n, strerror(errno));
}

bool receive_message(int fd, std::string& buf, Received& out) {
  constexpr size_t kChunk = 1 << 20;
  size_t have = 0;
  for (;;) {
    if (buf.size() < have + kChunk) buf.resize(have + kChunk);
    sctp_sndrcvinfo info{};
    int flags = 0;
    int n = sctp_recvmsg(fd, buf.data() + have, buf.size() - have, nullptr, nullptr, &info, &flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recvmsg: %s", strerror(errno));
    }
    if (n == 0 && have == 0) return false;
    have += size_t(n);
    if (have == 0 || (flags & MSG_EOR)) {
      out.size = have;
      out.is_notification = (flags & MSG_NOTIFICATION) != 0;
      if (!out.is_notification) out.info = info;
      return true;
    }
  }
}

}  // namespace loadgen
