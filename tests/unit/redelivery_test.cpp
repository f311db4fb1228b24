// Messages a dying association hands back: rebuilt whole from per-chunk pieces, put back in send
// order ahead of what was never sent; what a failed send means.
#include <gtest/gtest.h>

#include "relay/out_queue.h"
#include "relay/redelivery.h"
#include "relay/send_error.h"

using namespace sctprelay;
using relay::Clock;
using relay::OutQueue;
using relay::QueuedMessage;
using relay::Redelivery;

namespace {

// One handed-back piece of message `seq`, as the kernel reports a DATA chunk.
sctp::SendFailed piece(uint32_t seq, const std::string& bytes, bool first, bool last, bool sent = true,
                       uint16_t stream = 3) {
  sctp::SendFailed f{};
  f.assoc = 7;
  f.flags = sent ? SCTP_DATA_SENT : SCTP_DATA_UNSENT;
  f.info.stream = stream;
  f.info.ppid = 46;
  f.info.context = seq;
  f.data.assign(bytes.begin(), bytes.end());
  f.first = first;
  f.last = last;
  f.fragment_flags = true;
  return f;
}

std::string text(const QueuedMessage& m) { return std::string(m.data.begin(), m.data.end()); }

QueuedMessage queued(const std::string& t) {
  QueuedMessage m;
  m.data.assign(t.begin(), t.end());
  return m;
}

}  // namespace

TEST(Redelivery, PiecesOfOneMessageBecomeOneMessage) {
  Redelivery r;
  auto now = Clock::now();
  r.add(piece(5, "abc", true, false), now);
  r.add(piece(5, "def", false, false), now);
  r.add(piece(5, "gh", false, true), now);
  auto out = r.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(text(out[0]), "abcdefgh");
  EXPECT_EQ(out[0].seq, 5u);
  EXPECT_EQ(out[0].info.stream, 3);
  EXPECT_EQ(out[0].info.ppid, 46u);
  EXPECT_EQ(out[0].info.context, 0u);
  EXPECT_TRUE(out[0].returned);
  EXPECT_TRUE(out[0].maybe_delivered);
  EXPECT_EQ(r.take_incomplete(), 0u);
}

TEST(Redelivery, MessagesComeBackInSendOrderWhateverOrderTheyWereHandedBackIn) {
  Redelivery r;
  auto now = Clock::now();
  r.add(piece(9, "nine", true, true), now);
  r.add(piece(7, "sev", true, false), now);
  r.add(piece(7, "en", false, true), now);
  r.add(piece(8, "eight", true, true), now);
  auto out = r.take();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(text(out[0]), "seven");
  EXPECT_EQ(text(out[1]), "eight");
  EXPECT_EQ(text(out[2]), "nine");
}

TEST(Redelivery, SequenceNumbersThatWrapStillSortInSendOrder) {
  Redelivery r;
  auto now = Clock::now();
  r.add(piece(2, "after", true, true), now);
  r.add(piece(0xfffffffeu, "before", true, true), now);
  auto out = r.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(text(out[0]), "before");
  EXPECT_EQ(text(out[1]), "after");
}

TEST(Redelivery, AMessageWithAnUnsentPieceCannotHaveReachedThePeer) {
  Redelivery r;
  auto now = Clock::now();
  r.add(piece(1, "ab", true, false, true), now);
  r.add(piece(1, "cd", false, true, false), now);
  r.add(piece(2, "ef", true, true, false), now);
  auto out = r.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].maybe_delivered);
  EXPECT_FALSE(out[1].maybe_delivered);
}

TEST(Redelivery, APieceWithoutItsMessageIsNeverResentAsAMessage) {
  Redelivery r;
  auto now = Clock::now();
  r.add(piece(1, "middle", false, false), now);  // its first piece never came back
  r.add(piece(1, "end", false, true), now);
  r.add(piece(2, "whole", true, true), now);
  r.add(piece(3, "start", true, false), now);    // its end has not come (yet)
  auto out = r.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(text(out[0]), "whole");
  EXPECT_EQ(r.take_incomplete(), 1u);
  // The end of message 3 arrives later: it completes.
  r.add(piece(3, "-end", false, true), now);
  out = r.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(text(out[0]), "start-end");
}

TEST(Redelivery, WithoutFragmentFlagsAMessageEndsWhereTheNextBegins) {
  Redelivery r;
  auto now = Clock::now();
  auto a = piece(4, "x", false, false);
  a.fragment_flags = false;
  auto b = piece(4, "y", false, false);
  b.fragment_flags = false;
  auto c = piece(5, "z", false, false);
  c.fragment_flags = false;
  r.add(a, now);
  r.add(b, now);
  r.add(c, now);
  auto out = r.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(text(out[0]), "xy");
  EXPECT_EQ(text(out[1]), "z");
}

TEST(OutQueuePutBack, ReturnedMessagesGoAheadOfUnsentOnesMergedBySequence) {
  OutQueue q;
  q.push_back(queued("new-1"));
  q.push_back(queued("new-2"));
  std::vector<QueuedMessage> first;
  for (uint32_t s : {10u, 12u}) {
    QueuedMessage m = queued("old-" + std::to_string(s));
    m.seq = s;
    m.returned = true;
    first.push_back(std::move(m));
  }
  q.put_back(std::move(first));
  std::vector<QueuedMessage> later;
  QueuedMessage m = queued("old-11");
  m.seq = 11;
  m.returned = true;
  later.push_back(std::move(m));
  q.put_back(std::move(later));
  std::vector<std::string> order;
  while (!q.empty()) {
    order.push_back(text(q.front()));
    q.pop_front();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"old-10", "old-11", "old-12", "new-1", "new-2"}));
}

TEST(SendErrorClass, EachErrorMeansWhatItShould) {
  using relay::SendErrorClass;
  using relay::classify_send_error;
  EXPECT_EQ(classify_send_error(EAGAIN), SendErrorClass::RetryWhenWritable);
  EXPECT_EQ(classify_send_error(ENOBUFS), SendErrorClass::RetryLater);
  EXPECT_EQ(classify_send_error(ENOMEM), SendErrorClass::RetryLater);
  EXPECT_EQ(classify_send_error(EMSGSIZE), SendErrorClass::MessageTooBig);
  EXPECT_EQ(classify_send_error(EINVAL), SendErrorClass::BadMessage);
  for (int e : {EPIPE, ENOTCONN, ESHUTDOWN, ECONNRESET})
    EXPECT_EQ(classify_send_error(e), SendErrorClass::AssociationEnding) << e;
}
