// Peers the relay did not choose: a listener admits only the addresses it allows and only so many
// associations (the rest are ABORTed before anything they sent is forwarded), reads an
// association no faster than its rate (that association alone waits), and all queues together
// hold no more than limits.max_queued_bytes.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"
#include "relay/relay.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::size_t KiB = 1024, MiB = 1024 * 1024;
constexpr uint16_t kUserInitiatedAbort = 12;  // RFC 9260 error cause

// The peer saw its association ABORTed, with the cause the relay gives (User-Initiated Abort:
// the kernel hands the cause code over in sac_error, as it came on the wire).
bool aborted_by_relay(const Peer& peer, sctp_assoc_t assoc) {
  return std::any_of(peer.changes.begin(), peer.changes.end(), [&](const auto& c) {
    return c.assoc == assoc && c.state == SCTP_COMM_LOST &&
           (c.error == kUserInitiatedAbort || c.error == htons(kUserInitiatedAbort));
  });
}

bool ended(const Peer& peer, sctp_assoc_t assoc) {
  return std::any_of(peer.changes.begin(), peer.changes.end(), [&](const auto& c) {
    return c.assoc == assoc && (c.state == SCTP_COMM_LOST || c.state == SCTP_SHUTDOWN_COMP);
  });
}

}  // namespace

TEST(RelayAdmission, APeerWithAnAddressNotAllowedIsAbortedAndNothingItSentIsForwarded) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, allow: [127.0.0.2/32, 10.0.0.0/8]}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  // From 127.0.0.3: not allowed. It sends at once, before the relay has looked at it.
  Peer stranger = Peer::connect(p, {"127.0.0.1"}, 16, {"127.0.0.3"});
  for (int i = 0; i < 5; ++i) stranger.send("from a stranger " + std::to_string(i), 1, 9);
  ASSERT_TRUE(stranger.wait_down(Deadline::in(seconds(10)))) << "the relay did not end the association";
  EXPECT_TRUE(aborted_by_relay(stranger, stranger.assoc())) << "ended, but not by the relay's ABORT";

  // Multi-homed, one address allowed and one not: refused too (it could send from either).
  Peer half = Peer::connect(p, {"127.0.0.1"}, 16, {"127.0.0.2", "127.0.0.4"});
  half.send("from a half-allowed peer", 1, 9);
  ASSERT_TRUE(half.wait_down(Deadline::in(seconds(10))));
  EXPECT_TRUE(aborted_by_relay(half, half.assoc()));

  // From 127.0.0.2 alone: allowed, and relayed.
  Peer friendly = Peer::connect(p, {"127.0.0.1"}, 16, {"127.0.0.2"});
  ASSERT_TRUE(friendly.send("from a friend", 2, 7));
  auto m = sink.recv(Deadline::in(seconds(10)));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "from a friend");
  EXPECT_EQ(m->info.stream, 2);
  EXPECT_EQ(m->info.ppid, 7u);
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(500)))) << "a refused peer's message got through";
  EXPECT_FALSE(ended(friendly, friendly.assoc()));

  auto stats = relay.stats();
  EXPECT_EQ(stats["refused_not_allowed"], 2u);
  EXPECT_EQ(stats["refused_max_associations"], 0u);
  EXPECT_EQ(stats["assoc_up"], 2u) << "a refused association was counted as accepted (1 + the destination's)";
  EXPECT_EQ(stats["forwarded"], 1u);
  EXPECT_TRUE(relay.saw("not allowed on listener in"));
}

TEST(RelayAdmission, AReloadThatNarrowsAllowEndsTheAssociationsItNoLongerAdmits) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  const std::string yaml = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, allow: [ALLOW]}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)";
  auto config = [&](const std::string& allow) {
    std::string text = yaml;
    text.replace(text.find("ALLOW"), 5, allow);
    return with_ports(text, p);
  };
  Daemon relay(config("127.0.0.0/8"));
  ASSERT_TRUE(sink.wait_up());
  Peer a = Peer::connect(p, {"127.0.0.1"}, 16, {"127.0.0.2"});
  Peer b = Peer::connect(p, {"127.0.0.1"}, 16, {"127.0.0.5"});
  ASSERT_TRUE(relay.wait_stat("assoc_up", 2));
  ASSERT_TRUE(relay.reload(config("127.0.0.2")));
  ASSERT_TRUE(b.wait_down(Deadline::in(seconds(10))));
  EXPECT_TRUE(aborted_by_relay(b, b.assoc()));
  ASSERT_TRUE(a.send("still here", 0, 1));
  auto m = sink.recv(Deadline::in(seconds(10)));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "still here");
  EXPECT_FALSE(ended(a, a.assoc()));
  EXPECT_EQ(relay.stats()["refused_not_allowed"], 1u);
}

