// The control socket's JSON (docs/control.md) built from relay/status.h: every documented field,
// with the struct's name, and nothing dropped on the way.
#include "control/status_json.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

using namespace sctprelay;
using nlohmann::json;

namespace {

std::set<std::string> keys(const json& obj) {
  std::set<std::string> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out.insert(it.key());
  return out;
}

const std::set<std::string> kDropReasonNames = {"no_route",   "queue_full", "ttl",        "oversize",    "reassembly",
                                                "stream",     "no_target",  "assoc_gone", "removed",     "too_big",
                                                "send_error", "incomplete", "refused",    "queue_memory", "stopped"};

relay::Traffic sample_traffic() {
  relay::Traffic t;
  t.messages_in = 10;
  t.bytes_in = 1000;
  t.messages_out = 9;
  t.bytes_out = 900;
  t.drops[static_cast<std::size_t>(relay::DropReason::QueueFull)] = 2;
  t.drops[static_cast<std::size_t>(relay::DropReason::Ttl)] = 1;
  return t;
}

relay::AssociationStatus sample_association() {
  relay::AssociationStatus a;
  a.id = 7;
  a.assoc_id = 12;
  a.role = "accepted";
  a.label = "listener ran assoc 12 peer 10.0.0.2:2905";
  a.listener = "ran";
  a.groups = {"sinks"};
  a.up = true;
  a.up_since = 1700000000;
  a.peers = {"10.0.0.2:2905", "10.0.1.2:2905"};
  a.queued_messages = 3;
  a.queued_bytes = 300;
  a.queue_high_water = 40;
  a.paused = true;
  a.pause_reasons = {"backpressure"};
  a.traffic = sample_traffic();
  a.kernel.state = "ESTABLISHED";
  a.kernel.in_streams = 16;
  a.kernel.out_streams = 8;
  a.kernel.peer_rwnd = 106496;
  a.kernel.fragmentation_point = 1452;
  a.kernel.primary = "10.0.0.2:2905";
  relay::PathStatus p;
  p.address = "10.0.0.2:2905";
  p.state = "active";
  p.primary = true;
  p.srtt_ms = 3;
  p.rto_ms = 200;
  p.cwnd = 4380;
  p.mtu = 1500;
  a.kernel.paths.push_back(p);
  p.address = "10.0.1.2:2905";
  p.state = "potentially-failed";
  p.primary = false;
  a.kernel.paths.push_back(p);
  return a;
}

}  // namespace

TEST(StatusJson, TrafficHasEveryDropReasonAndTheirSum) {
  json t = control::to_json(sample_traffic());
  EXPECT_EQ(keys(t),
            (std::set<std::string>{"messages_in", "bytes_in", "messages_out", "bytes_out", "dropped", "drops"}));
  EXPECT_EQ(t["messages_in"], 10u);
  EXPECT_EQ(t["bytes_in"], 1000u);
  EXPECT_EQ(t["messages_out"], 9u);
  EXPECT_EQ(t["bytes_out"], 900u);
  EXPECT_EQ(t["dropped"], 3u);
  EXPECT_EQ(keys(t["drops"]), kDropReasonNames);
  EXPECT_EQ(t["drops"]["queue_full"], 2u);
  EXPECT_EQ(t["drops"]["ttl"], 1u);
  EXPECT_EQ(t["drops"]["no_route"], 0u);
  EXPECT_EQ(t["drops"].size(), relay::kDropReasons);
}

TEST(StatusJson, TotalsHaveEveryFieldOfTheCountersLine) {
  relay::Stats s;
  s.received = 5;
  s.dropped_queue_memory = 4;
  s.queued_bytes_peak = 99;
  json t = control::to_json(s);
  // The names Stats::to_string logs: "received=5 forwarded=0 ...".
  std::set<std::string> logged;
  std::istringstream words(s.to_string());
  for (std::string w; words >> w;) logged.insert(w.substr(0, w.find('=')));
  EXPECT_EQ(keys(t), logged);
  EXPECT_EQ(t["received"], 5u);
  EXPECT_EQ(t["dropped_queue_memory"], 4u);
  EXPECT_EQ(t["queued_bytes_peak"], 99u);
  for (auto it = t.begin(); it != t.end(); ++it) EXPECT_TRUE(it->is_number_unsigned()) << it.key();
}

