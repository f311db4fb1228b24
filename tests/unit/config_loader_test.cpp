// Loading good configs: every key lands in the right Config field, defaults apply, the shipped
// sample config loads clean.
#include "config/loader.h"
#include "config_helpers.h"

#include <gtest/gtest.h>

namespace sctprelay::config {
namespace {

using test::load_ok;

using std::chrono::milliseconds;
using Range = std::pair<uint16_t, uint16_t>;

constexpr const char* kFull = R"(
log_level: debug
limits:
  max_message_size: 64KiB
  shutdown_drain: 1.5s
listeners:
  - name: ran
    addresses: [127.0.0.1, 127.0.0.2]
    port: 36412
    streams: 10
  - name: ran6
    address: "::1"
    port: 36413
    out_streams: 3
    in_streams: 4
destinations:
  - name: core-a
    addresses: [127.0.0.1]
    port: 38412
    streams: 16
    reconnect: {min: 100ms, max: 5s}
    return: routes
    queue: {max_messages: 10, max_bytes: 2MiB, when_full: drop, ttl: 30s}
    stream_overflow: reject
  - name: core-b
    kind: peer
    address: 127.0.0.1
    port: 38413
  - name: sinks
    kind: group
    listener: ran
    match: [127.0.0.0/8, "::1"]
    port: 5000
    balance: round-robin
    queue:
      max_messages: 7
routes:
  - name: s1ap-to-core
    from: ran
    streams: any
    ppid: 18
    to: core-a
    mode: forward
    set_stream: 0
    set_ppid: 60
  - from: sinks
    streams: [9, "5-7", 1, "2-3", 8]
    to: [core-a, core-b]
    mode: balance
    balance: by-stream
  - from: core-a
    streams: "0-7"
    ppid: 0xffffffff
    to: [core-b, sinks]
  - from: ran6
    streams: 3
    to: sinks
default:
  action: fallback
  to: core-b
)";

TEST(ConfigLoader, FullConfigLandsInEveryField) {
  Config c = load_ok(kFull);
  EXPECT_EQ(c.source_file, "t.yaml");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.limits.max_message_size, 65536u);
  EXPECT_EQ(c.limits.shutdown_drain, milliseconds(1500));

