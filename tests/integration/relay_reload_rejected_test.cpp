// A reload is all or nothing: when a changed listener cannot be bound, the whole new
// configuration is refused, the daemon says why, and the running one stays in force.
#include <gtest/gtest.h>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;

TEST(RelayReloadRejected, AListenerThatCannotBeBoundRejectsTheWholeReloadAndKeepsTheOldConfig) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: a}
)", p));
  ASSERT_TRUE(a.wait_up());
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  Peer source = Peer::connect(p);
  ASSERT_TRUE(source.send("before", 1, 7));
  auto m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "before");

  // The listener moves to 192.0.2.1 (TEST-NET-1, not an address of this machine) and the routes
  // change to b. Binding fails, so neither change may take effect.
  std::size_t mark = relay.mark();
  EXPECT_FALSE(relay.reload(with_ports(R"(
listeners:
  - {name: in, addresses: [192.0.2.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: b}
)", p))) << "a reload with a listener that cannot be bound was applied";
  auto line = relay.process().wait_line("reload rejected", soon(), mark);
  ASSERT_TRUE(line);
  EXPECT_NE(relay.process().lines()[*line].find("192.0.2.1"), std::string::npos)
      << "the rejection does not name the address: " << relay.process().lines()[*line];

  // The old routes still hold, the source's association is untouched, and the listener still
  // accepts new associations on its old address.
  ASSERT_TRUE(source.send("after", 1, 7));
  m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "after");
  EXPECT_EQ(m->info.stream, 1);
  EXPECT_EQ(m->info.ppid, 7u);
  Peer newcomer = Peer::connect(p);
  ASSERT_TRUE(newcomer.send("newcomer", 2, 8));
  m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "newcomer");
  EXPECT_TRUE(b.quiet_until(Deadline::in(milliseconds(300))));
  auto stats = relay.stats();
  EXPECT_EQ(stats["assoc_down_abort"] + stats["assoc_down_shutdown"], 0u) << "an association was lost";
}