TEST(RelayAdmission, TheAssociationBeyondMaxAssociationsIsAborted) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, max_associations: 2}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  Peer one = Peer::connect(p), two = Peer::connect(p);
  ASSERT_TRUE(relay.wait_stat("assoc_up", 2));
  Peer three = Peer::connect(p);
  three.send("one too many", 0, 1);
  ASSERT_TRUE(three.wait_down(Deadline::in(seconds(10))));
  EXPECT_TRUE(aborted_by_relay(three, three.assoc()));
  EXPECT_TRUE(relay.saw("is at its limit of 2 associations"));

  // The two admitted carry on; once one leaves, there is room again.
  ASSERT_TRUE(one.send("one", 0, 1));
  ASSERT_TRUE(two.send("two", 0, 1));
  auto got = sink.recv_n(2, Deadline::in(seconds(10)));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300)))) << "the refused association's message got through";
  one.shutdown();
  ASSERT_TRUE(one.wait_down(Deadline::in(seconds(10))));
  ASSERT_TRUE(relay.wait_stat("assoc_down_shutdown", 1));
  Peer four = Peer::connect(p);
  ASSERT_TRUE(four.send("four", 0, 1));
  auto m = sink.recv(Deadline::in(seconds(10)));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "four");
  EXPECT_FALSE(ended(four, four.assoc()));
  auto stats = relay.stats();
  EXPECT_EQ(stats["refused_max_associations"], 1u);
  EXPECT_EQ(stats["assoc_up"], 4u);  // one, two, four and the destination's
  EXPECT_EQ(stats["received"], 3u);
}

