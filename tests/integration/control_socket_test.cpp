// The operator's view and levers through sctprelayctl and the control socket, against the real
// daemon on kernel SCTP: what `status`, `routes` and `assocs` count is exactly what the sinks got;
// `reload` answers once the new routes carry traffic and refuses a broken file with its position;
// `drain` moves new traffic off a destination while its queue empties with nothing lost;
// `disconnect` ends one association the way it was asked to.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness/ctl.h"
#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using nlohmann::json;
using std::chrono::seconds;

namespace {

uint64_t drops(const json& traffic, const std::string& reason) { return traffic["drops"][reason].get<uint64_t>(); }

std::string message(int seq, std::size_t size = 64) {
  std::string s = "seq=" + std::to_string(seq) + " ";
  s.resize(size, 'x');
  return s;
}

int seq_of(const Msg& m) { return std::stoi(m.text().substr(4)); }

// Two sinks `a` (P1) and `b` (P2) behind listener `in` (P0).
const char* kTwoSinks = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {name: to-a, from: in, streams: [0-3], to: a}
  - {name: to-b, from: in, streams: [4-7], to: b}
  - {name: both, from: in, streams: [8], to: [a, b], mode: fanout}
default: {action: drop}
)";

}  // namespace

TEST(ControlSocket, StatusRoutesAndAssocsCountExactlyWhatTheSinksReceived) {
  uint16_t p = ports_for_test();
  Peer sink_a = Peer::listen(p + 1), sink_b = Peer::listen(p + 2);
  Daemon relay(with_ports(kTwoSinks, p));
  ASSERT_TRUE(sink_a.wait_up());
  ASSERT_TRUE(sink_b.wait_up());
  Peer source = Peer::connect(p);

  uint64_t bytes_a = 0, bytes_b = 0, bytes_both = 0, bytes_none = 0;
  auto send = [&](int n, std::size_t size, uint16_t stream, uint64_t& bytes) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(source.send(message(i, size + i), stream, 7));
      bytes += size + i;
    }
  };
  send(30, 100, 1, bytes_a);
  send(20, 200, 5, bytes_b);
  send(10, 50, 8, bytes_both);
  send(5, 10, 12, bytes_none);
  ASSERT_EQ(sink_a.recv_n(40).size(), 40u);
  ASSERT_EQ(sink_b.recv_n(30).size(), 30u);
  ASSERT_TRUE(relay.wait_stat("dropped_no_route", 5));

  CtlResult routes = relay.ctl({"--json", "routes"});
  ASSERT_EQ(routes.status, 0) << routes.err;
  const json& list = routes.json["routes"];
  const json* to_a = find_named(list, "name", "to-a");
  const json* to_b = find_named(list, "name", "to-b");
  const json* both = find_named(list, "name", "both");
  const json* dflt = find_named(list, "name", "default");
  ASSERT_TRUE(to_a && to_b && both && dflt) << routes.out;
  EXPECT_EQ((*to_a)["matched_messages"], 30);
  EXPECT_EQ((*to_a)["matched_bytes"], bytes_a);
  EXPECT_EQ((*to_a)["targets"][0]["destination"], "a");
  EXPECT_EQ((*to_a)["targets"][0]["messages"], 30);
  EXPECT_EQ((*to_a)["targets"][0]["bytes"], bytes_a);
  EXPECT_EQ((*to_b)["matched_messages"], 20);
  EXPECT_EQ((*to_b)["targets"][0]["messages"], 20);
  EXPECT_EQ((*both)["matched_messages"], 10);
  EXPECT_EQ((*both)["targets"][0]["messages"], 10);
  EXPECT_EQ((*both)["targets"][1]["messages"], 10);
  EXPECT_EQ((*both)["targets"][1]["bytes"], bytes_both);
  EXPECT_EQ((*dflt)["matched_messages"], 5);
  EXPECT_EQ((*dflt)["matched_bytes"], bytes_none);
  EXPECT_EQ((*dflt)["dropped"], 5);
  EXPECT_EQ(list.back()["name"], "default") << "the default is listed last";

  CtlResult status = relay.ctl({"--json", "status"});
  ASSERT_EQ(status.status, 0) << status.err;
  EXPECT_EQ(status.json["daemon"]["generation"], 1);
  EXPECT_EQ(status.json["daemon"]["config_file"], relay.config_path());
  EXPECT_EQ(status.json["totals"]["received"], 65);
  EXPECT_EQ(status.json["totals"]["forwarded"], 70);
  const json* in = find_named(status.json["listeners"], "name", "in");
  ASSERT_TRUE(in) << status.out;
  EXPECT_EQ((*in)["associations"], 1);
  EXPECT_EQ((*in)["traffic"]["messages_in"], 65);
  EXPECT_EQ((*in)["traffic"]["bytes_in"], bytes_a + bytes_b + bytes_both + bytes_none);
  EXPECT_EQ(drops((*in)["traffic"], "no_route"), 5u);
  const json* a = find_named(status.json["destinations"], "name", "a");
  const json* b = find_named(status.json["destinations"], "name", "b");
  ASSERT_TRUE(a && b) << status.out;
  EXPECT_EQ((*a)["state"], "up");
  EXPECT_EQ((*a)["traffic"]["messages_out"], 40);
  EXPECT_EQ((*a)["traffic"]["bytes_out"], bytes_a + bytes_both);
  EXPECT_EQ((*b)["traffic"]["messages_out"], 30);
  EXPECT_EQ((*b)["traffic"]["bytes_out"], bytes_b + bytes_both);

  CtlResult assocs = relay.ctl({"--json", "assocs"});
  ASSERT_EQ(assocs.status, 0) << assocs.err;
  ASSERT_EQ(assocs.json["associations"].size(), 3u) << assocs.out;
  const json* accepted = find_named(assocs.json["associations"], "role", "accepted");
  ASSERT_TRUE(accepted);
  EXPECT_EQ((*accepted)["listener"], "in");
  EXPECT_EQ((*accepted)["traffic"]["messages_in"], 65);
  EXPECT_EQ((*accepted)["kernel"]["state"], "ESTABLISHED");
  ASSERT_EQ((*accepted)["kernel"]["paths"].size(), 1u);
  EXPECT_EQ((*accepted)["kernel"]["paths"][0]["state"], "active");
  EXPECT_EQ((*accepted)["kernel"]["paths"][0]["primary"], true);
  for (auto& assoc : assocs.json["associations"]) {
    if (assoc["role"] != "upstream") continue;
    EXPECT_EQ(assoc["kernel"]["state"], "ESTABLISHED");
    EXPECT_EQ(assoc["traffic"]["messages_out"], assoc["destination"] == "a" ? 40 : 30);
  }
  CtlResult only_b = relay.ctl({"--json", "assocs", "--destination", "b"});
  ASSERT_EQ(only_b.status, 0) << only_b.err;
  ASSERT_EQ(only_b.json["associations"].size(), 1u);
  EXPECT_EQ(only_b.json["associations"][0]["destination"], "b");

  // The same, for people: tables, each object named.
  CtlResult human = relay.ctl({"status"});
  ASSERT_EQ(human.status, 0) << human.err;
  EXPECT_NE(human.out.find("in"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("127.0.0.1"), std::string::npos) << human.out;
  for (auto* cmd : {"assocs", "routes", "destinations"}) {
    CtlResult r = relay.ctl({cmd});
    EXPECT_EQ(r.status, 0) << cmd << ": " << r.err;
    EXPECT_FALSE(r.out.empty()) << cmd;
  }
  CtlResult unknown = relay.ctl({"--json", "assocs", "--listener", "nosuch"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE((unknown.out + unknown.err).find("nosuch"), std::string::npos);
}

TEST(ControlSocket, ReloadAnswersOnceTheNewRoutesCarryTrafficAndRefusesABrokenFile) {
  uint16_t p = ports_for_test();
  Peer sink_a = Peer::listen(p + 1), sink_b = Peer::listen(p + 2);
  const std::string to = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, to: TARGET}
)";
  auto config_to = [&](const std::string& target) {
    std::string y = with_ports(to, p);
    y.replace(y.find("TARGET"), 6, target);
    return y;
  };
  Daemon relay(config_to("a"));
  ASSERT_TRUE(sink_a.wait_up());
  ASSERT_TRUE(sink_b.wait_up());
  Peer source = Peer::connect(p);
  ASSERT_TRUE(source.send(message(0), 1, 1));
  ASSERT_EQ(sink_a.recv_n(1).size(), 1u);

  // The file changes; `reload` returns once it is in force: the very next message takes the new route.
  relay.write_config(config_to("b"));
  CtlResult applied = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  ASSERT_EQ(applied.status, 0) << applied.out << applied.err;
  EXPECT_NE(applied.out.find("reload applied"), std::string::npos) << applied.out;
  EXPECT_NE(applied.out.find("generation 2"), std::string::npos) << applied.out;
  ASSERT_TRUE(source.send(message(1), 1, 1));
  auto got = sink_b.recv_n(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(seq_of(got[0]), 1);
  EXPECT_TRUE(sink_a.quiet_until(Deadline::in(std::chrono::milliseconds(200))));

  // A broken file: refused with its position; the running routes stay.
  relay.write_config(config_to("b") + "limits: {max_message_size: lots}\n");
  CtlResult refused = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE((refused.out + refused.err).find(relay.config_path() + ":"), std::string::npos) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("max_message_size"), std::string::npos) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("refused"), std::string::npos) << refused.out << refused.err;
  CtlResult json_refused = relay.ctl({"--json", "reload"}, Deadline::in(seconds(60)));
  EXPECT_EQ(json_refused.json["applied"], false);
  EXPECT_FALSE(json_refused.json["errors"].empty());
  CtlResult status = relay.ctl({"--json", "status"});
  EXPECT_EQ(status.json["daemon"]["generation"], 2);
  ASSERT_TRUE(source.send(message(2), 1, 1));
  got = sink_b.recv_n(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(seq_of(got[0]), 2);
}

