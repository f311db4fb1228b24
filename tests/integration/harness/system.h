// The machine around a test: sysctls and link settings changed for one test and put back after it,
// a process's memory figures from /proc, and waiting for a condition with a deadline.
// Changing sysctls and links needs root: inside the project's VM the tests run as root.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "harness/deadline.h"

namespace harness {

// Sets a sysctl of the test's network namespace (e.g. "net.core.wmem_max") and restores the old
// value when it goes out of scope.
class ScopedSysctl {
 public:
  ScopedSysctl(std::string key, const std::string& value);
  ~ScopedSysctl();
  ScopedSysctl(const ScopedSysctl&) = delete;
  ScopedSysctl& operator=(const ScopedSysctl&) = delete;

 private:
  std::string path_, old_;
};

// Sets the MTU of an interface of the test's namespace (`ip link set DEV mtu N`) and restores the
// old one when it goes out of scope.
class ScopedMtu {
 public:
  ScopedMtu(std::string dev, unsigned mtu);
  ~ScopedMtu();
  ScopedMtu(const ScopedMtu&) = delete;
  ScopedMtu& operator=(const ScopedMtu&) = delete;

 private:
  std::string dev_;
  unsigned old_ = 0;
};

// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); throws if it is not there.
uint64_t proc_status_kib(pid_t pid, const std::string& field);
// Resets the process's peak resident set size (VmHWM) to its current size (/proc/PID/clear_refs).
void reset_peak_rss(pid_t pid);

// Checks `done` until it is true or the deadline passes (every `step` meanwhile); its last answer.
// For conditions that have no event to wait on, e.g. a byte counter of an interface.
bool wait_until(const std::function<bool()>& done, Deadline d = soon(),
                std::chrono::milliseconds step = std::chrono::milliseconds(20));

// Runs a shell command: its exit status (-1 if it did not exit) and its standard output.
std::pair<int, std::string> shell(const std::string& cmd);

// The value of the Prometheus sample named exactly `series` (name and labels as exposed) in
// `text`, or -1 if there is none.
double metric_sample(const std::string& text, const std::string& series);

}  // namespace harness
