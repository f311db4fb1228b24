// sctprelay-client's once-a-second progress lines (tools/client/progress.h), with made-up times.
#include "client/progress.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sctprelay::client {
namespace {

using namespace std::chrono_literals;
using Clock = ProgressMeter::Clock;

const Clock::time_point kStart = Clock::time_point(50s);

TEST(ClientProgress, OneLineASecondWithTheIntervalsRate) {
  ProgressMeter m(kStart);
  EXPECT_EQ(m.next(), kStart + 1s);
  EXPECT_FALSE(m.tick(kStart + 999ms, 999, 99900));
  auto first = m.tick(kStart + 1s, 1000, 100000);
  ASSERT_TRUE(first);
  EXPECT_DOUBLE_EQ(first->elapsed_s, 1.0);
  EXPECT_EQ(first->messages, 1000u);
  EXPECT_DOUBLE_EQ(first->per_second, 1000);
  EXPECT_DOUBLE_EQ(first->mb_per_second, 0.1);
  EXPECT_EQ(m.next(), kStart + 2s);
  EXPECT_FALSE(m.tick(kStart + 1500ms, 1500, 150000));
  // The second interval counts only its own messages.
  auto second = m.tick(kStart + 2s, 1500, 150000);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->messages, 500u);
  EXPECT_DOUBLE_EQ(second->per_second, 500);
}

TEST(ClientProgress, ALateCallerGetsOneLineAndTheTicksStayOnWholeSeconds) {
  ProgressMeter m(kStart);
  auto late = m.tick(kStart + 3500ms, 7000, 0);
  ASSERT_TRUE(late);
  EXPECT_DOUBLE_EQ(late->elapsed_s, 3.5);
  EXPECT_DOUBLE_EQ(late->per_second, 2000);  // over the 3.5 s since the previous line
  EXPECT_EQ(m.next(), kStart + 4s);
  EXPECT_FALSE(m.tick(kStart + 3900ms, 7000, 0));
  EXPECT_TRUE(m.tick(kStart + 4s + 2ms, 7000, 0));
  EXPECT_EQ(m.next(), kStart + 5s);
}

TEST(ClientProgress, LinesLookLikeIperfIntervals) {
  Interval i;
  i.elapsed_s = 3.0;
  i.messages = 1000;
  i.per_second = 1000;
  i.mb_per_second = 0.1;
  EXPECT_EQ(send_progress_line(i, 3000, 2990), "[  3.0 s] sent 3000 (1000/s, 0.10 MB/s) replies 2990");
  EXPECT_EQ(listen_progress_line(i, 3000), "[  3.0 s] received 3000 (1000/s, 0.10 MB/s)");
  i.elapsed_s = 1234.56;
  i.per_second = 0.4;
  EXPECT_EQ(listen_progress_line(i, 7), "[1234.6 s] received 7 (0.4/s, 0.10 MB/s)");
}

TEST(ClientProgress, OnAndOffAreAsGiven) {
  EXPECT_TRUE(progress_wanted(ProgressMode::On, false));
  EXPECT_FALSE(progress_wanted(ProgressMode::Off, true));
  EXPECT_FALSE(progress_wanted(ProgressMode::Auto, false));  // listen: only when asked
}

}  // namespace
}  // namespace sctprelay::client
