// sctprelayctl's human output for fixed answers (docs/control.md), and how it copes with answers
// from an older or newer daemon: missing fields show as "-", extra ones are ignored, a missing list
// is a clear error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "control/status_json.h"
#include "ctl/format.h"
#include "ctl/render.h"
#include "ctl/table.h"

using namespace sctprelay;
using namespace sctprelay::ctl;

namespace {

// Local times in the output are UTC here, whatever the machine's zone.
class CtlRender : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

json drops(std::initializer_list<std::pair<const char*, uint64_t>> nonzero) {
  json d = json::object();
  for (const char* r : {"no_route", "queue_full", "ttl", "oversize", "reassembly", "stream", "no_target", "assoc_gone",
                        "removed", "too_big", "send_error", "incomplete", "refused", "queue_memory", "stopped"})
    d[r] = 0;
  for (const auto& [name, n] : nonzero) d[name] = n;
  return d;
}

json traffic(uint64_t in, uint64_t out, json d = drops({})) {
  uint64_t dropped = 0;
  for (auto& v : d) dropped += v.get<uint64_t>();
  return json{{"messages_in", in},      {"bytes_in", in * 100}, {"messages_out", out},
              {"bytes_out", out * 100}, {"dropped", dropped},   {"drops", d}};
}

const json kStatus = json::parse(R"({
  "ok": true,
  "daemon": {"version": "0.1.0", "pid": 4242, "config_file": "/etc/sctprelayd/sctprelayd.yaml",
             "generation": 3, "loaded_at": 1764684191, "started_at": 1764583200,
             "uptime_s": 101000, "stopping": false},
  "totals": {"received": 1234, "forwarded": 1230, "queued": 12, "dropped_no_route": 5,
             "dropped_queue_full": 2, "dropped_ttl": 1, "dropped_oversize": 0, "oversize_aborted": 0,
             "dropped_reassembly": 0, "dropped_stream": 0, "dropped_no_target": 7,
             "dropped_assoc_gone": 0, "dropped_removed": 0, "dropped_too_big": 0,
             "dropped_send_error": 0, "dropped_incomplete": 0, "stream_mapped": 0, "requeued": 0,
             "redelivered_maybe_duplicate": 0, "replies_no_owner": 0, "send_errors": 0,
             "send_retries": 0, "assoc_up": 14, "assoc_down_shutdown": 8, "assoc_down_abort": 2,
             "assoc_restart": 0, "backpressure_pauses": 0, "refused_not_allowed": 3,
             "refused_max_associations": 0, "dropped_refused": 0, "rate_limited": 0,
             "dropped_queue_memory": 0, "queued_bytes": 4200, "queued_bytes_peak": 1258291},
  "listeners": [
    {"name": "ran", "addresses": ["127.0.0.1", "::1"], "port": 36412, "associations": 3,
     "accepted_total": 10, "refused_not_allowed": 3, "refused_max_associations": 0,
     "rate_limited": 0, "traffic": {"messages_in": 1200, "bytes_in": 120000, "messages_out": 30,
     "bytes_out": 3000, "dropped": 5, "drops": {"no_route": 5}}},
    {"name": "probes", "addresses": ["127.0.0.2"], "port": 36413, "associations": 0,
     "accepted_total": 0, "refused_not_allowed": 0, "refused_max_associations": 0,
     "rate_limited": 0, "traffic": {"messages_in": 0, "bytes_in": 0, "messages_out": 0,
     "bytes_out": 0, "dropped": 0, "drops": {}}}
  ],
  "destinations": [
    {"name": "core-a", "kind": "peer", "mode": "shared", "state": "up", "drained": false,
     "addresses": ["127.0.0.1"], "port": 38412, "associations": 1, "queued_messages": 0,
     "queued_bytes": 0, "connect_attempts": 1, "reconnects": 0, "last_error": "",
     "last_error_at": 0, "traffic": {"messages_in": 30, "bytes_in": 3000, "messages_out": 1200,
     "bytes_out": 120000, "dropped": 0, "drops": {}}},
    {"name": "core-b", "kind": "peer", "mode": "per-source", "state": "down", "drained": true,
     "addresses": ["127.0.0.1", "127.0.0.3"], "port": 38413, "associations": 0,
     "queued_messages": 12, "queued_bytes": 4200, "connect_attempts": 31, "reconnects": 30,
     "last_error": "connect: Connection refused", "last_error_at": 1764684000,
     "traffic": {"messages_in": 0, "bytes_in": 0, "messages_out": 0, "bytes_out": 0,
     "dropped": 10, "drops": {"queue_full": 2, "ttl": 1, "no_target": 7}}},
    {"name": "sinks", "kind": "group", "mode": "by-stream", "state": "empty", "drained": false,
     "addresses": ["probes", "127.0.0.0/8"], "port": 0, "associations": 0, "queued_messages": 0,
     "queued_bytes": 0, "connect_attempts": 0, "reconnects": 0, "last_error": "",
     "last_error_at": 0, "traffic": {"messages_in": 0, "bytes_in": 0, "messages_out": 0,
     "bytes_out": 0, "dropped": 0, "drops": {}}}
  ]
})");

