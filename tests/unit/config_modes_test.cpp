// listeners[].oversize and destinations[].associations: defaults, values, and errors with
// positions (golden strings).
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config_helpers.h"

namespace sctprelay::config {
namespace {

using test::Lines;
using test::load_ok;
using test::errors_of;
using test::load_text;

TEST(ConfigOversize, DefaultsToAbortAndTakesAbortOrDrop) {
  Config c = load_ok(R"(
listeners:
  - {name: a, address: 127.0.0.1, port: 5000}
  - {name: b, address: 127.0.0.1, port: 5001, oversize: drop}
  - {name: c, address: 127.0.0.1, port: 5002, oversize: abort}
)");
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].oversize, OversizePolicy::Abort);
  EXPECT_EQ(c.listeners[1].oversize, OversizePolicy::Drop);
  EXPECT_EQ(c.listeners[2].oversize, OversizePolicy::Abort);
}

TEST(ConfigOversize, AnUnknownPolicyIsAnErrorAtItsValue) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - name: ran
    address: 127.0.0.1
    port: 36412
    oversize: truncate
  - {name: ran2, address: 127.0.0.1, port: 36413, oversize: [drop]}
)"),
            Lines({
                "t.yaml:5:15: listeners[0].oversize: \"truncate\" is not one of: abort or drop",
                "t.yaml:6:61: listeners[1].oversize: expected one of: abort or drop, got a list"}));
}

TEST(ConfigOversize, IsAListenerKeyNotADestinationKey) {
  EXPECT_EQ(errors_of(R"(
destinations:
  - name: up
    address: 127.0.0.1
    port: 1
    oversize: drop
)"),
            Lines({"t.yaml:5:5: destinations[0].oversize: unknown key \"oversize\" (allowed: name, kind, queue, "
                   "stream_overflow, port, address, addresses, streams, out_streams, in_streams, reconnect, return, "
                   "associations, listener, match, balance)"}));
}

TEST(ConfigAssociations, PeersDefaultToSharedAndTakeSharedOrPerSource) {
  Config c = load_ok(R"(
destinations:
  - {name: a, address: 127.0.0.1, port: 6000}
  - {name: b, address: 127.0.0.1, port: 6001, associations: per-source}
  - {name: c, kind: peer, address: 127.0.0.1, port: 6002, associations: shared}
  - {name: g, kind: group}
)");
  ASSERT_EQ(c.destinations.size(), 4u);
  EXPECT_EQ(c.destinations[0].associations, UpstreamMode::Shared);
  EXPECT_EQ(c.destinations[1].associations, UpstreamMode::PerSource);
  EXPECT_EQ(c.destinations[2].associations, UpstreamMode::Shared);
  EXPECT_EQ(c.destinations[3].associations, UpstreamMode::Shared);  // not used by groups
}

TEST(ConfigAssociations, AnUnknownModeIsAnErrorAtItsValue) {
  EXPECT_EQ(errors_of(R"(
destinations:
  - name: up
    address: 127.0.0.1
    port: 1
    associations: per_source
)"),
            Lines({"t.yaml:5:19: destinations[0].associations: \"per_source\" is not one of: shared or per-source"}));
}

TEST(ConfigAssociations, OnAGroupIsAnErrorAtTheKey) {
  EXPECT_EQ(errors_of(R"(
listeners:
  - {name: ran, address: 127.0.0.1, port: 36412}
destinations:
  - name: g
    kind: group
    listener: ran
    associations: per-source
)"),
            Lines({"t.yaml:7:5: destinations[0].associations: \"associations\" applies only to kind: peer (this "
                   "destination is kind: group)"}));
}

}  // namespace
}  // namespace sctprelay::config
