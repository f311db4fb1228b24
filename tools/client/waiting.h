// Waiting on one socket with a deadline, interruptible by SIGINT/SIGTERM.
#pragma once

#include <chrono>

namespace sctprelay::client {

class Deadline {
 public:
  // seconds <= 0: never expires.
  explicit Deadline(double seconds);
  bool expired() const;
  // Milliseconds left for poll(): -1 for no deadline, 0 when expired.
  int remaining_ms() const;

 private:
  bool forever_;
  std::chrono::steady_clock::time_point at_;
};

// Blocks SIGINT/SIGTERM outside of wait_fd() and records their arrival (listen uses this to exit
// cleanly at any point of its loop).
void catch_stop_signals();
bool stop_requested();

enum class Wait { Ready, Timeout, Stopped, Error };
// Waits until `fd` has any of `events` (poll flags; revents returned in `revents`), the deadline
// passes, or a stop signal arrives.
Wait wait_fd(int fd, short events, const Deadline& deadline, short& revents);

}  // namespace sctprelay::client
