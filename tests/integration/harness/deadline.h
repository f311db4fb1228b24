// Deadlines for waiting on events in tests: every wait has one, nothing sleeps to "let things settle".
#pragma once

#include <chrono>

namespace harness {

using Clock = std::chrono::steady_clock;

struct Deadline {
  Clock::time_point at;
  static Deadline in(std::chrono::milliseconds d) { return {Clock::now() + d}; }
  bool passed() const { return Clock::now() >= at; }
  // Milliseconds left for poll(), at least 0.
  int poll_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
  }
};

// The emulated VM is slow: generous defaults, still bounded.
inline Deadline soon() { return Deadline::in(std::chrono::seconds(20)); }

}  // namespace harness
