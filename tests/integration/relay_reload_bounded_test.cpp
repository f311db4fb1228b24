// Loading a reload's file is bounded in size, time and memory, and never holds up the relay: a
// file that is too large, or that the parser cannot get through within its bounds, is refused
// with a message naming the bound, traffic flows on the running configuration while the file is
// checked and after, and a good file applies as usual afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr const char* kConfig = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: {TO}}
)";

std::string config_to(const std::string& to, uint16_t p) {
  std::string text = with_ports(kConfig, p);
  text.replace(text.find("{TO}"), 4, to);
  return text;
}

// Just under the 4 MiB a file may be: the routes to b, then a list of two million zeros. yaml-cpp
// needs several hundred bytes per node and more than half a minute for them: beyond the 512 MiB
// and 30 s a load may take. Loaded in the daemon's own loop, it would stop all traffic that long.
std::string too_much_for_the_parser(uint16_t p) {
  std::string text = config_to("b", p) + "zeros: [0";
  const std::size_t target = (std::size_t{4} << 20) - 16;
  text.reserve(target + 4);
  while (text.size() < target) text += ",0";
  return text + "]\n";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST(RelayReloadBounded, RefusedFilesKeepTheRunningConfigAndTrafficFlowsWhileTheyAreChecked) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  Daemon relay(config_to("a", p));
  ASSERT_TRUE(a.wait_up());
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  ASSERT_TRUE(relay.saw("destination b up"));
  Peer source = Peer::connect(p);
  ASSERT_TRUE(source.send("before", 1, 7));
  auto m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "before");

  // 1. Larger than the 4 MiB a configuration may be (a good file with a long comment): refused
  //    before it is parsed.
  std::size_t mark = relay.mark();
  EXPECT_FALSE(relay.reload(config_to("b", p) + "# " + std::string(5 << 20, 'x') + "\n"));
  auto line = relay.process().wait_line("reload rejected", soon(), mark);
  ASSERT_TRUE(line);
  EXPECT_NE(relay.process().lines()[*line].find(relay.config_path() +
                                                ": refused: the file is larger than 4 MiB (4194304 bytes)"),
            std::string::npos)
      << relay.process().lines()[*line];
  EXPECT_NE(relay.process().lines()[*line].find("keeping the running configuration"), std::string::npos);
  ASSERT_TRUE(source.send("after-oversize", 1, 7));
  m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "after-oversize");

  // 2. The six bytes that once made the parser spin and grow without end: now a syntax error.
  mark = relay.mark();
  EXPECT_FALSE(relay.reload(", 1m)\n"));
  EXPECT_TRUE(relay.process().wait_line("YAML syntax error", soon(), mark));
  EXPECT_TRUE(relay.process().wait_line("has errors; keeping the running configuration", soon(), mark));

  // 3. A file the parser cannot get through within its bounds. While it is checked, the relay
  //    goes on relaying (a few round trips, each well within the check's time); then the file is
  //    refused, naming the bound it hit.
  mark = relay.mark();
  write_file(relay.config_path(), too_much_for_the_parser(p));
  relay.process().signal(SIGHUP);
  ASSERT_TRUE(relay.process().wait_line("reload requested: checking", soon(), mark));
  for (int i = 0; i < 3; ++i) {
    const std::string text = "during-" + std::to_string(i);
    ASSERT_TRUE(source.send(text, 2, 8));
    m = a.recv(Deadline::in(seconds(5)));
    ASSERT_TRUE(m) << "no traffic while the file was checked";
    EXPECT_EQ(m->text(), text);
    EXPECT_EQ(m->info.stream, 2);
  }
  relay.process().drain();
  for (std::size_t i = mark; i < relay.process().lines().size(); ++i)
    ASSERT_EQ(relay.process().lines()[i].find("reload rejected"), std::string::npos)
        << "the check ended before the traffic went through, so this proves nothing";
  line = relay.process().wait_line("reload rejected", Deadline::in(seconds(120)), mark);
  ASSERT_TRUE(line) << "the check was not stopped";
  const std::string& rejected = relay.process().lines()[*line];
  EXPECT_NE(rejected.find(relay.config_path() + ": refused: the YAML parser "), std::string::npos) << rejected;
  EXPECT_TRUE(rejected.find("did not finish within 30 s") != std::string::npos ||
              rejected.find("used more than 512 MiB") != std::string::npos)
      << rejected;
  EXPECT_NE(rejected.find("keeping the running configuration"), std::string::npos) << rejected;

  ASSERT_TRUE(source.send("after-refusal", 1, 7));
  m = a.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "after-refusal");
  EXPECT_TRUE(b.quiet_until(Deadline::in(milliseconds(300)))) << "a refused file's routes took effect";

  // 4. A good file applies as before: the routes now go to b.
  EXPECT_TRUE(relay.reload(config_to("b", p)));
  ASSERT_TRUE(source.send("applied", 3, 9));
  m = b.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "applied");
  auto stats = relay.stats();
  EXPECT_EQ(stats["assoc_down_abort"] + stats["assoc_down_shutdown"], 0u) << "an association was lost";
}
