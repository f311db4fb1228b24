// RouteTable: first route in file order whose `from`, streams and PPID match; checked case by case
// and against a linear-scan reference on random configs.
#include "router/route_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "router/stream_map.h"

namespace sctprelay::router {
namespace {

using Ranges = std::vector<std::pair<uint16_t, uint16_t>>;

// Listeners l1, l2 and destinations d1, d2; routes added by the test.
class RouteTableTest : public ::testing::Test {
 protected:
  RouteTableTest() {
    cfg_.listeners.push_back(config::Listener{.name = "l1"});
    cfg_.listeners.push_back(config::Listener{.name = "l2"});
    cfg_.destinations.push_back(config::Destination{.name = "d1"});
    cfg_.destinations.push_back(config::Destination{.name = "d2"});
  }

  // Adds a route and returns its index in cfg_.routes.
  int add(const std::string& from, Ranges ranges, std::optional<uint32_t> ppid = std::nullopt) {
    config::Route r;
    r.name = "route " + std::to_string(cfg_.routes.size());
    r.from = from;
    r.streams.ranges = std::move(ranges);
    r.ppid = ppid;
    r.to = {"d1"};
    cfg_.routes.push_back(std::move(r));
    return static_cast<int>(cfg_.routes.size()) - 1;
  }

  // Compiles the table and looks a message up by source name.
  int match(const std::string& from, uint16_t stream, uint32_t ppid = 0) {
    table_ = RouteTable(cfg_);
    return table_.match(table_.source_index(from), stream, ppid);
  }