TEST(ControlSocket, DrainUnderLoadSendsNewMessagesToTheOtherTargetAndEmptiesItsQueueWithNothingLost) {
  uint16_t p = ports_for_test();
  // Destination a is down at first (its peer is not listening yet): what is routed to it waits in
  // its queue. Balance by stream: stream 0 belongs to a, stream 1 to b.
  Peer sink_b = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}, reconnect: {min: 50ms, max: 200ms}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {name: spread, from: in, to: [a, b], mode: balance, balance: by-stream}
)", p));
  ASSERT_TRUE(sink_b.wait_up());
  Peer source = Peer::connect(p);

  constexpr int kBefore = 200, kAfter = 100;
  for (int i = 0; i < kBefore; ++i) ASSERT_TRUE(source.send(message(i, 1000), uint16_t(i % 2), 1));
  std::vector<Msg> at_b = sink_b.recv_n(kBefore / 2, Deadline::in(seconds(60)));
  ASSERT_EQ(at_b.size(), std::size_t(kBefore / 2));
  auto queued_at_a = [&] {
    CtlResult d = relay.ctl({"--json", "destinations"});
    const json* a = find_named(d.json["destinations"], "name", "a");
    return a ? (*a)["queued_messages"].get<uint64_t>() : 0;
  };
  ASSERT_TRUE(wait_until([&] { return queued_at_a() == kBefore / 2; }, Deadline::in(seconds(30))))
      << "a's half should wait in its queue, not " << queued_at_a();

  CtlResult drain = relay.ctl({"--json", "drain", "a"});
  ASSERT_EQ(drain.status, 0) << drain.out << drain.err;
  EXPECT_EQ(drain.json["destination"]["drained"], true);
  EXPECT_EQ(drain.json["destination"]["queued_messages"], kBefore / 2);

  // New traffic, on both streams: every message goes to b, in order.
  for (int i = kBefore; i < kBefore + kAfter; ++i) ASSERT_TRUE(source.send(message(i, 1000), uint16_t(i % 2), 1));
  std::vector<Msg> more_b = sink_b.recv_n(kAfter, Deadline::in(seconds(60)));
  ASSERT_EQ(more_b.size(), std::size_t(kAfter));
  for (int i = 0; i < kAfter; ++i) EXPECT_EQ(seq_of(more_b[i]), kBefore + i);
  EXPECT_EQ(queued_at_a(), uint64_t(kBefore / 2)) << "nothing new was routed to a";

  // a comes up: its queue empties (drain --wait says when) and it gets its half, in order.
  Peer sink_a = Peer::listen(p + 1);
  std::vector<Msg> at_a;
  std::thread reader([&] { at_a = sink_a.recv_n(kBefore / 2, Deadline::in(seconds(90))); });
  CtlResult waited = relay.ctl({"drain", "a", "--wait", "--timeout", "90"}, Deadline::in(seconds(100)));
  reader.join();
  EXPECT_EQ(waited.status, 0) << waited.out << waited.err;
  ASSERT_EQ(at_a.size(), std::size_t(kBefore / 2));
  for (int i = 0; i < kBefore / 2; ++i) EXPECT_EQ(seq_of(at_a[i]), 2 * i);
  EXPECT_TRUE(sink_a.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
  EXPECT_EQ(queued_at_a(), 0u);

  // Every message exactly once, over both.
  std::set<int> seen;
  for (auto* got : {&at_a, &at_b, &more_b})
    for (auto& m : *got) EXPECT_TRUE(seen.insert(seq_of(m)).second) << "seq " << seq_of(m) << " twice";
  EXPECT_EQ(seen.size(), std::size_t(kBefore + kAfter));
  auto stats = relay.stats();
  EXPECT_EQ(stats["forwarded"], uint64_t(kBefore + kAfter));
  for (auto& [k, v] : stats) {
    if (k.rfind("dropped_", 0) == 0) {
      EXPECT_EQ(v, 0u) << k;
    }
  }

  CtlResult routes = relay.ctl({"--json", "routes"});
  const json* spread = find_named(routes.json["routes"], "name", "spread");
  ASSERT_TRUE(spread);
  EXPECT_EQ((*spread)["targets"][0]["messages"], kBefore / 2);
  EXPECT_EQ((*spread)["targets"][0]["drained"], true);
  EXPECT_EQ((*spread)["targets"][1]["messages"], kBefore / 2 + kAfter);

  // Back in service: stream 0 goes to a again.
  ASSERT_EQ(relay.ctl({"undrain", "a"}).status, 0);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(source.send(message(1000 + i), uint16_t(i % 2), 1));
  EXPECT_EQ(sink_a.recv_n(2).size(), 2u);
  EXPECT_EQ(sink_b.recv_n(2).size(), 2u);
}

