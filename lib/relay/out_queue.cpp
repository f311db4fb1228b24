#include "relay/out_queue.h"

#include <algorithm>
#include <utility>

namespace sctprelay::relay {
namespace {
// An empty queue keeps up to this much slot memory for reuse; more is given back.
constexpr std::size_t kRetainSlots = 256;
constexpr std::size_t kRetainBytes = 256 * 1024;
}  // namespace

void OutQueue::grow() {
  std::size_t cap = slots_.empty() ? 8 : slots_.size() * 2;
  std::vector<QueuedMessage> next(cap);
  for (std::size_t i = 0; i < count_; ++i) next[i] = std::move(at(i));
  // Slots beyond the live ones may hold reusable buffers; keep them too.
  for (std::size_t i = count_; i < slots_.size(); ++i) next[i] = std::move(at(i));
  slots_ = std::move(next);
  head_ = 0;
}

void OutQueue::push_back(const sctp::MessageInfo& info, const uint8_t* data, std::size_t len,
                         Clock::time_point when, const Origin& origin) {
  if (count_ == slots_.size()) grow();
  QueuedMessage& slot = at(count_);
  retained_ -= slot.data.capacity();
  slot.info = info;
  slot.data.assign(data, data + len);
  retained_ += slot.data.capacity();
  slot.enqueued = when;
  slot.origin = origin;
  // The slot may have held a message handed back before: this one is new.
  slot.seq = 0;
  slot.returned = false;
  slot.returned_by = 0;
  slot.maybe_delivered = false;
  ++count_;
  bytes_ += len;
  if (bytes_ > recent_peak_) recent_peak_ = bytes_;
  if (budget_) budget_->charge(len);
}

void OutQueue::push_back(QueuedMessage&& m) {
  if (count_ == slots_.size()) grow();
  QueuedMessage& slot = at(count_);
  retained_ -= slot.data.capacity();
  bytes_ += m.data.size();
  if (bytes_ > recent_peak_) recent_peak_ = bytes_;
  if (budget_) budget_->charge(m.data.size());
  slot = std::move(m);
  retained_ += slot.data.capacity();
  ++count_;
}

void OutQueue::insert_at(std::size_t pos, QueuedMessage&& m) {
  if (pos > count_) pos = count_;
  push_back(std::move(m));
  // Rotate the new last element down to `pos` (rare: only for messages the kernel handed back).
  for (std::size_t i = count_ - 1; i > pos; --i) std::swap(at(i), at(i - 1));
}

void OutQueue::put_back(std::vector<QueuedMessage>&& returned) {
  if (returned.empty()) return;
  const sctp_assoc_t by = returned.front().returned_by;
  std::vector<QueuedMessage> front;
  while (count_ > 0 && this->front().returned && this->front().returned_by == by) front.push_back(take_front());
  for (auto& m : returned) front.push_back(std::move(m));
  std::stable_sort(front.begin(), front.end(),
                   [](const QueuedMessage& a, const QueuedMessage& b) { return seq_before(a.seq, b.seq); });
  // Rebuild: the merged returned messages, then what was queued behind them.
  std::vector<QueuedMessage> rest;
  rest.reserve(count_);
  while (count_ > 0) rest.push_back(take_front());
  for (auto& m : front) push_back(std::move(m));
  for (auto& m : rest) push_back(std::move(m));
}

QueuedMessage OutQueue::take_front() {
  QueuedMessage m = std::move(front());
  bytes_ -= m.data.size();
  if (budget_) budget_->release(m.data.size());
  retained_ -= m.data.capacity();
  pop_front();
  return m;
}

void OutQueue::pop_front() {
  QueuedMessage& m = slots_[head_];
  bytes_ -= m.data.size();
  if (budget_) budget_->release(m.data.size());
  head_ = (head_ + 1) % slots_.size();
  --count_;
  if (count_ == 0) release_if_idle();
}

void OutQueue::trim() {
  const std::size_t allowance = std::max(kRetainBytes, recent_peak_);
  recent_peak_ = bytes_;
  // Spare slots are those past the live ones; the oldest spare (right after the tail) is the
  // next to be reused, so buffers go from the far end first.
  for (std::size_t i = slots_.size(); i > count_ && retained_ - bytes_ > allowance; --i) {
    QueuedMessage& spare = at(i - 1);
    retained_ -= spare.data.capacity();
    std::vector<uint8_t>().swap(spare.data);
  }
}

void OutQueue::release_if_idle() {
  head_ = 0;
  if (slots_.size() > kRetainSlots || retained_ > kRetainBytes) {
    std::vector<QueuedMessage>().swap(slots_);
    retained_ = 0;
  }
}

std::size_t OutQueue::expire(Clock::time_point now) {
  if (!settings_.ttl) return 0;
  std::size_t n = 0;
  // Messages are in arrival order, so expiry stops at the first young one. Messages the kernel
  // handed back go in at the front stamped when they came back, which can delay the expiry of
  // those behind them by at most their own TTL.
  while (count_ > 0 && now - front().enqueued > *settings_.ttl) {
    pop_front();
    ++n;
  }
  return n;
}

}  // namespace sctprelay::relay
