#include "relay/stats.h"

namespace sctprelay::relay {

std::string Stats::to_string() const {
  const std::pair<const char*, uint64_t> fields[] = {
      {"received", received},
      {"forwarded", forwarded},
      {"queued", queued},
      {"dropped_no_route", dropped_no_route},
      {"dropped_queue_full", dropped_queue_full},
      {"dropped_ttl", dropped_ttl},
      {"dropped_oversize", dropped_oversize},
      {"oversize_aborted", oversize_aborted},
      {"dropped_reassembly", dropped_reassembly},
      {"dropped_stream", dropped_stream},
      {"dropped_no_target", dropped_no_target},
      {"dropped_assoc_gone", dropped_assoc_gone},
      {"dropped_removed", dropped_removed},
      {"dropped_too_big", dropped_too_big},
      {"dropped_send_error", dropped_send_error},
      {"dropped_incomplete", dropped_incomplete},
      {"stream_mapped", stream_mapped},
      {"requeued", requeued},
      {"redelivered_maybe_duplicate", redelivered_maybe_duplicate},
      {"replies_no_owner", replies_no_owner},
      {"send_errors", send_errors},
      {"send_retries", send_retries},
      {"assoc_up", assoc_up},
      {"assoc_down_shutdown", assoc_down_shutdown},
      {"assoc_down_abort", assoc_down_abort},
      {"assoc_restart", assoc_restart},
      {"backpressure_pauses", backpressure_pauses},
      {"refused_not_allowed", refused_not_allowed},
      {"refused_max_associations", refused_max_associations},
      {"dropped_refused", dropped_refused},
      {"rate_limited", rate_limited},
      {"dropped_queue_memory", dropped_queue_memory},
      {"queued_bytes", queued_bytes},
      {"queued_bytes_peak", queued_bytes_peak},
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += ' ';
    out += name;
    out += '=';
    out += std::to_string(value);
  }
  return out;
}

}  // namespace sctprelay::relay
