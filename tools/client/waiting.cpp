// Deadline and signal-aware ppoll.
#include "waiting.h"

#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <climits>

namespace sctprelay::client {
namespace {

volatile sig_atomic_t g_stop = 0;
bool g_catching = false;
sigset_t g_wait_mask;  // the mask in effect while waiting: stop signals unblocked

void on_stop(int) { g_stop = 1; }

}  // namespace

Deadline::Deadline(double seconds)
    : forever_(seconds <= 0),
      at_(std::chrono::steady_clock::now() +
          std::chrono::microseconds(static_cast<long long>(seconds * 1e6))) {}

bool Deadline::expired() const { return !forever_ && std::chrono::steady_clock::now() >= at_; }

int Deadline::remaining_ms() const {
  if (forever_) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > INT_MAX ? INT_MAX : int(left.count()) + 1;
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

Wait wait_fd(int fd, short events, const Deadline& deadline, short& revents) {
  revents = 0;
  for (;;) {
    if (g_stop) return Wait::Stopped;
    int ms = deadline.remaining_ms();
    if (ms == 0) return Wait::Timeout;
    pollfd p{fd, events, 0};
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    // Stop signals are unblocked only inside ppoll, so one arriving before it is not lost.
    int rc = ppoll(&p, 1, ms < 0 ? nullptr : &ts, g_catching ? &g_wait_mask : nullptr);
    if (rc > 0) {
      revents = p.revents;
      return Wait::Ready;
    }
    if (rc < 0 && errno != EINTR) return Wait::Error;
  }
}

}  // namespace sctprelay::client