const char* const kStatusText =
    "sctprelayd 0.1.0, pid 4242\n"
    "config file  /etc/sctprelayd/sctprelayd.yaml\n"
    "generation   3, loaded at 2025-12-02 14:03:11\n"
    "started at   2025-12-01 10:00:00, up 1d 4h 3m\n"
    "state        running\n"
    "\n"
    "received      1234 messages\n"
    "forwarded     1230 copies (12 waited in a queue)\n"
    "queued now    4.1 KiB (peak 1.2 MiB)\n"
    "dropped       15: no_target 7, no_route 5, queue_full 2, +1 more\n"
    "associations  14 came up, 10 ended (8 shutdown, 2 abort), 3 refused\n"
    "\n"
    "LISTENER  ADDRESSES       PORT  ASSOCS  ACCEPTED  REFUSED  RATE LIMITED  MSGS IN  MSGS OUT  DROPPED\n"
    "ran       127.0.0.1,::1  36412       3        10        3             0     1200        30        5\n"
    "probes    127.0.0.2      36413       0         0        0             0        0         0        0\n"
    "\n"
    "DESTINATION  KIND   STATE          ASSOCS  QUEUED  QUEUED BYTES  MSGS OUT  MSGS IN  DROPPED\n"
    "core-a       peer   up                  1       0           0 B      1200       30        0\n"
    "core-b       peer   down, drained       0      12       4.1 KiB         0        0       10\n"
    "sinks        group  empty               0       0           0 B         0        0        0\n";

