// Sending: a message goes out with its batch when nothing waits ahead of it, else it waits in its
// target's queue, which drains in order as the association takes more. What a failed send means
// is decided in one place (drop_after_send_error, by send_error.h's classes).
#include <algorithm>

#include "relay/log_text.h"
#include "relay/relay.h"
#include "relay/send_error.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

// One line per target per second at most: a flood must not flood the log too.
bool log_allowed(Association& a) { return once_a_second(a.last_warning); }

constexpr std::size_t kDrainBatch = 64;

}  // namespace

inline void Relay::sent(Association& to, const sctp::OutMessage& m, const Origin& origin) {
  stats_.forwarded++;
  to.traffic.messages_out++;
  to.traffic.bytes_out += m.len;
  to.next_seq = m.info.context + 1;
  if (!to.track_origins || !origin.endpoint_id) return;
  // The return path: a reply on this stream goes back where this message came from.
  const uint16_t stream = m.info.stream;
  if (stream >= to.origins.size()) to.origins.resize(std::size_t(stream) + 1);
  to.origins[stream] = origin;
  if (to.keeps_sent_origins) {
    if (to.sent_origins.empty()) to.sent_origins.resize(Association::kSentOrigins);
    to.sent_origins[m.info.context % Association::kSentOrigins] = {m.info.context, origin};
  }
}

inline void Relay::stage(Association& to, const sctp::MessageInfo& info, Bytes data, Association& from,
                         const Origin& origin) {
  if (to.staged.empty()) staged_targets_.push_back(&to);
  sctp::OutMessage m;
  m.info = info;
  m.info.assoc = to.assoc;
  // Its send sequence, carried as its context: a dying association hands messages back by it,
  // and they go back in that order.
  m.info.context = to.next_seq + static_cast<uint32_t>(to.staged.size());
  m.data = data.data();
  m.len = data.size();
  to.staged.push_back(m);
  to.staged_meta.push_back(StagedMeta{from.id, origin});
}

void Relay::deliver(Association* to, const sctp::MessageInfo& info, Bytes data, Association& from,
                    const Origin& origin, TargetBook* counts) {
  // Nothing waits ahead of it and it fits as it is: it goes out with this batch's sends.
  if (to && to->sends_now() && within_send_buffer(*to, data.size()) &&
      (to->out_streams == 0 || info.stream < to->out_streams)) [[likely]] {
    stage(*to, info, data, from, origin);
    if (counts) counts->handed_on(data.size());
    return;
  }
  deliver_otherwise(to, info, data, from, origin, counts);
}

void Relay::deliver_otherwise(Association* to, const sctp::MessageInfo& info, Bytes data, Association& from,
                              const Origin& origin, TargetBook* counts) {
  std::optional<DropReason> dropped;
  if (!to) {
    drop(&from, DropReason::NoTarget);
    dropped = DropReason::NoTarget;
  } else if (!fits_send_buffer(*to, data.size())) {
    dropped = DropReason::TooBig;
  } else if (to->sends_now()) {
    // Its stream is beyond the association's: mapped (or rejected) first.
    sctp::MessageInfo now = info;
    if (fit_stream(*to, now)) {
      stage(*to, now, data, from, origin);
      if (counts) counts->handed_on(data.size());
      return;
    }
    dropped = DropReason::Stream;
  } else {
    dropped = enqueue(*to, info, data.data(), data.size(), &from, origin);
  }
  if (!counts) return;
  if (dropped)
    counts->drops[static_cast<std::size_t>(*dropped)]++;
  else
    counts->handed_on(data.size());
}

bool Relay::map_stream(Association& to, sctp::MessageInfo& info) {
  if (to.overflow == config::StreamOverflow::Modulo) {
    stats_.stream_mapped++;
    info.stream = static_cast<uint16_t>(info.stream % to.out_streams);
    return true;
  }
  drop(&to, DropReason::Stream);
  if (log_allowed(to))
    LOG_WARN("%s: stream %u beyond its %u streams: message rejected (stream_overflow: reject)", to.label.c_str(),
             info.stream, to.out_streams);
  return false;
}

bool Relay::too_big(Association& to, std::size_t len) {
  drop(&to, DropReason::TooBig);
  if (log_allowed(to))
    LOG_WARN("%s: message of %zu bytes dropped: larger than the association's send buffer (%d bytes; "
             "raise net.core.wmem_max, see 60-sctprelayd.conf)",
             to.label.c_str(), len, to.send_buffer);
  return false;
}

void Relay::flush_staged() {
  // flush_staged(to) never adds targets, and retire() removes its own: iterate by index.
  for (std::size_t i = 0; i < staged_targets_.size(); ++i) flush_staged(*staged_targets_[i]);
  staged_targets_.clear();
}

void Relay::flush_staged(Association& to) {
  const std::size_t n = to.staged.size();
  std::size_t i = 0;
  while (i < n) {
    sctp::SendStatus status;
    std::error_code ec;
    std::size_t count = to.sock().send_batch(to.staged.data() + i, n - i, status, ec);
    for (std::size_t k = i; k < i + count; ++k) sent(to, to.staged[k], to.staged_meta[k].origin);
    i += count;
    if (i == n) break;
    // Message i did not go.
    if (status == sctp::SendStatus::Error && drop_after_send_error(to, ec, to.staged[i].len)) {
      ++i;
      continue;
    }
    // The association is full (or ending, or the host short of buffers): this and the rest of
    // the batch wait in its queue, in order.
    for (; i < n; ++i) {
      sctp::MessageInfo info = to.staged[i].info;
      info.context = 0;
      enqueue(to, info, to.staged[i].data, to.staged[i].len, find(to.staged_meta[i].source), to.staged_meta[i].origin);
    }
  }
  to.staged.clear();
  to.staged_meta.clear();
}


