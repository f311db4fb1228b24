// Seconds since the epoch, as the control socket and the metrics give times (0: never).
#pragma once

#include <chrono>
#include <cstdint>

namespace sctprelay {

inline int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace sctprelay
