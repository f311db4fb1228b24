// Golden error output for bad configs: every problem reported, each as
// "file:line:column: path: message" pointing at the offending key or value.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config_helpers.h"

namespace sctprelay::config {
namespace {

using test::Lines;
using test::errors_of;

// The example from the operator documentation.
TEST(ConfigErrors, UnknownDestinationPointsAtTheName) {
  LoadResult r = load_string(R"(listeners:
  - name: ran
    address: 127.0.0.1
    port: 36412
destinations:
  - name: core-a
    address: 127.0.0.1
    port: 38412
  - name: sinks
    kind: group
routes:
  - from: ran
    to: core-a
  - from: ran
    to: core-z
)",
                             "sctprelayd.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  const ConfigError& e = r.errors[0];
  EXPECT_EQ(e.where.file, "sctprelayd.yaml");
  EXPECT_EQ(e.where.line, 15);
  EXPECT_EQ(e.where.column, 9);
  EXPECT_EQ(e.path, "routes[1].to");
  EXPECT_EQ(e.message, "unknown destination \"core-z\" (known: core-a, sinks)");
  EXPECT_EQ(e.to_string(), "sctprelayd.yaml:15:9: routes[1].to: unknown destination \"core-z\" (known: core-a, sinks)");
}

// One file with dozens of mistakes: all are reported, in file order, none hides another.
TEST(ConfigErrors, EverythingWrongAtOnce) {
  const std::string dir = TEST_DATA_DIR;
  LoadResult r = load_file(dir + "/config_everything_wrong.yaml");
  ASSERT_FALSE(r.ok());
  Lines got;
  for (auto& e : r.errors) {
    std::string s = e.to_string();
    ASSERT_EQ(s.rfind(dir + "/", 0), 0u) << s;
    got.push_back(s.substr(dir.size() + 1));
  }
  EXPECT_EQ(got, Lines({
      "config_everything_wrong.yaml:1:12: log_level: \"loud\" is not one of: debug, info, warning or error",
      "config_everything_wrong.yaml:3:21: limits.max_message_size: \"1 MiBs\" is not a size (write bytes, or e.g. 64KiB, 1MiB, 1GiB)",
      "config_everything_wrong.yaml:4:19: limits.shutdown_drain: \"5\" has no unit (write e.g. 5ms or 5s)",
      "config_everything_wrong.yaml:5:3: limits.extra: unknown key \"extra\" (allowed: max_message_size, max_reassembly_bytes, max_queued_bytes, shutdown_drain)",
      "config_everything_wrong.yaml:7:5: listeners[0]: missing required key \"addresses\" (or \"address\")",
      "config_everything_wrong.yaml:8:5: listeners[0].adresses: unknown key \"adresses\" (did you mean \"addresses\"?)",
      "config_everything_wrong.yaml:9:11: listeners[0].port: 70000 is out of range 1..65535",
      "config_everything_wrong.yaml:10:11: listeners[1].name: name \"ran\" is already used by the listener at line 7 (listeners and destinations share one set of names)",
      "config_everything_wrong.yaml:11:28: listeners[1].addresses[1]: \"localhost\" is not an IPv4 or IPv6 address (host names are not resolved)",
      "config_everything_wrong.yaml:11:39: listeners[1].addresses[2]: address 127.0.0.1 is listed twice",
      "config_everything_wrong.yaml:13:5: listeners[1].streams: \"streams\" sets both directions; give either it or \"out_streams\"/\"in_streams\", not both",
      "config_everything_wrong.yaml:13:14: listeners[1].streams: 0 is out of range 1..65535",
      "config_everything_wrong.yaml:16:14: listeners[2].address: expected one IP address, got a list (use \"addresses\" for several)",
      "config_everything_wrong.yaml:22:31: destinations[0].reconnect.max: reconnect max (1000ms) is below min (5000ms)",
      "config_everything_wrong.yaml:23:13: destinations[0].return: \"sender\" is not one of: origin or routes",
      "config_everything_wrong.yaml:24:27: destinations[0].queue.max_messages: 0 is out of range 1..1000000000",
      "config_everything_wrong.yaml:24:58: destinations[0].queue.when_full: \"block\" is not one of: backpressure or drop",
      "config_everything_wrong.yaml:24:70: destinations[0].queue.ttl: must be above 0 (leave \"ttl\" out for no limit)",
      "config_everything_wrong.yaml:25:22: destinations[0].stream_overflow: \"wrap\" is not one of: modulo or reject",
      "config_everything_wrong.yaml:26:5: destinations[0].match: \"match\" applies only to kind: group (this destination is kind: peer)",
      "config_everything_wrong.yaml:29:15: destinations[1].listener: \"core-a\" is a destination; \"listener\" must name a listener (known: ran, two)",
      "config_everything_wrong.yaml:30:13: destinations[1].match[0]: \"127.0.0.0/33\": prefix length must be 0..32 for IPv4",
      "config_everything_wrong.yaml:30:34: destinations[1].match[2]: \"bogus\" is not an IPv4 or IPv6 address (host names are not resolved)",
      "config_everything_wrong.yaml:32:14: destinations[1].balance: \"random\" is not one of: round-robin or by-stream",
      "config_everything_wrong.yaml:33:5: destinations[1].reconnect: \"reconnect\" applies only to kind: peer (this destination is kind: group)",
      "config_everything_wrong.yaml:34:5: destinations[2]: missing required key \"addresses\" (a peer destination needs the addresses to connect to; for accepted associations set kind: group)",
      "config_everything_wrong.yaml:38:9: routes[0].to: unknown destination \"core-z\" (known: core-a, sinks, nokind)",
      "config_everything_wrong.yaml:40:11: routes[1].from: unknown source \"nowhere\" (known: ran, two, core-a, sinks, nokind)",
      "config_everything_wrong.yaml:41:18: routes[1].streams[1]: stream range \"5-3\" is backwards (write the lower stream first)",
      "config_everything_wrong.yaml:41:25: routes[1].streams[2]: \"any\" stands alone: write streams: any",
      "config_everything_wrong.yaml:41:30: routes[1].streams[3]: stream 70000 is out of range 0..65535",
      "config_everything_wrong.yaml:42:11: routes[1].ppid: 4294967296 is out of range 0..4294967295",
      "config_everything_wrong.yaml:43:25: routes[1].to[2]: destination \"core-a\" is listed twice",
      "config_everything_wrong.yaml:44:11: routes[1].mode: mode forward sends to one destination, but \"to\" lists 3 (use mode: fanout to copy to all of them, or mode: balance to pick one)",
      "config_everything_wrong.yaml:45:5: routes[1].balance: \"balance\" is only used with mode: balance",
      "config_everything_wrong.yaml:46:17: routes[1].set_stream: 65536 is out of range 0..65535",
      "config_everything_wrong.yaml:48:9: routes[2].to: \"ran\" is a listener; messages can only be sent to destinations (known: core-a, sinks, nokind)",
      "config_everything_wrong.yaml:49:11: routes[3].name: route name \"r2\" is already used at line 39",
      "config_everything_wrong.yaml:52:5: routes[3].color: unknown key \"color\" (allowed: name, from, streams, ppid, to, mode, balance, set_stream, set_ppid)",
      "config_everything_wrong.yaml:55:3: default.to: \"to\" is only used with action: fallback",
  }));
}

// A config with a broken listener name must not also complain that routes name unknown things.
TEST(ConfigErrors, BadNameDoesNotCascade) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: "r a n"
    address: 127.0.0.1
    port: 1
destinations:
  - {name: g, kind: group, listener: ran}
routes:
  - {from: ran, to: g}
)"),
            Lines({"t.yaml:2:11: listeners[0].name: invalid name \"r a n\" (use 1-64 letters, digits, '-', '_' or '.', "
                  "starting with a letter or digit)"}));
}

