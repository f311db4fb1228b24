// The daemon's life: destinations that go away and come back, reloads good and bad, --check,
// association accounting, and a graceful stop.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

using namespace harness;

namespace {

const char* kOneWay = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 200ms}
routes:
  - {from: in, to: out}
)";

}  // namespace

TEST(RelayLifecycle, DestinationRestartedMidStreamGetsEveryQueuedMessageInOrder) {
  uint16_t p = ports_for_test();
  auto sink = std::make_unique<Peer>(Peer::listen(p + 1));
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink->wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);

  for (int i = 0; i < 100; ++i) ASSERT_TRUE(source.send(payload(300, i, 1), 1, 5));
  auto first = sink->recv_n(100);
  ASSERT_EQ(first.size(), 100u);

  // The destination goes away (ABORT), more traffic arrives meanwhile and must wait.
  std::size_t mark = relay.mark();
  sink->abort();
  sink.reset();
  ASSERT_TRUE(relay.saw("destination out down", soon(), mark));
  for (int i = 100; i < 300; ++i) ASSERT_TRUE(source.send(payload(300, i, 1), 1, 5));

  mark = relay.mark();
  Peer again = Peer::listen(p + 1);
  ASSERT_TRUE(again.wait_up(Deadline::in(std::chrono::seconds(30))));
  auto rest = again.recv_n(200, Deadline::in(std::chrono::seconds(60)));
  ASSERT_EQ(rest.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(rest[i].text(), payload(300, 100 + i, 1)) << "message " << 100 + i;
    EXPECT_EQ(rest[i].info.stream, 1);
    EXPECT_EQ(rest[i].info.ppid, 5u);
  }
  EXPECT_TRUE(again.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
  // Every association end is counted, ABORT included.
  EXPECT_EQ(relay.stats()["assoc_down_abort"], 1u);
}

TEST(RelayLifecycle, DestinationClosingWhileTrafficFlowsLosesAndDuplicatesNothing) {
  uint16_t p = ports_for_test();
  auto sink = std::make_unique<Peer>(Peer::listen(p + 1));
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink->wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);

  constexpr int kTotal = 2000;
  bool sent_all = true;
  std::thread sender([&] {
    for (int i = 0; i < kTotal && sent_all; ++i)
      sent_all = source.send(payload(200, i, 2), 2, 8, false, 0, Deadline::in(std::chrono::seconds(60)));
  });
  // The destination takes some, then closes gracefully while the source keeps sending: what the
  // relay had handed to the kernel is delivered before SHUTDOWN completes, the rest waits.
  auto got = sink->recv_n(300, Deadline::in(std::chrono::seconds(60)));
  ASSERT_EQ(got.size(), 300u);
  sink->shutdown();
  ASSERT_TRUE(sink->wait_down(Deadline::in(std::chrono::seconds(30))));
  for (auto& m : sink->take_received()) got.push_back(std::move(m));
  sink.reset();

  Peer again = Peer::listen(p + 1);
  ASSERT_TRUE(again.wait_up(Deadline::in(std::chrono::seconds(30))));
  sender.join();
  ASSERT_TRUE(sent_all);
  auto rest = again.recv_n(kTotal - got.size(), Deadline::in(std::chrono::seconds(120)));
  for (auto& m : rest) got.push_back(std::move(m));
  ASSERT_EQ(got.size(), std::size_t(kTotal));
  for (int i = 0; i < kTotal; ++i) ASSERT_EQ(got[i].text(), payload(200, i, 2)) << "message " << i;
  EXPECT_TRUE(again.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(RelayLifecycle, ReloadChangesRoutingWithoutDroppingAssociationsAndABrokenReloadKeepsTheOld) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  const char* first = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: a}
)";
  const char* second = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: b}
)";
  const char* broken = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: nowhere}
)";
  Daemon relay(with_ports(first, p));
  ASSERT_TRUE(a.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  Peer source = Peer::connect(p);
  sctp_assoc_t source_assoc = source.assoc();
  ASSERT_TRUE(source.send("one", 1));
  auto m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "one");

  ASSERT_TRUE(relay.reload(with_ports(second, p)));
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination b up"));
  ASSERT_TRUE(source.send("two", 1));
  m = b.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "two");
  EXPECT_TRUE(a.quiet_until(Deadline::in(std::chrono::milliseconds(300))));

  // A config with an error is rejected and named with its position; routing stays as it was.
  std::size_t mark = relay.mark();
  EXPECT_FALSE(relay.reload(with_ports(broken, p)));
  EXPECT_TRUE(relay.saw("sctprelayd.yaml:7:", soon(), mark));
  ASSERT_TRUE(source.send("three", 1));
  m = b.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "three");

  // Neither reload touched the source's association nor a's.
  EXPECT_EQ(source.assoc(), source_assoc);
  for (auto& c : source.changes) EXPECT_NE(c.state, SCTP_COMM_LOST);
  for (auto& c : a.changes) EXPECT_NE(c.state, SCTP_COMM_LOST);
  auto stats = relay.stats();
  EXPECT_EQ(stats["assoc_down_abort"] + stats["assoc_down_shutdown"], 0u);
}

TEST(RelayLifecycle, CheckPointsAtTheBadLineAndColumn) {
  TempDir dir;
  std::string path = dir.write("bad.yaml", R"(listeners:
  - name: in
    addresses: [127.0.0.1]
    port: 70000
destinations: []
routes: []
)");
  Process check({SCTPRELAYD_BIN, "--check", "--config", path});
  auto status = check.wait_exit();
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 1);
  EXPECT_TRUE(check.wait_line(path + ":4:11:", Deadline::in(std::chrono::milliseconds(1))));

  std::string good = dir.write("good.yaml", with_ports(kOneWay, 30000));
  Process ok({SCTPRELAYD_BIN, "--check", "--config", good});
  EXPECT_EQ(ok.wait_exit(), 0);
  EXPECT_TRUE(ok.wait_line(": OK", Deadline::in(std::chrono::milliseconds(1))));
}

