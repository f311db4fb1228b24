// Progress lines on stderr, one a second (like iperf3's intervals), for long runs of `send` and
// `listen`: "[  3.0 s] sent 3000 (1000/s, 0.10 MB/s) replies 2990". Never on stdout, which may
// carry JSON. The meter reads no clock: every call is given the time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "options.h"

namespace sctprelay::client {

// Whether to print progress: On/Off as given; Auto follows `auto_default` and only where stderr
// is a terminal.
bool progress_wanted(ProgressMode mode, bool auto_default);

// The figures of one interval, from one line to the next.
struct Interval {
  double elapsed_s = 0;      // since the start, at the end of the interval
  uint64_t messages = 0;     // in this interval
  double per_second = 0;     // messages per second in this interval
  double mb_per_second = 0;  // megabytes (10^6 bytes) per second in this interval
};

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ProgressMeter(Clock::time_point start, Clock::duration every = std::chrono::seconds(1));

  // When the next line is due: start + k * every, for the first k not yet reported.
  Clock::time_point next() const { return next_; }
  // Given the totals so far: at or after next(), the interval since the previous line (and the
  // next line is then due at the first tick after `now`, so a late caller gets one line, not a
  // backlog); before it, nothing.
  std::optional<Interval> tick(Clock::time_point now, uint64_t messages, uint64_t bytes);

 private:
  Clock::time_point start_, next_, last_;
  Clock::duration every_;
  uint64_t last_messages_ = 0, last_bytes_ = 0;
};

// "[  3.0 s] sent 3000 (1000/s, 0.10 MB/s) replies 2990"
std::string send_progress_line(const Interval& i, uint64_t sent, uint64_t replies);
// "[  3.0 s] received 3000 (1000/s, 0.10 MB/s)"
std::string listen_progress_line(const Interval& i, uint64_t received);

// Writes `line` and a newline to stderr in one write.
void print_progress(const std::string& line);

}  // namespace sctprelay::client
