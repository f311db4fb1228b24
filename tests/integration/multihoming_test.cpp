// Multi-homing through the real daemon: a listener on two addresses sees a multi-homed client's
// addresses, and when one of two real network paths fails (two veth links between network
// namespaces) the association fails over to the other path and no message is lost or reordered.
// The namespace tests need root and iproute2; the VM runs them as root. They fail, not skip,
// without them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/ctl.h"
#include "harness/daemon.h"
#include "harness/netns.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::seconds;

namespace {

// Two namespaces, "relay" (where the daemon runs) and "peer", joined by two veth links on
// TEST-NET addresses that exist only inside this machine:
//   path a: relay 192.0.2.1/24     <-> peer 192.0.2.2/24
//   path b: relay 198.51.100.1/24  <-> peer 198.51.100.2/24
// SCTP path failure detection is tuned down in both so a failover takes about a second.
struct TwoPaths {
  std::string tag = std::to_string(::getpid());
  Netns relay{"mh-" + tag + "-relay"};
  Netns peer{"mh-" + tag + "-peer"};
  struct Path {
    std::string relay_dev, peer_dev, relay_addr, peer_addr;
  };
  Path a{"mh" + tag + "ar", "mh" + tag + "ap", "192.0.2.1", "192.0.2.2"};
  Path b{"mh" + tag + "br", "mh" + tag + "bp", "198.51.100.1", "198.51.100.2"};

  TwoPaths() {
    for (const Path* path : {&a, &b})
      add_veth({relay, path->relay_dev, path->relay_addr + "/24"}, {peer, path->peer_dev, path->peer_addr + "/24"});
    for (const Netns* ns : {&relay, &peer}) {
      // Milliseconds. A path is declared unreachable after path_max_retrans + 1 consecutive
      // timeouts; the association survives up to association_max_retrans of them.
      ns->set_sysctl("net.sctp.rto_initial", "200");
      ns->set_sysctl("net.sctp.rto_min", "100");
      ns->set_sysctl("net.sctp.rto_max", "400");
      ns->set_sysctl("net.sctp.hb_interval", "200");
      ns->set_sysctl("net.sctp.path_max_retrans", "1");
      ns->set_sysctl("net.sctp.association_max_retrans", "30");
    }
  }
};

// Fails the test with a clear reason when namespaces cannot be used (not root, no ip(8)).
#define REQUIRE_NETNS()                                                                        \
  do {                                                                                         \
    std::string why = netns_unavailable();                                                     \
    ASSERT_TRUE(why.empty()) << "multi-homing tests need network namespaces: " << why;       \
  } while (0)

// Message `seq`: exactly 500 bytes that name their sequence number.
std::string body(int seq) {
  std::string s = "seq=" + std::to_string(seq) + " " + payload(500, seq, 1);
  s.resize(500);
  return s;
}

// Sends messages `first`..`last-1` on stream 1.
bool send_range(Peer& source, int first, int last) {
  for (int i = first; i < last; ++i)
    if (!source.send(body(i), 1, 77, false, 0, Deadline::in(seconds(60)))) return false;
  return true;
}

// Every message arrives once, in order, unchanged: seq first..first+got.size()-1.
void expect_in_order(const std::vector<Msg>& got, int first) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    int seq = first + static_cast<int>(i);
    ASSERT_TRUE(got[i].text() == body(seq)) << "message " << i << " should be seq " << seq << ", got: "
                                            << got[i].text().substr(0, 12);
    ASSERT_EQ(got[i].info.stream, 1);
    ASSERT_EQ(got[i].info.ppid, 77u);
  }
}

// What `sctprelayctl assocs --json --destination D` says of D's one association's paths:
// address -> state, and the primary.
struct Paths {
  std::map<std::string, std::string> state;
  std::string primary;
};
Paths paths_of(Daemon& relay, const std::string& destination) {
  Paths out;
  CtlResult r = relay.ctl({"--json", "assocs", "--destination", destination});
  if (r.status != 0 || r.json["associations"].size() != 1) return out;
  const auto& k = r.json["associations"][0]["kernel"];
  if (!k.is_object()) return out;
  out.primary = k["primary"].get<std::string>();
  for (auto& p : k["paths"]) out.state[p["address"].get<std::string>()] = p["state"].get<std::string>();
  return out;
}