  config::Config cfg_;
  RouteTable table_;
};

TEST(RouteTableEmpty, DefaultConstructedMatchesNothing) {
  RouteTable t;
  EXPECT_EQ(t.source_index("l1"), -1);
  EXPECT_EQ(t.match(-1, 0, 0), kNoRoute);
  EXPECT_EQ(t.match(0, 0, 0), kNoRoute);
}

TEST_F(RouteTableTest, SourceIndicesAreDenseListenersThenDestinations) {
  RouteTable t(cfg_);
  EXPECT_EQ(t.source_index("l1"), 0);
  EXPECT_EQ(t.source_index("l2"), 1);
  EXPECT_EQ(t.source_index("d1"), 2);
  EXPECT_EQ(t.source_index("d2"), 3);
  EXPECT_EQ(t.source_index("d3"), -1);
  EXPECT_EQ(t.source_index(""), -1);
  EXPECT_EQ(t.source_index("L1"), -1);
}

TEST_F(RouteTableTest, SourceWithoutRoutesMatchesNothing) {
  add("l1", {});
  EXPECT_EQ(match("l2", 0), kNoRoute);
  EXPECT_EQ(match("d1", 7, 46), kNoRoute);
}

TEST_F(RouteTableTest, OutOfRangeSourceIndexMatchesNothing) {
  add("l1", {});
  RouteTable t(cfg_);
  EXPECT_EQ(t.match(-1, 0, 0), kNoRoute);
  EXPECT_EQ(t.match(-7, 0, 0), kNoRoute);
  EXPECT_EQ(t.match(4, 0, 0), kNoRoute);
  EXPECT_EQ(t.match(1000, 0, 0), kNoRoute);
  EXPECT_EQ(t.match(0, 0, 0), 0);
}

TEST_F(RouteTableTest, SingleRangeIncludesBothEnds) {
  int r = add("l1", {{5, 10}});
  EXPECT_EQ(match("l1", 4), kNoRoute);
  EXPECT_EQ(match("l1", 5), r);
  EXPECT_EQ(match("l1", 7), r);
  EXPECT_EQ(match("l1", 10), r);
  EXPECT_EQ(match("l1", 11), kNoRoute);
  EXPECT_EQ(match("l1", 0), kNoRoute);
  EXPECT_EQ(match("l1", 65535), kNoRoute);
}

TEST_F(RouteTableTest, ListOfRangesAndSingleStreams) {
  int r = add("l1", {{1, 1}, {3, 4}, {100, 200}});
  EXPECT_EQ(match("l1", 0), kNoRoute);
  EXPECT_EQ(match("l1", 1), r);
  EXPECT_EQ(match("l1", 2), kNoRoute);
  EXPECT_EQ(match("l1", 3), r);
  EXPECT_EQ(match("l1", 4), r);
  EXPECT_EQ(match("l1", 5), kNoRoute);
  EXPECT_EQ(match("l1", 99), kNoRoute);
  EXPECT_EQ(match("l1", 100), r);
  EXPECT_EQ(match("l1", 200), r);
  EXPECT_EQ(match("l1", 201), kNoRoute);
}

TEST_F(RouteTableTest, UnorderedAndOverlappingRangesInOneRoute) {
  int r = add("l1", {{50, 60}, {10, 20}, {15, 55}});
  EXPECT_EQ(match("l1", 9), kNoRoute);
  for (uint16_t s : {10, 20, 21, 49, 55, 60}) EXPECT_EQ(match("l1", s), r) << s;
  EXPECT_EQ(match("l1", 61), kNoRoute);
}

TEST_F(RouteTableTest, AnyStreamCoversWholeSpace) {
  int r = add("l1", {});
  for (uint16_t s : {0, 1, 16, 32767, 65534, 65535}) EXPECT_EQ(match("l1", s, 12345), r) << s;
}

TEST_F(RouteTableTest, StreamSpaceEdges) {
  int low = add("l1", {{0, 0}});
  int high = add("l1", {{65535, 65535}});
  int top = add("l2", {{65000, 65535}});
  int bottom = add("l2", {{0, 3}});
  EXPECT_EQ(match("l1", 0), low);
  EXPECT_EQ(match("l1", 1), kNoRoute);
  EXPECT_EQ(match("l1", 65534), kNoRoute);
  EXPECT_EQ(match("l1", 65535), high);
  EXPECT_EQ(match("l2", 64999), kNoRoute);
  EXPECT_EQ(match("l2", 65000), top);
  EXPECT_EQ(match("l2", 65535), top);
  EXPECT_EQ(match("l2", 0), bottom);
  EXPECT_EQ(match("l2", 3), bottom);
  EXPECT_EQ(match("l2", 4), kNoRoute);
}

TEST_F(RouteTableTest, WholeSpaceWrittenAsRange) {
  int r = add("l1", {{0, 65535}});
  EXPECT_EQ(match("l1", 0), r);
  EXPECT_EQ(match("l1", 65535), r);
}

TEST_F(RouteTableTest, FirstMatchInFileOrderWins) {
  int a = add("l1", {{0, 10}});
  int b = add("l1", {{5, 20}});
  int c = add("l1", {});
  EXPECT_EQ(match("l1", 0), a);
  EXPECT_EQ(match("l1", 7), a);
  EXPECT_EQ(match("l1", 10), a);
  EXPECT_EQ(match("l1", 11), b);
  EXPECT_EQ(match("l1", 20), b);
  EXPECT_EQ(match("l1", 21), c);
  EXPECT_EQ(match("l1", 65535), c);
}

TEST_F(RouteTableTest, LaterNarrowRouteIsShadowedByEarlierCatchAll) {
  int all = add("l1", {});
  add("l1", {{3, 3}});
  add("l1", {{3, 3}}, 46);
  EXPECT_EQ(match("l1", 3, 46), all);
  EXPECT_EQ(match("l1", 3, 0), all);
}

TEST_F(RouteTableTest, NarrowRouteBeforeCatchAllTakesItsStreams) {
  int narrow = add("l1", {{3, 3}});
  int all = add("l1", {});
  EXPECT_EQ(match("l1", 2), all);
  EXPECT_EQ(match("l1", 3), narrow);
  EXPECT_EQ(match("l1", 4), all);
}

TEST_F(RouteTableTest, PpidSpecificBeforePpidLess) {
  int specific = add("l1", {}, 46);
  int any = add("l1", {});
  EXPECT_EQ(match("l1", 1, 46), specific);
  EXPECT_EQ(match("l1", 1, 47), any);
  EXPECT_EQ(match("l1", 1, 0), any);
}

TEST_F(RouteTableTest, PpidLessBeforePpidSpecific) {
  int any = add("l1", {{0, 10}});
  int specific = add("l1", {}, 46);
  EXPECT_EQ(match("l1", 5, 46), any);    // the earlier PPID-less route covers stream 5
  EXPECT_EQ(match("l1", 20, 46), specific);
  EXPECT_EQ(match("l1", 20, 47), kNoRoute);
  EXPECT_EQ(match("l1", 5, 47), any);
}

TEST_F(RouteTableTest, PpidSpecificOnlyMatchesThatPpid) {
  int r = add("l1", {{1, 2}}, 60);
  EXPECT_EQ(match("l1", 1, 60), r);
  EXPECT_EQ(match("l1", 2, 60), r);
  EXPECT_EQ(match("l1", 3, 60), kNoRoute);
  EXPECT_EQ(match("l1", 1, 61), kNoRoute);
  EXPECT_EQ(match("l1", 1, 0), kNoRoute);
}

TEST_F(RouteTableTest, PpidZeroAndMaxAreOrdinaryValues) {
  int zero = add("l1", {}, 0);
  int max = add("l1", {}, 0xFFFFFFFFu);
  int any = add("l1", {});
  EXPECT_EQ(match("l1", 9, 0), zero);
  EXPECT_EQ(match("l1", 9, 0xFFFFFFFFu), max);
  EXPECT_EQ(match("l1", 9, 1), any);
}

TEST_F(RouteTableTest, InterleavedPpidsAndRanges) {
  int r0 = add("l1", {{0, 9}}, 46);
  int r1 = add("l1", {{5, 14}});
  int r2 = add("l1", {{0, 19}}, 46);
  int r3 = add("l1", {{0, 19}}, 47);
  int r4 = add("l1", {{10, 29}});
  int r5 = add("l1", {}, 46);
  // PPID 46
  EXPECT_EQ(match("l1", 0, 46), r0);
  EXPECT_EQ(match("l1", 9, 46), r0);
  EXPECT_EQ(match("l1", 10, 46), r1);
  EXPECT_EQ(match("l1", 14, 46), r1);
  EXPECT_EQ(match("l1", 15, 46), r2);
  EXPECT_EQ(match("l1", 20, 46), r4);
  EXPECT_EQ(match("l1", 30, 46), r5);
  // PPID 47
  EXPECT_EQ(match("l1", 0, 47), r3);
  EXPECT_EQ(match("l1", 5, 47), r1);
  EXPECT_EQ(match("l1", 15, 47), r3);
  EXPECT_EQ(match("l1", 20, 47), r4);
  EXPECT_EQ(match("l1", 30, 47), kNoRoute);
  // Any other PPID
  EXPECT_EQ(match("l1", 0, 1), kNoRoute);
  EXPECT_EQ(match("l1", 5, 1), r1);
  EXPECT_EQ(match("l1", 29, 1), r4);
  EXPECT_EQ(match("l1", 30, 1), kNoRoute);
}

TEST_F(RouteTableTest, SourcesAreIndependent) {
  int from_l1 = add("l1", {{0, 10}});
  int from_d1 = add("d1", {{0, 10}});
  int from_l2 = add("l2", {}, 46);
  int l1_catch_all = add("l1", {});
  EXPECT_EQ(match("l1", 5), from_l1);
  EXPECT_EQ(match("d1", 5), from_d1);
  EXPECT_EQ(match("d1", 11), kNoRoute);
  EXPECT_EQ(match("l2", 5, 46), from_l2);
  EXPECT_EQ(match("l2", 5, 47), kNoRoute);
  EXPECT_EQ(match("l1", 11), l1_catch_all);
  EXPECT_EQ(match("l1", 5, 46), from_l1);
  EXPECT_EQ(match("d2", 5), kNoRoute);
}

TEST_F(RouteTableTest, RoutesFromUnknownSourceAreIgnoredAndIndicesKept) {
  add("nobody", {});
  add("", {});
  int r = add("l1", {{1, 1}});
  EXPECT_EQ(r, 2);
  EXPECT_EQ(match("l1", 1), 2);
  EXPECT_EQ(match("l1", 2), kNoRoute);
  EXPECT_EQ(match("nobody", 1), kNoRoute);
}

TEST_F(RouteTableTest, InvertedRangeMatchesNothingLikeStreamSet) {
  int r = add("l1", {{10, 5}});
  (void)r;
  for (uint16_t s : {0, 5, 7, 10})
    EXPECT_EQ(match("l1", s), cfg_.routes[0].streams.contains(s) ? 0 : kNoRoute) << s;
  EXPECT_EQ(match("l1", 7), kNoRoute);
}

TEST_F(RouteTableTest, StatsCountMapsAndSegments) {
  add("l1", {{0, 10}, {11, 20}});  // adjacent ranges of one route merge: [0,20] and the rest
  add("l1", {{5, 5}}, 46);         // PPID 46 map: [0,4] none, [5,5], [6,65535] none
  add("d2", {});                    // one segment
  RouteTable t(cfg_);
  auto st = t.stats();
  EXPECT_EQ(st.sources, 2u);
  EXPECT_EQ(st.stream_maps, 3u);
  EXPECT_EQ(st.segments, 2u + 3u + 1u);
  EXPECT_GT(st.memory_bytes, 0u);
}

TEST(StreamMapTest, MergesNeighboursWithTheSameRoute) {
  config::StreamSet a, b;
  a.ranges = {{0, 9}, {10, 19}, {30, 39}};
  b.ranges = {{20, 29}};
  StreamMap m({{0, &a}, {1, &b}});
  EXPECT_EQ(m.segment_count(), 4u);  // [0,19]->0 [20,29]->1 [30,39]->0 [40,65535]->none
  EXPECT_EQ(m.lookup(19), 0);
  EXPECT_EQ(m.lookup(20), 1);
  EXPECT_EQ(m.lookup(39), 0);
  EXPECT_EQ(m.lookup(40), -1);
  EXPECT_EQ(StreamMap().lookup(0), -1);
  EXPECT_EQ(StreamMap().segment_count(), 0u);
}

// ---- Randomized cross-check against a linear scan ----

int reference_match(const config::Config& cfg, const std::string& from, uint16_t stream,
                    uint32_t ppid) {
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    const config::Route& r = cfg.routes[i];
    if (r.from == from && r.streams.contains(stream) && (!r.ppid || *r.ppid == ppid))
      return static_cast<int>(i);
  }
  return kNoRoute;
}

uint16_t random_stream(std::mt19937& rng) {
  // Mostly low streams (where real configs live) and some anywhere.
  if (rng() % 4 == 0) return static_cast<uint16_t>(rng() % 65536);
  return static_cast<uint16_t>(rng() % 4000);
}

config::StreamSet random_streams(std::mt19937& rng) {
  config::StreamSet set;
  if (rng() % 100 == 0) return set;  // any
  unsigned count = 1 + rng() % 3;
  for (unsigned i = 0; i < count; ++i) {
    uint16_t first = random_stream(rng);
    unsigned span = 0;  // mostly narrow ranges so that routes deep in the file still win
    switch (rng() % 16) {
      case 0: span = rng() % 16 ? rng() % 1000 : rng() % 20000; break;
      case 1: case 2: span = rng() % 200; break;
      case 3: case 4: case 5: case 6: span = rng() % 16; break;
      default: span = 0; break;
    }
    uint16_t last = static_cast<uint16_t>(std::min<unsigned>(65535u, first + span));
    set.ranges.emplace_back(first, last);
  }
  return set;
}

TEST(RouteTableRandom, AgreesWithLinearScan) {
  std::mt19937 rng(20240611);
  config::Config cfg;
  const std::vector<std::string> sources = {"a", "b", "c", "x", "y"};
  cfg.listeners.push_back(config::Listener{.name = "a"});
  cfg.listeners.push_back(config::Listener{.name = "b"});
  cfg.listeners.push_back(config::Listener{.name = "c"});
  cfg.destinations.push_back(config::Destination{.name = "x"});
  cfg.destinations.push_back(config::Destination{.name = "y"});
  const std::vector<uint32_t> ppids = {0, 1, 2, 3, 46, 51, 0xFFFFFFFFu};

  for (int i = 0; i < 2000; ++i) {
    config::Route r;
    r.from = sources[rng() % sources.size()];
    if (rng() % 50 == 0) r.from = "unknown";
    r.streams = random_streams(rng);
    // Catch-alls without a PPID would shadow the rest of their source: keep them to the end.
    if (rng() % 2 == 0 || (r.streams.any() && i < 1900)) r.ppid = ppids[rng() % ppids.size()];
    cfg.routes.push_back(std::move(r));
  }
  RouteTable table(cfg);

  // Lookups aimed at range boundaries as well as at random places.
  std::vector<uint16_t> edges = {0, 65535};
  for (const auto& r : cfg.routes)
    for (auto [first, last] : r.streams.ranges) {
      edges.push_back(first);
      edges.push_back(last);
      if (first > 0) edges.push_back(static_cast<uint16_t>(first - 1));
      if (last < 65535) edges.push_back(static_cast<uint16_t>(last + 1));
    }

  int matched = 0;
  std::vector<bool> seen(cfg.routes.size());
  for (int i = 0; i < 100000; ++i) {
    const std::string& from = sources[rng() % sources.size()];
    uint16_t stream = rng() % 2 ? edges[rng() % edges.size()] : random_stream(rng);
    uint32_t ppid = rng() % 8 ? ppids[rng() % ppids.size()] : static_cast<uint32_t>(rng());
    int expected = reference_match(cfg, from, stream, ppid);
    int got = table.match(table.source_index(from), stream, ppid);
    ASSERT_EQ(got, expected) << "lookup " << i << ": from " << from << " stream " << stream
                             << " ppid " << ppid;
    if (expected != kNoRoute) {
      ++matched;
      seen[static_cast<std::size_t>(expected)] = true;
    }
  }
  // The workload must exercise both outcomes and reach routes deep in the file.
  int distinct = static_cast<int>(std::count(seen.begin(), seen.end(), true));
  EXPECT_GT(matched, 10000);
  EXPECT_LT(matched, 90000);
  EXPECT_GT(distinct, 500);
  int distinct_late = static_cast<int>(std::count(seen.begin() + 1000, seen.end(), true));
  EXPECT_GT(distinct_late, 100);  // among routes 1000..1999
  std::cout << "[          ] matched " << matched << " of 100000, distinct routes " << distinct
            << " (" << distinct_late << " in the second half of the file)\n";
}

TEST(RouteTableRandom, ManySourcesFewRoutesEach) {
  std::mt19937 rng(7);
  config::Config cfg;
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) {
    names.push_back("src" + std::to_string(i));
    if (i % 2)
      cfg.listeners.push_back(config::Listener{.name = names.back()});
    else
      cfg.destinations.push_back(config::Destination{.name = names.back()});
  }
  for (int i = 0; i < 3000; ++i) {
    config::Route r;
    r.from = names[rng() % names.size()];
    r.streams = random_streams(rng);
    if (rng() % 3 == 0) r.ppid = rng() % 4;
    cfg.routes.push_back(std::move(r));
  }
  RouteTable table(cfg);
  for (int i = 0; i < 50000; ++i) {
    const std::string& from = names[rng() % names.size()];
    uint16_t stream = random_stream(rng);
    uint32_t ppid = rng() % 5;
    ASSERT_EQ(table.match(table.source_index(from), stream, ppid),
              reference_match(cfg, from, stream, ppid))
        << "from " << from << " stream " << stream << " ppid " << ppid;
  }
}

}  // namespace
}  // namespace sctprelay::router
