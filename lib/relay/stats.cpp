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
    case DropReason::Stopped: return "stopped";
    case DropReason::Count: break;
  }
  return "unknown";
}

const std::array<Stats::Field, Stats::kFieldCount> Stats::kFields = {{
    {"received", &Stats::received},
    {"forwarded", &Stats::forwarded},
    {"queued", &Stats::queued},
    {"dropped_no_route", &Stats::dropped_no_route},
    {"dropped_queue_full", &Stats::dropped_queue_full},
    {"dropped_ttl", &Stats::dropped_ttl},
    {"dropped_oversize", &Stats::dropped_oversize},
    {"oversize_aborted", &Stats::oversize_aborted},
    {"dropped_reassembly", &Stats::dropped_reassembly},
    {"dropped_stream", &Stats::dropped_stream},
    {"dropped_no_target", &Stats::dropped_no_target},
    {"dropped_assoc_gone", &Stats::dropped_assoc_gone},
    {"dropped_removed", &Stats::dropped_removed},
    {"dropped_too_big", &Stats::dropped_too_big},
    {"dropped_send_error", &Stats::dropped_send_error},
    {"dropped_incomplete", &Stats::dropped_incomplete},
    {"stream_mapped", &Stats::stream_mapped},
    {"requeued", &Stats::requeued},
    {"redelivered_maybe_duplicate", &Stats::redelivered_maybe_duplicate},
    {"replies_no_owner", &Stats::replies_no_owner},
    {"send_errors", &Stats::send_errors},
    {"send_retries", &Stats::send_retries},
    {"assoc_up", &Stats::assoc_up},
    {"assoc_down_shutdown", &Stats::assoc_down_shutdown},
    {"assoc_down_abort", &Stats::assoc_down_abort},
    {"assoc_restart", &Stats::assoc_restart},
    {"backpressure_pauses", &Stats::backpressure_pauses},
    {"refused_not_allowed", &Stats::refused_not_allowed},
    {"refused_max_associations", &Stats::refused_max_associations},
    {"dropped_refused", &Stats::dropped_refused},
    {"rate_limited", &Stats::rate_limited},
    {"dropped_queue_memory", &Stats::dropped_queue_memory},
    {"dropped_stopped", &Stats::dropped_stopped},
    {"queued_bytes", &Stats::queued_bytes},
    {"queued_bytes_peak", &Stats::queued_bytes_peak},
}};

// Every counter is in the table (a field added to Stats but not to it would not add up).
static_assert(sizeof(Stats) == Stats::kFieldCount * sizeof(uint64_t));

void Stats::add(const Stats& other) {
  for (const auto& [name, field] : kFields) this->*field += other.*field;
  // queued_bytes_peak: each worker's came at its own moment; their sum bounds the daemon's.
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
    case DropReason::Stopped: return dropped_stopped;
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
  std::string out;
  for (const auto& [name, field] : kFields) {
    const uint64_t value = this->*field;
    if (!out.empty()) out += ' ';
    out += name;
    out += '=';
    out += std::to_string(value);
  }
  return out;
}

}  // namespace sctprelay::relay
