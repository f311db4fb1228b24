#include "relay/out_queue.h"

namespace sctprelay::relay {

void OutQueue::push_back(QueuedMessage m) {
  bytes_ += m.data.size();
  items_.push_back(std::move(m));
}

void OutQueue::push_front(QueuedMessage m) {
  bytes_ += m.data.size();
  items_.push_front(std::move(m));
}

void OutQueue::insert_at(std::size_t pos, QueuedMessage m) {
  bytes_ += m.data.size();
  if (pos > items_.size()) pos = items_.size();
  items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(pos), std::move(m));
}

void OutQueue::pop_front() {
  bytes_ -= items_.front().data.size();
  items_.pop_front();
}

std::size_t OutQueue::expire(Clock::time_point now) {
  if (!settings_.ttl) return 0;
  std::size_t n = 0;
  // Messages are in arrival order, except ones the kernel handed back: those went in with their
  // original timestamps at the front, so the oldest are still first.
  while (!items_.empty() && now - items_.front().enqueued > *settings_.ttl) {
    pop_front();
    ++n;
  }
  return n;
}

std::size_t OutQueue::clear() {
  std::size_t n = items_.size();
  items_.clear();
  bytes_ = 0;
  return n;
}

}  // namespace sctprelay::relay