std::optional<DropReason> Relay::enqueue(Association& to, const sctp::MessageInfo& info, const uint8_t* data,
                                         std::size_t len, Association* from, const Origin& origin) {
  const bool backpressure = to.queue.settings().when_full == config::FullPolicy::Backpressure;
  if (!queue_budget_.fits(len)) {
    // Every queue together is at limits.max_queued_bytes: the message cannot wait anywhere. A
    // source that can be held back is (by a queue that will drain and let it go).
    drop(&to, DropReason::QueueMemory);
    if (log_allowed(to))
      LOG_WARN("%s: all queues together hold %zu bytes (limits.max_queued_bytes): dropping", to.label.c_str(),
               queue_budget_.used());
    if (backpressure && from && !to.queue.empty()) hold(*from, to);
    return DropReason::QueueMemory;
  }
  if (to.queue.full()) {
    if (!backpressure) {
      drop(&to, DropReason::QueueFull);
      if (log_allowed(to))
        LOG_WARN("%s: queue full (%zu messages, %zu bytes): dropping", to.label.c_str(), to.queue.size(),
                 to.queue.bytes());
      return DropReason::QueueFull;
    }
    if (from) hold(*from, to);
  } else if (from && backpressure && ((to.up && to.queue.over_soft_limit()) || queue_budget_.past_high_water())) {
    // Up but slow: stop reading its sources now rather than fill the queue (see over_soft_limit);
    // or all queues together are near their budget: keep what can wait in the kernel.
    hold(*from, to);
  }
  to.queue.push_back(info, data, len, Clock::now(), origin);
  stats_.queued++;
  if (to.queue.size() > to.queue_high_water) to.queue_high_water = to.queue.size();
  if (to.sending()) want_write(to);
  return std::nullopt;
}

void Relay::drain(Association& to) {
  while (to.sending() && !to.queue.empty()) {
    // The queue's front goes out in one sendmmsg, as far as streams fit.
    drain_.clear();
    while (drain_.size() < kDrainBatch && drain_.size() < to.queue.size()) {
      QueuedMessage& m = to.queue[drain_.size()];
      sctp::MessageInfo info = m.info;
      if (!fit_stream(to, info)) {
        if (!drain_.empty()) break;  // send what is ahead of it first
        to.queue.pop_front();        // rejected (and counted): gone from the queue
        continue;
      }
      m.info.stream = info.stream;   // mapped once, counted once, even if it has to wait again
      info.assoc = to.assoc;
      info.context = to.next_seq + static_cast<uint32_t>(drain_.size());
      drain_.push_back(sctp::OutMessage{info, m.data.data(), m.data.size()});
    }
    if (drain_.empty()) continue;
    sctp::SendStatus status;
    std::error_code ec;
    std::size_t count = to.sock().send_batch(drain_.data(), drain_.size(), status, ec);
    for (std::size_t k = 0; k < count; ++k) {
      sent(to, drain_[k], to.queue.front().origin);
      to.queue.pop_front();
    }
    if (count == drain_.size()) continue;
    if (status == sctp::SendStatus::WouldBlock) {
      want_write(to);
      break;
    }
    if (!drop_after_send_error(to, ec, drain_[count].len)) break;
    to.queue.pop_front();
  }
  release_if_drained(to);
  if (to.close_when_drained && to.queue.empty()) close_upstream_when_drained(to);
}

bool Relay::drop_after_send_error(Association& to, const std::error_code& ec, std::size_t len) {
  stats_.send_errors++;
  switch (classify_send_error(ec.value())) {
    case SendErrorClass::MessageTooBig:
      drop(&to, DropReason::TooBig);
      if (log_allowed(to))
        LOG_WARN("%s: message of %zu bytes dropped: %s (send buffer %d bytes; raise net.core.wmem_max)",
                 to.label.c_str(), len, ec.message().c_str(), to.send_buffer);
      return true;
    case SendErrorClass::BadMessage:
      drop(&to, DropReason::SendError);
      if (log_allowed(to))
        LOG_WARN("%s: message of %zu bytes refused by the kernel, dropped: %s", to.label.c_str(), len,
                 ec.message().c_str());
      return true;
    case SendErrorClass::RetryLater:
      stats_.send_retries++;
      retry_later(to);
      return false;
    case SendErrorClass::AssociationEnding:
      // The message stays; the association's end comes as a notification on its own socket. One
      // that is held back is read anyway, so its end is seen (check_paused_liveness).
      LOG_INFO("%s: send failed (%s): the association is ending; its messages wait for what comes next",
               to.label.c_str(), ec.message().c_str());
      to.ending = true;
      liveness_timer_->arm(std::chrono::milliseconds(0));
      return false;
    case SendErrorClass::RetryWhenWritable:
      want_write(to);
      return false;
  }
  return false;
}

void Relay::want_write(Association& to) {
  if (!to.io) {  // on its listener's socket: no readiness of its own to wait for
    retry_later(to);
    return;
  }
  if (to.want_write) return;
  to.want_write = true;
  to.update_watch();
}

void Relay::retry_later(Association& to) {
  if (to.retry_later) return;
  to.retry_later = true;
  retry_.push_back(to.id);
  if (!retry_timer_->armed()) retry_timer_->arm(std::chrono::milliseconds(20));
}

void Relay::retry_sends() {
  auto ids = std::move(retry_);
  retry_.clear();
  for (uint64_t id : ids)
    if (Association* a = find(id)) {
      a->retry_later = false;
      drain(*a);
      a->update_watch();
    }
  check_stopped();
}

}  // namespace sctprelay::relay
