// latency: request/response over one association with M requests outstanding; the round trip
// of each is measured from the send time carried in the message. Prints p50/p99/mean in µs.
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {

int run_latency(const Args& a) {
  sockaddr_in to = parse_endpoint(a.required("to"));
  long count = a.num("count", 1000);
  long size = a.num("size", 100);
  long outstanding = a.num("outstanding", 1);
  long warmup = a.num("warmup", std::min(100L, count / 10));
  double timeout = a.real("timeout", 60);
  if (size < long(kMinSize)) die("--size must be at least %zu", kMinSize);
  if (outstanding < 1) outstanding = 1;

  int fd = connect_one_to_one(to, SocketTuning{}, now_ns() + uint64_t(timeout * 1e9));
  uint64_t deadline = now_ns() + uint64_t(timeout * 1e9);
  std::string out, in;
  long sent = 0, got = 0, bad = 0;
  auto send_one = [&] {
    Header h{};
    h.seq = uint32_t(sent);
    h.size = uint32_t(size);
    h.sent_ns = now_ns();
    write_message(out, h, true);
    while (sctp_sendmsg(fd, out.data(), size_t(size), nullptr, 0, htonl(46), 0, 0, 0, 0) < 0) {
      if (errno != EINTR) die("latency send: %s", strerror(errno));
    }
    ++sent;
  };
  std::vector<double> rtt_us;
  rtt_us.reserve(size_t(count));
  uint64_t start = now_ns(), measured_from = 0;
  while (sent < std::min(outstanding, count)) send_one();
  while (got < count) {
    if (now_ns() > deadline) break;
    Received r;
    if (!receive_message(fd, in, r)) die("latency: peer closed after %ld replies", got);
    if (r.is_notification) continue;
    uint64_t t = now_ns();
    if (!looks_intact(in.data(), r.size)) ++bad;
    Header h = read_header(in.data());
    ++got;
    if (got == warmup) measured_from = t;
    if (got > warmup) rtt_us.push_back(double(t - h.sent_ns) / 1e3);
    if (sent < count) send_one();
  }
  uint64_t end = now_ns();
  close(fd);
  std::sort(rtt_us.begin(), rtt_us.end());
  auto pct = [&](double p) {
    if (rtt_us.empty()) return 0.0;
    size_t i = std::min(rtt_us.size() - 1, size_t(p * double(rtt_us.size())));
    return rtt_us[i];
  };
  double mean = 0;
  for (double v : rtt_us) mean += v;
  if (!rtt_us.empty()) mean /= double(rtt_us.size());
  double span = measured_from ? double(end - measured_from) / 1e9 : double(end - start) / 1e9;
  std::printf(
      "{\"mode\":\"latency\",\"count\":%ld,\"replies\":%ld,\"outstanding\":%ld,\"size\":%ld,\"samples\":%zu,"
      "\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,\"max_us\":%.1f,\"replies_per_s\":%.1f,\"bad\":%ld,"
      "\"timed_out\":%s}\n",
      count, got, outstanding, size, rtt_us.size(), pct(0.50), pct(0.99), mean, rtt_us.empty() ? 0 : rtt_us.back(),
      span > 0 ? double(rtt_us.size()) / span : 0, bad, got < count ? "true" : "false");
  return got < count ? 3 : bad ? 4 : 0;
}

}  // namespace loadgen
