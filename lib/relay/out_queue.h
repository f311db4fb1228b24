// A bounded FIFO of messages waiting for one association, with byte/message accounting and
// time-to-live expiry from the front. Never blocks, never reorders.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "config/config.h"
#include "relay/queue_budget.h"
#include "sctp/socket.h"

namespace sctprelay::relay {

using Clock = std::chrono::steady_clock;

// Where a message came from, so a reply to it can be returned (destinations with return: origin).
struct Origin {
  uint64_t endpoint_id = 0;       // 0: none
  uint16_t stream = 0;            // the stream it arrived on
  bool restore_ppid = false;      // a route rewrote the PPID: the reply gets the original back
  uint32_t ppid = 0;
};

struct QueuedMessage {
  sctp::MessageInfo info;  // stream/ppid/flags as they will be sent (assoc filled at send time)
  std::vector<uint8_t> data;
  Clock::time_point enqueued;
  Origin origin;
  // Messages a dying association handed back (SEND_FAILED), put back ahead of the rest:
  uint32_t seq = 0;              // the send sequence number it went out with (send order)
  bool returned = false;
  sctp_assoc_t returned_by = 0;  // the association that handed it back
  bool maybe_delivered = false;  // every piece had been transmitted: the peer may have it already
};

// Serial-number order of 32-bit send sequence numbers (they wrap).
inline bool seq_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// Messages live in a ring of slots that keep their buffers when popped, so a queue in steady use
// allocates nothing per message. Spare buffers beyond what it held lately go back on trim() (the
// relay calls it once a second), and an emptied queue that grew large gives back the rest.
class OutQueue {
 public:
  explicit OutQueue(const config::QueueSettings& s = {}) : settings_(s) {}
  ~OutQueue() {
    if (budget_) budget_->release(bytes_);
  }
  OutQueue(const OutQueue&) = delete;
  OutQueue& operator=(const OutQueue&) = delete;

  // The shared budget its messages are charged to (it must outlive the queue); none by default.
  void set_budget(QueueBudget* budget) {
    if (budget_) budget_->release(bytes_);
    budget_ = budget;
    if (budget_) budget_->charge(bytes_);
  }

  void set_settings(const config::QueueSettings& s) { settings_ = s; }
  const config::QueueSettings& settings() const { return settings_; }

  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t retained_bytes() const { return retained_; }  // buffer capacity kept, for reuse or in use

  // At or over its message or byte limit.
  bool full() const { return count_ >= settings_.max_messages || bytes_ >= settings_.max_bytes; }
  // Below half of both limits: where a backpressured source may read again.
  bool below_low_water() const {
    return count_ <= settings_.max_messages / 2 && bytes_ <= settings_.max_bytes / 2;
  }
  // For an association that is up but slower than its sources: past this, keeping data in the
  // kernel (where SCTP's own flow control slows the sender) beats copying it into the queue.
  bool over_soft_limit() const { return count_ >= kSoftMessages || bytes_ >= kSoftBytes; }
  bool below_soft_low_water() const { return count_ <= kSoftMessages / 2 && bytes_ <= kSoftBytes / 2; }
  static constexpr std::size_t kSoftMessages = 128;
  static constexpr std::size_t kSoftBytes = 1u << 20;

  // Copies the message into the next slot (reusing that slot's buffer).
  void push_back(const sctp::MessageInfo& info, const uint8_t* data, std::size_t len, Clock::time_point at,
                 const Origin& origin);
  void push_back(QueuedMessage&& m);
  // Insert at position `pos` from the front.
  void insert_at(std::size_t pos, QueuedMessage&& m);
  // Puts messages handed back by the kernel in front of everything not yet sent, merged by send
  // sequence with those the same association handed back before (they come back in teardown order,
  // not send order). All of `returned` come from one association. Messages an earlier association
  // handed back that still wait stay behind them: these went out again from the front of the queue,
  // ahead of those, on the association that handed them back now (with newer sequence numbers).
  void put_back(std::vector<QueuedMessage>&& returned);
  // Gives back spare buffers beyond the most the queue held since the last trim (at least
  // kRetainBytes' worth stay): a queue that drained after a flood returns its memory within two
  // trims, while one in steady use keeps what it reuses.
  void trim();
  QueuedMessage& front() { return slots_[head_]; }
  QueuedMessage& operator[](std::size_t i) { return at(i); }
  void pop_front();

  // Drops messages older than the TTL from the front; returns how many.
  std::size_t expire(Clock::time_point now);

 private:
  QueuedMessage& at(std::size_t i) { return slots_[(head_ + i) % slots_.size()]; }
  // Moves the front message out and pops it, its bytes and buffer accounted for as it leaves
  // (pop_front() alone would see the moved-from, empty slot).
  QueuedMessage take_front();
  void grow();
  void release_if_idle();

  config::QueueSettings settings_;
  std::vector<QueuedMessage> slots_;  // ring; size() is the capacity
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  std::size_t retained_ = 0;          // buffer capacity held by the slots
  std::size_t recent_peak_ = 0;       // the most bytes held since the last trim()
  QueueBudget* budget_ = nullptr;
};

}  // namespace sctprelay::relay
