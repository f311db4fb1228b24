// The Prometheus exposition: exact lines for known values, one HELP/TYPE per family with its
// samples together, label escaping, and Prometheus' own checker (promtool) finding nothing wrong.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "metrics/prometheus.h"

namespace sctprelay::metrics {
namespace {

using relay::DropReason;

std::size_t at(DropReason r) { return static_cast<std::size_t>(r); }

relay::RelayStatus filled_status() {
  relay::RelayStatus s;
  relay::Stats& t = s.totals;
  t.received = 1000;
  t.forwarded = 990;
  t.queued = 40;
  t.dropped_no_route = 3;
  t.dropped_queue_full = 7;
  t.dropped_ttl = 1;
  t.dropped_refused = 2;
  t.dropped_queue_memory = 5;
  t.oversize_aborted = 1;
  t.requeued = 4;
  t.redelivered_maybe_duplicate = 2;
  t.send_errors = 6;
  t.send_retries = 8;
  t.assoc_up = 12;
  t.assoc_down_shutdown = 9;
  t.assoc_down_abort = 2;
  t.assoc_restart = 1;
  t.refused_not_allowed = 3;
  t.refused_max_associations = 4;
  t.backpressure_pauses = 11;
  t.rate_limited = 13;
  t.queued_bytes = 4096;
  t.queued_bytes_peak = 65536;

  relay::ListenerStatus ran;
  ran.name = "ran";
  ran.addresses = {"127.0.0.1"};
  ran.port = 36412;
  ran.associations = 2;
  ran.accepted_total = 10;
  ran.refused_not_allowed = 3;
  ran.refused_max_associations = 1;
  ran.rate_limited = 13;
  ran.traffic.messages_in = 800;
  ran.traffic.bytes_in = 80000;
  ran.traffic.messages_out = 400;
  ran.traffic.bytes_out = 40000;
  ran.traffic.drops[at(DropReason::NoRoute)] = 3;
  ran.traffic.drops[at(DropReason::Refused)] = 2;
  s.listeners.push_back(ran);
  relay::ListenerStatus probes;
  probes.name = "probes";
  probes.port = 36422;
  s.listeners.push_back(probes);

  relay::DestinationStatus core;
  core.name = "core-a";
  core.kind = "peer";
  core.mode = "shared";
  core.state = "up";
  core.associations = 1;
  core.queued_messages = 5;
  core.queued_bytes = 4096;
  core.connect_attempts = 3;
  core.reconnects = 2;
  core.last_error = "connection refused";
  core.last_error_at = 1700000000;
  core.traffic.messages_out = 790;
  core.traffic.bytes_out = 79000;
  core.traffic.drops[at(DropReason::QueueFull)] = 7;
  s.destinations.push_back(core);
  relay::DestinationStatus sinks;
  sinks.name = "probe-sinks";
  sinks.kind = "group";
  sinks.mode = "by-stream";
  sinks.state = "empty";
  sinks.drained = true;
  s.destinations.push_back(sinks);

  relay::RouteStatus copy;
  copy.name = "s1ap-common-copy";
  copy.from = "ran";
  copy.action = "fan-out";
  copy.matched_messages = 100;
  copy.matched_bytes = 10000;
  relay::RouteTargetStatus a;
  a.destination = "core-a";
  a.messages = 100;
  a.bytes = 10000;
  relay::RouteTargetStatus b;
  b.destination = "probe-sinks";
  b.drained = true;
  b.messages = 90;
  b.bytes = 9000;
  b.drops[at(DropReason::NoTarget)] = 10;
  copy.targets = {a, b};
  s.routes.push_back(copy);
  relay::RouteStatus def;
  def.name = "default";
  def.action = "drop";
  def.dropped = 3;
  s.routes.push_back(def);
  return s;
}

DaemonInfo daemon_info() {
  DaemonInfo d;
  d.version = "1.2.3";
  d.start_time = 1700000000;
  d.config_generation = 4;
  d.config_load_time = 1700000500;
  d.last_reload_success = false;
  d.workers = 3;
  return d;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

struct Checked {
  bool ran = false;
  int status = -1;
  std::string output;
};

// Runs `promtool check metrics` on `text`; ran is false when promtool is not installed.
Checked promtool_check(const std::string& text) {
  Checked c;
  if (system("command -v promtool >/dev/null 2>&1") != 0) return c;
  char path[] = "/tmp/metrics_prometheus_test.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return c;
  close(fd);
  std::ofstream(path, std::ios::binary) << text;
  FILE* p = popen(("promtool check metrics < " + std::string(path) + " 2>&1").c_str(), "r");
  if (p != nullptr) {
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) c.output.append(buf, n);
    const int status = pclose(p);
    c.ran = true;
    c.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  unlink(path);
  return c;
}

TEST(MetricsPrometheus, KnownValuesAppearAsLines) {
  const std::string text = render_prometheus(filled_status(), daemon_info());
  for (const char* line : {
           "sctprelay_build_info{version=\"1.2.3\"} 1",
           "sctprelay_start_time_seconds 1700000000",
           "sctprelay_workers 3",
           "sctprelay_config_generation 4",
           "sctprelay_config_last_reload_success 0",
           "sctprelay_config_load_time_seconds 1700000500",
           "sctprelay_received_messages_total 1000",
           "sctprelay_forwarded_messages_total 990",
           "sctprelay_queued_messages_total 40",
           "sctprelay_dropped_messages_total{reason=\"no_route\"} 3",
           "sctprelay_dropped_messages_total{reason=\"queue_full\"} 7",
           "sctprelay_dropped_messages_total{reason=\"refused\"} 2",
           "sctprelay_dropped_messages_total{reason=\"queue_memory\"} 5",
           "sctprelay_dropped_messages_total{reason=\"too_big\"} 0",
           "sctprelay_associations_up_total 12",
           "sctprelay_associations_down_total{cause=\"shutdown\"} 9",
           "sctprelay_associations_down_total{cause=\"abort\"} 2",
           "sctprelay_association_restarts_total 1",
           "sctprelay_refused_associations_total{cause=\"not_allowed\"} 3",
           "sctprelay_refused_associations_total{cause=\"max_associations\"} 4",
           "sctprelay_rate_limited_pauses_total 13",
           "sctprelay_backpressure_pauses_total 11",
           "sctprelay_send_errors_total 6",
           "sctprelay_send_retries_total 8",
           "sctprelay_requeued_messages_total 4",
           "sctprelay_queued_bytes 4096",
           "sctprelay_queued_bytes_peak 65536",
           "sctprelay_listener_associations{listener=\"ran\"} 2",
           "sctprelay_listener_associations{listener=\"probes\"} 0",
           "sctprelay_listener_accepted_associations_total{listener=\"ran\"} 10",
           "sctprelay_listener_refused_associations_total{listener=\"ran\",cause=\"not_allowed\"} 3",
           "sctprelay_listener_refused_associations_total{listener=\"ran\",cause=\"max_associations\"} 1",
           "sctprelay_listener_received_messages_total{listener=\"ran\"} 800",
           "sctprelay_listener_received_bytes_total{listener=\"ran\"} 80000",
           "sctprelay_listener_sent_messages_total{listener=\"ran\"} 400",
           "sctprelay_listener_sent_bytes_total{listener=\"ran\"} 40000",
           "sctprelay_listener_dropped_messages_total{listener=\"ran\",reason=\"no_route\"} 3",
           "sctprelay_listener_dropped_messages_total{listener=\"probes\",reason=\"no_route\"} 0",
           "sctprelay_destination_info{destination=\"core-a\",kind=\"peer\",mode=\"shared\"} 1",
           "sctprelay_destination_up{destination=\"core-a\"} 1",
           "sctprelay_destination_up{destination=\"probe-sinks\"} 0",
           "sctprelay_destination_drained{destination=\"core-a\"} 0",
           "sctprelay_destination_drained{destination=\"probe-sinks\"} 1",
           "sctprelay_destination_associations{destination=\"core-a\"} 1",
           "sctprelay_destination_queued_messages{destination=\"core-a\"} 5",
           "sctprelay_destination_queued_bytes{destination=\"core-a\"} 4096",
           "sctprelay_destination_connect_attempts_total{destination=\"core-a\"} 3",
           "sctprelay_destination_reconnects_total{destination=\"core-a\"} 2",
           "sctprelay_destination_last_error_time_seconds{destination=\"core-a\"} 1700000000",
           "sctprelay_destination_sent_messages_total{destination=\"core-a\"} 790",
           "sctprelay_destination_sent_bytes_total{destination=\"core-a\"} 79000",
           "sctprelay_destination_dropped_messages_total{destination=\"core-a\",reason=\"queue_full\"} 7",
           "sctprelay_route_info{route=\"s1ap-common-copy\",from=\"ran\",action=\"fan-out\"} 1",
           "sctprelay_route_info{route=\"default\",from=\"\",action=\"drop\"} 1",
           "sctprelay_route_matched_messages_total{route=\"s1ap-common-copy\"} 100",
           "sctprelay_route_matched_bytes_total{route=\"s1ap-common-copy\"} 10000",
           "sctprelay_route_dropped_messages_total{route=\"default\"} 3",
           "sctprelay_route_target_messages_total{route=\"s1ap-common-copy\",target=\"core-a\"} 100",
           "sctprelay_route_target_messages_total{route=\"s1ap-common-copy\",target=\"probe-sinks\"} 90",
           "sctprelay_route_target_bytes_total{route=\"s1ap-common-copy\",target=\"probe-sinks\"} 9000",
           "sctprelay_route_target_dropped_messages_total{route=\"s1ap-common-copy\",target=\"probe-sinks\",reason=\"no_target\"} 10",
           "# TYPE sctprelay_received_messages_total counter",
           "# TYPE sctprelay_queued_bytes gauge",
       }) {
    EXPECT_TRUE(has_line(text, line)) << "missing: " << line;
  }
  // Every drop reason of every listener and destination is there, zeros included.
  std::size_t listener_drops = 0;
  for (auto& l : lines_of(text))
    if (l.rfind("sctprelay_listener_dropped_messages_total{", 0) == 0) ++listener_drops;
  EXPECT_EQ(listener_drops, 2 * relay::kDropReasons);
  // Route targets list only the reasons that happened.
  EXPECT_FALSE(has_line(text,
                        "sctprelay_route_target_dropped_messages_total{route=\"s1ap-common-copy\",target=\"core-a\","
                        "reason=\"no_target\"} 0"));
}

// The format wants a family's HELP and TYPE once, before its samples, and its samples together.
TEST(MetricsPrometheus, EachFamilyOnceAndContiguous) {
  const std::string text = render_prometheus(filled_status(), daemon_info());
  std::set<std::string> typed, helped, finished;
  std::string current;
  for (auto& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(helped.insert(name).second) << "HELP twice: " << name;
      if (!current.empty()) finished.insert(current);
      current = name;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_EQ(name, current) << "TYPE without its HELP";
      EXPECT_TRUE(typed.insert(name).second) << "TYPE twice: " << name;
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name, current) << "sample outside its family: " << line;
    EXPECT_EQ(finished.count(name), 0u) << "family split: " << name;
    EXPECT_EQ(name.rfind("sctprelay_", 0), 0u) << line;
  }
  EXPECT_EQ(typed, helped);
  EXPECT_GE(typed.size(), 50u);
}

TEST(MetricsPrometheus, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("plain-name.1"), "plain-name.1");
  EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");