  ASSERT_EQ(c.listeners.size(), 2u);
  const Listener& ran = c.listeners[0];
  EXPECT_EQ(ran.name, "ran");
  EXPECT_EQ(ran.addresses, (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
  EXPECT_EQ(ran.port, 36412);
  EXPECT_EQ(ran.out_streams, 10);
  EXPECT_EQ(ran.in_streams, 10);
  EXPECT_EQ(ran.where.file, "t.yaml");
  EXPECT_EQ(ran.where.line, 6);
  EXPECT_EQ(ran.where.column, 5);
  const Listener& ran6 = c.listeners[1];
  EXPECT_EQ(ran6.addresses, (std::vector<std::string>{"::1"}));
  EXPECT_EQ(ran6.out_streams, 3);
  EXPECT_EQ(ran6.in_streams, 4);
  EXPECT_EQ(ran6.where.line, 10);

  ASSERT_EQ(c.destinations.size(), 3u);
  const Destination& a = c.destinations[0];
  EXPECT_EQ(a.name, "core-a");
  EXPECT_EQ(a.kind, Destination::Kind::Peer);
  EXPECT_EQ(a.addresses, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(a.port, 38412);
  EXPECT_EQ(a.out_streams, 16);
  EXPECT_EQ(a.in_streams, 16);
  EXPECT_EQ(a.reconnect_min, milliseconds(100));
  EXPECT_EQ(a.reconnect_max, milliseconds(5000));
  EXPECT_EQ(a.return_path, ReturnPath::Routes);
  EXPECT_EQ(a.queue.max_messages, 10u);
  EXPECT_EQ(a.queue.max_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(a.queue.when_full, FullPolicy::Drop);
  EXPECT_EQ(a.queue.ttl, milliseconds(30'000));
  EXPECT_EQ(a.stream_overflow, StreamOverflow::Reject);
  EXPECT_EQ(a.where.line, 16);
  const Destination& b = c.destinations[1];
  EXPECT_EQ(b.kind, Destination::Kind::Peer);
  EXPECT_EQ(b.port, 38413);
  EXPECT_EQ(b.return_path, ReturnPath::Origin);
  EXPECT_FALSE(b.queue.ttl.has_value());
  const Destination& g = c.destinations[2];
  EXPECT_EQ(g.kind, Destination::Kind::Group);
  EXPECT_EQ(g.listener, "ran");
  ASSERT_EQ(g.match.size(), 2u);
  EXPECT_EQ(g.match[0].address, "127.0.0.0");
  EXPECT_EQ(g.match[0].length, 8);
  EXPECT_EQ(g.match[1].address, "::1");
  EXPECT_EQ(g.match[1].length, -1);
  EXPECT_EQ(g.match_port, 5000);
  EXPECT_EQ(g.balance, Balance::RoundRobin);
  EXPECT_EQ(g.queue.max_messages, 7u);
  EXPECT_EQ(g.queue.max_bytes, 64u * 1024 * 1024);  // default kept
  EXPECT_EQ(g.queue.when_full, FullPolicy::Backpressure);

  ASSERT_EQ(c.routes.size(), 4u);
  const Route& r0 = c.routes[0];
  EXPECT_EQ(r0.name, "s1ap-to-core");
  EXPECT_EQ(r0.from, "ran");
  EXPECT_TRUE(r0.streams.any());
  EXPECT_EQ(r0.ppid, 18u);
  EXPECT_EQ(r0.to, (std::vector<std::string>{"core-a"}));
  EXPECT_EQ(r0.mode, RouteMode::Forward);
  EXPECT_EQ(r0.set_stream, 0);
  EXPECT_EQ(r0.set_ppid, 60u);
  EXPECT_EQ(r0.where.line, 37);
  const Route& r1 = c.routes[1];
  EXPECT_EQ(r1.name, "route 2");
  EXPECT_EQ(r1.streams.ranges, (std::vector<Range>{{1, 3}, {5, 9}}));  // sorted and merged
  EXPECT_FALSE(r1.ppid.has_value());
  EXPECT_EQ(r1.mode, RouteMode::Balance);
  EXPECT_EQ(r1.balance, Balance::ByStream);
  EXPECT_FALSE(r1.set_stream.has_value());
  EXPECT_FALSE(r1.set_ppid.has_value());
  const Route& r2 = c.routes[2];
  EXPECT_EQ(r2.streams.ranges, (std::vector<Range>{{0, 7}}));
  EXPECT_EQ(r2.ppid, 0xffffffffu);
  EXPECT_EQ(r2.mode, RouteMode::FanOut);  // several targets, no mode
  EXPECT_EQ(r2.to, (std::vector<std::string>{"core-b", "sinks"}));
  const Route& r3 = c.routes[3];
  EXPECT_EQ(r3.streams.ranges, (std::vector<Range>{{3, 3}}));
  EXPECT_TRUE(r3.streams.contains(3));
  EXPECT_FALSE(r3.streams.contains(4));
  EXPECT_EQ(r3.mode, RouteMode::Forward);  // one target, no mode

  EXPECT_EQ(c.default_action.kind, DefaultAction::Kind::Fallback);
  EXPECT_EQ(c.default_action.fallback, "core-b");
  EXPECT_NE(c.find_listener("ran6"), nullptr);
  EXPECT_NE(c.find_destination("sinks"), nullptr);
}

TEST(ConfigLoader, MinimalConfigGetsDefaults) {
  Config c = load_ok(R"(
listeners:
  - {name: in, address: 127.0.0.1, port: 9000}
)");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.limits.max_message_size, 1024u * 1024u);
  EXPECT_EQ(c.limits.shutdown_drain, milliseconds(5000));
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].out_streams, 16);
  EXPECT_EQ(c.listeners[0].in_streams, 16);
  EXPECT_TRUE(c.destinations.empty());
  EXPECT_TRUE(c.routes.empty());
  EXPECT_EQ(c.default_action.kind, DefaultAction::Kind::Drop);
}

TEST(ConfigLoader, DestinationDefaults) {
  Config c = load_ok(R"(
destinations:
  - name: up
    address: 10.1.2.3
    port: 1
  - name: members
    kind: group
)");
  const Destination& up = c.destinations[0];
  EXPECT_EQ(up.kind, Destination::Kind::Peer);
  EXPECT_EQ(up.reconnect_min, milliseconds(100));
  EXPECT_EQ(up.reconnect_max, milliseconds(5000));
  EXPECT_EQ(up.return_path, ReturnPath::Origin);
  EXPECT_EQ(up.stream_overflow, StreamOverflow::Modulo);
  EXPECT_EQ(up.queue.max_messages, 10000u);
  const Destination& g = c.destinations[1];
  EXPECT_EQ(g.kind, Destination::Kind::Group);
  EXPECT_TRUE(g.listener.empty());
  EXPECT_TRUE(g.match.empty());
  EXPECT_FALSE(g.match_port.has_value());
  EXPECT_EQ(g.balance, Balance::ByStream);
}

TEST(ConfigLoader, AddressesAreStoredCanonical) {
  Config c = load_ok(R"(
listeners:
  - name: l
    addresses: ["0:0:0:0:0:0:0:1", "[fd00::1]", 127.0.0.1]
    port: 1
)");
  EXPECT_EQ(c.listeners[0].addresses, (std::vector<std::string>{"::1", "fd00::1", "127.0.0.1"}));
}

TEST(ConfigLoader, WarnIsAcceptedAsWarning) {
  Config c = load_ok("log_level: warn\nlisteners: [{name: l, address: 127.0.0.1, port: 1}]\n");
  EXPECT_EQ(c.log_level, "warning");
}

TEST(ConfigLoader, AliasesAndAnchorsWork) {
  Config c = load_ok(R"(
destinations:
  - name: a
    address: 127.0.0.1
    port: 1
    queue: &q {max_messages: 3, when_full: drop}
  - name: b
    address: 127.0.0.1
    port: 2
    queue: *q
)");
  EXPECT_EQ(c.destinations[1].queue.max_messages, 3u);
  EXPECT_EQ(c.destinations[1].queue.when_full, FullPolicy::Drop);
}

TEST(ConfigLoader, SampleConfigLoadsClean) {
  const std::string path = std::string(SOURCE_DIR) + "/config/sctprelayd.yaml";
  LoadResult r = load_file(path);
  for (auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.ok());
  const Config& c = *r.config;
  EXPECT_EQ(c.source_file, path);
  const Listener* ran = c.find_listener("ran");
  ASSERT_NE(ran, nullptr);
  EXPECT_EQ(ran->addresses, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(ran->port, 36412);
  const Destination* a = c.find_destination("core-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->addresses, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(a->port, 38412);
  const Destination* b = c.find_destination("core-b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->port, 38413);
  bool has_group = false;
  for (auto& d : c.destinations) has_group |= d.kind == Destination::Kind::Group;
  EXPECT_TRUE(has_group);
  EXPECT_EQ(c.default_action.kind, DefaultAction::Kind::Fallback);
  EXPECT_EQ(c.default_action.fallback, "core-b");
  EXPECT_FALSE(c.routes.empty());
  for (auto& route : c.routes) EXPECT_GT(route.where.line, 0) << route.name;
}

TEST(ConfigLoader, MinimalExampleFromTheDocs) {
  Config c = load_ok(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
routes:
  - {from: ran, to: core-a}
)");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].name, "route 1");
  EXPECT_EQ(c.routes[0].mode, RouteMode::Forward);
  EXPECT_EQ(c.routes[0].to, (std::vector<std::string>{"core-a"}));
}

TEST(ConfigLoader, MissingFileIsReported) {
  LoadResult r = load_file("/nonexistent/sctprelayd.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/sctprelayd.yaml: cannot open: No such file or directory");
}

TEST(ConfigLoader, ErrorToStringFormats) {
  EXPECT_EQ((ConfigError{{"f.yaml", 3, 7}, "routes[0].to", "bad"}).to_string(), "f.yaml:3:7: routes[0].to: bad");
  EXPECT_EQ((ConfigError{{"f.yaml", 0, 0}, "", "empty"}).to_string(), "f.yaml: empty");
  EXPECT_EQ((ConfigError{{"f.yaml", 2, 1}, "", "syntax"}).to_string(), "f.yaml:2:1: syntax");
}

}  // namespace
}  // namespace sctprelay::config
