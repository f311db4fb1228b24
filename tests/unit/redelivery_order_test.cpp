// Messages handed back more than once (a destination that fails again before its queue drained),
// and queue slots that held a handed-back message before: the send order survives both.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "relay/out_queue.h"

using namespace sctprelay;
using relay::OutQueue;
using relay::QueuedMessage;

namespace {

std::string text(const QueuedMessage& m) { return std::string(m.data.begin(), m.data.end()); }

QueuedMessage handed_back(const std::string& t, uint32_t seq, sctp_assoc_t by) {
  QueuedMessage m;
  m.data.assign(t.begin(), t.end());
  m.seq = seq;
  m.returned = true;
  m.returned_by = by;
  return m;
}

void push_new(OutQueue& q, const std::string& t) {
  sctp::MessageInfo info;
  q.push_back(info, reinterpret_cast<const uint8_t*>(t.data()), t.size(), relay::Clock::now(), {});
}

std::vector<std::string> drain(OutQueue& q) {
  std::vector<std::string> order;
  while (!q.empty()) {
    order.push_back(text(q.front()));
    q.pop_front();
  }
  return order;
}

}  // namespace

// Association 1 hands back m1, m2, m3 (send sequence 10-12). Association 2 sends m1 again (sequence
// 20) and ends before it is acknowledged: m1 comes back with a newer sequence than m2 and m3, which
// still wait, but it was sent before them and must stay ahead of them.
TEST(OutQueuePutBack, AMessageHandedBackAgainStaysAheadOfOlderOnesStillWaiting) {
  OutQueue q;
  push_new(q, "m4");
  std::vector<QueuedMessage> first;
  for (uint32_t s : {12u, 10u, 11u}) first.push_back(handed_back("m" + std::to_string(s - 9), s, 1));
  q.put_back(std::move(first));
  ASSERT_EQ(text(q.front()), "m1");
  q.pop_front();  // sent again on association 2, as sequence 20

  std::vector<QueuedMessage> again;
  again.push_back(handed_back("m1", 20, 2));
  q.put_back(std::move(again));
  EXPECT_EQ(drain(q), (std::vector<std::string>{"m1", "m2", "m3", "m4"}));
}

// A message queued in a slot that last held a handed-back one is new: a later hand-back must not
// take it for one of its own and sort it by the old sequence number.
TEST(OutQueuePutBack, ANewMessageInAReusedSlotIsNotTakenForAHandedBackOne) {
  OutQueue q;
  std::vector<QueuedMessage> first;
  first.push_back(handed_back("old", 5, 1));
  q.put_back(std::move(first));
  q.pop_front();        // sent again; the slot keeps what it held
  push_new(q, "new");   // into the same slot
  std::vector<QueuedMessage> later;
  later.push_back(handed_back("back", 9, 1));
  q.put_back(std::move(later));
  EXPECT_EQ(drain(q), (std::vector<std::string>{"back", "new"}));
}

// Putting messages back moves the whole queue around: each message's bytes are counted once, in
// the queue and in the budget all queues share, and an emptied queue holds none (else a queue that
// drained would never look drained, and the sources it holds back would never be read again).
TEST(OutQueuePutBack, BytesAreCountedOnceAcrossPutBacks) {
  relay::QueueBudget budget;
  OutQueue q;
  q.set_budget(&budget);
  push_new(q, "12345");
  std::vector<QueuedMessage> first;
  first.push_back(handed_back("abc", 1, 1));
  q.put_back(std::move(first));
  EXPECT_EQ(q.bytes(), 8u);
  std::vector<QueuedMessage> second;
  second.push_back(handed_back("de", 2, 1));
  q.put_back(std::move(second));
  EXPECT_EQ(q.bytes(), 10u);
  EXPECT_EQ(budget.used(), 10u);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"abc", "de", "12345"}));
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_TRUE(q.below_low_water());
}