TEST(ConfigErrors, SeveralDocuments) {
  EXPECT_EQ(errors_of(R"(
listeners: [{name: a, address: 127.0.0.1, port: 1}]
---
listeners: [{name: b, address: 127.0.0.1, port: 2}]
)"),
            Lines({"t.yaml:3:1: the file holds more than one YAML document; the configuration must be exactly one (remove the extra \"---\")"}));
}

// yaml-cpp's own LoadAll never returns on these (one empty document after another, forever).
TEST(ConfigErrors, StrayCommaAtTopLevelIsRefusedNotLoopedOn) {
  EXPECT_EQ(errors_of(", 1m)\n"),
            Lines({"t.yaml:1:1: YAML syntax error: cannot read past ',' (a ',', ']' or '}' outside a [...] or {...} "
                   "list?)"}));
  EXPECT_EQ(errors_of("# a comment\n  ,a\n"),
            Lines({"t.yaml:2:3: YAML syntax error: cannot read past ',' (a ',', ']' or '}' outside a [...] or {...} "
                   "list?)"}));
}

// Aliases to aliases: 5 short lines stand for 111,111 nodes, each read again where it is used
// (100,000 are allowed). The 8th "*d" on line 5 crosses the limit; a file's own nodes do not count.
TEST(ConfigErrors, AliasesThatRepeatTooMuchAreRefused) {
  EXPECT_EQ(errors_of(R"(
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
)"),
            Lines({"t.yaml:5:36: aliases repeat more than 100000 nodes of the file (each *alias is read again "
                   "wherever it is used)"}));
}

