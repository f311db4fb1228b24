// The return path: replies from a destination go back to the association that sent on that
// stream (return: origin), or follow the destination's own routes (return: routes).
#include <gtest/gtest.h>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

using namespace harness;

namespace {

// The sink answers each message on the same association and stream with "re:" + its text.
void echo(Peer& sink, std::size_t n, uint32_t reply_ppid = 0) {
  for (auto& m : sink.recv_n(n)) {
    ASSERT_TRUE(sink.send("re:" + m.text(), m.info.stream, reply_ppid ? reply_ppid : m.info.ppid, false,
                          m.info.assoc));
  }
}

}  // namespace

TEST(RelayReturnPath, RepliesGoBackToTheAssociationThatSentOnThatStream) {
  uint16_t p = ports_for_test();
  Peer server = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: server, addresses: [127.0.0.1], port: {P1}, return: origin}
routes:
  - {from: in, streams: "0-3", to: server}
  - {from: in, streams: "10-11", to: server, set_stream: 5, set_ppid: 99}
)", p));
  ASSERT_TRUE(server.wait_up());
  ASSERT_TRUE(relay.saw("destination server up"));
  Peer alice = Peer::connect(p), bob = Peer::connect(p);

  ASSERT_TRUE(alice.send("a1", 1, 46));
  echo(server, 1);
  auto r = alice.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text(), "re:a1");
  EXPECT_EQ(r->info.stream, 1);
  EXPECT_EQ(r->info.ppid, 46u);

  // Bob now sends on the same stream: the reply is his, not Alice's.
  ASSERT_TRUE(bob.send("b1", 1, 46));
  echo(server, 1);
  r = bob.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text(), "re:b1");
  EXPECT_TRUE(alice.quiet_until(Deadline::in(std::chrono::milliseconds(300))));

  // A rewritten request: the server sees stream 5 / PPID 99; the reply comes back on stream 10
  // with the PPID Alice used.
  ASSERT_TRUE(alice.send("a2", 10, 46));
  auto req = server.recv();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->info.stream, 5);
  EXPECT_EQ(req->info.ppid, 99u);
  ASSERT_TRUE(server.send("re:a2", req->info.stream, 99, false, req->info.assoc));
  r = alice.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text(), "re:a2");
  EXPECT_EQ(r->info.stream, 10);
  EXPECT_EQ(r->info.ppid, 46u);
}

TEST(RelayReturnPath, ReturnByRoutesSendsRepliesWhereTheDestinationsRoutesSay) {
  uint16_t p = ports_for_test();
  Peer server = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1, 127.0.0.2], port: {P0}}
destinations:
  - {name: server, addresses: [127.0.0.1], port: {P1}, return: routes}
  - {name: monitors, kind: group, listener: in, match: [127.0.0.2]}
routes:
  - {from: in, to: server}
  - {from: server, to: monitors}
)", p));
  ASSERT_TRUE(server.wait_up());
  ASSERT_TRUE(relay.saw("destination server up"));
  Peer client = Peer::connect(p, {"127.0.0.1"}, 16, {"127.0.0.1"});
  std::size_t mark = relay.mark();
  Peer monitor = Peer::connect(p, {"127.0.0.2"}, 16, {"127.0.0.2"});
  ASSERT_TRUE(relay.saw("groups monitors", soon(), mark));

  ASSERT_TRUE(client.send("q", 2, 3));
  echo(server, 1);
  auto r = monitor.recv();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text(), "re:q");
  EXPECT_EQ(r->info.stream, 2);
  EXPECT_TRUE(client.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}
