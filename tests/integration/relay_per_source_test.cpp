// Replies find their way back: with `associations: per-source` each source association gets an
// upstream association of its own, so every reply goes back to the one that asked, however many
// ask at once on the same stream. In the shared mode a reply whose asker is gone is counted
// (replies_no_owner) and follows the destination's routes.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "harness/daemon.h"
#include "harness/echo_peer.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

std::string request(int client, int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "client=%02d request=%d", client, n);
  return buf;
}

}  // namespace

TEST(RelayPerSource, FiftyClientsOnOneStreamEachGetExactlyTheirOwnReplies) {
  uint16_t p = ports_for_test();
  EchoPeer echo(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: echo, addresses: [127.0.0.1], port: {P1}, associations: per-source}
routes:
  - {from: in, to: echo}
)", p));
  constexpr int kClients = 50, kRequests = 10;
  std::vector<std::unique_ptr<Peer>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(std::make_unique<Peer>(Peer::connect(p)));

  // All at once: round after round, every client sends a request on stream 0.
  for (int n = 0; n < kRequests; ++n)
    for (int c = 0; c < kClients; ++c) ASSERT_TRUE(clients[c]->send(request(c, n), 0, 46)) << c << " " << n;

  // Each client gets its own replies, all of them, in order, and nothing else.
  for (int c = 0; c < kClients; ++c) {
    auto got = clients[c]->recv_n(kRequests, Deadline::in(seconds(30)));
    ASSERT_EQ(got.size(), std::size_t(kRequests)) << "client " << c;
    for (int n = 0; n < kRequests; ++n) {
      EXPECT_EQ(got[n].text(), request(c, n)) << "client " << c << " got another client's reply";
      EXPECT_EQ(got[n].info.stream, 0);
      EXPECT_EQ(got[n].info.ppid, 46u);
    }
  }
  Deadline settle = Deadline::in(milliseconds(500));
  for (int c = 0; c < kClients; ++c) {
    EXPECT_TRUE(clients[c]->quiet_until(settle)) << "client " << c << " got a reply too many: "
                                                 << clients[c]->take_received().at(0).text();
  }
  // One upstream association per source, opened for its first message.
  EXPECT_EQ(echo.ups(), std::size_t(kClients));
  EXPECT_EQ(echo.echoed(), std::size_t(kClients * kRequests));
  EXPECT_FALSE(echo.failed());

  // A source that closes takes its upstream association with it.
  for (auto& c : clients) c->shutdown();
  for (auto& c : clients) EXPECT_TRUE(c->wait_down());
  EXPECT_TRUE(wait_until([&] { return echo.downs() >= std::size_t(kClients); }, Deadline::in(seconds(30))))
      << "only " << echo.downs() << " of " << kClients << " upstream associations were closed";
  auto stats = relay.stats();
  EXPECT_EQ(stats["replies_no_owner"], 0u);
  EXPECT_EQ(stats["dropped_no_target"], 0u);
}

TEST(RelayPerSource, SharedModeCountsRepliesWhoseSenderIsGoneAndRoutesThem) {
  uint16_t p = ports_for_test();
  Peer server = Peer::listen(p + 1), spare = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: server, addresses: [127.0.0.1], port: {P1}, return: origin}
  - {name: spare, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: server}
  - {from: server, to: spare}
)", p));
  ASSERT_TRUE(server.wait_up());
  ASSERT_TRUE(spare.wait_up());
  ASSERT_TRUE(relay.saw("destination server up"));
  ASSERT_TRUE(relay.saw("destination spare up"));

  // Five clients ask on stream 0; the server holds its answers back.
  constexpr int kClients = 5;
  std::vector<std::unique_ptr<Peer>> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(std::make_unique<Peer>(Peer::connect(p)));
  for (int c = 0; c < kClients; ++c) ASSERT_TRUE(clients[c]->send(request(c, 0), 0, 46));
  auto requests = server.recv_n(kClients);
  ASSERT_EQ(requests.size(), std::size_t(kClients));

  // Every client leaves before its answer comes.
  for (auto& c : clients) c->shutdown();
  for (auto& c : clients) ASSERT_TRUE(c->wait_down());
  ASSERT_TRUE(relay.wait_stat("assoc_down_shutdown", kClients));

  // The answers, and one on a stream nobody ever sent on: none has an owner.
  for (auto& r : requests) ASSERT_TRUE(server.send("re:" + r.text(), r.info.stream, r.info.ppid, false, r.info.assoc));
  ASSERT_TRUE(server.send("unasked", 9, 47));
  auto routed = spare.recv_n(kClients + 1);
  ASSERT_EQ(routed.size(), std::size_t(kClients + 1)) << "replies without an owner must follow the server's routes";
  for (int c = 0; c < kClients; ++c) {
    EXPECT_EQ(routed[c].text(), "re:" + requests[c].text());
    EXPECT_EQ(routed[c].info.stream, 0);
    EXPECT_EQ(routed[c].info.ppid, 46u);
  }
  EXPECT_EQ(routed[kClients].text(), "unasked");
  EXPECT_EQ(routed[kClients].info.stream, 9);
  EXPECT_EQ(routed[kClients].info.ppid, 47u);
  EXPECT_EQ(relay.stats()["replies_no_owner"], uint64_t(kClients + 1));
}
