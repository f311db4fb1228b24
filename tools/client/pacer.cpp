// The token bucket behind `send --rate` (pacer.h).
#include "pacer.h"

#include <algorithm>
#include <cmath>

namespace sctprelay::client {
namespace {

// Slots further than this from the start (31 years) are "never": it keeps the nanosecond
// arithmetic far from overflowing.
constexpr long double kFarNs = 1e18L;
// A burst this large is no limit at all; it keeps the slot numbers well inside int64_t.
constexpr uint64_t kMaxBurst = uint64_t(1) << 52;

}  // namespace

uint64_t default_burst(double rate) {
  if (!(rate > 0)) return 1;
  return std::clamp<uint64_t>(static_cast<uint64_t>(rate / 100), 1, kMaxBurst);
}

Pacer::Pacer(double rate, uint64_t burst, Clock::time_point start)
    : rate_(rate > 0 ? rate : 0),
      burst_(std::min(burst ? burst : default_burst(rate), kMaxBurst)),
      start_(start),
      next_slot_(1 - static_cast<int64_t>(burst_)) {}

Pacer::Clock::time_point Pacer::slot(int64_t j) const {
  if (j <= 0) return start_;
  const long double ns = std::ceil(static_cast<long double>(j) * 1e9L / rate_);
  return start_ + std::chrono::nanoseconds(static_cast<int64_t>(std::min(ns, kFarNs)));
}

int64_t Pacer::opened(Clock::time_point now) const {
  if (now <= start_) return 0;
  const long double elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
  auto j = static_cast<int64_t>(std::min(std::floor(elapsed * rate_ / 1e9L), kFarNs));
  // The division above may be off by one either way; slot() has the last word.
  while (j > 0 && slot(j) > now) --j;
  while (slot(j + 1) <= now) ++j;
  return j;
}

Pacer::Clock::time_point Pacer::next(Clock::time_point now) const {
  if (!paced()) return now;
  return slot(next_slot_);
}

void Pacer::sent(Clock::time_point now) {
  if (!paced()) return;
  const int64_t last = opened(now);
  // Tokens of slots next_slot_..last are in the bucket; beyond `burst` they overflowed.
  if (last - next_slot_ + 1 > static_cast<int64_t>(burst_)) next_slot_ = last - static_cast<int64_t>(burst_) + 1;
  ++next_slot_;
}

}  // namespace sctprelay::client
