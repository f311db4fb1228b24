// Waiting on one socket with a deadline and a wake-up time, interruptible by SIGINT/SIGTERM.
#pragma once

#include <chrono>

namespace sctprelay::client {

using Clock = std::chrono::steady_clock;

class Deadline {
 public:
  // seconds <= 0: never expires.
  explicit Deadline(double seconds);
  bool expired() const;
  // When it expires; Clock::time_point::max() for never.
  Clock::time_point at() const;
  // Moves the deadline by `d` (later when positive, earlier when negative); no effect on never.
  void extend(Clock::duration d);

 private:
  bool forever_;
  Clock::time_point at_;
};

// Blocks SIGINT/SIGTERM outside of wait_fd() and records their arrival (listen uses this to exit
// cleanly at any point of its loop).
void catch_stop_signals();
bool stop_requested();

enum class Wait {
  Ready,    // `fd` has some of the events
  Wake,     // the wake-up time came first
  Timeout,  // the deadline came first
  Stopped,  // a stop signal arrived
  Error,
};
// Waits until `fd` has any of `events` (poll flags; revents returned in `revents`), the deadline
// or the wake-up time passes, or a stop signal arrives. Never spins: it sleeps in ppoll() with a
// timeout of nanosecond precision.
Wait wait_fd(int fd, short events, const Deadline& deadline, short& revents,
             Clock::time_point wake = Clock::time_point::max());

}  // namespace sctprelay::client