TEST(ConfigErrors, SyntaxFlow) {
  EXPECT_EQ(errors_of(R"(
listeners: [1, 2
routes: 3
)"),
            Lines({"t.yaml:2:7: YAML syntax error: end of sequence flow not found"}));
}

TEST(ConfigErrors, SyntaxIndent) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: a
   port: 1
)"),
            Lines({"t.yaml:3:4: YAML syntax error: end of sequence not found"}));
}

TEST(ConfigErrors, SyntaxTab) {
  EXPECT_EQ(errors_of("log_level: info\n\tlisteners: []\n"),
            Lines({"t.yaml:2:1: YAML syntax error: illegal tab when looking for indentation"}));
}

TEST(ConfigErrors, Empty) {
  EXPECT_EQ(errors_of(""),
            Lines({"t.yaml: the file is empty (expected keys such as listeners, destinations and routes)"}));
}

TEST(ConfigErrors, CommentOnly) {
  EXPECT_EQ(errors_of(R"(
# nothing
)"),
            Lines({"t.yaml: the file is empty (expected keys such as listeners, destinations and routes)"}));
}

TEST(ConfigErrors, RootList) {
  EXPECT_EQ(errors_of(R"(
- a
- b
)"),
            Lines({"t.yaml:1:1: expected the relay configuration (a map of keys), got a list"}));
}

TEST(ConfigErrors, NothingToDo) {
  EXPECT_EQ(errors_of(R"(
log_level: info
routes: []
)"),
            Lines({"t.yaml:1:1: no listeners and no destinations: the relay would have nothing to relay"}));
}

TEST(ConfigErrors, DupTop) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
log_level: info
log_level: debug
)"),
            Lines({"t.yaml:4:1: log_level: duplicate key \"log_level\" (first given at line 3)"}));
}

TEST(ConfigErrors, DupFlow) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: a, address: 127.0.0.1, port: 1, port: 2}
)"),
            Lines({"t.yaml:2:44: listeners[0].port: duplicate key \"port\" (first given at line 2)"}));
}

TEST(ConfigErrors, UnknownTop) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destination:
  - name: x
)"),
            Lines({"t.yaml:3:1: destination: unknown key \"destination\" (did you mean \"destinations\"?)"}));
}

TEST(ConfigErrors, UnknownFar) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
colour: blue
)"),
            Lines({"t.yaml:3:1: colour: unknown key \"colour\" (allowed: log_level, limits, listeners, destinations, routes, default, control, metrics, workers)"}));
}

TEST(ConfigErrors, KeyNotText) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
[a, b]: 3
)"),
            Lines({"t.yaml:3:1: a key must be plain text, got a list"}));
}

TEST(ConfigErrors, MissingPort) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
)"),
            Lines({"t.yaml:2:5: listeners[0]: missing required key \"port\""}));
}

TEST(ConfigErrors, MissingName) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - address: 127.0.0.1
    port: 1
)"),
            Lines({"t.yaml:2:5: listeners[0]: missing required key \"name\""}));
}

TEST(ConfigErrors, NullPort) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
    port:
)"),
            Lines({"t.yaml:4:5: listeners[0].port: expected a number 1..65535, got nothing"}));
}

TEST(ConfigErrors, PortText) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
    port: s1ap
)"),
            Lines({"t.yaml:4:11: listeners[0].port: expected a whole number, got \"s1ap\""}));
}

TEST(ConfigErrors, PortZero) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
    port: 0
)"),
            Lines({"t.yaml:4:11: listeners[0].port: 0 is out of range 1..65535"}));
}

TEST(ConfigErrors, StreamsBig) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
    port: 1
    streams: 65536
    in_streams: 0
)"),
            Lines({
                "t.yaml:5:5: listeners[0].streams: \"streams\" sets both directions; give either it or \"out_streams\"/\"in_streams\", not both",
                "t.yaml:5:14: listeners[0].streams: 65536 is out of range 1..65535",
                "t.yaml:6:17: listeners[0].in_streams: 0 is out of range 1..65535"}));
}

