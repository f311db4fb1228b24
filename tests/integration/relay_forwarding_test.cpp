// Through the real daemon on kernel SCTP: messages arrive byte-exact with their metadata, routes
// rewrite, fan out, balance and pick group members as configured.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

using namespace harness;

namespace {

// One listener `in` on P0, one destination `out` on P1, everything from `in` to `out`.
const char* kOneWay = R"(
listeners:
  - name: in
    addresses: [127.0.0.1]
    port: {P0}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
routes:
  - from: in
    to: out
)";

std::vector<Msg> by_stream(std::vector<Msg> v) {
  std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.info.stream < b.info.stream; });
  return v;
}

}  // namespace

TEST(RelayForwarding, SizesArriveByteExactWithStreamPpidAndUnordered) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);

  struct Case { std::size_t size; uint16_t stream; uint32_t ppid; bool unordered; };
  const Case cases[] = {{1, 1, 46, false}, {1024, 2, 60, true}, {65536, 3, 18, false},
                        {262144, 4, 0xFFFFFFFFu, false}};
  for (auto& c : cases) ASSERT_TRUE(source.send(payload(c.size, c.size, c.stream), c.stream, c.ppid, c.unordered));

  auto got = by_stream(sink.recv_n(4, Deadline::in(std::chrono::seconds(60))));
  ASSERT_EQ(got.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE("size " + std::to_string(cases[i].size));
    EXPECT_EQ(got[i].info.stream, cases[i].stream);
    EXPECT_EQ(got[i].info.ppid, cases[i].ppid);
    EXPECT_EQ(got[i].info.unordered, cases[i].unordered);
    EXPECT_EQ(got[i].data.size(), cases[i].size);
    EXPECT_TRUE(got[i].text() == payload(cases[i].size, cases[i].size, cases[i].stream));
  }
  EXPECT_TRUE(sink.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(RelayForwarding, RoutesRewriteStreamAndPpid) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, streams: "0-3", ppid: 18, to: out, set_stream: 7, set_ppid: 60}
  - {from: in, streams: [5, "8-9"], to: out, set_ppid: 46}
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);

  ASSERT_TRUE(source.send("a", 2, 18));   // route 1: stream 7, ppid 60
  ASSERT_TRUE(source.send("b", 2, 19));   // ppid differs: falls to route 3, unchanged
  ASSERT_TRUE(source.send("c", 9, 5));    // route 2: ppid 46, stream kept
  ASSERT_TRUE(source.send("d", 4, 18));   // stream 4 not in 0-3: route 3
  auto got = sink.recv_n(4);
  ASSERT_EQ(got.size(), 4u);
  std::map<std::string, std::pair<uint16_t, uint32_t>> seen;
  for (auto& m : got) seen[m.text()] = {m.info.stream, m.info.ppid};
  EXPECT_EQ(seen["a"], std::make_pair(uint16_t(7), uint32_t(60)));
  EXPECT_EQ(seen["b"], std::make_pair(uint16_t(2), uint32_t(19)));
  EXPECT_EQ(seen["c"], std::make_pair(uint16_t(9), uint32_t(46)));
  EXPECT_EQ(seen["d"], std::make_pair(uint16_t(4), uint32_t(18)));
}

TEST(RelayForwarding, TenThousandMessagesOnEightStreamsFromThreeSourcesKeepPerStreamOrder) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  std::vector<Peer> sources;
  for (int i = 0; i < 3; ++i) sources.push_back(Peer::connect(p));

  constexpr int kTotal = 10000;
  std::vector<Msg> got;
  std::thread reader([&] { got = sink.recv_n(kTotal, Deadline::in(std::chrono::seconds(240))); });
  // Each message names its source, stream and per-(source, stream) sequence number.
  std::map<std::pair<int, int>, int> next_seq;
  bool sent_all = true;
  for (int i = 0; i < kTotal && sent_all; ++i) {
    int src = i % 3, stream = (i / 3) % 8;
    int seq = next_seq[{src, stream}]++;
    std::string body = "src=" + std::to_string(src) + " stream=" + std::to_string(stream) +
                       " seq=" + std::to_string(seq) + " ";
    body.resize(100, '.');
    sent_all = sources[src].send(body, static_cast<uint16_t>(stream), 1000 + src,
                                 false, 0, Deadline::in(std::chrono::seconds(60)));
  }
  reader.join();
  ASSERT_TRUE(sent_all);
  ASSERT_EQ(got.size(), std::size_t(kTotal)) << "messages lost";
  std::map<std::pair<int, int>, int> expect_seq;
  for (auto& m : got) {
    int src = -1, stream = -1, seq = -1;
    ASSERT_EQ(std::sscanf(m.text().c_str(), "src=%d stream=%d seq=%d", &src, &stream, &seq), 3);
    ASSERT_EQ(m.info.stream, stream);
    ASSERT_EQ(m.info.ppid, uint32_t(1000 + src));
    ASSERT_EQ(m.data.size(), 100u);
    // Order within each source's stream holds, with no gap and no duplicate.
    int& expected = expect_seq[std::make_pair(src, stream)];
    ASSERT_EQ(seq, expected++) << "src " << src << " stream " << stream;
  }
  EXPECT_TRUE(sink.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(RelayForwarding, FanOutCopiesEveryMessageToEveryTarget) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: [a, b], mode: fanout}
)", p));
  ASSERT_TRUE(a.wait_up());
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  ASSERT_TRUE(relay.saw("destination b up"));
  Peer source = Peer::connect(p);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(source.send(payload(200, i, 3), 3, 7));
  for (Peer* sink : {&a, &b}) {
    auto got = sink->recv_n(20);
    ASSERT_EQ(got.size(), 20u);
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(got[i].text(), payload(200, i, 3));
      EXPECT_EQ(got[i].info.stream, 3);
      EXPECT_EQ(got[i].info.ppid, 7u);
    }
  }
}

