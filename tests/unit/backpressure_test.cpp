// The association table's deferred delete and Backpressure's bookkeeping, without any socket.
#include <gtest/gtest.h>

#include "relay/association_table.h"
#include "relay/backpressure.h"

using namespace sctprelay;
using relay::Association;
using relay::AssociationTable;
using relay::Backpressure;
using relay::Clock;

namespace {

struct BackpressureTest : ::testing::Test {
  sctprelay::event::Dispatcher dispatcher;
  AssociationTable table{dispatcher};
  relay::Stats stats;
  Backpressure bp{table, stats};

  Association& make(const char* label) { return table.create(Association::Role::Accepted, label); }
  // Fills `a`'s queue to its message limit.
  void fill(Association& a, std::size_t n) {
    config::QueueSettings q;
    q.max_messages = n;
    a.queue.set_settings(q);
    const uint8_t byte = 0;
    for (std::size_t i = 0; i < n; ++i) a.queue.push_back({}, &byte, 1, Clock::now(), {});
  }
};

}  // namespace

TEST_F(BackpressureTest, RetiredAssociationsAreNotFoundButLiveUntilTheLoopTurns) {
  Association& a = make("a");
  const uint64_t id = a.id;
  EXPECT_EQ(table.find(id), &a);
  table.retire(a);
  EXPECT_EQ(table.find(id), nullptr);
  EXPECT_TRUE(a.retired);  // still readable: deleted only on the loop's next turn
  EXPECT_EQ(a.label, "a");
  EXPECT_EQ(table.size(), 0u);
  Association& b = make("b");
  EXPECT_NE(b.id, id);  // ids are never reused
}

TEST_F(BackpressureTest, AHeldSourceIsPausedUntilItsTargetLetsGo) {
  Association& source = make("source");
  Association& other = make("other");
  Association& target = make("target");
  fill(target, 4);
  bp.hold(source, target);
  bp.hold(source, target);  // once is enough
  EXPECT_TRUE(source.paused());
  EXPECT_FALSE(other.paused());
  EXPECT_EQ(stats.backpressure_pauses, 1u);
  // Still above half its limit: not yet.
  target.queue.pop_front();
  bp.release_if_drained(target);
  EXPECT_TRUE(source.paused());
  target.queue.pop_front();
  bp.release_if_drained(target);
  EXPECT_FALSE(source.paused());
  EXPECT_TRUE(target.held_sources.empty());
}

TEST_F(BackpressureTest, ASourceHeldByTwoTargetsWaitsForBoth) {
  Association& source = make("source");
  Association& t1 = make("t1");
  Association& t2 = make("t2");
  bp.hold(source, t1);
  bp.hold(source, t2);
  bp.release(t1);
  EXPECT_TRUE(source.paused());
  bp.release(t2);
  EXPECT_FALSE(source.paused());
}

TEST_F(BackpressureTest, ATargetThatGoesAwayLetsItsSourcesGoAndASourceThatGoesAwayIsForgotten) {
  Association& s1 = make("s1");
  Association& s2 = make("s2");
  Association& target = make("target");
  bp.hold(s1, target);
  bp.hold(s2, target);
  bp.forget(s2);  // s2 ends while held
  table.retire(s2);
  EXPECT_EQ(target.held_sources, std::vector<uint64_t>{s1.id});
  bp.forget(target);  // the target ends
  EXPECT_FALSE(s1.paused());
}
