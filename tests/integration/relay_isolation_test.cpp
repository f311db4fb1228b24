// Every association stands alone: a source whose destination is slow is held back on its own,
// and the other associations of the same listener keep flowing past it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Every counter of a message the relay dropped, whatever the reason.
uint64_t dropped_total(const std::map<std::string, uint64_t>& stats) {
  uint64_t n = 0;
  for (auto& [key, value] : stats)
    if (key.rfind("dropped_", 0) == 0) n += value;
  return n;
}

}  // namespace

TEST(RelayIsolation, ASlowDestinationHoldsBackOnlyTheSourceThatFeedsIt) {
  uint16_t p = ports_for_test();
  Peer slow = Peer::listen(p + 1), fast = Peer::listen(p + 2);
  // A small receive buffer for the slow destination (the kernel doubles it: 512 KiB), so what
  // waits for it is mostly in the relay.
  slow.force_buffers(256 * 1024, 0);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: slow, addresses: [127.0.0.1], port: {P1}}
  - {name: fast, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: 1, to: slow}
  - {from: in, streams: 2, to: fast}
)", p));
  ASSERT_TRUE(slow.wait_up());
  ASSERT_TRUE(fast.wait_up());
  ASSERT_TRUE(relay.saw("destination slow up"));
  ASSERT_TRUE(relay.saw("destination fast up"));
  Peer x = Peer::connect(p), y = Peer::connect(p);

  // X sends far more than everything between the relay and `slow` can hold (the relay's queue and
  // its send buffer, slow's receive buffer: about 1,100 messages of 1 KB), so at 200 messages a
  // second most of X's traffic waits in the relay's receive buffer for X, for many seconds. A relay
  // that reads all of a listener's associations as one would have to read past X's backlog to
  // reach Y's messages: Y would get through only once `slow` had had most of X's.
  constexpr int kX = 3000, kY = 2000;
  std::atomic<int> slow_count{0};
  std::vector<Msg> slow_got;
  std::thread slow_reader([&] {
    while (slow_got.size() < kX) {
      auto m = slow.recv(Deadline::in(seconds(30)));
      if (!m) break;
      slow_got.push_back(std::move(*m));
      slow_count = static_cast<int>(slow_got.size());
      std::this_thread::sleep_for(milliseconds(5));  // the slow destination: 200 messages a second
    }
  });
  bool x_sent = true;
  std::thread x_sender([&] {
    for (int i = 0; i < kX && x_sent; ++i)
      x_sent = x.send(payload(1024, i, 1), 1, 11, false, 0, Deadline::in(seconds(60)));
  });

  // X is backed up: the relay has paused reading it.
  bool paused = relay.wait_stat("backpressure_pauses", 1, Deadline::in(seconds(20)));

  // Now Y, on the same listener, to `fast`: all of it gets through while X is still held back.
  int slow_when_y_done = -1;
  std::vector<Msg> fast_got;
  std::thread fast_reader([&] {
    fast_got = fast.recv_n(kY, Deadline::in(seconds(40)));
    slow_when_y_done = slow_count;
  });
  bool y_sent = true;
  for (int i = 0; i < kY && y_sent; ++i) y_sent = y.send(payload(1024, i, 2), 2, 22, false, 0, Deadline::in(seconds(40)));
  fast_reader.join();
  x_sender.join();
  slow_reader.join();

  std::fprintf(stderr, "all of Y through when slow had %d of X's %d messages\n", slow_when_y_done, kX);
  ASSERT_TRUE(paused) << "the relay never held X back (backpressure_pauses stayed 0)";
  ASSERT_TRUE(x_sent && y_sent);
  ASSERT_EQ(fast_got.size(), std::size_t(kY)) << "Y's messages did not all get past X's backlog";
  for (int i = 0; i < kY; ++i) {
    ASSERT_EQ(fast_got[i].text(), payload(1024, i, 2)) << "Y message " << i;
    ASSERT_EQ(fast_got[i].info.stream, 2);
    ASSERT_EQ(fast_got[i].info.ppid, 22u);
  }
  EXPECT_LT(slow_when_y_done, kX / 2) << "Y was only through once most of X had drained: Y waited behind X";

  // And X lost nothing: all of it, in order, once `slow` caught up.
  ASSERT_EQ(slow_got.size(), std::size_t(kX));
  for (int i = 0; i < kX; ++i) {
    ASSERT_EQ(slow_got[i].text(), payload(1024, i, 1)) << "X message " << i;
    ASSERT_EQ(slow_got[i].info.stream, 1);
    ASSERT_EQ(slow_got[i].info.ppid, 11u);
  }
  EXPECT_TRUE(slow.quiet_until(Deadline::in(milliseconds(300))));
  EXPECT_TRUE(fast.quiet_until(Deadline::in(milliseconds(300))));
  auto stats = relay.stats();
  EXPECT_EQ(dropped_total(stats), 0u);
  EXPECT_EQ(stats["forwarded"], uint64_t(kX + kY));
}

// Peers that send and close at once: by the time the relay reads an association's COMM_UP, the
// association may already be over and cannot be given a socket of its own. What it sent is still
// in the listener's receive queue, acknowledged to the peer: every message must arrive.
TEST(RelayIsolation, PeersThatSendAndCloseAtOnceLoseNothing) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kInToOut, p));
  ASSERT_TRUE(sink.wait_up());
  constexpr int kPeers = 40, kEach = 3;
  std::vector<std::thread> peers;
  for (int c = 0; c < kPeers; ++c)
    peers.emplace_back([c, p] {
      Peer peer = Peer::connect(p);
      for (int m = 0; m < kEach; ++m) peer.send(payload(64, uint64_t(c * kEach + m), uint16_t(c % 8)), uint16_t(c % 8), 7);
      peer.close();  // at once, without waiting for anything
    });
  for (auto& t : peers) t.join();
  auto got = sink.recv_n(kPeers * kEach, Deadline::in(seconds(30)));
  ASSERT_EQ(got.size(), std::size_t(kPeers * kEach));
  std::vector<int> seen(kPeers * kEach, 0);
  for (auto& m : got) {
    auto id = payload_id(m.text());
    ASSERT_TRUE(id.has_value()) << m.text();
    ASSERT_LT(id->seq, seen.size());
    EXPECT_EQ(m.text(), payload(64, id->seq, id->stream));
    EXPECT_EQ(m.info.stream, id->stream);
    EXPECT_EQ(m.info.ppid, 7u);
    seen[id->seq]++;
  }
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "message " << i;
  EXPECT_EQ(dropped_total(relay.stats()), 0u);
}