TEST(RelayForwarding, BalanceRoundRobinAlternatesAndByStreamKeepsAStreamOnOneTarget) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: 0, to: [a, b], mode: balance, balance: round-robin}
  - {from: in, streams: "1-8", to: [a, b], mode: balance, balance: by-stream}
)", p));
  ASSERT_TRUE(a.wait_up());
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  ASSERT_TRUE(relay.saw("destination b up"));
  Peer source = Peer::connect(p);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(source.send("rr" + std::to_string(i), 0));
  auto ga = a.recv_n(5), gb = b.recv_n(5);
  ASSERT_EQ(ga.size(), 5u);
  ASSERT_EQ(gb.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ga[i].text(), "rr" + std::to_string(2 * i));
    EXPECT_EQ(gb[i].text(), "rr" + std::to_string(2 * i + 1));
  }
  // by-stream: stream s goes to target s % 2 (a for even, b for odd), in order.
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(source.send("s" + std::to_string(i), uint16_t(1 + i % 4)));
  auto sa = a.recv_n(6), sb = b.recv_n(6);
  ASSERT_EQ(sa.size(), 6u);
  ASSERT_EQ(sb.size(), 6u);
  for (auto& m : sa) EXPECT_EQ(m.info.stream % 2, 0) << m.text();
  for (auto& m : sb) EXPECT_EQ(m.info.stream % 2, 1) << m.text();
  EXPECT_TRUE(a.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
  EXPECT_TRUE(b.quiet_until(Deadline::in(std::chrono::milliseconds(1))));
}

TEST(RelayForwarding, GroupTargetsAcceptedAssociationsChosenByPeerAddress) {
  uint16_t p = ports_for_test();
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
  - {name: sinks, addresses: [127.0.0.1, 127.0.0.2], port: {P1}}
destinations:
  - {name: second-host, kind: group, listener: sinks, match: [127.0.0.2/32], balance: round-robin}
routes:
  - {from: in, to: second-host}
)", p));
  // Two associations reach the `sinks` listener; only the one from 127.0.0.2 is in the group.
  Peer outsider = Peer::connect(p + 1, {"127.0.0.1"}, 16, {"127.0.0.1"});
  ASSERT_TRUE(relay.saw("association up: listener sinks"));
  std::size_t mark = relay.mark();
  Peer member = Peer::connect(p + 1, {"127.0.0.2"}, 16, {"127.0.0.2"});
  ASSERT_TRUE(relay.saw("groups second-host", soon(), mark));
  Peer source = Peer::connect(p);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(source.send("g" + std::to_string(i), 4, 9));
  auto got = member.recv_n(5);
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[i].text(), "g" + std::to_string(i));
    EXPECT_EQ(got[i].info.stream, 4);
    EXPECT_EQ(got[i].info.ppid, 9u);
  }
  EXPECT_TRUE(outsider.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(RelayForwarding, StreamsBeyondTheDestinationsCountAreMappedOrRejectedAndCounted) {
  uint16_t p = ports_for_test();
  Peer mapped = Peer::listen(p + 1, {"127.0.0.1"}, 4);    // accepts only 4 inbound streams
  Peer strict = Peer::listen(p + 2, {"127.0.0.1"}, 4);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: mapped, addresses: [127.0.0.1], port: {P1}, stream_overflow: modulo}
  - {name: strict, addresses: [127.0.0.1], port: {P2}, stream_overflow: reject}
routes:
  - {from: in, to: [mapped, strict], mode: fanout}
)", p));
  ASSERT_TRUE(mapped.wait_up());
  ASSERT_TRUE(strict.wait_up());
  ASSERT_TRUE(relay.saw("destination mapped up"));
  ASSERT_TRUE(relay.saw("destination strict up"));
  Peer source = Peer::connect(p);
  ASSERT_TRUE(source.send("six", 6));
  ASSERT_TRUE(source.send("two", 2));
  auto m = mapped.recv_n(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].text(), "six");
  EXPECT_EQ(m[0].info.stream, 2);  // 6 mod 4
  auto s = strict.recv_n(1);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].text(), "two");
  auto stats = relay.stats();
  EXPECT_EQ(stats["stream_mapped"], 1u);
  EXPECT_EQ(stats["dropped_stream"], 1u);
}
