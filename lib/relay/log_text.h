// Lists as log lines show them: "127.0.0.1:3868,10.0.0.1:3868", "core-a,core-b".
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "sctp/socket.h"

namespace sctprelay::relay {

inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ',';
    s += x;
  }
  return s;
}

// "?" for none (an association that ended before its addresses could be asked for).
inline std::string addresses(const std::vector<sctp::Address>& v) {
  std::string s;
  for (const auto& a : v) {
    if (!s.empty()) s += ',';
    s += a.to_string();
  }
  return s.empty() ? "?" : s;
}

// For warnings a flood could repeat without end: true at most once a second per `last` (which it
// updates), so the log says it is happening without flooding the journal too.
inline bool once_a_second(std::chrono::steady_clock::time_point& last) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last < std::chrono::seconds(1)) return false;
  last = now;
  return true;
}

}  // namespace sctprelay::relay
