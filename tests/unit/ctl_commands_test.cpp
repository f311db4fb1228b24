// sctprelayctl's commands against a stand-in socket: what goes out, what is printed where, and the
// exit status (0 ok, 1 not ok, 3 unreachable, 4 drain --wait timed out).
#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "control/status_json.h"
#include "ctl/commands.h"
#include "ctl/exit_codes.h"

using namespace sctprelay;
using namespace sctprelay::ctl;
using Clock = std::chrono::steady_clock;

namespace {

control::CallResult answered(json a) {
  control::CallResult r;
  r.answer = std::move(a);
  return r;
}

control::CallResult unreachable(std::string text) {
  control::CallResult r;
  r.failure = control::CallResult::Failure::Connect;
  r.error = std::move(text);
  return r;
}

// Answers queued in order; every request and every sleep is recorded; the clock moves only when
// the command sleeps.
class FakeDaemon {
 public:
  std::deque<control::CallResult> answers;
  std::vector<json> requests;
  std::vector<std::chrono::milliseconds> sleeps;
  Clock::time_point now{};
  std::ostringstream out, err;

  Env env(bool pretty = false) {
    return Env{out,
               err,
               [this](const json& request) {
                 requests.push_back(request);
                 if (answers.empty()) return unreachable("no more answers");
                 auto a = std::move(answers.front());
                 answers.pop_front();
                 return a;
               },
               [this](std::chrono::milliseconds d) {
                 sleeps.push_back(d);
                 now += d;
               },
               [this] { return now; },
               pretty};
  }

  int run(const Options& o, bool pretty = false) {
    auto e = env(pretty);
    return ctl::run(o, e);
  }
};

Options command(Command c) {
  Options o;
  o.command = c;
  return o;
}

json destination(const std::string& name, uint64_t queued) {
  relay::DestinationStatus d;
  d.name = name;
  d.kind = "peer";
  d.state = "up";
  d.drained = true;
  d.queued_messages = queued;
  d.queued_bytes = queued * 100;
  return control::to_json(d);
}

json destinations(uint64_t queued) {
  return json{{"ok", true}, {"destinations", {destination("core-b", 1), destination("core-a", queued)}}};
}

}  // namespace

TEST(CtlCommands, ReloadApplied) {
  FakeDaemon d;
  d.answers.push_back(answered(control::reload_answer(true, {}, 4, "1 listeners, 2 destinations, 3 routes")));
  EXPECT_EQ(d.run(command(Command::Reload)), kExitOk);
  EXPECT_EQ(d.requests, std::vector<json>{json({{"command", "reload"}})});
  EXPECT_EQ(d.out.str(), "reload applied: generation 4: 1 listeners, 2 destinations, 3 routes\n");
  EXPECT_EQ(d.err.str(), "");
}

TEST(CtlCommands, ReloadRefusedExits1WithTheErrors) {
  FakeDaemon d;
  d.answers.push_back(answered(control::reload_answer(false, {"f.yaml:1:1: a: b"}, 3, "")));
  EXPECT_EQ(d.run(command(Command::Reload)), kExitNotOk);
  EXPECT_EQ(d.out.str(), "");
  EXPECT_EQ(d.err.str(), "f.yaml:1:1: a: b\nreload refused: the running configuration stays\n");
}

TEST(CtlCommands, NotOkExits1WithTheDaemonsReason) {
  FakeDaemon d;
  d.answers.push_back(answered(control::error_answer("unknown destination \"core-z\" (known: core-a)")));
  Options o = command(Command::Drain);
  o.destination = "core-z";
  EXPECT_EQ(d.run(o), kExitNotOk);
  EXPECT_EQ(d.err.str(), "sctprelayctl: sctprelayd: unknown destination \"core-z\" (known: core-a)\n");
  EXPECT_EQ(d.out.str(), "");
}

TEST(CtlCommands, UnreachableExits3) {
  FakeDaemon d;
  d.answers.push_back(unreachable("no control socket at /x: is sctprelayd running?"));
  EXPECT_EQ(d.run(command(Command::Status)), kExitUnreachable);
  EXPECT_EQ(d.err.str(), "sctprelayctl: no control socket at /x: is sctprelayd running?\n");
}

