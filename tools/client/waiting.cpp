// Deadline and signal-aware ppoll.
#include "waiting.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>

namespace sctprelay::client {
namespace {

volatile sig_atomic_t g_stop = 0;
bool g_catching = false;
sigset_t g_wait_mask;  // the mask in effect while waiting: stop signals unblocked

void on_stop(int) { g_stop = 1; }

// `base + d` without overflowing past the clock's range.
Clock::time_point saturating_add(Clock::time_point base, Clock::duration d) {
  if (d > Clock::duration::zero() && base > Clock::time_point::max() - d) return Clock::time_point::max();
  if (d < Clock::duration::zero() && base < Clock::time_point::min() - d) return Clock::time_point::min();
  return base + d;
}

}  // namespace

Deadline::Deadline(double seconds)
    : forever_(seconds <= 0),
      at_(Clock::now() + std::chrono::microseconds(static_cast<long long>(seconds * 1e6))) {}

bool Deadline::expired() const { return !forever_ && Clock::now() >= at_; }

Clock::time_point Deadline::at() const { return forever_ ? Clock::time_point::max() : at_; }

void Deadline::extend(Clock::duration d) {
  if (!forever_) at_ = saturating_add(at_, d);
}

void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &g_wait_mask);
  sigdelset(&g_wait_mask, SIGINT);
  sigdelset(&g_wait_mask, SIGTERM);
  g_catching = true;
}

bool stop_requested() { return g_stop != 0; }

Wait wait_fd(int fd, short events, const Deadline& deadline, short& revents, Clock::time_point wake) {
  revents = 0;
  for (;;) {
    if (g_stop) return Wait::Stopped;
    const Clock::time_point now = Clock::now();
    const Clock::time_point end = deadline.at();
    if (now >= end) return Wait::Timeout;
    if (now >= wake) return Wait::Wake;
    const Clock::time_point until = std::min(end, wake);
    timespec ts{};
    const timespec* timeout = nullptr;
    if (until != Clock::time_point::max()) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until - now).count();
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
      timeout = &ts;
    }
    pollfd p{fd, events, 0};
    // Stop signals are unblocked only inside ppoll, so one arriving before it is not lost.
    int rc = ppoll(&p, 1, timeout, g_catching ? &g_wait_mask : nullptr);
    if (rc > 0) {
      revents = p.revents;
      return Wait::Ready;
    }
    if (rc < 0 && errno != EINTR) return Wait::Error;
  }
}

}  // namespace sctprelay::client
