#include "relay/stats.h"

namespace sctprelay::relay {

const char* drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::NoRoute: return "no_route";
    case DropReason::QueueFull: return "queue_full";
    case DropReason::Ttl: return "ttl";
    case DropReason::Oversize: return "oversize";
    case DropReason::Reassembly: return "reassembly";
    case DropReason::Stream: return "stream";
    case DropReason::NoTarget: return "no_target";
    case DropReason::AssocGone: return "assoc_gone";
    case DropReason::Removed: return "removed";
    case DropReason::TooBig: return "too_big";
    case DropReason::SendError: return "send_error";
    case DropReason::Incomplete: return "incomplete";
    case DropReason::Refused: return "refused";
    case DropReason::QueueMemory: return "queue_memory";
    case DropReason::Count: break;
  }
  return "unknown";
}

uint64_t& Stats::dropped(DropReason r) {
  switch (r) {
    case DropReason::NoRoute: return dropped_no_route;
    case DropReason::QueueFull: return dropped_queue_full;
    case DropReason::Ttl: return dropped_ttl;
    case DropReason::Oversize: return dropped_oversize;
    case DropReason::Reassembly: return dropped_reassembly;
    case DropReason::Stream: return dropped_stream;
    case DropReason::NoTarget: return dropped_no_target;
    case DropReason::AssocGone: return dropped_assoc_gone;
    case DropReason::Removed: return dropped_removed;
    case DropReason::TooBig: return dropped_too_big;
    case DropReason::SendError: return dropped_send_error;
    case DropReason::Incomplete: return dropped_incomplete;
    case DropReason::Refused: return dropped_refused;
    case DropReason::QueueMemory: return dropped_queue_memory;
    case DropReason::Count: break;
  }
  return dropped_send_error;  // unreachable: every reason has its field
}

uint64_t Stats::dropped_total() const {
  uint64_t n = 0;
  for (std::size_t i = 0; i < kDropReasons; ++i) n += dropped(static_cast<DropReason>(i));
  return n;
}

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