json assocs_answer() {
  json a1 = {{"id", 7},
             {"assoc_id", 12},
             {"role", "accepted"},
             {"label", "listener ran assoc 12 peer 10.0.0.2:2905"},
             {"listener", "ran"},
             {"groups", {"sinks"}},
             {"destination", ""},
             {"owner", 0},
             {"up", true},
             {"connecting", false},
             {"up_since", 1764684000},
             {"peers", {"10.0.0.2:2905", "10.0.1.2:2905"}},
             {"queued_messages", 0},
             {"queued_bytes", 0},
             {"queue_high_water", 3},
             {"paused", false},
             {"pause_reasons", json::array()},
             {"traffic", traffic(120, 118)},
             {"kernel",
              {{"state", "ESTABLISHED"},
               {"in_streams", 16},
               {"out_streams", 16},
               {"peer_rwnd", 106496},
               {"unacked", 0},
               {"pending", 0},
               {"fragmentation_point", 1452},
               {"primary", "10.0.0.2:2905"},
               {"paths",
                {{{"address", "10.0.0.2:2905"},
                  {"state", "active"},
                  {"primary", true},
                  {"srtt_ms", 3},
                  {"rto_ms", 200},
                  {"cwnd", 4380},
                  {"mtu", 1500}},
                 {{"address", "10.0.1.2:2905"},
                  {"state", "potentially-failed"},
                  {"primary", false},
                  {"srtt_ms", 0},
                  {"rto_ms", 3000},
                  {"cwnd", 4380},
                  {"mtu", 1500}}}}}}};
  json a2 = {{"id", 9},
             {"assoc_id", 3},
             {"role", "upstream"},
             {"label", "destination core-b assoc 3"},
             {"listener", ""},
             {"groups", json::array()},
             {"destination", "core-b"},
             {"owner", 7},
             {"up", false},
             {"connecting", true},
             {"up_since", 0},
             {"peers", {"127.0.0.1:38413"}},
             {"queued_messages", 12},
             {"queued_bytes", 4200},
             {"queue_high_water", 12},
             {"paused", true},
             {"pause_reasons", {"backpressure", "rate"}},
             {"traffic", traffic(0, 0, drops({{"queue_full", 2}}))},
             {"kernel", nullptr}};
  json closed = {{{"id", 5},
                  {"label", "listener ran assoc 8"},
                  {"listener", "ran"},
                  {"destination", ""},
                  {"peers", {"10.0.0.9:4000"}},
                  {"up_since", 1764680000},
                  {"closed_at", 1764680125},
                  {"cause", "abort: peer sent ABORT"},
                  {"traffic", traffic(3, 3)}}};
  return json{{"ok", true}, {"associations", {a1, a2}}, {"closed", closed}};
}

const char* const kAssocsText =
    "ID  KERNEL  ROLE      WHERE              STATE        PATHS  PRIMARY        SRTT    RTO  CWND  MSGS IN  MSGS OUT  "
    "QUEUED  DROPS  PAUSED\n"
    " 7      12  accepted  ran [sinks]        ESTABLISHED      2  10.0.0.2:2905   3ms  200ms  4380      120       118  "
    "     0      0  -\n"
    "    path  10.0.0.2:2905    active              srtt 3ms  rto 200ms   cwnd 4380  mtu 1500  primary\n"
    "    path  10.0.1.2:2905    potentially-failed  srtt 0ms  rto 3000ms  cwnd 4380  mtu 1500\n"
    " 9       3  upstream  -> core-b (for 7)  connecting       1  -                 -      -     -        0         0  "
    "    12      2  backpressure,rate\n"
    "    peer  127.0.0.1:38413\n"
    "\n"
    "recently closed (1):\n"
    "ID  WHERE  PEERS          UP SINCE             CLOSED AT            LASTED  MSGS IN  MSGS OUT  DROPS  CAUSE\n"
    " 5  ran    10.0.0.9:4000  2025-12-02 12:53:20  2025-12-02 12:55:25  2m 5s         3         3      0  abort: peer "
    "sent "
    "ABORT\n";

const json kRoutes = json::parse(R"({"ok": true, "routes": [
  {"name": "default", "from": "", "action": "fallback", "matched_messages": 5, "matched_bytes": 500,
   "dropped": 0, "targets": [{"destination": "core-b", "drained": false, "messages": 5, "bytes": 500,
   "drops": {}}]},
  {"name": "route 1", "from": "ran", "action": "fan-out", "matched_messages": 100,
   "matched_bytes": 10000, "dropped": 0, "targets": [
     {"destination": "core-a", "drained": false, "messages": 100, "bytes": 10000, "drops": {}},
     {"destination": "sinks", "drained": true, "messages": 96, "bytes": 9600,
      "drops": {"no_target": 3, "queue_full": 1}}]},
  {"name": "s1ap", "from": "ran", "action": "balance", "matched_messages": 0, "matched_bytes": 0,
   "dropped": 0, "targets": []}
]})");

