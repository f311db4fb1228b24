// The relay's state in the Prometheus text exposition format (version 0.0.4), from the plain
// structs of relay/status.h. Pure text building: no I/O, no clock, no relay internals, so the
// output depends only on what it is given (docs/metrics.md lists every family).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "relay/status.h"

namespace sctprelay::metrics {

// What the daemon knows of itself besides the relay's counters.
struct DaemonInfo {
  std::string version;               // e.g. "1.4.0"
  int64_t start_time = 0;            // unix seconds
  uint64_t config_generation = 0;    // 1 at start, +1 per applied reload
  int64_t config_load_time = 0;      // unix seconds: when the running configuration was applied
  bool last_reload_success = true;   // false: the most recent reload was rejected (the old one runs on)
  unsigned workers = 1;              // event loops relaying traffic
};

// Content-Type of what render_prometheus() returns.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_prometheus(const relay::RelayStatus& s, const DaemonInfo& d);

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace sctprelay::metrics
