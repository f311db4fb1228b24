// Once-a-second progress lines (progress.h).
#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace sctprelay::client {
namespace {

std::string format_interval(const Interval& i, const char* what, uint64_t total) {
  char buf[160];
  // Slow rates (--rate 0.5) keep a decimal, so they do not read as 0/s.
  std::snprintf(buf, sizeof buf, "[%5.1f s] %s %llu (%.*f/s, %.2f MB/s)", i.elapsed_s, what,
                static_cast<unsigned long long>(total), i.per_second < 10 ? 1 : 0, i.per_second,
                i.mb_per_second);
  return buf;
}

}  // namespace

bool progress_wanted(ProgressMode mode, bool auto_default) {
  switch (mode) {
    case ProgressMode::On: return true;
    case ProgressMode::Off: return false;
    case ProgressMode::Auto: break;
  }
  return auto_default && ::isatty(STDERR_FILENO) == 1;
}

ProgressMeter::ProgressMeter(Clock::time_point start, Clock::duration every)
    : start_(start), next_(start + every), last_(start), every_(every) {}

std::optional<Interval> ProgressMeter::tick(Clock::time_point now, uint64_t messages, uint64_t bytes) {
  if (now < next_) return std::nullopt;
  using Seconds = std::chrono::duration<double>;
  Interval i;
  i.elapsed_s = Seconds(now - start_).count();
  i.messages = messages - last_messages_;
  const double span = Seconds(now - last_).count();
  if (span > 0) {
    i.per_second = double(i.messages) / span;
    i.mb_per_second = double(bytes - last_bytes_) / span / 1e6;
  }
  last_ = now;
  last_messages_ = messages;
  last_bytes_ = bytes;
  next_ += every_ * ((now - next_) / every_ + 1);
  return i;
}

std::string send_progress_line(const Interval& i, uint64_t sent, uint64_t replies) {
  return format_interval(i, "sent", sent) + " replies " + std::to_string(replies);
}

std::string listen_progress_line(const Interval& i, uint64_t received) {
  return format_interval(i, "received", received);
}

void print_progress(const std::string& line) {
  std::string out = line + "\n";
  // One write, so that the line does not mix with others on a shared stderr. A failed write (a
  // closed stderr) is no reason to stop sending.
  if (::write(STDERR_FILENO, out.data(), out.size()) < 0) return;
}

}  // namespace sctprelay::client
