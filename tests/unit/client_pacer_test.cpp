// `send --rate`'s token bucket (tools/client/pacer.h), driven by made-up times: the schedule, the
// burst, no drift over long runs whatever the wake-up delays, and what a stall costs.
#include "client/pacer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>

namespace sctprelay::client {
namespace {

using namespace std::chrono_literals;
using Clock = Pacer::Clock;
using std::chrono::nanoseconds;

const Clock::time_point kStart = Clock::time_point(100s);

// Sends `n` messages, each at the pacer's time plus what `late` says; returns the last send time.
template <typename Late>
Clock::time_point run(Pacer& pacer, uint64_t n, Late late, Clock::time_point now = kStart) {
  for (uint64_t k = 0; k < n; ++k) {
    const Clock::time_point at = pacer.next(now);
    if (at > now) now = at + late(k);
    EXPECT_LE(pacer.next(now), now);
    pacer.sent(now);
  }
  return now;
}

TEST(ClientPacer, UnpacedLetsEverythingGo) {
  Pacer p(0, 0, kStart);
  EXPECT_FALSE(p.paced());
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(p.next(kStart), kStart);
    p.sent(kStart);
  }
}

TEST(ClientPacer, DefaultBurstIsTenMillisecondsAtLeastOne) {
  EXPECT_EQ(default_burst(0), 1u);
  EXPECT_EQ(default_burst(0.5), 1u);
  EXPECT_EQ(default_burst(150), 1u);
  EXPECT_EQ(default_burst(1000), 10u);
  EXPECT_EQ(default_burst(1e6), 10000u);
  EXPECT_EQ(Pacer(1000, 0, kStart).burst(), 10u);
  EXPECT_EQ(Pacer(1000, 3, kStart).burst(), 3u);
}

TEST(ClientPacer, OneBySlotWithABurstOfOne) {
  Pacer p(10, 1, kStart);  // a slot every 100 ms
  EXPECT_EQ(p.next(kStart), kStart);
  p.sent(kStart);
  for (int k = 1; k <= 5; ++k) {
    const Clock::time_point due = kStart + k * 100ms;
    EXPECT_EQ(p.next(due - 1ms), due) << k;  // asking early changes nothing
    p.sent(due);
  }
}

TEST(ClientPacer, TheFirstBurstGoesAtOnce) {
  Pacer p(1000, 5, kStart);
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(p.next(kStart), kStart) << k;
    p.sent(kStart);
  }
  EXPECT_EQ(p.next(kStart), kStart + 1ms);
  p.sent(kStart + 1ms);
  EXPECT_EQ(p.next(kStart + 1ms), kStart + 2ms);
}

TEST(ClientPacer, CountMessagesTakeCountLessBurstOverRate) {
  // The integration test's lower bound: message k goes no earlier than (k - burst + 1) / rate.
  for (uint64_t burst : {1u, 4u, 25u}) {
    Pacer p(50, burst, kStart);
    const uint64_t n = 200;
    const Clock::time_point last = run(p, n, [](uint64_t) { return 0ns; });
    EXPECT_EQ(last - kStart, static_cast<int64_t>(n - burst) * 20ms) << burst;
  }
}

TEST(ClientPacer, NoDriftOverAMillionMessagesAtAnAwkwardRate) {
  // 3 per second: 333333333.33 ns apart. Adding a rounded interval per message would drift by a
  // third of a nanosecond each time; the schedule is computed from the start instead.
  Pacer p(3, 1, kStart);
  const uint64_t n = 1000000;
  const Clock::time_point last = run(p, n, [](uint64_t) { return 0ns; });
  const auto expected = nanoseconds(static_cast<int64_t>(std::ceil((n - 1) * 1e9L / 3)));
  EXPECT_EQ(last - kStart, expected);
}

TEST(ClientPacer, LateWakeUpsWithinTheBucketLoseNothing) {
  // 1000/s with the default burst (10): the sender wakes up to 5 ms late, at random, every time.
  Pacer p(1000, 0, kStart);
  std::mt19937 random(7);
  std::uniform_int_distribution<int> late_us(0, 5000);
  const uint64_t n = 20000;
  const Clock::time_point last = run(p, n, [&](uint64_t) { return std::chrono::microseconds(late_us(random)); });
  // Exactly on schedule in the long run: the last message's slot is (n - burst) ms after the
  // start, and it went at most one wake-up delay after that.
  const auto slot = kStart + static_cast<int64_t>(n - 10) * 1ms;
  EXPECT_GE(last, slot);
  EXPECT_LE(last, slot + 5ms);
}

TEST(ClientPacer, NeverMoreThanTheBurstBackToBack) {
  Pacer p(100, 3, kStart);
  Clock::time_point now = run(p, 3, [](uint64_t) { return 0ns; });
  EXPECT_EQ(now, kStart);
  // Held up for 2 s (a full send buffer): 200 slots went by, but the bucket holds 3.
  now = kStart + 2s;
  for (int k = 0; k < 3; ++k) {
    EXPECT_LE(p.next(now), now) << k;
    p.sent(now);
  }
  EXPECT_GT(p.next(now), now);
  // And the schedule goes on from the slots that were kept: the next one is the next 10 ms tick.
  EXPECT_EQ(p.next(now), kStart + 2s + 10ms);
}

TEST(ClientPacer, SlowRatesAndLongRuns) {
  Pacer slow(0.5, 1, kStart);
  slow.sent(kStart);
  EXPECT_EQ(slow.next(kStart), kStart + 2s);
  // A rate so low that the next slot is beyond 31 years: far in the future, not an overflow.
  Pacer never(1e-12, 1, kStart);
  never.sent(kStart);
  EXPECT_GT(never.next(kStart), kStart + std::chrono::hours(24 * 365 * 30));
  // The fastest rate: a slot every nanosecond.
  Pacer fast(1e9, 1, kStart);
  fast.sent(kStart);
  EXPECT_EQ(fast.next(kStart), kStart + 1ns);
}

}  // namespace
}  // namespace sctprelay::client
