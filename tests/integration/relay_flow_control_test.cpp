// Flow control: bounded queues for destinations that cannot take more, with backpressure, drop and
// time-to-live policies; a default route for what nothing matches.
#include <gtest/gtest.h>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

using namespace harness;

TEST(RelayFlowControl, DropPolicyKeepsTheFirstMessagesAndCountsTheRest) {
  uint16_t p = ports_for_test();
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 100ms}
    queue: {max_messages: 5, when_full: drop}
routes:
  - {from: in, to: out}
)", p));
  Peer source = Peer::connect(p);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(source.send("m" + std::to_string(i), 2));
  // The destination is down: 5 wait, 7 are dropped and counted.
  ASSERT_TRUE(relay.saw("queue full"));
  ASSERT_TRUE(relay.wait_stat("dropped_queue_full", 7));
  EXPECT_EQ(relay.stats()["dropped_queue_full"], 7u);

  Peer sink = Peer::listen(p + 1);
  ASSERT_TRUE(sink.wait_up(Deadline::in(std::chrono::seconds(30))));
  auto got = sink.recv_n(5);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i].text(), "m" + std::to_string(i));
  EXPECT_TRUE(sink.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(RelayFlowControl, BackpressurePausesTheSourceAndLosesNothing) {
  uint16_t p = ports_for_test();
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 100ms}
    queue: {max_messages: 10, when_full: backpressure}
routes:
  - {from: in, to: out}
)", p));
  Peer source = Peer::connect(p);
  // More than the queue holds: the relay stops reading once 10 wait; the rest wait in the kernel.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(source.send(payload(100, i, 3), 3, 1));
  ASSERT_TRUE(relay.saw("backpressure: out queue full"));

  Peer sink = Peer::listen(p + 1);
  ASSERT_TRUE(sink.wait_up(Deadline::in(std::chrono::seconds(30))));
  auto got = sink.recv_n(200, Deadline::in(std::chrono::seconds(60)));
  ASSERT_EQ(got.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(got[i].text(), payload(100, i, 3)) << i;
  // The line names the source ("from in", or one association of it: "from in/assoc 5").
  ASSERT_TRUE(relay.saw("resuming reads from in"));
  auto stats = relay.stats();
  EXPECT_GE(stats["backpressure_pauses"], 1u);
  EXPECT_EQ(stats["dropped_queue_full"], 0u);
}

TEST(RelayFlowControl, QueuedMessagesOlderThanTheTtlAreDroppedAndCounted) {
  uint16_t p = ports_for_test();
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 100ms}
    queue: {ttl: 200ms}
routes:
  - {from: in, to: out}
)", p));
  Peer source = Peer::connect(p);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(source.send("old" + std::to_string(i), 0));
  ASSERT_TRUE(relay.saw("4 queued messages expired (ttl)"));
  Peer sink = Peer::listen(p + 1);
  ASSERT_TRUE(sink.wait_up(Deadline::in(std::chrono::seconds(30))));
  ASSERT_TRUE(source.send("fresh", 0));
  auto got = sink.recv();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->text(), "fresh");
  EXPECT_EQ(relay.stats()["dropped_ttl"], 4u);
}

TEST(RelayFlowControl, UnmatchedMessagesGoToTheFallbackOrAreDroppedAndCounted) {
  uint16_t p = ports_for_test();
  Peer main = Peer::listen(p + 1), spare = Peer::listen(p + 2);
  const char* with_fallback = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: main, addresses: [127.0.0.1], port: {P1}}
  - {name: spare, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: "0-1", to: main}
default: {action: fallback, to: spare}
)";
  const char* with_drop = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: main, addresses: [127.0.0.1], port: {P1}}
  - {name: spare, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: "0-1", to: main}
default: {action: drop}
)";
  Daemon relay(with_ports(with_fallback, p));
  ASSERT_TRUE(main.wait_up());
  ASSERT_TRUE(spare.wait_up());
  ASSERT_TRUE(relay.saw("destination spare up"));
  Peer source = Peer::connect(p);
  ASSERT_TRUE(source.send("routed", 1));
  ASSERT_TRUE(source.send("unmatched", 5, 77));
  auto m = main.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "routed");
  auto s = spare.recv();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->text(), "unmatched");
  EXPECT_EQ(s->info.stream, 5);
  EXPECT_EQ(s->info.ppid, 77u);

  ASSERT_TRUE(relay.reload(with_ports(with_drop, p)));
  ASSERT_TRUE(source.send("lost", 5));
  ASSERT_TRUE(source.send("kept", 0));
  m = main.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "kept");  // sent after "lost": once it arrived, "lost" was handled
  EXPECT_EQ(relay.stats()["dropped_no_route"], 1u);
  EXPECT_TRUE(spare.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(RelayFlowControl, OversizeMessagesAreDroppedAndCountedAndTrafficGoesOn) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
limits: {max_message_size: 1000}
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
  ASSERT_TRUE(source.send(std::string(1000, 'a'), 1));   // at the limit: passes
  ASSERT_TRUE(source.send(std::string(70000, 'b'), 1));  // over it (and in several reads): dropped
  ASSERT_TRUE(source.send("after", 1));
  auto got = sink.recv_n(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].text(), std::string(1000, 'a'));
  EXPECT_EQ(got[1].text(), "after");
  auto line = relay.process().wait_line("message larger than");
  ASSERT_TRUE(line);
  EXPECT_NE(relay.process().lines()[*line].find("1000 bytes"), std::string::npos) << relay.process().lines()[*line];
  EXPECT_NE(relay.process().lines()[*line].find("dropped"), std::string::npos) << relay.process().lines()[*line];
  EXPECT_EQ(relay.stats()["dropped_oversize"], 1u);
}