TEST(StatusJson, AssociationHasEveryDocumentedField) {
  json a = control::to_json(sample_association());
  EXPECT_EQ(keys(a),
            (std::set<std::string>{"id", "assoc_id", "role", "label", "listener", "groups", "destination", "owner",
                                   "up", "connecting", "up_since", "peers", "queued_messages", "queued_bytes",
                                   "queue_high_water", "paused", "pause_reasons", "traffic", "kernel", "worker"}));
  EXPECT_EQ(a["id"], 7u);
  EXPECT_EQ(a["assoc_id"], 12);
  EXPECT_EQ(a["role"], "accepted");
  EXPECT_EQ(a["groups"], json::array({"sinks"}));
  EXPECT_EQ(a["destination"], "");
  EXPECT_EQ(a["up"], true);
  EXPECT_EQ(a["connecting"], false);
  EXPECT_EQ(a["up_since"], 1700000000);
  EXPECT_EQ(a["peers"], json::array({"10.0.0.2:2905", "10.0.1.2:2905"}));
  EXPECT_EQ(a["queue_high_water"], 40u);
  EXPECT_EQ(a["pause_reasons"], json::array({"backpressure"}));
  EXPECT_EQ(a["traffic"]["dropped"], 3u);

  const json& k = a["kernel"];
  EXPECT_EQ(keys(k), (std::set<std::string>{"state", "in_streams", "out_streams", "peer_rwnd", "unacked", "pending",
                                            "fragmentation_point", "primary", "paths"}));
  EXPECT_EQ(k["state"], "ESTABLISHED");
  EXPECT_EQ(k["in_streams"], 16u);
  EXPECT_EQ(k["out_streams"], 8u);
  EXPECT_EQ(k["peer_rwnd"], 106496u);
  EXPECT_EQ(k["fragmentation_point"], 1452u);
  EXPECT_EQ(k["primary"], "10.0.0.2:2905");
  ASSERT_EQ(k["paths"].size(), 2u);
  EXPECT_EQ(keys(k["paths"][0]),
            (std::set<std::string>{"address", "state", "primary", "srtt_ms", "rto_ms", "cwnd", "mtu"}));
  EXPECT_EQ(k["paths"][0]["primary"], true);
  EXPECT_EQ(k["paths"][0]["srtt_ms"], 3u);
  EXPECT_EQ(k["paths"][0]["rto_ms"], 200u);
  EXPECT_EQ(k["paths"][0]["cwnd"], 4380u);
  EXPECT_EQ(k["paths"][0]["mtu"], 1500u);
  EXPECT_EQ(k["paths"][1]["state"], "potentially-failed");
  EXPECT_EQ(k["paths"][1]["primary"], false);
}

TEST(StatusJson, KernelStatsOnlyWhenTheKernelGaveThem) {
  auto a = sample_association();
  a.kernel.have_stats = true;
  a.kernel.retransmitted_chunks = 1;
  a.kernel.gap_acks_received = 2;
  a.kernel.out_of_sequence_tsns = 3;
  a.kernel.sacks_sent = 4;
  a.kernel.sacks_received = 5;
  a.kernel.control_chunks_out = 6;
  a.kernel.data_chunks_out = 7;
  a.kernel.data_chunks_in = 8;
  a.kernel.max_rto_ms = 9;
  json k = control::to_json(a.kernel);
  EXPECT_EQ(k["retransmitted_chunks"], 1u);
  EXPECT_EQ(k["gap_acks_received"], 2u);
  EXPECT_EQ(k["out_of_sequence_tsns"], 3u);
  EXPECT_EQ(k["sacks_sent"], 4u);
  EXPECT_EQ(k["sacks_received"], 5u);
  EXPECT_EQ(k["control_chunks_out"], 6u);
  EXPECT_EQ(k["data_chunks_out"], 7u);
  EXPECT_EQ(k["data_chunks_in"], 8u);
  EXPECT_EQ(k["max_rto_ms"], 9u);
  EXPECT_EQ(k.size(), 18u);
}

