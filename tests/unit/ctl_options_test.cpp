// sctprelayctl's command line: subcommands, global options before or after them, and usage
// errors (exit 2).
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "ctl/commands.h"
#include "ctl/exit_codes.h"
#include "ctl/options.h"

using namespace sctprelay::ctl;

namespace {

ParseResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sctprelayctl");
  return parse_args(static_cast<int>(args.size()), args.data());
}

class CtlOptions : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("RUNTIME_DIRECTORY"); }
  void TearDown() override { ::unsetenv("RUNTIME_DIRECTORY"); }
};

}  // namespace

TEST_F(CtlOptions, Defaults) {
  auto r = parse({"status"});
  ASSERT_TRUE(r.run) << r.err;
  EXPECT_EQ(r.options.command, Command::Status);
  EXPECT_EQ(r.options.socket, "/run/sctprelayd/control.sock");
  EXPECT_FALSE(r.options.json);
  EXPECT_DOUBLE_EQ(r.options.timeout_s, 60);
  EXPECT_EQ(make_request(r.options), json({{"command", "status"}}));
}

TEST_F(CtlOptions, SocketFromSystemdsRuntimeDirectory) {
  ::setenv("RUNTIME_DIRECTORY", "/run/sctprelayd", 1);
  EXPECT_EQ(parse({"status"}).options.socket, "/run/sctprelayd/control.sock");
  ::setenv("RUNTIME_DIRECTORY", "/run/a/:/run/b", 1);
  EXPECT_EQ(parse({"status"}).options.socket, "/run/a/control.sock");
  EXPECT_EQ(parse({"--socket", "/tmp/x.sock", "status"}).options.socket, "/tmp/x.sock");
}

TEST_F(CtlOptions, GlobalOptionsBeforeOrAfterTheSubcommand) {
  auto before = parse({"--json", "--timeout", "2.5", "--socket", "/tmp/s", "routes"});
  ASSERT_TRUE(before.run) << before.err;
  auto after = parse({"routes", "--json", "--timeout", "2.5", "--socket=/tmp/s"});
  ASSERT_TRUE(after.run) << after.err;
  for (auto* r : {&before, &after}) {
    EXPECT_EQ(r->options.command, Command::Routes);
    EXPECT_TRUE(r->options.json);
    EXPECT_DOUBLE_EQ(r->options.timeout_s, 2.5);
    EXPECT_EQ(r->options.socket, "/tmp/s");
  }
}

TEST_F(CtlOptions, EverySubcommandAndItsRequest) {
  EXPECT_EQ(make_request(parse({"assocs"}).options), json({{"command", "assocs"}}));
  EXPECT_EQ(make_request(parse({"assocs", "--listener", "ran"}).options),
            json({{"command", "assocs"}, {"listener", "ran"}}));
  EXPECT_EQ(make_request(parse({"assocs", "--destination", "core-a"}).options),
            json({{"command", "assocs"}, {"destination", "core-a"}}));
  EXPECT_EQ(make_request(parse({"routes"}).options), json({{"command", "routes"}}));
  EXPECT_EQ(make_request(parse({"destinations"}).options), json({{"command", "destinations"}}));
  EXPECT_EQ(make_request(parse({"reload"}).options), json({{"command", "reload"}}));
  EXPECT_EQ(make_request(parse({"drain", "core-a"}).options), json({{"command", "drain"}, {"destination", "core-a"}}));
  EXPECT_EQ(make_request(parse({"undrain", "core-a"}).options),
            json({{"command", "undrain"}, {"destination", "core-a"}}));
  EXPECT_EQ(make_request(parse({"disconnect", "17"}).options),
            json({{"command", "disconnect"}, {"assoc", 17}, {"abort", false}}));
  EXPECT_EQ(make_request(parse({"disconnect", "17", "--abort"}).options),
            json({{"command", "disconnect"}, {"assoc", 17}, {"abort", true}}));
  auto v = parse({"version"});
  EXPECT_EQ(v.options.command, Command::Version);
  EXPECT_EQ(make_request(v.options), json({{"command", "status"}}));
}

TEST_F(CtlOptions, DrainWaitAndItsTimeout) {
  auto r = parse({"drain", "core-a", "--wait", "--timeout", "30"});
  ASSERT_TRUE(r.run) << r.err;
  EXPECT_TRUE(r.options.wait);
  EXPECT_DOUBLE_EQ(r.options.wait_timeout_s, 30);
  EXPECT_DOUBLE_EQ(r.options.timeout_s, 60);
  // Before the subcommand, --timeout is the answer's.
  r = parse({"--timeout", "5", "drain", "core-a", "--wait"});
  EXPECT_DOUBLE_EQ(r.options.timeout_s, 5);
  EXPECT_DOUBLE_EQ(r.options.wait_timeout_s, 300);
  // Without --wait, drain's --timeout is the only timeout there is: the answer's.
  r = parse({"drain", "core-a", "--timeout", "7"});
  EXPECT_FALSE(r.options.wait);
  EXPECT_DOUBLE_EQ(r.options.timeout_s, 7);
}

TEST_F(CtlOptions, UsageErrorsExit2) {
  for (const std::vector<const char*>& args : std::vector<std::vector<const char*>>{
           {},
           {"frobnicate"},
           {"status", "extra"},
           {"assocs", "--listener", "ran", "--destination", "core-a"},
           {"drain"},
           {"undrain"},
           {"disconnect"},
           {"disconnect", "x"},
           {"disconnect", "-1"},
           {"--timeout", "0", "status"},
           {"--timeout", "soon", "status"},
           {"--socket", "", "status"},
           {"status", "--bogus"},
       }) {
    auto r = parse(args);
    std::string shown;
    for (auto* a : args) shown += std::string(a) + " ";
    EXPECT_FALSE(r.run) << shown;
    EXPECT_EQ(r.exit_code, kExitUsage) << shown;
    EXPECT_FALSE(r.err.empty()) << shown;
  }
  EXPECT_NE(parse({"assocs", "--listener", "a", "--destination", "b"}).err.find("excludes"), std::string::npos);
}

TEST_F(CtlOptions, HelpAndVersionExit0) {
  auto help = parse({"--help"});
  EXPECT_FALSE(help.run);
  EXPECT_EQ(help.exit_code, kExitOk);
  for (const char* word : {"status", "assocs", "routes", "destinations", "reload", "drain", "undrain", "disconnect",
                           "version", "--socket", "--json", "--timeout", "Exit status"})
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  auto drain_help = parse({"drain", "--help"});
  EXPECT_EQ(drain_help.exit_code, kExitOk);
  EXPECT_NE(drain_help.out.find("--wait"), std::string::npos);
  auto version = parse({"--version"});
  EXPECT_EQ(version.exit_code, kExitOk);
  EXPECT_EQ(version.out, ctl_version() + "\n");
}