TEST(CtlCommands, AnAnswerThatCannotBeReadExits1) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"daemon", "?"}}));
  EXPECT_EQ(d.run(command(Command::Status)), kExitNotOk);
  EXPECT_EQ(d.out.str(), "");
  EXPECT_NE(d.err.str().find("cannot read sctprelayd's answer to status: the answer has no \"daemon\" object"),
            std::string::npos)
      << d.err.str();
  EXPECT_NE(d.err.str().find("--json shows its answer as it is"), std::string::npos);

  FakeDaemon no_ok;
  no_ok.answers.push_back(answered(json{{"routes", json::array()}}));
  EXPECT_EQ(no_ok.run(command(Command::Routes)), kExitNotOk);
  EXPECT_NE(no_ok.err.str().find("it has no \"ok\" field"), std::string::npos);

  FakeDaemon garbage;
  control::CallResult bad;
  bad.failure = control::CallResult::Failure::BadAnswer;
  bad.error = "the answer on /x is not a JSON object: hello";
  garbage.answers.push_back(bad);
  EXPECT_EQ(garbage.run(command(Command::Routes)), kExitNotOk);
}

TEST(CtlCommands, JsonPrintsTheAnswerAsItIs) {
  json answer = control::reload_answer(false, {"f.yaml:1:1: a: b"}, 3, "");
  answer["something_new"] = {1, 2};
  FakeDaemon d;
  d.answers.push_back(answered(answer));
  Options o = command(Command::Reload);
  o.json = true;
  EXPECT_EQ(d.run(o), kExitNotOk);
  EXPECT_EQ(json::parse(d.out.str()), answer);
  EXPECT_EQ(d.out.str().find('\n'), d.out.str().size() - 1);  // one line
  EXPECT_EQ(d.err.str(), "");

  FakeDaemon pretty;
  pretty.answers.push_back(answered(json{{"ok", true}, {"routes", json::array()}}));
  o.command = Command::Routes;
  EXPECT_EQ(pretty.run(o, /*pretty=*/true), kExitOk);
  EXPECT_EQ(pretty.out.str(), "{\n  \"ok\": true,\n  \"routes\": []\n}\n");
}

TEST(CtlCommands, Version) {
  control::DaemonInfo info;
  info.version = "0.1.0";
  info.pid = 77;
  info.uptime_s = 3600;
  FakeDaemon d;
  d.answers.push_back(answered(control::status_answer({}, info)));
  EXPECT_EQ(d.run(command(Command::Version)), kExitOk);
  EXPECT_EQ(d.out.str(), ctl_version() + "\nsctprelayd 0.1.0 (pid 77, up 1h 0m)\n");

  FakeDaemon down;
  down.answers.push_back(unreachable("nothing listens on /x"));
  EXPECT_EQ(down.run(command(Command::Version)), kExitUnreachable);
  EXPECT_EQ(down.out.str(), ctl_version() + "\n");
  EXPECT_EQ(down.err.str(), "sctprelayctl: nothing listens on /x\n");

  FakeDaemon as_json;
  as_json.answers.push_back(answered(control::status_answer({}, info)));
  Options o = command(Command::Version);
  o.json = true;
  EXPECT_EQ(as_json.run(o), kExitOk);
  auto j = json::parse(as_json.out.str());
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["daemon"]["version"], "0.1.0");
  EXPECT_TRUE(j["sctprelayctl"].is_string());
}

TEST(CtlCommands, DrainWithoutWait) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 3)}}));
  Options o = command(Command::Drain);
  o.destination = "core-a";
  EXPECT_EQ(d.run(o), kExitOk);
  EXPECT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.out.str(), "destination core-a drained: routes skip it; 3 messages (300 B) queued\n");
}