TEST(ConfigErrors, BothAddress) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
    addresses: [127.0.0.2]
    port: 1
)"),
            Lines({"t.yaml:3:5: listeners[0].address: give either \"address\" or \"addresses\", not both"}));
}

TEST(ConfigErrors, BadNameChars) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: "ran a"
    address: 127.0.0.1
    port: 1
  - name: -x
    address: 127.0.0.2
    port: 1
)"),
            Lines({
                "t.yaml:2:11: listeners[0].name: invalid name \"ran a\" (use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit)",
                "t.yaml:5:11: listeners[1].name: invalid name \"-x\" (use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit)"}));
}

TEST(ConfigErrors, ListenerClash) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: a
    addresses: [127.0.0.1, 127.0.0.2]
    port: 5
  - name: b
    addresses: [127.0.0.3, 127.0.0.2]
    port: 5
  - name: c
    address: 127.0.0.2
    port: 6
)"),
            Lines({"t.yaml:6:28: listeners[1].addresses[1]: 127.0.0.2:5 clashes with listener \"a\" on 127.0.0.2:5 (line 2)"}));
}

TEST(ConfigErrors, Ipv6Clash) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: a
    address: "::"
    port: 5
  - name: b
    address: 127.0.0.1
    port: 5
)"),
            Lines({"t.yaml:6:14: listeners[1].address: 127.0.0.1:5 clashes with listener \"a\" on [::]:5 (line 2)"}));
}

TEST(ConfigErrors, ListenersNotList) {
  EXPECT_EQ(errors_of(R"(
listeners:
  name: ran
)"),
            Lines({"t.yaml:2:3: listeners: expected listeners (a list), got a map"}));
}

TEST(ConfigErrors, NameDupCross) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: ran
    address: 127.0.0.1
    port: 2
)"),
            Lines({"t.yaml:4:11: destinations[0].name: name \"ran\" is already used by the listener at line 2 (listeners and destinations share one set of names)"}));
}

TEST(ConfigErrors, LimitsBad) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
limits:
  max_message_size: 0
  shutdown_drain: soon
)"),
            Lines({
                "t.yaml:4:21: limits.max_message_size: must be at least 1 byte",
                "t.yaml:5:19: limits.shutdown_drain: \"soon\" is not a duration (write e.g. 250ms, 5s, 1.5s, 1m, 1h)"}));
}

TEST(ConfigErrors, LimitsNotMap) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
limits: 5
)"),
            Lines({"t.yaml:3:9: limits: expected limits (a map of keys), got \"5\""}));
}

TEST(ConfigErrors, PeerNoAddress) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: p
    port: 1
    match: [127.0.0.0/8]
)"),
            Lines({"t.yaml:4:5: destinations[0]: missing required key \"addresses\" (a peer destination needs the addresses to connect to; for accepted associations set kind: group)"}));
}

TEST(ConfigErrors, PeerGroupKeys) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: p
    address: 127.0.0.1
    port: 1
    listener: ran
    balance: by-stream
)"),
            Lines({
                "t.yaml:7:5: destinations[0].listener: \"listener\" applies only to kind: group (this destination is kind: peer)",
                "t.yaml:8:5: destinations[0].balance: \"balance\" applies only to kind: group (this destination is kind: peer)"}));
}

TEST(ConfigErrors, GroupPeerKeys) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: g
    kind: group
    address: 127.0.0.1
    streams: 3
)"),
            Lines({
                "t.yaml:6:5: destinations[0].address: \"address\" applies only to kind: peer (this destination is kind: group)",
                "t.yaml:7:5: destinations[0].streams: \"streams\" applies only to kind: peer (this destination is kind: group)"}));
}

TEST(ConfigErrors, GroupUnknownListener) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: g
    kind: group
    listener: enb
)"),
            Lines({"t.yaml:6:15: destinations[0].listener: unknown listener \"enb\" (known: ran)"}));
}

TEST(ConfigErrors, PeerSelfLoop) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: p
    address: 127.0.0.1
    port: 36412
)"),
            Lines({"t.yaml:5:14: destinations[0].address: 127.0.0.1:36412 is this relay's own listener \"ran\": the relay would connect to itself"}));
}