const char* const kRoutesText =
    "ROUTE    FROM  ACTION    MATCHED    BYTES  DROPPED\n"
    "route 1  ran   fan-out       100  9.8 KiB        0\n"
    "    -> core-a           100  messages  9.8 KiB  dropped 0\n"
    "    -> sinks (drained)   96  messages  9.4 KiB  dropped 4 (no_target 3, queue_full 1)\n"
    "s1ap     ran   balance         0      0 B        0\n"
    "default  -     fallback        5    500 B        0\n"
    "    -> core-b             5  messages    500 B  dropped 0\n";

const char* const kDestinationsText =
    "DESTINATION  KIND   MODE        STATE  DRAINED  ADDRESSES             PORT  ASSOCS  QUEUED  QUEUED BYTES  "
    "ATTEMPTS  "
    "RECONNECTS  LAST ERROR\n"
    "core-a       peer   shared      up     no       127.0.0.1            38412       1       0           0 B         "
    "1  "
    "         0  -\n"
    "core-b       peer   per-source  down   yes      127.0.0.1,127.0.0.3  38413       0      12       4.1 KiB        "
    "31  "
    "        30  connect: Connection refused (2025-12-02 14:00:00)\n"
    "sinks        group  by-stream   empty  no       probes,127.0.0.0/8       -       0       0           0 B         "
    "0  "
    "         0  -\n";

}  // namespace

TEST_F(CtlRender, Status) { EXPECT_EQ(render_status(kStatus), kStatusText); }

TEST_F(CtlRender, StatusStopping) {
  json s = kStatus;
  s["daemon"]["stopping"] = true;
  EXPECT_NE(render_status(s).find("state        stopping: draining queues before exit\n"), std::string::npos);
}

TEST_F(CtlRender, Assocs) { EXPECT_EQ(render_assocs(assocs_answer()), kAssocsText); }

TEST_F(CtlRender, NoAssociations) {
  EXPECT_EQ(render_assocs(json{{"ok", true}, {"associations", json::array()}, {"closed", json::array()}}),
            "no associations\n");
}

TEST_F(CtlRender, RoutesWithTheDefaultLast) { EXPECT_EQ(render_routes(kRoutes), kRoutesText); }

TEST_F(CtlRender, Destinations) {
  json d{{"ok", true}, {"destinations", kStatus["destinations"]}};
  EXPECT_EQ(render_destinations(d), kDestinationsText);
}

TEST_F(CtlRender, ReloadApplied) {
  EXPECT_EQ(render_reload(control::reload_answer(true, {}, 4, "2 listeners, 3 destinations, 5 routes")),
            "reload applied: generation 4: 2 listeners, 3 destinations, 5 routes\n");
}

TEST_F(CtlRender, ReloadRefused) {
  json a = control::reload_answer(
      false,
      {"sctprelayd.yaml:14:9: routes[1].to: unknown destination \"core-z\" (known: core-a, sinks)",
       "sctprelayd.yaml:8:5: listeners[0].adresses: unknown key \"adresses\" (did you mean \"addresses\"?)"},
      3, "");
  EXPECT_EQ(render_reload(a),
            "sctprelayd.yaml:14:9: routes[1].to: unknown destination \"core-z\" (known: core-a, sinks)\n"
            "sctprelayd.yaml:8:5: listeners[0].adresses: unknown key \"adresses\" (did you mean \"addresses\"?)\n"
            "reload refused: the running configuration stays\n");
  // A refusal the daemon gives as "error" only (e.g. a reload already running).
  EXPECT_EQ(render_reload(control::error_answer("the daemon is stopping")),
            "the daemon is stopping\nreload refused: the running configuration stays\n");
  // The daemon's own summary line is not said twice.
  a["error"] = "reload refused: the running configuration stays";
  a["errors"] = json::array();
  EXPECT_EQ(render_reload(a), "reload refused: the running configuration stays\n");
}

