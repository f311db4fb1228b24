// Every message arrives whole, and a message too large to arrive at once holds nothing else up:
// while one association is in partial delivery (a message several times the relay's receive
// window, on a slow path), the others' messages go through; a message above
// limits.max_message_size costs its sender the association (oversize: abort) or just the message
// (oversize: drop), and the relay never holds it whole in memory.
// The slow path is a veth pair between network namespaces with netem on the sender's side; those
// tests need root and iproute2 (the VM runs them as root) and fail, not skip, without them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness/daemon.h"
#include "harness/netns.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::size_t MiB = 1u << 20;

#define REQUIRE_NETNS()                                                                  \
  do {                                                                                   \
    std::string why = netns_unavailable();                                               \
    ASSERT_TRUE(why.empty()) << "partial delivery tests need network namespaces: " << why; \
  } while (0)

// Two namespaces: "relay" (the daemon, its destinations and a nearby source on loopback) and
// "far", joined by a veth pair whose far end sends through netem at 32 Mbit/s with 20 ms of delay:
// a quarter of a second per MiB, at most.
//   relay 203.0.113.1/24 <-> far 203.0.113.2/24
struct SlowPath {
  std::string tag = std::to_string(::getpid());
  Netns relay{"pd-" + tag + "-relay"};
  Netns far{"pd-" + tag + "-far"};
  std::string relay_dev = "pd" + tag + "r", far_dev = "pd" + tag + "f";
  std::string relay_addr = "203.0.113.1", far_addr = "203.0.113.2";

  SlowPath() {
    add_veth({relay, relay_dev, relay_addr + "/24"}, {far, far_dev, far_addr + "/24"});
    add_netem(far, far_dev, {"delay", "20ms", "rate", "32mbit", "limit", "100000"});
  }
  uint64_t bytes_at_relay() const { return relay.rx_bytes(relay_dev); }
};

uint64_t dropped_total(const std::map<std::string, uint64_t>& stats) {
  uint64_t n = 0;
  for (auto& [key, value] : stats)
    if (key.rfind("dropped_", 0) == 0) n += value;
  return n;
}

