#include "relay/out_queue.h"

#include <gtest/gtest.h>

using namespace sctprelay;
using relay::Clock;
using relay::OutQueue;
using relay::QueuedMessage;

namespace {

QueuedMessage msg(const std::string& text, Clock::time_point at = Clock::now()) {
  QueuedMessage m;
  m.data.assign(text.begin(), text.end());
  m.enqueued = at;
  return m;
}

std::string front_text(OutQueue& q) { return std::string(q.front().data.begin(), q.front().data.end()); }

}  // namespace

TEST(OutQueue, KeepsOrderAndCountsBytes) {
  OutQueue q;
  q.push_back(msg("one"));
  q.push_back(msg("three"));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.bytes(), 8u);
  EXPECT_EQ(front_text(q), "one");
  q.pop_front();
  EXPECT_EQ(front_text(q), "three");
  EXPECT_EQ(q.bytes(), 5u);
}

TEST(OutQueue, FullAtEitherLimitAndLowWaterAtHalf) {
  config::QueueSettings s;
  s.max_messages = 4;
  s.max_bytes = 100;
  OutQueue q(s);
  for (int i = 0; i < 3; ++i) q.push_back(msg("x"));
  EXPECT_FALSE(q.full());
  q.push_back(msg("x"));
  EXPECT_TRUE(q.full());
  EXPECT_FALSE(q.below_low_water());
  q.pop_front();
  q.pop_front();
  EXPECT_TRUE(q.below_low_water());

  OutQueue by_bytes(s);
  by_bytes.push_back(msg(std::string(100, 'b')));
  EXPECT_TRUE(by_bytes.full());
}

TEST(OutQueue, MessagesHandedBackGoAheadOfLaterOnesInTheirOwnOrder) {
  OutQueue q;
  q.push_back(msg("later1"));
  q.push_back(msg("later2"));
  q.insert_at(0, msg("back1"));
  q.insert_at(1, msg("back2"));
  std::vector<std::string> order;
  while (!q.empty()) {
    order.push_back(front_text(q));
    q.pop_front();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"back1", "back2", "later1", "later2"}));
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(OutQueue, ExpireDropsOnlyMessagesOlderThanTheTtlFromTheFront) {
  config::QueueSettings s;
  s.ttl = std::chrono::milliseconds(100);
  OutQueue q(s);
  auto t0 = Clock::now();
  q.push_back(msg("old", t0));
  q.push_back(msg("older-but-later", t0 + std::chrono::milliseconds(50)));
  q.push_back(msg("new", t0 + std::chrono::milliseconds(200)));
  EXPECT_EQ(q.expire(t0 + std::chrono::milliseconds(160)), 2u);
  EXPECT_EQ(front_text(q), "new");
  EXPECT_EQ(q.bytes(), 3u);

  OutQueue forever;  // no ttl: nothing expires
  forever.push_back(msg("a", t0));
  EXPECT_EQ(forever.expire(t0 + std::chrono::hours(1)), 0u);
}

TEST(OutQueue, WrapsAroundAndGrowsWithoutLosingOrder) {
  OutQueue q;
  int next_in = 0, next_out = 0;
  // Interleave pushes and pops so the ring wraps many times while growing from 8 slots.
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < round % 13 + 1; ++k) {
      std::string s = std::to_string(next_in++);
      q.push_back(sctp::MessageInfo{}, reinterpret_cast<const uint8_t*>(s.data()), s.size(), Clock::now(), {});
    }
    for (int k = 0; k < round % 7 && !q.empty(); ++k) {
      ASSERT_EQ(front_text(q), std::to_string(next_out++));
      q.pop_front();
    }
  }
  while (!q.empty()) {
    ASSERT_EQ(front_text(q), std::to_string(next_out++));
    q.pop_front();
  }
  EXPECT_EQ(next_in, next_out);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(OutQueue, HandedBackMessagesKeepTheirPlaceAfterTheRingWrapped) {
  OutQueue q;
  for (int i = 0; i < 6; ++i) q.push_back(msg("x" + std::to_string(i)));
  for (int i = 0; i < 5; ++i) q.pop_front();  // head now near the end of the 8-slot ring
  q.push_back(msg("y0"));
  q.push_back(msg("y1"));
  q.push_back(msg("y2"));
  q.insert_at(0, msg("back0"));
  q.insert_at(1, msg("back1"));
  std::vector<std::string> order;
  while (!q.empty()) {
    order.push_back(front_text(q));
    q.pop_front();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"back0", "back1", "x5", "y0", "y1", "y2"}));
}