// Rate: {100 per second, burst 10}. A floods 300 messages; B sends a few meanwhile. A is paused
// (not dropped: all 300 arrive, in order, no sooner than the rate allows); B is not held up by A.
TEST(RelayAdmission, ARateLimitedAssociationWaitsAloneAndLosesNothing) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, rate: {messages_per_second: 100, burst: 10}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, streams: 1, to: out}
  - {from: in, streams: 2, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer a = Peer::connect(p), b = Peer::connect(p);
  constexpr int kA = 300, kB = 5;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kA; ++i) ASSERT_TRUE(a.send(payload(100, i, 1), 1, 11));
  ASSERT_TRUE(relay.wait_stat("rate_limited", 1, Deadline::in(seconds(10))));
  for (int i = 0; i < kB; ++i) ASSERT_TRUE(b.send(payload(100, i, 2), 2, 12));

  int a_got = 0, b_got = 0, a_when_b_done = -1;
  while (a_got < kA || b_got < kB) {
    auto m = sink.recv(Deadline::in(seconds(30)));
    ASSERT_TRUE(m) << "stopped after " << a_got << " of A's and " << b_got << " of B's";
    auto id = payload_id(m->text());
    ASSERT_TRUE(id);
    if (m->info.stream == 1) {
      EXPECT_EQ(id->seq, static_cast<uint64_t>(a_got)) << "A's messages out of order";
      EXPECT_EQ(m->text(), payload(100, id->seq, 1));
      EXPECT_EQ(m->info.ppid, 11u);
      ++a_got;
    } else {
      EXPECT_EQ(id->seq, static_cast<uint64_t>(b_got)) << "B's messages out of order";
      EXPECT_EQ(m->info.ppid, 12u);
      if (++b_got == kB) a_when_b_done = a_got;
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  // B's messages got through while A was still waiting for its tokens.
  EXPECT_LT(a_when_b_done, kA) << "B waited for A's backlog";
  // A was read no faster than its rate: 300 messages, less the burst of 10 and less the last
  // read batch (a batch already read is forwarded; the debt it leaves is paid by the next read),
  // at 100 a second. Unlimited, the relay takes a fraction of a second for them.
  EXPECT_GE(took, milliseconds((kA - 10 - sctprelay::relay::kReadBudget) * 10)) << "A was read faster than its rate";
  auto stats = relay.stats();
  EXPECT_GE(stats["rate_limited"], 1u);
  EXPECT_EQ(stats["forwarded"], static_cast<uint64_t>(kA + kB));
  EXPECT_FALSE(ended(a, a.assoc()));
}

// A destination that reads nothing, queues that would each take 1 GiB, and a 4 MiB budget for all
// of them: the flood is dropped past the budget (counted), the relay's memory stays near it, and
// what was kept arrives in order once the destination reads.
TEST(RelayAdmission, TheQueueMemoryBudgetHoldsUnderAFlood) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  sink.force_buffers(128 * KiB, 0);
  Daemon relay(with_ports(R"(
limits: {max_queued_bytes: 4MiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    queue: {max_messages: 1000000, max_bytes: 1GiB, when_full: drop}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  pid_t pid = relay.process().pid();
  reset_peak_rss(pid);
  const uint64_t rss_before = proc_status_kib(pid, "VmRSS");

  Peer source = Peer::connect(p);
  constexpr int kCount = 2000;
  constexpr std::size_t kSize = 16 * KiB;  // 32 MiB in all
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(source.send(payload(kSize, i, 3), 3, 5));
  ASSERT_TRUE(relay.wait_stat("received", kCount, Deadline::in(seconds(60))));
  auto stats = relay.stats();
  const uint64_t dropped = stats["dropped_queue_memory"];
  EXPECT_GT(dropped, 0u);
  EXPECT_LE(stats["queued_bytes_peak"], 4 * MiB);
  const uint64_t growth_kib = proc_status_kib(pid, "VmHWM") - rss_before;
  EXPECT_LT(growth_kib, 16u * 1024) << "the relay grew by " << growth_kib / 1024 << " MiB for a 4 MiB budget";

  // Now the destination reads: exactly what was not dropped, in order, whole.
  std::size_t got = 0;
  int64_t last = -1;
  while (got < kCount - dropped) {
    auto m = sink.recv(Deadline::in(seconds(30)));
    ASSERT_TRUE(m) << "got " << got << " of " << kCount - dropped;
    auto id = payload_id(m->text());
    ASSERT_TRUE(id);
    EXPECT_GT(static_cast<int64_t>(id->seq), last) << "out of order";
    last = static_cast<int64_t>(id->seq);
    EXPECT_EQ(m->data.size(), kSize);
    EXPECT_EQ(m->info.stream, 3);
    ++got;
  }
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(500))));
  EXPECT_EQ(relay.stats()["queued_bytes"], 0u);
}

// The same flood with when_full: backpressure: the source is held back as the budget fills, so
// nothing is dropped and everything arrives once the destination reads.
TEST(RelayAdmission, UnderTheBudgetBackpressureSourcesAreHeldRatherThanDropped) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  sink.force_buffers(128 * KiB, 0);
  Daemon relay(with_ports(R"(
limits: {max_queued_bytes: 4MiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    queue: {max_messages: 1000000, max_bytes: 1GiB, when_full: backpressure}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);
  constexpr int kCount = 2000;
  constexpr std::size_t kSize = 16 * KiB;
  std::thread sender([&] {
    for (int i = 0; i < kCount; ++i)
      if (!source.send(payload(kSize, i, 3), 3, 5, false, 0, Deadline::in(seconds(120)))) break;
  });
  ASSERT_TRUE(relay.wait_stat("backpressure_pauses", 1, Deadline::in(seconds(60))));
  int got = 0;
  while (got < kCount) {
    auto m = sink.recv(Deadline::in(seconds(60)));
    if (!m) break;
    auto id = payload_id(m->text());
    ASSERT_TRUE(id);
    EXPECT_EQ(id->seq, static_cast<uint64_t>(got)) << "lost or out of order";
    EXPECT_EQ(m->data.size(), kSize);
    ++got;
  }
  sender.join();
  EXPECT_EQ(got, kCount);
  auto stats = relay.stats();
  EXPECT_EQ(stats["dropped_queue_memory"], 0u);
  EXPECT_LE(stats["queued_bytes_peak"], 4 * MiB);
}