TEST(ControlSocket, DisconnectShutsDownOrAbortsOneAssociationAndAssocsSaysWhy) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kInToOut, p));
  ASSERT_TRUE(sink.wait_up());
  Peer first = Peer::connect(p), second = Peer::connect(p), third = Peer::connect(p);
  for (Peer* s : {&first, &second, &third}) ASSERT_TRUE(s->send(message(0), 0, 1));
  ASSERT_EQ(sink.recv_n(3).size(), 3u);

  CtlResult assocs = relay.ctl({"--json", "assocs", "--listener", "in"});
  ASSERT_EQ(assocs.status, 0) << assocs.err;
  ASSERT_EQ(assocs.json["associations"].size(), 3u);
  // In order of arrival (relay ids grow).
  const uint64_t id1 = assocs.json["associations"][0]["id"], id2 = assocs.json["associations"][1]["id"];

  CtlResult shut = relay.ctl({"disconnect", std::to_string(id1)});
  EXPECT_EQ(shut.status, 0) << shut.out << shut.err;
  ASSERT_TRUE(first.wait_down());
  EXPECT_EQ(first.changes.back().state, SCTP_SHUTDOWN_COMP);
  CtlResult hard = relay.ctl({"disconnect", std::to_string(id2), "--abort"});
  EXPECT_EQ(hard.status, 0) << hard.out << hard.err;
  ASSERT_TRUE(second.wait_down());
  EXPECT_EQ(second.changes.back().state, SCTP_COMM_LOST);
  CtlResult missing = relay.ctl({"disconnect", "999999"});
  EXPECT_EQ(missing.status, 1);

  // The third carries on; the closed ones are listed with their cause.
  ASSERT_TRUE(third.send(message(1), 0, 1));
  ASSERT_EQ(sink.recv_n(1).size(), 1u);
  ASSERT_TRUE(wait_until([&] { return relay.ctl({"--json", "assocs"}).json["closed"].size() >= 2; }));
  CtlResult after = relay.ctl({"--json", "assocs", "--listener", "in"});
  ASSERT_EQ(after.json["associations"].size(), 1u);
  const json* c1 = find_named(after.json["closed"], "label", assocs.json["associations"][0]["label"].get<std::string>());
  const json* c2 = find_named(after.json["closed"], "label", assocs.json["associations"][1]["label"].get<std::string>());
  ASSERT_TRUE(c1 && c2) << after.out;
  EXPECT_EQ((*c1)["cause"], "shut down by the operator");
  EXPECT_EQ((*c2)["cause"], "aborted by the operator");
  EXPECT_EQ((*c1)["traffic"]["messages_in"], 1);
}