bool any_line_contains(const Process& p, const std::string& needle) {
  return std::any_of(p.lines().begin(), p.lines().end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

void expect_association_kept(const Peer& peer) {
  int ups = 0;
  for (auto& c : peer.changes) {
    EXPECT_NE(c.state, SCTP_COMM_LOST) << "the association was lost";
    EXPECT_NE(c.state, SCTP_SHUTDOWN_COMP) << "the association was shut down";
    EXPECT_NE(c.state, SCTP_RESTART) << "the association restarted";
    ups += c.state == SCTP_COMM_UP;
  }
  EXPECT_EQ(ups, 1) << "exactly one association for the whole test";
}

}  // namespace

TEST(Multihoming, ListenerOnTwoAddressesListsBothAddressesOfAMultiHomedClient) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1, 127.0.0.2], port: {P0}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  std::size_t from = relay.mark();
  Peer source = Peer::connect(p, {"127.0.0.1", "127.0.0.2"}, 16, {"127.0.0.1", "127.0.0.2"});
  auto local = source.socket().local_addresses();
  ASSERT_EQ(local.size(), 2u) << "the client is bound to both addresses";
  std::string port = std::to_string(local[0].port());

  auto line = relay.process().wait_line("association up: listener in", soon(), from);
  ASSERT_TRUE(line);
  const std::string& up = relay.process().lines()[*line];
  EXPECT_NE(up.find("127.0.0.1:" + port), std::string::npos) << up;
  EXPECT_NE(up.find("127.0.0.2:" + port), std::string::npos) << up;

  // The client also sees both of the listener's addresses.
  auto remote = source.socket().peer_addresses(source.assoc());
  ASSERT_EQ(remote.size(), 2u);
  std::vector<std::string> hosts{remote[0].to_string(), remote[1].to_string()};
  std::sort(hosts.begin(), hosts.end());
  EXPECT_EQ(hosts, (std::vector<std::string>{"127.0.0.1:" + std::to_string(p), "127.0.0.2:" + std::to_string(p)}));

  ASSERT_TRUE(send_range(source, 0, 20));
  auto got = sink.recv_n(20);
  ASSERT_EQ(got.size(), 20u);
  expect_in_order(got, 0);
}

TEST(Multihoming, DestinationPathFailsAndTrafficFailsOverWithoutDroppingTheAssociation) {
  REQUIRE_NETNS();
  uint16_t p = ports_for_test();
  TwoPaths net;
  Peer sink = in_netns(net.peer, [&] { return Peer::listen(p + 1, {net.a.peer_addr, net.b.peer_addr}); });

  NetnsScope inside_relay(net.relay);  // the daemon and the source run in the relay namespace
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: out
    addresses: [192.0.2.2, 198.51.100.2]
    port: {P1}
    reconnect: {min: 50ms, max: 200ms}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));
  Peer source = Peer::connect(p);

  // Phase 1, both paths up: find the path the data takes (the primary).
  uint64_t a0 = net.peer.rx_bytes(net.a.peer_dev), b0 = net.peer.rx_bytes(net.b.peer_dev);
  ASSERT_TRUE(send_range(source, 0, 100));
  auto got = sink.recv_n(100);
  ASSERT_EQ(got.size(), 100u);
  expect_in_order(got, 0);
  uint64_t a1 = net.peer.rx_bytes(net.a.peer_dev), b1 = net.peer.rx_bytes(net.b.peer_dev);
  bool on_a = a1 - a0 > b1 - b0;
  const TwoPaths::Path& used = on_a ? net.a : net.b;
  const TwoPaths::Path& other = on_a ? net.b : net.a;
  ASSERT_GE(std::max(a1 - a0, b1 - b0), 100u * 500u) << "the data did not travel over either veth";
  uint64_t other_before = net.peer.rx_bytes(other.peer_dev);
  const std::string used_addr = used.peer_addr + ":" + std::to_string(p + 1);
  const std::string other_addr = other.peer_addr + ":" + std::to_string(p + 1);
  // The operator sees both paths, active, the data's one primary.
  Paths before = paths_of(relay, "out");
  EXPECT_EQ(before.state.size(), 2u);
  EXPECT_EQ(before.state[used_addr], "active");
  EXPECT_EQ(before.state[other_addr], "active");
  EXPECT_EQ(before.primary, used_addr);

  // Phase 2: the path in use fails (its link goes down at the peer's end, like a cut cable)
  // while traffic keeps coming.
  std::size_t cut_at = relay.mark();
  net.peer.link(used.peer_dev, false);
  std::vector<Msg> rest;
  std::thread reader([&] { rest = sink.recv_n(300, Deadline::in(seconds(90))); });
  bool sent = send_range(source, 100, 250);
  std::string unreachable = "destination out: path " + used.peer_addr + ":" + std::to_string(p + 1) +
                            " ADDR_UNREACHABLE";
  bool failed_over = relay.saw(unreachable, Deadline::in(seconds(30)), cut_at);
  // Phase 3: after the failover, more traffic.
  sent = sent && send_range(source, 250, 400);
  reader.join();
  ASSERT_TRUE(sent);
  EXPECT_TRUE(failed_over) << "no '" << unreachable << "' line from the daemon";
  ASSERT_EQ(rest.size(), 300u) << "messages were lost in the failover";
  expect_in_order(rest, 100);
  // The cut path shows inactive and the primary has moved to the other one.
  Paths after;
  EXPECT_TRUE(wait_until([&] {
    after = paths_of(relay, "out");
    return after.state[used_addr] == "inactive" && after.primary == other_addr;
  })) << "paths: " << after.state[used_addr] << " / " << after.state[other_addr] << ", primary " << after.primary;
  EXPECT_EQ(after.state[other_addr], "active");
  EXPECT_TRUE(relay.saw("primary path moved from " + used_addr + " to " + other_addr, soon(), cut_at));

  // Delivered over the other path, on the same association.
  EXPECT_GE(net.peer.rx_bytes(other.peer_dev) - other_before, 300u * 500u);
  expect_association_kept(sink);
  auto stats = relay.stats();  // also reads every line the daemon wrote before it
  EXPECT_FALSE(any_line_contains(relay.process(), "destination out down"));
  EXPECT_EQ(stats["assoc_up"], 2u);  // the source's and the destination's
  EXPECT_EQ(stats["assoc_down_abort"], 0u);
  EXPECT_EQ(stats["assoc_down_shutdown"], 0u);
  EXPECT_EQ(stats["forwarded"], 400u);

  // Phase 4: the link comes back; heartbeats find the path again and traffic still flows.
  std::size_t back_at = relay.mark();
  net.peer.link(used.peer_dev, true);
  EXPECT_TRUE(relay.saw("destination out: path " + used.peer_addr + ":" + std::to_string(p + 1) + " ADDR_AVAILABLE",
                        Deadline::in(seconds(30)), back_at));
  EXPECT_TRUE(wait_until([&] { return paths_of(relay, "out").state[used_addr] == "active"; }))
      << "the path that came back is not shown active";
  ASSERT_TRUE(send_range(source, 400, 450));
  auto last = sink.recv_n(50);
  ASSERT_EQ(last.size(), 50u);
  expect_in_order(last, 400);
  EXPECT_TRUE(sink.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
  expect_association_kept(sink);
  EXPECT_EQ(relay.stats()["assoc_up"], 2u);
  EXPECT_FALSE(any_line_contains(relay.process(), "destination out down"));
}

