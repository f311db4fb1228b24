// sctprelay-client's command line (tools/client/options.cpp, CLI11): every option's value and
// default, the new --rate/--burst/--progress, and the usage errors (main() exits 1 on those).
#include "client/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sctprelay::client {
namespace {

using Status = ParseResult::Status;

SendOptions send_ok(const std::vector<std::string>& args) {
  SendOptions o;
  const ParseResult r = parse_send(args, o);
  EXPECT_EQ(r.status, Status::Run) << r.text;
  EXPECT_EQ(r.command, Command::Send);
  return o;
}

ListenOptions listen_ok(const std::vector<std::string>& args) {
  ListenOptions o;
  const ParseResult r = parse_listen(args, o);
  EXPECT_EQ(r.status, Status::Run) << r.text;
  EXPECT_EQ(r.command, Command::Listen);
  return o;
}

// The usage error's message (empty, and a test failure, when the arguments were accepted).
std::string send_error(const std::vector<std::string>& args) {
  SendOptions o;
  const ParseResult r = parse_send(args, o);
  EXPECT_EQ(r.status, Status::UsageError) << "accepted";
  return r.text;
}

std::string listen_error(const std::vector<std::string>& args) {
  ListenOptions o;
  const ParseResult r = parse_listen(args, o);
  EXPECT_EQ(r.status, Status::UsageError) << "accepted";
  return r.text;
}

TEST(ClientOptions, SendDefaults) {
  const SendOptions o = send_ok({"127.0.0.1", "5000"});
  EXPECT_EQ(o.hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(o.port, 5000);
  EXPECT_TRUE(o.local.empty());
  EXPECT_EQ(o.stream_first, 0);
  EXPECT_EQ(o.stream_last, 0);
  EXPECT_EQ(o.ppid, 0u);
  EXPECT_FALSE(o.unordered);
  EXPECT_EQ(o.count, 0u);
  EXPECT_EQ(o.size, 100u);
  EXPECT_EQ(o.wait_replies, 0u);
  EXPECT_EQ(o.timeout_s, 10);
  EXPECT_FALSE(o.json || o.hex || o.verify);
  EXPECT_EQ(o.streams, 16);
  EXPECT_EQ(o.max_size, 16u << 20);
  EXPECT_EQ(o.rate, 0);
  EXPECT_EQ(o.burst, 0u);
  EXPECT_EQ(o.progress, ProgressMode::Auto);
}

TEST(ClientOptions, SendEveryOptionAnywhereAmongThePositionals) {
  const SendOptions o = send_ok({"--count", "7", "::1,[fe80::1%1]", "--size=64", "--streams", "2-5", "--ppid",
                                 "0x2e", "--unordered", "--wait-replies", "3", "--verify", "--timeout", "2.5",
                                 "--json", "--hex", "--local", "10.0.0.1,,10.0.0.2", "--init-streams", "32",
                                 "--max-size", "100", "3868"});
  EXPECT_EQ(o.hosts, (std::vector<std::string>{"::1", "[fe80::1%1]"}));
  EXPECT_EQ(o.port, 3868);
  EXPECT_EQ(o.count, 7u);
  EXPECT_EQ(o.size, 64u);
  EXPECT_EQ(o.stream_first, 2);
  EXPECT_EQ(o.stream_last, 5);
  EXPECT_EQ(o.ppid, 46u);  // base prefixes as before: 0x.. hexadecimal
  EXPECT_TRUE(o.unordered && o.verify && o.json && o.hex);
  EXPECT_EQ(o.wait_replies, 3u);
  EXPECT_EQ(o.timeout_s, 2.5);
  EXPECT_EQ(o.local, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(o.streams, 32);
  EXPECT_EQ(o.max_size, 100u);
}

TEST(ClientOptions, StreamAloneSetsARangeOfOne) {
  const SendOptions o = send_ok({"127.0.0.1", "5000", "--stream", "9"});
  EXPECT_EQ(o.stream_first, 9);
  EXPECT_EQ(o.stream_last, 9);
  // --streams wins over --stream, whatever the order (as before).
  const SendOptions both = send_ok({"127.0.0.1", "5000", "--streams", "1-2", "--stream", "9"});
  EXPECT_EQ(both.stream_first, 1);
  EXPECT_EQ(both.stream_last, 2);
}

TEST(ClientOptions, TheLastOfARepeatedOptionCounts) {
  const SendOptions o = send_ok({"127.0.0.1", "5000", "--count", "3", "--count=4", "--json", "--json"});
  EXPECT_EQ(o.count, 4u);
  EXPECT_TRUE(o.json);
}

TEST(ClientOptions, RateAndBurst) {
  const SendOptions o = send_ok({"127.0.0.1", "5000", "--count", "100", "--rate", "250.5", "--burst", "8"});
  EXPECT_EQ(o.rate, 250.5);
  EXPECT_EQ(o.burst, 8u);
  EXPECT_EQ(send_ok({"127.0.0.1", "5000", "--rate=0.5"}).rate, 0.5);
  EXPECT_EQ(send_ok({"127.0.0.1", "5000", "--rate", "1e9"}).rate, 1e9);
  EXPECT_EQ(send_ok({"127.0.0.1", "5000", "--rate", "2"}).burst, 0u);  // 0: the pacer's default
}

TEST(ClientOptions, BadRatesAreUsageErrors) {
  for (const char* bad : {"0", "-5", "abc", "1e10", "nan", "inf", "", " 5", "5x"}) {
    const std::string e = send_error({"127.0.0.1", "5000", "--rate", bad});
    EXPECT_NE(e.find("--rate"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find("messages per second"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_NE(send_error({"127.0.0.1", "5000", "--rate"}).find("--rate needs a value"), std::string::npos);
  EXPECT_NE(send_error({"127.0.0.1", "5000", "--rate", "5", "--burst", "0"}).find("--burst"), std::string::npos);
  EXPECT_NE(send_error({"127.0.0.1", "5000", "--burst", "5"}).find("--burst requires --rate"), std::string::npos);
}

TEST(ClientOptions, ProgressOnOffAndTheLastOneWins) {
  EXPECT_EQ(send_ok({"127.0.0.1", "5000", "--progress"}).progress, ProgressMode::On);
  EXPECT_EQ(send_ok({"127.0.0.1", "5000", "--no-progress"}).progress, ProgressMode::Off);
  EXPECT_EQ(send_ok({"--progress", "127.0.0.1", "5000", "--no-progress"}).progress, ProgressMode::Off);
  EXPECT_EQ(send_ok({"--no-progress", "127.0.0.1", "5000", "--progress"}).progress, ProgressMode::On);
  EXPECT_EQ(listen_ok({"5000"}).progress, ProgressMode::Auto);
  EXPECT_EQ(listen_ok({"5000", "--progress"}).progress, ProgressMode::On);
  EXPECT_EQ(listen_ok({"5000", "--no-progress"}).progress, ProgressMode::Off);
  EXPECT_EQ(send_error({"127.0.0.1", "5000", "--progress=off"}), "send: --progress takes no value");
}

TEST(ClientOptions, ListenDefaultsAndOptions) {
  const ListenOptions d = listen_ok({"0"});
  EXPECT_EQ(d.port, 0);
  EXPECT_EQ(d.bind, std::vector<std::string>{"0.0.0.0"});
  EXPECT_EQ(d.count, 0u);
  EXPECT_EQ(d.timeout_s, 0);
  EXPECT_FALSE(d.echo || d.json || d.hex || d.verify);
  EXPECT_EQ(d.streams, 16);
  EXPECT_EQ(d.max_size, 16u << 20);

  const ListenOptions o = listen_ok({"--bind", "127.0.0.1,127.0.0.2", "6000", "--count", "5", "--timeout", "0.3",
                                     "--echo", "--verify", "--json", "--hex", "--streams", "8", "--max-size", "9"});
  EXPECT_EQ(o.port, 6000);
  EXPECT_EQ(o.bind, (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
  EXPECT_EQ(o.count, 5u);
  EXPECT_EQ(o.timeout_s, 0.3);
  EXPECT_TRUE(o.echo && o.verify && o.json && o.hex);
  EXPECT_EQ(o.streams, 8);
  EXPECT_EQ(o.max_size, 9u);
}

TEST(ClientOptions, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> send_cases = {
      {{"127.0.0.1"}, "send: PORT is required"},
      {{"127.0.0.1", "0"}, "send: PORT: bad port '0'"},
      {{"127.0.0.1", "65536"}, "send: PORT: bad port '65536'"},
      {{"1.2.3", "5000"}, "send: HOSTS: bad address '1.2.3'"},
      {{"localhost", "5000"}, "host names are not resolved"},
      {{",", "5000"}, "send: HOSTS: no address given in ','"},
      {{"127.0.0.1", "5000", "6"}, "send: unexpected argument '6'"},
      {{"127.0.0.1", "5000", "--bogus"}, "send: unknown option --bogus"},
      {{"127.0.0.1", "5000", "--count"}, "send: --count needs a value"},
      {{"127.0.0.1", "5000", "--count", "0"}, "send: --count: bad value '0': a whole number from 1 up"},
      {{"127.0.0.1", "5000", "--count", "-1"}, "send: --count: bad value '-1'"},
      {{"127.0.0.1", "5000", "--count", "1", "--file", "x"}, "excludes"},
      {{"127.0.0.1", "5000", "--file", ""}, "send: --file: bad value ''"},
      {{"127.0.0.1", "5000", "--streams", "3-1"}, "send: --streams: bad value '3-1'"},
      {{"127.0.0.1", "5000", "--streams", "0-65535"}, "send: --streams: bad value '0-65535'"},
      {{"127.0.0.1", "5000", "--stream", "65535"}, "a whole number from 0 to 65534"},
      {{"127.0.0.1", "5000", "--ppid", "4294967296"}, "send: --ppid: bad value '4294967296'"},
      {{"127.0.0.1", "5000", "--size", "0"}, "send: --size: bad value '0'"},
      {{"127.0.0.1", "5000", "--timeout", "0"}, "send: --timeout: bad value '0'"},
      {{"127.0.0.1", "5000", "--timeout", "2e9"}, "at most 1e9"},
      {{"127.0.0.1", "5000", "--verify"}, "send: --verify requires --wait-replies"},
      {{"127.0.0.1", "5000", "--local", "10.0.0.1,foo"}, "send: --local: bad address 'foo'"},
      {{"127.0.0.1", "5000", "--json=no"}, "send: --json takes no value"},
      {{"127.0.0.1", "5000", "--init-streams", "0"}, "send: --init-streams: bad value '0'"},
  };
  for (const auto& c : send_cases) {
    const std::string e = send_error(c.args);
    EXPECT_NE(e.find(c.message), std::string::npos) << "got: " << e << "\nwanted: " << c.message;
  }
  const std::vector<Case> listen_cases = {
      {{}, "listen: PORT is required"},
      {{"99999"}, "listen: PORT: bad port '99999'"},
      {{"5000", "--bogus"}, "listen: unknown option --bogus"},
      {{"5000", "--count"}, "listen: --count needs a value"},
      {{"5000", "--bind", ","}, "listen: --bind: no address given"},
      {{"5000", "--streams", "65536"}, "listen: --streams: bad value '65536'"},
      {{"5000", "--rate", "5"}, "listen: unknown option --rate"},
  };
  for (const auto& c : listen_cases) {
    const std::string e = listen_error(c.args);
    EXPECT_NE(e.find(c.message), std::string::npos) << "got: " << e << "\nwanted: " << c.message;
  }
}

TEST(ClientOptions, CommandLineCommandsAndHelp) {
  SendOptions s;
  ListenOptions l;
  ParseResult r = parse_command_line({}, s, l);
  EXPECT_EQ(r.status, Status::UsageError);
  EXPECT_EQ(r.text, "no command given");
  r = parse_command_line({"frobnicate"}, s, l);
  EXPECT_EQ(r.status, Status::UsageError);
  EXPECT_EQ(r.text, "unknown command 'frobnicate'");
  r = parse_command_line({"--json", "send", "127.0.0.1", "5000"}, s, l);
  EXPECT_EQ(r.status, Status::UsageError);
  EXPECT_NE(r.text.find("before the command"), std::string::npos) << r.text;

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    r = parse_command_line(args, s, l);
    EXPECT_EQ(r.status, Status::Help);
    EXPECT_NE(r.text.find("send"), std::string::npos);
    EXPECT_NE(r.text.find("listen"), std::string::npos);
  }
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"send", "--help"}, {"help", "send"}, {"send", "1.2.3.4", "-h"}}) {
    r = parse_command_line(args, s, l);
    EXPECT_EQ(r.status, Status::Help);
    EXPECT_EQ(r.command, Command::Send);
    for (const char* option : {"--rate", "--burst", "--progress", "--no-progress", "--wait-replies", "--init-streams"})
      EXPECT_NE(r.text.find(option), std::string::npos) << option;
    EXPECT_EQ(r.text.find("{on}"), std::string::npos) << "flag values are not shown";
  }
  r = parse_command_line({"listen", "--help"}, s, l);
  EXPECT_EQ(r.status, Status::Help);
  EXPECT_EQ(r.command, Command::Listen);
  EXPECT_NE(r.text.find("--echo"), std::string::npos);

  r = parse_command_line({"listen", "7000", "--echo"}, s, l);
  ASSERT_TRUE(r.ok()) << r.text;
  EXPECT_EQ(r.command, Command::Listen);
  EXPECT_EQ(l.port, 7000);
  EXPECT_TRUE(l.echo);
}

TEST(ClientOptions, UsageHintNamesTheCommand) {
  EXPECT_NE(usage_hint(Command::Send).find("send [OPTIONS] HOST[,HOST...] PORT"), std::string::npos);
  EXPECT_EQ(usage_hint(Command::Send).find("listen [OPTIONS]"), std::string::npos);
  EXPECT_NE(usage_hint(Command::Listen).find("listen [OPTIONS] PORT"), std::string::npos);
  EXPECT_NE(usage_hint(Command::None).find("send"), std::string::npos);
  EXPECT_NE(usage_hint(Command::None).find("listen"), std::string::npos);
}

TEST(ClientOptions, SplitList) {
  EXPECT_EQ(split_list("a,b,,c,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list(",,").empty());
  EXPECT_TRUE(split_list("").empty());
}

}  // namespace
}  // namespace sctprelay::client