TEST(Metrics, ScrapedWithCurlPassesPromtoolAndCountsWhatTheSinksReceived) {
  uint16_t p = ports_for_test();
  Peer sink_a = Peer::listen(p + 1), sink_b = Peer::listen(p + 2);
  Daemon relay(with_ports(std::string(kTwoSinks) + "metrics: {listen: \"127.0.0.1:{P5}\"}\n", p));
  ASSERT_TRUE(relay.saw("metrics on http://127.0.0.1:" + std::to_string(p + 5) + "/metrics"));
  ASSERT_TRUE(sink_a.wait_up());
  ASSERT_TRUE(sink_b.wait_up());
  Peer source = Peer::connect(p);
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(source.send(message(i, 100), 2, 3));
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(source.send(message(i, 100), 8, 3));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(source.send(message(i, 100), 15, 3));
  ASSERT_EQ(sink_a.recv_n(32).size(), 32u);
  ASSERT_EQ(sink_b.recv_n(7).size(), 7u);
  ASSERT_TRUE(relay.wait_stat("dropped_no_route", 4));

  const std::string url = "http://127.0.0.1:" + std::to_string(p + 5) + "/metrics";
  auto [curl_status, text] = shell("curl -sS --fail --max-time 20 " + url);
  ASSERT_EQ(curl_status, 0) << text;
  TempDir dir;
  std::string file = dir.write("metrics.txt", text);
  auto [promtool_status, lint] = shell("promtool check metrics < " + file + " 2>&1");
  EXPECT_EQ(promtool_status, 0) << lint;
  EXPECT_EQ(lint, "") << "promtool found problems";

  EXPECT_EQ(metric_sample(text, "sctprelay_received_messages_total"), 36);
  EXPECT_EQ(metric_sample(text, "sctprelay_forwarded_messages_total"), 39);
  EXPECT_EQ(metric_sample(text, "sctprelay_dropped_messages_total{reason=\"no_route\"}"), 4);
  EXPECT_EQ(metric_sample(text, "sctprelay_listener_received_messages_total{listener=\"in\"}"), 36);
  EXPECT_EQ(metric_sample(text, "sctprelay_listener_associations{listener=\"in\"}"), 1);
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_sent_messages_total{destination=\"a\"}"), 32);
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_sent_messages_total{destination=\"b\"}"), 7);
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_up{destination=\"a\"}"), 1);
  EXPECT_EQ(metric_sample(text, "sctprelay_route_matched_messages_total{route=\"to-a\"}"), 25);
  EXPECT_EQ(metric_sample(text, "sctprelay_route_target_messages_total{route=\"both\",target=\"b\"}"), 7);
  EXPECT_EQ(metric_sample(text, "sctprelay_route_matched_messages_total{route=\"default\"}"), 4);
  EXPECT_EQ(metric_sample(text, "sctprelay_config_generation"), 1);

  // Not a metrics path: 404; the endpoint keeps serving.
  auto [nf_status, nf] = shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(p + 5) + "/nope");
  EXPECT_EQ(nf, "404");
  EXPECT_EQ(shell("curl -sS --fail --max-time 20 " + url + " >/dev/null").first, 0);
}
