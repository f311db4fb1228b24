// `send --rate`: a token bucket that paces messages on a fixed schedule. It reads no clock: every
// call is given the time, so tests drive it with made-up times.
//
// Slot j (j = 1, 2, ...) opens at start + j/rate; the bucket starts with `burst` tokens and holds
// at most `burst`. Each message takes one token. Because the slot times are computed from the
// start, never added up message by message, and a sender that wakes late within a slot (or within
// `burst` slots) loses nothing, the long-run rate is exactly `rate`: message k (counting from 0) goes
// no earlier than start + (k - burst + 1)/rate, and n messages take (n - burst)/rate. Only a sender
// held up for longer than the bucket covers (a full send buffer) loses the slots that overflowed,
// as a token bucket does, so it never sends more than `burst` messages back to back.
#pragma once

#include <chrono>
#include <cstdint>

namespace sctprelay::client {

// The default --burst: 10 ms worth of messages at `rate`, at least 1. That absorbs the timer and
// scheduling delays of the wait loop without losing slots.
uint64_t default_burst(double rate);

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0: no pacing (every message may go at once). burst 0: default_burst(rate).
  Pacer(double rate, uint64_t burst, Clock::time_point start);

  bool paced() const { return rate_ > 0; }
  // When the next message may go: at once (a time <= now) or in the future.
  Clock::time_point next(Clock::time_point now) const;
  // Takes a token for a message sent at `now` (call it when next(now) <= now).
  void sent(Clock::time_point now);

  uint64_t burst() const { return burst_; }

 private:
  // Start of slot j, saturated far in the future rather than overflowing.
  Clock::time_point slot(int64_t j) const;
  // The last slot opened by `now` (0 before the first).
  int64_t opened(Clock::time_point now) const;

  double rate_;
  uint64_t burst_;
  Clock::time_point start_;
  // The slot the next token belongs to; tokens of slots <= 0 are the initial bucket.
  int64_t next_slot_;
};

}  // namespace sctprelay::client
