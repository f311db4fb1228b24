// echo: a one-to-many server that sends every message back on the same association, stream,
// PPID and ordering flag. Runs until SIGTERM/SIGINT.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "args.h"
#include "net.h"

namespace loadgen {
namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

}  // namespace

int run_echo(const Args& a) {
  uint16_t port = uint16_t(a.num("port", 0));
  struct sigaction sa {};
  sa.sa_handler = on_stop;  // no SA_RESTART: the blocking receive returns EINTR
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  int fd = listen_one_to_many(port, SocketTuning{});
  std::printf("{\"event\":\"listening\",\"port\":%u}\n", port);
  std::string buf(2u << 20, '\0');
  long echoed = 0, ups = 0;
  while (!g_stop) {
    sctp_sndrcvinfo info{};
    int flags = 0;
    int n = sctp_recvmsg(fd, buf.data(), buf.size(), nullptr, nullptr, &info, &flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("echo recvmsg: %s", strerror(errno));
    }
    if (flags & MSG_NOTIFICATION) {
      auto* note = reinterpret_cast<sctp_notification*>(buf.data());
      if (note->sn_header.sn_type == SCTP_ASSOC_CHANGE && note->sn_assoc_change.sac_state == SCTP_COMM_UP) ++ups;
      continue;
    }
    if (!(flags & MSG_EOR)) die("echo: message larger than %zu bytes", buf.size());
    sctp_sndrcvinfo out{};
    out.sinfo_stream = info.sinfo_stream;
    out.sinfo_ppid = info.sinfo_ppid;
    out.sinfo_flags = info.sinfo_flags & SCTP_UNORDERED;
    out.sinfo_assoc_id = info.sinfo_assoc_id;
    while (sctp_send(fd, buf.data(), size_t(n), &out, 0) < 0) {
      if (errno == EINTR && !g_stop) continue;
      if (errno == EINTR) break;
      // The association may be gone (client closed first): not an echo server's problem.
      break;
    }
    ++echoed;
  }
  std::printf("{\"mode\":\"echo\",\"echoed\":%ld,\"assocs\":%ld}\n", echoed, ups);
  close(fd);
  return 0;
}

}  // namespace loadgen
