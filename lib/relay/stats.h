// Counters the relay keeps: what came in, where it went, what was dropped and why.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace sctprelay::relay {

// Why a message was not forwarded, counted where it happened: on the association it was read from
// (no_route, oversize, reassembly, refused) or the one it was meant for (the rest).
enum class DropReason : uint8_t {
  NoRoute,       // no route matched and the default drops
  QueueFull,     // the target's queue was full with when_full: drop
  Ttl,           // waited in a queue longer than its ttl
  Oversize,      // larger than limits.max_message_size
  Reassembly,    // would have taken partial messages beyond limits.max_reassembly_bytes
  Stream,        // stream beyond the target's streams with stream_overflow: reject
  NoTarget,      // the target had no association to carry it
  AssocGone,     // queued for an association that went away
  Removed,       // queued for an association a reload removed
  TooBig,        // larger than the target's send buffer
  SendError,     // refused by the kernel for this message alone
  Incomplete,    // handed back by a dying association without all its pieces
  Refused,       // read from an association admission refused
  QueueMemory,   // would have taken all queues beyond limits.max_queued_bytes
  Stopped,       // still queued when the daemon stopped (limits.shutdown_drain ran out)
  Count
};
constexpr std::size_t kDropReasons = static_cast<std::size_t>(DropReason::Count);
// "no_route", "queue_full", ... (the names of Stats' dropped_* fields without the prefix).
const char* drop_reason_name(DropReason r);

struct Stats {
  uint64_t received = 0;           // messages read from any association
  uint64_t forwarded = 0;          // copies handed to the kernel for a target
  uint64_t queued = 0;             // copies that had to wait in a queue
  uint64_t dropped_no_route = 0;   // no route and default drop
  uint64_t dropped_queue_full = 0; // queue full with when_full: drop
  uint64_t dropped_ttl = 0;        // expired in a queue
  uint64_t dropped_oversize = 0;   // larger than limits.max_message_size, oversize: drop (or from a destination)
  uint64_t oversize_aborted = 0;   // associations ABORTed for such a message (oversize: abort)
  uint64_t dropped_reassembly = 0; // would have taken partial messages beyond limits.max_reassembly_bytes
  uint64_t dropped_stream = 0;     // stream beyond the target's streams with stream_overflow: reject
  uint64_t dropped_no_target = 0;  // target had no association to carry it (empty group, gone origin)
  uint64_t dropped_assoc_gone = 0; // queued for an accepted association that went away
  uint64_t dropped_removed = 0;    // queued for a listener's or destination's association a reload removed
  uint64_t dropped_too_big = 0;    // larger than the target socket's send buffer (EMSGSIZE)
  uint64_t dropped_send_error = 0; // refused by the kernel for this message alone (e.g. EINVAL)
  uint64_t dropped_incomplete = 0; // handed back by a dying association without all its pieces
  uint64_t stream_mapped = 0;      // stream beyond the target's streams, mapped modulo
  uint64_t requeued = 0;           // handed back by the kernel (SEND_FAILED), rebuilt whole, queued again
  uint64_t redelivered_maybe_duplicate = 0;  // of those: every piece had been sent, the peer may have it
  uint64_t replies_no_owner = 0;   // return: origin replies with no living association to go back to
  uint64_t send_errors = 0;        // failed sends of any kind (each also counted by its outcome)
  uint64_t send_retries = 0;       // sends put off because the host was short of buffers (ENOBUFS)
  uint64_t assoc_up = 0;
  uint64_t assoc_down_shutdown = 0;
  uint64_t assoc_down_abort = 0;   // COMM_LOST: ABORT received or path failure
  uint64_t assoc_restart = 0;
  uint64_t backpressure_pauses = 0;
  uint64_t refused_not_allowed = 0;     // associations ABORTed: a peer address outside listeners[].allow
  uint64_t refused_max_associations = 0;// associations ABORTed: listeners[].max_associations reached
  uint64_t dropped_refused = 0;         // messages of refused associations (never forwarded)
  uint64_t rate_limited = 0;            // times an association was paused for its listener's rate
  uint64_t dropped_queue_memory = 0;    // would have taken all queues beyond limits.max_queued_bytes
  uint64_t dropped_stopped = 0;         // still queued when the daemon stopped (shutdown_drain ran out)
  // Gauges, filled in when the counters are read (Relay::stats()).
  uint64_t queued_bytes = 0;            // in every queue now
  uint64_t queued_bytes_peak = 0;       // the most at any time since start

  // The dropped_* counter of a reason.
  uint64_t& dropped(DropReason r);
  uint64_t dropped(DropReason r) const { return const_cast<Stats*>(this)->dropped(r); }
  uint64_t dropped_total() const;  // every reason together
  std::string to_string() const;
  // Adds another's counters (the workers' into the daemon's).
  void add(const Stats& other);

  // Every field by name, in the order of the counters line, the JSON and the metrics.
  struct Field {
    const char* name;
    uint64_t Stats::*member;
  };
  static constexpr std::size_t kFieldCount = 35;
  static const std::array<Field, kFieldCount> kFields;
};

}  // namespace sctprelay::relay
