// Counters the relay keeps: what came in, where it went, what was dropped and why.
#pragma once

#include <cstdint>
#include <string>

namespace sctprelay::relay {

struct Stats {
  uint64_t received = 0;           // messages read from any association
  uint64_t forwarded = 0;          // copies handed to the kernel for a target
  uint64_t queued = 0;             // copies that had to wait in a queue
  uint64_t dropped_no_route = 0;   // no route and default drop
  uint64_t dropped_queue_full = 0; // queue full with when_full: drop
  uint64_t dropped_ttl = 0;        // expired in a queue
  uint64_t dropped_oversize = 0;   // larger than limits.max_message_size
  uint64_t dropped_stream = 0;     // stream beyond the target's streams with stream_overflow: reject
  uint64_t dropped_no_target = 0;  // target had no association to carry it (empty group, gone origin)
  uint64_t dropped_assoc_gone = 0; // queued for an accepted association that went away
  uint64_t stream_mapped = 0;      // stream beyond the target's streams, mapped modulo
  uint64_t requeued = 0;           // handed back by the kernel (SEND_FAILED) and queued again
  uint64_t send_errors = 0;
  uint64_t assoc_up = 0;
  uint64_t assoc_down_shutdown = 0;
  uint64_t assoc_down_abort = 0;   // COMM_LOST: ABORT received or path failure
  uint64_t assoc_restart = 0;
  uint64_t backpressure_pauses = 0;

  std::string to_string() const;
};

}  // namespace sctprelay::relay
