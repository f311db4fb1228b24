#include "relay/stats.h"

#include <cstdio>

namespace sctprelay::relay {

std::string Stats::to_string() const {
  char buf[768];
  std::snprintf(buf, sizeof buf,
                "received=%llu forwarded=%llu queued=%llu dropped_no_route=%llu "
                "dropped_queue_full=%llu dropped_ttl=%llu dropped_oversize=%llu dropped_stream=%llu "
                "dropped_no_target=%llu dropped_assoc_gone=%llu stream_mapped=%llu requeued=%llu "
                "send_errors=%llu assoc_up=%llu assoc_down_shutdown=%llu assoc_down_abort=%llu "
                "assoc_restart=%llu backpressure_pauses=%llu",
                (unsigned long long)received, (unsigned long long)forwarded, (unsigned long long)queued,
                (unsigned long long)dropped_no_route, (unsigned long long)dropped_queue_full,
                (unsigned long long)dropped_ttl, (unsigned long long)dropped_oversize,
                (unsigned long long)dropped_stream, (unsigned long long)dropped_no_target,
                (unsigned long long)dropped_assoc_gone, (unsigned long long)stream_mapped,
                (unsigned long long)requeued, (unsigned long long)send_errors,
                (unsigned long long)assoc_up, (unsigned long long)assoc_down_shutdown,
                (unsigned long long)assoc_down_abort, (unsigned long long)assoc_restart,
                (unsigned long long)backpressure_pauses);
  return buf;
}

}  // namespace sctprelay::relay