  DaemonInfo d = daemon_info();
  d.version = "1.0 \"beta\"\\\n";
  relay::RelayStatus s;
  const std::string text = render_prometheus(s, d);
  EXPECT_TRUE(has_line(text, "sctprelay_build_info{version=\"1.0 \\\"beta\\\"\\\\\\n\"} 1")) << text;
}

// Nothing configured: only the daemon's and the global families, and still a valid exposition.
TEST(MetricsPrometheus, EmptyStatusLeavesOutFamiliesWithoutSamples) {
  const std::string text = render_prometheus(relay::RelayStatus{}, DaemonInfo{});
  EXPECT_TRUE(has_line(text, "sctprelay_config_last_reload_success 1"));
  EXPECT_TRUE(has_line(text, "sctprelay_received_messages_total 0"));
  EXPECT_EQ(text.find("sctprelay_listener_"), std::string::npos);
  EXPECT_EQ(text.find("sctprelay_route_"), std::string::npos);
  Checked c = promtool_check(text);
  if (!c.ran) GTEST_SKIP() << "promtool is not installed (Debian: apt-get install prometheus)";
  EXPECT_EQ(c.status, 0) << c.output;
  EXPECT_EQ(c.output, "");
}

TEST(MetricsPrometheus, PromtoolFindsNothingWrong) {
  DaemonInfo d = daemon_info();
  d.version = "1.0 \"beta\"\\\n";  // escaping must hold up under the real parser too
  const std::string text = render_prometheus(filled_status(), d);
  Checked c = promtool_check(text);
  if (!c.ran) GTEST_SKIP() << "promtool is not installed (Debian: apt-get install prometheus)";
  EXPECT_EQ(c.status, 0) << c.output;
  EXPECT_EQ(c.output, "") << "promtool check metrics:\n" << c.output;
}

// The checker must be able to fail: a broken exposition is reported (so a pass above means something).
TEST(MetricsPrometheus, PromtoolRejectsABrokenExposition) {
  Checked c = promtool_check("# TYPE x counter\nx{a=\"1} 1\n");
  if (!c.ran) GTEST_SKIP() << "promtool is not installed (Debian: apt-get install prometheus)";
  EXPECT_NE(c.status, 0);
  EXPECT_NE(c.output, "");
}

}  // namespace
}  // namespace sctprelay::metrics