TEST_F(CtlRender, DrainUndrainDisconnect) {
  json d = kStatus["destinations"][1];
  EXPECT_EQ(render_drain(json{{"ok", true}, {"destination", d}}, true),
            "destination core-b drained: routes skip it; 12 messages (4.1 KiB) queued\n");
  EXPECT_EQ(render_drain(json{{"ok", true}, {"destination", d}}, false),
            "destination core-b undrained: routes use it again\n");
  EXPECT_EQ(render_disconnect(control::disconnect_answer(7, "listener ran assoc 12"), false),
            "association 7 (listener ran assoc 12): SHUTDOWN started\n");
  EXPECT_EQ(render_disconnect(control::disconnect_answer(7, ""), true), "association 7: ABORT sent\n");
  json said = control::disconnect_answer(7, "");
  said["action"] = "abort";
  EXPECT_EQ(render_disconnect(said, false), "association 7: ABORT sent\n");
}

TEST_F(CtlRender, DaemonVersion) {
  EXPECT_EQ(render_daemon_version(kStatus), "sctprelayd 0.1.0 (pid 4242, up 1d 4h 3m)\n");
}

// The daemon's own JSON (status_json.h) renders: both sides of the contract agree.
TEST_F(CtlRender, AnswersBuiltByTheDaemonSide) {
  relay::RelayStatus s;
  s.totals.received = 2;
  auto& l = s.listeners.emplace_back();
  l.name = "ran";
  l.addresses = {"127.0.0.1"};
  l.port = 36412;
  auto& d = s.destinations.emplace_back();
  d.name = "core-a";
  d.kind = "peer";
  d.state = "up";
  auto& r = s.routes.emplace_back();
  r.name = "default";
  r.action = "drop";
  r.dropped = 2;
  auto& a = s.associations.emplace_back();
  a.id = 1;
  a.role = "accepted";
  a.listener = "ran";
  control::DaemonInfo info;
  info.version = "9.9.9";
  info.pid = 1;
  const std::string status = render_status(control::status_answer(s, info));
  EXPECT_NE(status.find("sctprelayd 9.9.9, pid 1\n"), std::string::npos) << status;
  EXPECT_NE(status.find("ran       127.0.0.1  36412"), std::string::npos) << status;
  EXPECT_NE(render_assocs(control::assocs_answer(s)).find(" 1       0  accepted  ran    gone"), std::string::npos)
      << render_assocs(control::assocs_answer(s));
  EXPECT_NE(render_routes(control::routes_answer(s)).find("default  -     drop          0    0 B        2"),
            std::string::npos)
      << render_routes(control::routes_answer(s));
  EXPECT_NE(render_destinations(control::destinations_answer(s)).find("core-a       peer  -     up"), std::string::npos)
      << render_destinations(control::destinations_answer(s));
}