TEST(ConfigErrors, ReconnectZero) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: p
    address: 127.0.0.1
    port: 1
    reconnect: {min: 0s, max: 0.5ms, maxx: 3}
)"),
            Lines({
                "t.yaml:7:22: destinations[0].reconnect.min: must be above 0",
                "t.yaml:7:31: destinations[0].reconnect.max: \"0.5ms\" is finer than a millisecond",
                "t.yaml:7:38: destinations[0].reconnect.maxx: unknown key \"maxx\" (did you mean \"max\"?)"}));
}

TEST(ConfigErrors, RouteUnknownTo) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: core-z
)"),
            Lines({"t.yaml:8:9: routes[0].to: unknown destination \"core-z\" (known: core-a, sinks)"}));
}

TEST(ConfigErrors, RouteUnknownToList) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: [core-a, core-z]
)"),
            Lines({"t.yaml:8:18: routes[0].to[1]: unknown destination \"core-z\" (known: core-a, sinks)"}));
}

TEST(ConfigErrors, RouteToListener) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: ran
)"),
            Lines({"t.yaml:8:9: routes[0].to: \"ran\" is a listener; messages can only be sent to destinations (known: core-a, sinks)"}));
}

TEST(ConfigErrors, RouteUnknownFrom) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: enb
    to: core-a
)"),
            Lines({"t.yaml:7:11: routes[0].from: unknown source \"enb\" (known: ran, core-a, sinks)"}));
}

TEST(ConfigErrors, RouteForwardMany) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: [core-a, sinks]
    mode: forward
)"),
            Lines({"t.yaml:9:11: routes[0].mode: mode forward sends to one destination, but \"to\" lists 2 (use mode: fanout to copy to all of them, or mode: balance to pick one)"}));
}

TEST(ConfigErrors, RouteBalanceNoMode) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: [core-a, sinks]
    balance: round-robin
)"),
            Lines({"t.yaml:9:5: routes[0].balance: \"balance\" is only used with mode: balance"}));
}

TEST(ConfigErrors, RouteStreamsBad) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: core-a
    streams: "7-0"
)"),
            Lines({"t.yaml:9:14: routes[0].streams: stream range \"7-0\" is backwards (write the lower stream first)"}));
}

TEST(ConfigErrors, RouteStreamsEmpty) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: core-a
    streams: []
)"),
            Lines({"t.yaml:9:14: routes[0].streams: expected stream numbers or ranges, got an empty list"}));
}

TEST(ConfigErrors, RoutePpidNeg) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    to: core-a
    ppid: -1
    set_ppid: 4294967296
)"),
            Lines({
                "t.yaml:9:11: routes[0].ppid: \"-1\" is negative; allowed range is 0..4294967295",
                "t.yaml:10:15: routes[0].set_ppid: 4294967296 is out of range 0..4294967295"}));
}

TEST(ConfigErrors, RouteDupName) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - {name: r, from: ran, to: core-a}
  - {name: r, from: ran, to: core-a}
)"),
            Lines({"t.yaml:8:12: routes[1].name: route name \"r\" is already used at line 7"}));
}

TEST(ConfigErrors, RouteExtraTypo) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
routes:
  - from: ran
    too: core-a
)"),
            Lines({
                "t.yaml:7:5: routes[0]: missing required key \"to\"",
                "t.yaml:8:5: routes[0].too: unknown key \"too\" (did you mean \"to\"?)"}));
}

TEST(ConfigErrors, DefaultFallbackNoTo) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
default:
  action: fallback
)"),
            Lines({"t.yaml:7:3: default: missing required key \"to\" (action: fallback needs a destination)"}));
}

TEST(ConfigErrors, DefaultFallbackListener) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
default:
  action: fallback
  to: ran
)"),
            Lines({"t.yaml:8:7: default.to: \"ran\" is a listener; messages can only be sent to destinations (known: core-a, sinks)"}));
}

TEST(ConfigErrors, DefaultFallbackUnknown) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
default:
  action: fallback
  to: core-z
)"),
            Lines({"t.yaml:8:7: default.to: unknown destination \"core-z\" (known: core-a, sinks)"}));
}

TEST(ConfigErrors, DefaultBadAction) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
default:
  action: forward
)"),
            Lines({"t.yaml:7:11: default.action: \"forward\" is not one of: drop or fallback"}));
}

TEST(ConfigErrors, DefaultMissingAction) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - {name: core-a, address: 127.0.0.1, port: 38412}
  - {name: sinks, kind: group}
default:
  to: core-a
)"),
            Lines({"t.yaml:7:3: default: missing required key \"action\""}));
}

}  // namespace
}  // namespace sctprelay::config
