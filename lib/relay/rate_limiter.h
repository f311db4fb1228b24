// A token bucket for one association's inbound messages (listeners[].rate): `burst` messages may
// come at once, and on average no more than `messages_per_second`. Each message read takes a
// token, even when that leaves the bucket in debt (a batch already read is still forwarded); an
// association in debt is not read until its tokens are back to one, so over any long stretch it
// is read at the configured rate exactly.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "config/config.h"

namespace sctprelay::relay {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(const config::RateLimit& rate, Clock::time_point now)
      : per_second_(rate.messages_per_second), burst_(rate.burst), tokens_(rate.burst), last_(now) {}

  // The rate changed (a reload): keeps the tokens it has, within the new burst.
  void set_rate(const config::RateLimit& rate) {
    per_second_ = rate.messages_per_second;
    burst_ = rate.burst;
    tokens_ = std::min(tokens_, static_cast<double>(burst_));
  }

  // One message was read. True while the association may go on being read.
  bool take(Clock::time_point now) {
    refill(now);
    tokens_ -= 1;
    return tokens_ >= 1;
  }

  // How long until a message may be read again (zero: now).
  Clock::duration wait(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 1) return Clock::duration::zero();
    const double seconds = (1 - tokens_) / per_second_;
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) +
           Clock::duration(1);
  }

 private:
  void refill(Clock::time_point now) {
    if (now <= last_) return;
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * per_second_);
    last_ = now;
  }

  double per_second_;
  uint32_t burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace sctprelay::relay