TEST(CtlCommands, DrainWaitPollsUntilTheQueueIsEmpty) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 3)}}));
  d.answers.push_back(answered(destinations(2)));
  d.answers.push_back(answered(destinations(1)));
  d.answers.push_back(answered(destinations(0)));
  Options o = command(Command::Drain);
  o.destination = "core-a";
  o.wait = true;
  o.wait_timeout_s = 10;
  EXPECT_EQ(d.run(o), kExitOk);
  EXPECT_EQ(d.out.str(),
            "destination core-a drained: routes skip it; 3 messages (300 B) queued\n"
            "waiting up to 10 s for its queue to empty\n"
            "destination core-a: queue empty\n");
  ASSERT_EQ(d.requests.size(), 4u);
  EXPECT_EQ(d.requests[0], json({{"command", "drain"}, {"destination", "core-a"}}));
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(d.requests[i], json({{"command", "destinations"}}));
  EXPECT_EQ(d.sleeps, std::vector<std::chrono::milliseconds>(3, std::chrono::milliseconds(200)));
}

TEST(CtlCommands, DrainWaitWithAnEmptyQueueReturnsAtOnce) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 0)}}));
  Options o = command(Command::Drain);
  o.destination = "core-a";
  o.wait = true;
  EXPECT_EQ(d.run(o), kExitOk);
  EXPECT_EQ(d.requests.size(), 1u);
  EXPECT_NE(d.out.str().find("destination core-a: queue empty\n"), std::string::npos);
}

TEST(CtlCommands, DrainWaitTimesOutWithExit4) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 3)}}));
  for (int i = 0; i < 20; ++i) d.answers.push_back(answered(destinations(3)));
  Options o = command(Command::Drain);
  o.destination = "core-a";
  o.wait = true;
  o.wait_timeout_s = 1;
  EXPECT_EQ(d.run(o), kExitWaitTimeout);
  EXPECT_EQ(d.err.str(),
            "sctprelayctl: destination core-a still has 3 messages queued after 1 s (it stays drained: undrain core-a "
            "to route to it again)\n");
  // 1 s of 200 ms polls.
  EXPECT_EQ(d.sleeps.size(), 5u);
  EXPECT_EQ(d.requests.size(), 6u);
}

TEST(CtlCommands, DrainWaitWhenTheDestinationGoesAway) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 3)}}));
  d.answers.push_back(answered(json{{"ok", true}, {"destinations", json::array()}}));
  Options o = command(Command::Drain);
  o.destination = "core-a";
  o.wait = true;
  EXPECT_EQ(d.run(o), kExitNotOk);
  EXPECT_NE(d.err.str().find("destination core-a is no longer in sctprelayd's configuration"), std::string::npos);

  FakeDaemon lost;
  lost.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 3)}}));
  lost.answers.push_back(unreachable("nothing listens on /x (stale socket: the daemon is not running)"));
  EXPECT_EQ(lost.run(o), kExitUnreachable);
}

TEST(CtlCommands, DrainWaitJson) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 3)}}));
  d.answers.push_back(answered(destinations(0)));
  Options o = command(Command::Drain);
  o.destination = "core-a";
  o.wait = true;
  o.json = true;
  EXPECT_EQ(d.run(o), kExitOk);
  std::istringstream lines(d.out.str());
  std::string first, second, rest;
  std::getline(lines, first);
  std::getline(lines, second);
  std::getline(lines, rest);
  EXPECT_EQ(json::parse(first)["destination"]["queued_messages"], 3u);
  EXPECT_EQ(json::parse(second), (json{{"ok", true}, {"destination", destination("core-a", 0)}}));
  EXPECT_EQ(rest, "");
}

TEST(CtlCommands, UndrainAndDisconnect) {
  FakeDaemon d;
  d.answers.push_back(answered(json{{"ok", true}, {"destination", destination("core-a", 0)}}));
  d.answers.push_back(answered(control::disconnect_answer(17, "listener ran assoc 4")));
  Options o = command(Command::Undrain);
  o.destination = "core-a";
  EXPECT_EQ(d.run(o), kExitOk);
  o = command(Command::Disconnect);
  o.assoc = 17;
  o.abort = true;
  EXPECT_EQ(d.run(o), kExitOk);
  EXPECT_EQ(d.out.str(),
            "destination core-a undrained: routes use it again\n"
            "association 17 (listener ran assoc 4): ABORT sent\n");
  EXPECT_EQ(d.requests[1], json({{"command", "disconnect"}, {"assoc", 17}, {"abort", true}}));
}
