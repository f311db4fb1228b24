#include "relay/redelivery.h"

#include <algorithm>

namespace sctprelay::relay {

void Redelivery::finish(bool complete) {
  if (!building_) return;
  if (complete)
    done_.push_back(std::move(building_->msg));
  else
    ++incomplete_;
  building_.reset();
}

void Redelivery::add(const sctp::SendFailed& piece, Clock::time_point now) {
  const uint32_t seq = piece.info.context;
  // A new message begins: the one being built ended (whole only if its end was seen or unknown).
  if (building_ && (building_->msg.seq != seq || (piece.fragment_flags && piece.first)))
    finish(!building_->marked);
  if (!building_) {
    Building b;
    b.msg.info = piece.info;
    b.msg.info.assoc = 0;
    b.msg.info.context = 0;
    b.msg.seq = seq;
    b.msg.returned = true;
    b.msg.returned_by = piece.assoc;
    b.msg.maybe_delivered = true;
    b.msg.enqueued = now;
    b.marked = piece.fragment_flags;
    b.has_first = !piece.fragment_flags || piece.first;
    building_ = std::move(b);
  }
  Building& b = *building_;
  b.msg.data.insert(b.msg.data.end(), piece.data.begin(), piece.data.end());
  // The peer can only have the message if every piece of it was transmitted.
  if (piece.flags != SCTP_DATA_SENT) b.msg.maybe_delivered = false;
  if (piece.fragment_flags && piece.last) finish(b.has_first);
}

std::vector<QueuedMessage> Redelivery::take() {
  if (building_ && !building_->marked) finish(true);
  std::vector<QueuedMessage> out = std::move(done_);
  done_.clear();
  std::stable_sort(out.begin(), out.end(),
                   [](const QueuedMessage& a, const QueuedMessage& b) { return seq_before(a.seq, b.seq); });
  return out;
}

}  // namespace sctprelay::relay