// An older daemon: fields missing. A newer one: fields added. Neither throws anything but
// AnswerError, and only when a list the output needs is missing.
TEST_F(CtlRender, MissingAndExtraFields) {
  json sparse = {{"ok", true},
                 {"daemon", {{"version", "0.0.1"}, {"future_field", {1, 2}}}},
                 {"totals", json::object()},
                 {"listeners", {{{"name", "ran"}}, 42, "text", nullptr}},
                 {"destinations", {{{"name", "core-a"}, {"state", 7}, {"traffic", "odd"}}}}};
  std::string text;
  ASSERT_NO_THROW(text = render_status(sparse));
  EXPECT_NE(text.find("sctprelayd 0.0.1, pid -\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("ran       -             -       -         -        -             -        -         -        -\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("core-a       -     -"), std::string::npos) << text;

  json assocs = {{"ok", true}, {"associations", {{{"id", 3}, {"kernel", {{"paths", {1, {{"state", "active"}}}}}}}}}};
  ASSERT_NO_THROW(text = render_assocs(assocs));
  EXPECT_NE(text.find("    path  -  active"), std::string::npos) << text;

  json routes = {{"ok", true}, {"routes", {{{"targets", "none"}}, {{"name", "r"}, {"targets", {{{"drops", 3}}}}}}}};
  ASSERT_NO_THROW(text = render_routes(routes));
  EXPECT_NE(text.find("-> -"), std::string::npos) << text;

  json huge = {{"ok", true}, {"destinations", {{{"name", "x"}, {"queued_messages", -5}, {"port", 1e30}}}}};
  ASSERT_NO_THROW(text = render_destinations(huge));
}

TEST_F(CtlRender, MissingListsAreClearErrors) {
  try {
    render_status(json{{"ok", true}, {"daemon", json::object()}, {"totals", json::object()}, {"listeners", 3}});
    FAIL() << "no error";
  } catch (const AnswerError& e) {
    EXPECT_STREQ(e.what(), "the answer has no \"listeners\" list");
  }
  EXPECT_THROW(render_status(json{{"ok", true}}), AnswerError);
  EXPECT_THROW(render_assocs(json{{"ok", true}}), AnswerError);
  EXPECT_THROW(render_routes(json::array()), AnswerError);
  EXPECT_THROW(render_destinations(json("text")), AnswerError);
  EXPECT_THROW(render_drain(json{{"ok", true}}, true), AnswerError);
  EXPECT_THROW(render_disconnect(json{{"ok", true}}, true), AnswerError);
  EXPECT_THROW(render_daemon_version(json{{"ok", true}}), AnswerError);
  // A reload answer is always readable: at worst it says it was refused.
  EXPECT_EQ(render_reload(json::object()), "reload refused: the running configuration stays\n");
}

TEST(CtlFormat, Bytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(4200), "4.1 KiB");
  EXPECT_EQ(human_bytes(1258291), "1.2 MiB");
  EXPECT_EQ(human_bytes(3ull << 30), "3.0 GiB");
  EXPECT_EQ(human_bytes(UINT64_MAX), "16.0 EiB");
}

TEST(CtlFormat, Durations) {
  EXPECT_EQ(human_duration(0), "0s");
  EXPECT_EQ(human_duration(45), "45s");
  EXPECT_EQ(human_duration(725), "12m 5s");
  EXPECT_EQ(human_duration(4 * 3600 + 12 * 60 + 9), "4h 12m");
  EXPECT_EQ(human_duration(3 * 86400 + 4 * 3600 + 12 * 60), "3d 4h 12m");
}

TEST_F(CtlRender, LocalTime) {
  EXPECT_EQ(local_time(0), "-");
  EXPECT_EQ(local_time(1764684191), "2025-12-02 14:03:11");
}

TEST(CtlTable, AlignsAndTrims) {
  Table t({{"NAME", Table::Align::Left}, {"N", Table::Align::Right}, {"NOTE", Table::Align::Left}});
  t.add({"a", "1", ""});
  t.add({"longer", "100", "x"});
  t.add({"é", "2"});
  EXPECT_EQ(t.render(),
            "NAME      N  NOTE\n"
            "a         1\n"
            "longer  100  x\n"
            "é         2\n");
  Table untitled({{"", Table::Align::Left}, {"", Table::Align::Left}}, "  ");
  untitled.add({"k", "v"});
  EXPECT_EQ(untitled.render(), "  k  v\n");
  EXPECT_EQ(untitled.header_line(), "");
}

TEST(CtlDrops, TopReasons) {
  EXPECT_EQ(drops_text(drops({})), "");
  EXPECT_EQ(drops_text(drops({{"ttl", 1}, {"no_route", 9}})), "no_route 9, ttl 1");
  EXPECT_EQ(drops_text(drops({{"ttl", 1}, {"no_route", 9}, {"stream", 2}, {"removed", 3}}), 2),
            "no_route 9, removed 3, +2 more");
  EXPECT_EQ(drops_total(drops({{"ttl", 1}, {"no_route", 9}})), 10u);
  EXPECT_EQ(drops_total(json{{"a", -1}, {"b", "x"}, {"c", 2}}), 2u);
}