TEST(StatusJson, KernelIsNullOnceTheKernelNoLongerKnowsTheAssociation) {
  auto a = sample_association();
  a.kernel = relay::KernelStatus{};
  EXPECT_TRUE(control::to_json(a)["kernel"].is_null());
}

TEST(StatusJson, ClosedAssociation) {
  relay::ClosedAssociation c;
  c.id = 5;
  c.label = "destination core-a assoc 3";
  c.destination = "core-a";
  c.peers = {"127.0.0.1:38412"};
  c.up_since = 100;
  c.closed_at = 160;
  c.cause = "abort: peer sent ABORT";
  c.traffic = sample_traffic();
  json j = control::to_json(c);
  EXPECT_EQ(keys(j), (std::set<std::string>{"id", "label", "listener", "destination", "peers", "up_since", "closed_at",
                                            "cause", "traffic"}));
  EXPECT_EQ(j["id"], 5u);
  EXPECT_EQ(j["closed_at"], 160);
  EXPECT_EQ(j["cause"], "abort: peer sent ABORT");
  EXPECT_EQ(j["traffic"]["messages_out"], 9u);
}

TEST(StatusJson, ListenerAndDestination) {
  relay::ListenerStatus l;
  l.name = "ran";
  l.addresses = {"127.0.0.1", "::1"};
  l.port = 36412;
  l.associations = 2;
  l.accepted_total = 9;
  l.refused_not_allowed = 1;
  l.refused_max_associations = 3;
  l.rate_limited = 4;
  json lj = control::to_json(l);
  EXPECT_EQ(keys(lj),
            (std::set<std::string>{"name", "addresses", "port", "associations", "accepted_total", "refused_not_allowed",
                                   "refused_max_associations", "rate_limited", "traffic"}));
  EXPECT_EQ(lj["addresses"], json::array({"127.0.0.1", "::1"}));
  EXPECT_EQ(lj["port"], 36412u);
  EXPECT_EQ(lj["refused_max_associations"], 3u);
  EXPECT_EQ(lj["rate_limited"], 4u);

  relay::DestinationStatus d;
  d.name = "core-a";
  d.kind = "peer";
  d.mode = "shared";
  d.state = "down";
  d.drained = true;
  d.addresses = {"127.0.0.1"};
  d.port = 38412;
  d.queued_messages = 12;
  d.queued_bytes = 4200;
  d.connect_attempts = 30;
  d.reconnects = 29;
  d.last_error = "connection refused";
  d.last_error_at = 1700000100;
  json dj = control::to_json(d);
  EXPECT_EQ(keys(dj), (std::set<std::string>{"name", "kind", "mode", "state", "drained", "addresses", "port",
                                             "associations", "queued_messages", "queued_bytes", "connect_attempts",
                                             "reconnects", "last_error", "last_error_at", "traffic"}));
  EXPECT_EQ(dj["drained"], true);
  EXPECT_EQ(dj["state"], "down");
  EXPECT_EQ(dj["connect_attempts"], 30u);
  EXPECT_EQ(dj["last_error_at"], 1700000100);
}

TEST(StatusJson, RouteWithTargets) {
  relay::RouteStatus r;
  r.name = "route 1";
  r.from = "ran";
  r.action = "fan-out";
  r.matched_messages = 100;
  r.matched_bytes = 10000;
  relay::RouteTargetStatus t;
  t.destination = "core-a";
  t.messages = 100;
  t.bytes = 10000;
  t.drops[static_cast<std::size_t>(relay::DropReason::NoTarget)] = 4;
  r.targets.push_back(t);
  t.destination = "sinks";
  t.drained = true;
  r.targets.push_back(t);
  json j = control::to_json(r);
  EXPECT_EQ(keys(j), (std::set<std::string>{"name", "from", "action", "matched_messages", "matched_bytes", "dropped",
                                            "targets"}));
  ASSERT_EQ(j["targets"].size(), 2u);
  EXPECT_EQ(keys(j["targets"][0]), (std::set<std::string>{"destination", "drained", "messages", "bytes", "drops"}));
  EXPECT_EQ(keys(j["targets"][0]["drops"]), kDropReasonNames);
  EXPECT_EQ(j["targets"][0]["drops"]["no_target"], 4u);
  EXPECT_EQ(j["targets"][1]["drained"], true);
}