bool lost(const Peer& peer, sctp_assoc_t assoc) {
  return std::any_of(peer.changes.begin(), peer.changes.end(),
                     [&](const auto& c) { return c.assoc == assoc && c.state == SCTP_COMM_LOST; });
}

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST(RelayPartialDelivery, AHugeMessageInFlightHoldsUpNoOtherAssociation) {
  REQUIRE_NETNS();
  uint16_t p = ports_for_test();
  SlowPath net;
  NetnsScope inside_relay(net.relay);  // the daemon, its destinations and the near source
  Peer big_sink = Peer::listen(p + 1), small_sink = Peer::listen(p + 2);
  big_sink.set_max_message(32 * MiB);
  Daemon relay(with_ports(R"(
limits: {max_message_size: 32MiB}
listeners:
  - {name: in, addresses: [127.0.0.1, 203.0.113.1], port: {P0}}
destinations:
  - {name: big, addresses: [127.0.0.1], port: {P1}}
  - {name: small, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: 1, to: big}
  - {from: in, streams: 2, to: small}
)", p));
  ASSERT_TRUE(big_sink.wait_up());
  ASSERT_TRUE(small_sink.wait_up());
  ASSERT_TRUE(relay.saw("destination big up"));
  ASSERT_TRUE(relay.saw("destination small up"));

  Peer far = in_netns(net.far, [&] { return Peer::connect(p, {net.relay_addr}); });
  far.force_buffers(0, static_cast<int>(64 * MiB));  // the kernel takes one message only if it fits
  Peer near = Peer::connect(p);

  // One message of 28 MiB, more than any socket of the relay can hold (an association's own takes
  // 1 MiB, the listener's 8 MiB; the kernel doubles both), so the relay must take it in pieces;
  // seven seconds or more on the slow path.
  constexpr std::size_t kHuge = 28 * MiB;
  const std::string huge = payload(kHuge, 1, 1);
  uint64_t at_start = net.bytes_at_relay();
  ASSERT_TRUE(far.send(huge, 1, 61));
  // Wait until more of it has reached the relay than any one of its sockets holds: now it is being
  // delivered to the relay in pieces (partial delivery), whichever socket it arrives on.
  ASSERT_TRUE(wait_until([&] { return net.bytes_at_relay() - at_start > 17 * MiB; }, Deadline::in(seconds(40)),
                         milliseconds(100)));

  // Meanwhile (11 MiB, about three seconds, still to come) the near association's small messages
  // go through.
  constexpr int kSmall = 20;
  for (int i = 0; i < kSmall; ++i) ASSERT_TRUE(near.send(payload(200, i, 2), 2, 62));
  auto small = small_sink.recv_n(kSmall, Deadline::in(seconds(30)));
  uint64_t huge_bytes_so_far = net.bytes_at_relay() - at_start;
  bool huge_delivered = !big_sink.quiet_until(Deadline::in(milliseconds(0)));
  ASSERT_EQ(small.size(), std::size_t(kSmall));
  for (int i = 0; i < kSmall; ++i) {
    EXPECT_EQ(small[i].text(), payload(200, i, 2)) << i;
    EXPECT_EQ(small[i].info.stream, 2);
    EXPECT_EQ(small[i].info.ppid, 62u);
  }
  EXPECT_FALSE(huge_delivered) << "the small messages came only after the huge one";
  EXPECT_LT(huge_bytes_so_far, kHuge) << "the small messages came only once the huge one had reached the relay";

  // Then the huge one arrives, whole.
  auto got = big_sink.recv(Deadline::in(seconds(60)));
  ASSERT_TRUE(got) << "the huge message never arrived";
  ASSERT_EQ(got->data.size(), kHuge);
  EXPECT_TRUE(got->text() == huge) << "the huge message arrived changed";
  EXPECT_EQ(got->info.stream, 1);
  EXPECT_EQ(got->info.ppid, 61u);
  EXPECT_TRUE(big_sink.quiet_until(Deadline::in(milliseconds(300))));
  EXPECT_EQ(dropped_total(relay.stats()), 0u);
}

TEST(RelayPartialDelivery, AMessageAboveTheLimitAbortsItsAssociationOnlyAndIsNeverHeldWhole) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  // oversize: abort is the default.
  Daemon relay(with_ports(R"(
limits: {max_message_size: 1MiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer good = Peer::connect(p), bad = Peer::connect(p);
  bad.force_buffers(0, static_cast<int>(64 * MiB));
  ASSERT_TRUE(good.send("before", 3, 7));
  auto m = sink.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "before");

  pid_t pid = relay.process().pid();
  reset_peak_rss(pid);
  uint64_t rss_before = proc_status_kib(pid, "VmRSS");
  constexpr std::size_t kHuge = 32 * MiB;
  ASSERT_TRUE(bad.send_bytes(bytes(payload(kHuge, 1, 1)), 1, 8));
  ASSERT_TRUE(bad.wait_down(Deadline::in(seconds(30)))) << "the relay did not end the association";
  EXPECT_TRUE(lost(bad, bad.assoc())) << "ended, but not by an ABORT";
  ASSERT_TRUE(relay.wait_stat("oversize_aborted", 1));
  uint64_t peak_growth_kib = proc_status_kib(pid, "VmHWM") - rss_before;
  EXPECT_LT(peak_growth_kib, 8u * 1024) << "the relay's memory grew by " << peak_growth_kib / 1024 << " MiB";

  // The other association is untouched.
  ASSERT_TRUE(good.send("after", 3, 7));
  m = sink.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "after");
  EXPECT_EQ(m->info.stream, 3);
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300)))) << "a piece of the huge message got through";
  EXPECT_FALSE(lost(good, good.assoc()));
  auto stats = relay.stats();
  EXPECT_EQ(stats["oversize_aborted"], 1u);
  EXPECT_EQ(stats["assoc_down_abort"], 1u);
}

TEST(RelayPartialDelivery, AMessageAboveTheLimitIsDroppedAloneWithOversizeDrop) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
limits: {max_message_size: 1MiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, oversize: drop}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);
  source.force_buffers(0, static_cast<int>(64 * MiB));

  pid_t pid = relay.process().pid();
  reset_peak_rss(pid);
  uint64_t rss_before = proc_status_kib(pid, "VmRSS");
  constexpr std::size_t kHuge = 16 * MiB;
  ASSERT_TRUE(source.send(payload(1 * MiB, 0, 1), 1, 9));  // at the limit: passes
  ASSERT_TRUE(source.send_bytes(bytes(payload(kHuge, 1, 1)), 1, 9));
  ASSERT_TRUE(source.send(payload(100, 2, 1), 1, 9));
  auto got = sink.recv_n(2, Deadline::in(seconds(30)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].text() == payload(1 * MiB, 0, 1)) << "the message at the limit arrived changed";
  EXPECT_EQ(got[1].text(), payload(100, 2, 1)) << "the message after the huge one";
  EXPECT_EQ(got[1].info.ppid, 9u);
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300))));
  uint64_t peak_growth_kib = proc_status_kib(pid, "VmHWM") - rss_before;
  EXPECT_LT(peak_growth_kib, 8u * 1024) << "the relay's memory grew by " << peak_growth_kib / 1024 << " MiB";

  // The association carries on.
  ASSERT_TRUE(source.send("still here", 1, 9));
  auto m = sink.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "still here");
  EXPECT_FALSE(lost(source, source.assoc()));
  auto stats = relay.stats();
  EXPECT_EQ(stats["dropped_oversize"], 1u);
  EXPECT_EQ(stats["oversize_aborted"], 0u);
  EXPECT_EQ(stats["assoc_down_abort"], 0u);
}