TEST(RelayLifecycle, BadCommandLinesAndMissingFilesGetClearMessagesAndExitCodes) {
  Process bogus({SCTPRELAYD_BIN, "--bogus"});
  EXPECT_EQ(bogus.wait_exit(), 2);
  EXPECT_TRUE(bogus.wait_line("usage: sctprelayd", Deadline::in(std::chrono::milliseconds(1))));

  Process missing({SCTPRELAYD_BIN, "--config", "/nonexistent/relay.yaml"});
  EXPECT_EQ(missing.wait_exit(), 1);
  EXPECT_TRUE(missing.wait_line("/nonexistent/relay.yaml: cannot open", Deadline::in(std::chrono::milliseconds(1))));

  Process level({SCTPRELAYD_BIN, "--log-level", "loud"});
  EXPECT_EQ(level.wait_exit(), 2);
  EXPECT_TRUE(level.wait_line("unknown log level 'loud'", Deadline::in(std::chrono::milliseconds(1))));
}

TEST(RelayLifecycle, AListenerThatCannotBindStopsStartupWithExitCode3) {
  uint16_t p = ports_for_test();
  Peer squatter = Peer::listen(p);  // holds the listener's address and port
  TempDir dir;
  std::string path = dir.write("relay.yaml", with_ports(kOneWay, p));
  Process relay({SCTPRELAYD_BIN, "--config", path});
  EXPECT_EQ(relay.wait_exit(), 3);
  // What failed, where, and what to do about it.
  EXPECT_TRUE(relay.wait_line("cannot start: listener in: cannot bind 127.0.0.1:" + std::to_string(p) +
                                  ": Address already in use: another socket already uses SCTP port",
                              Deadline::in(std::chrono::milliseconds(1))));
  EXPECT_TRUE(relay.wait_line("ss -Slnp", Deadline::in(std::chrono::milliseconds(1))));

  // An address this host does not have.
  std::string elsewhere = kOneWay;
  elsewhere.replace(elsewhere.find("127.0.0.1"), 9, "192.0.2.77");
  std::string other = dir.write("elsewhere.yaml", with_ports(elsewhere, p));
  Process relay2({SCTPRELAYD_BIN, "--config", other});
  EXPECT_EQ(relay2.wait_exit(), 3);
  EXPECT_TRUE(relay2.wait_line("cannot start: listener in: cannot bind 192.0.2.77:" + std::to_string(p) +
                                   ": Cannot assign requested address: 192.0.2.77 is not an address of this host",
                               Deadline::in(std::chrono::milliseconds(1))));
}

// With workers, listeners use SO_REUSEPORT, which would let a second daemon (started by mistake,
// as the same user) join the first one's port and take some of its associations: it must fail to
// start instead, as it does with one worker.
TEST(RelayLifecycle, ASecondDaemonWithWorkersCannotJoinTheFirstOnesPort) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  const std::string yaml = "workers: 2\n" + with_ports(kOneWay, p);
  Daemon first(yaml);
  TempDir dir;
  Process second({SCTPRELAYD_BIN, "--config", dir.write("relay.yaml", yaml)});
  EXPECT_EQ(second.wait_exit(), 3);
  EXPECT_TRUE(second.wait_line("cannot start: listener in: cannot bind 127.0.0.1:" + std::to_string(p) +
                                   ": Address already in use",
                               Deadline::in(std::chrono::milliseconds(1))));
  // The first one still has the port to itself: a new association reaches the sink through it.
  ASSERT_TRUE(sink.wait_up());
  Peer source = Peer::connect(p);
  ASSERT_TRUE(source.send("still here", 3, 7));
  auto m = sink.recv();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->text(), "still here");
  EXPECT_EQ(m->info.stream, 3);
  EXPECT_EQ(m->info.ppid, 7u);
}

TEST(RelayLifecycle, AbortAndShutdownAreBothAccountedFor) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  Peer gentle = Peer::connect(p), rough = Peer::connect(p);
  std::size_t mark = relay.mark();
  gentle.shutdown();
  ASSERT_TRUE(gentle.wait_down());
  ASSERT_TRUE(relay.saw("association down", soon(), mark));
  mark = relay.mark();
  rough.abort();
  ASSERT_TRUE(relay.saw("association down", soon(), mark));
  auto stats = relay.stats();
  EXPECT_EQ(stats["assoc_down_shutdown"], 1u);
  EXPECT_EQ(stats["assoc_down_abort"], 1u);
  EXPECT_EQ(stats["assoc_up"], 3u);  // two sources and the destination
}

TEST(RelayLifecycle, SigtermDrainsSendsShutdownAndExitsZero) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(source.send(payload(1000, i), 0));
  auto got = sink.recv_n(50);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(relay.stop(), 0);
  EXPECT_FALSE(relay.process().wait_line("did not finish SHUTDOWN", Deadline::in(std::chrono::milliseconds(1))));
  // Both sides were closed with SHUTDOWN, not ABORT.
  EXPECT_TRUE(sink.wait_down());
  EXPECT_TRUE(source.wait_down());
  for (auto* peer : {&sink, &source})
    for (auto& c : peer->changes) EXPECT_NE(c.state, SCTP_COMM_LOST);
}