TEST(StatusJson, StatusAnswer) {
  relay::RelayStatus s;
  s.totals.received = 3;
  s.listeners.emplace_back().name = "ran";
  s.destinations.emplace_back().name = "core-a";
  s.associations.push_back(sample_association());  // not part of status
  control::DaemonInfo d;
  d.version = "0.1.0";
  d.pid = 4242;
  d.config_file = "/etc/sctprelayd/sctprelayd.yaml";
  d.generation = 3;
  d.loaded_at = 1700000500;
  d.started_at = 1700000000;
  d.uptime_s = 600;
  json a = control::status_answer(s, d);
  EXPECT_EQ(keys(a), (std::set<std::string>{"ok", "daemon", "totals", "listeners", "destinations"}));
  EXPECT_EQ(a["ok"], true);
  EXPECT_EQ(a["daemon"], (json{{"version", "0.1.0"},
                               {"pid", 4242},
                               {"config_file", "/etc/sctprelayd/sctprelayd.yaml"},
                               {"generation", 3},
                               {"loaded_at", 1700000500},
                               {"started_at", 1700000000},
                               {"uptime_s", 600},
                               {"stopping", false}, {"workers", 1}}));
  EXPECT_EQ(a["totals"]["received"], 3u);
  EXPECT_EQ(a["listeners"][0]["name"], "ran");
  EXPECT_EQ(a["destinations"][0]["name"], "core-a");
  // One line on the wire.
  EXPECT_EQ(a.dump().find('\n'), std::string::npos);
}

TEST(StatusJson, OtherAnswers) {
  relay::RelayStatus s;
  s.associations.push_back(sample_association());
  s.closed.emplace_back().id = 4;
  s.routes.emplace_back().name = "default";
  s.destinations.emplace_back().name = "core-a";

  json assocs = control::assocs_answer(s);
  EXPECT_EQ(keys(assocs), (std::set<std::string>{"ok", "associations", "closed"}));
  EXPECT_EQ(assocs["associations"][0]["id"], 7u);
  EXPECT_EQ(assocs["closed"][0]["id"], 4u);

  json routes = control::routes_answer(s);
  EXPECT_EQ(keys(routes), (std::set<std::string>{"ok", "routes"}));
  EXPECT_EQ(routes["routes"][0]["name"], "default");

  json dests = control::destinations_answer(s);
  EXPECT_EQ(keys(dests), (std::set<std::string>{"ok", "destinations"}));
  EXPECT_EQ(dests["destinations"][0]["name"], "core-a");

  json drained = control::destination_answer(s.destinations[0]);
  EXPECT_EQ(drained["ok"], true);
  EXPECT_EQ(drained["destination"]["name"], "core-a");

  EXPECT_EQ(control::disconnect_answer(7, "assoc 7"),
            (json{{"ok", true}, {"association", {{"id", 7}, {"label", "assoc 7"}}}}));
  EXPECT_EQ(control::error_answer("unknown destination core-z"),
            (json{{"ok", false}, {"error", "unknown destination core-z"}}));
}

TEST(StatusJson, ReloadAnswers) {
  json good = control::reload_answer(true, {}, 4, "2 listeners, 3 destinations, 5 routes");
  EXPECT_EQ(good, (json{{"ok", true},
                        {"applied", true},
                        {"errors", json::array()},
                        {"generation", 4},
                        {"summary", "2 listeners, 3 destinations, 5 routes"}}));
  json bad = control::reload_answer(false, {"a.yaml:1:1: x: y", "a.yaml:2:1: z: w"}, 3, "");
  EXPECT_EQ(bad["ok"], false);
  EXPECT_EQ(bad["applied"], false);
  EXPECT_EQ(bad["errors"].size(), 2u);
  EXPECT_EQ(bad["generation"], 3u);
}
