// The memory all queues may hold together (limits.max_queued_bytes): every OutQueue charges the
// bytes of the messages it holds here, so one number says how much the relay keeps waiting, and
// a flood towards slow targets cannot take more than the budget, however many queues it fills.
#pragma once

#include <cstddef>

namespace sctprelay::relay {

class QueueBudget {
 public:
  explicit QueueBudget(std::size_t limit = 0) : limit_(limit) {}
  QueueBudget(const QueueBudget&) = delete;
  QueueBudget& operator=(const QueueBudget&) = delete;

  void set_limit(std::size_t limit) { limit_ = limit; }
  std::size_t limit() const { return limit_; }
  std::size_t used() const { return used_; }
  std::size_t peak() const { return peak_; }

  // Whether `len` more bytes stay within the budget (0: no budget).
  bool fits(std::size_t len) const { return limit_ == 0 || used_ + len <= limit_; }
  // Past three quarters of it: sources that can wait (backpressure) are held back, so messages
  // are dropped only when those that cannot wait fill the rest.
  bool past_high_water() const { return limit_ != 0 && used_ >= limit_ / 4 * 3; }

  void charge(std::size_t len) {
    used_ += len;
    if (used_ > peak_) peak_ = used_;
  }
  void release(std::size_t len) { used_ -= len; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace sctprelay::relay