TEST(Multihoming, MultiHomedSourceKeepsItsAssociationWhenOnePathFails) {
  REQUIRE_NETNS();
  uint16_t p = ports_for_test();
  TwoPaths net;

  NetnsScope inside_relay(net.relay);  // the daemon and the sink run in the relay namespace
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [192.0.2.1, 198.51.100.1], port: {P0}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  std::size_t from = relay.mark();
  Peer source = in_netns(net.peer, [&] {
    return Peer::connect(p, {net.a.relay_addr, net.b.relay_addr}, 16, {net.a.peer_addr, net.b.peer_addr});
  });
  auto line = relay.process().wait_line("association up: listener in", soon(), from);
  ASSERT_TRUE(line);
  const std::string& up = relay.process().lines()[*line];
  EXPECT_NE(up.find(net.a.peer_addr + ":"), std::string::npos) << up;
  EXPECT_NE(up.find(net.b.peer_addr + ":"), std::string::npos) << up;
  std::string source_port = std::to_string(source.socket().local_addresses().at(0).port());

  // Phase 1: find the path the source's data takes.
  uint64_t a0 = net.relay.rx_bytes(net.a.relay_dev), b0 = net.relay.rx_bytes(net.b.relay_dev);
  ASSERT_TRUE(send_range(source, 0, 100));
  auto got = sink.recv_n(100);
  ASSERT_EQ(got.size(), 100u);
  expect_in_order(got, 0);
  uint64_t a1 = net.relay.rx_bytes(net.a.relay_dev), b1 = net.relay.rx_bytes(net.b.relay_dev);
  bool on_a = a1 - a0 > b1 - b0;
  const TwoPaths::Path& used = on_a ? net.a : net.b;
  const TwoPaths::Path& other = on_a ? net.b : net.a;
  ASSERT_GE(std::max(a1 - a0, b1 - b0), 100u * 500u) << "the data did not travel over either veth";
  uint64_t other_before = net.relay.rx_bytes(other.relay_dev);

  // Phase 2: that path fails at the source's end; the source keeps sending.
  std::size_t cut_at = relay.mark();
  net.peer.link(used.peer_dev, false);
  std::vector<Msg> rest;
  std::thread reader([&] { rest = sink.recv_n(300, Deadline::in(seconds(90))); });
  bool sent = send_range(source, 100, 400);
  // The relay's heartbeats to the source's dead address fail too.
  std::string unreachable = "path " + used.peer_addr + ":" + source_port + " ADDR_UNREACHABLE";
  bool noticed = relay.saw(unreachable, Deadline::in(seconds(30)), cut_at);
  reader.join();
  ASSERT_TRUE(sent);
  EXPECT_TRUE(noticed) << "no '" << unreachable << "' line from the daemon";
  ASSERT_EQ(rest.size(), 300u) << "messages were lost in the failover";
  expect_in_order(rest, 100);

  EXPECT_GE(net.relay.rx_bytes(other.relay_dev) - other_before, 300u * 500u);
  expect_association_kept(source);
  auto stats = relay.stats();  // also reads every line the daemon wrote before it
  EXPECT_FALSE(any_line_contains(relay.process(), "association down"));
  EXPECT_EQ(stats["assoc_down_abort"], 0u);
  EXPECT_EQ(stats["assoc_down_shutdown"], 0u);
  EXPECT_EQ(stats["forwarded"], 400u);
}
