// A function run in a short-lived forked child under limits, so that whatever it does, the caller
// gets an answer within a bounded time and the machine keeps its memory:
//
// * a wall-clock deadline, enforced by the parent: at the deadline the child is SIGKILLed;
// * a memory ceiling: RLIMIT_AS set in the child to what it has mapped at the fork plus
//   `memory_headroom`, so an allocation beyond that fails (std::bad_alloc, reported as such).
//   Not under AddressSanitizer, which maps terabytes of shadow memory and treats a failed
//   allocation as a fatal report: there the deadline alone bounds the child;
// * RLIMIT_CPU, a backstop should the parent be unable to enforce the deadline.
//
// The child inherits a copy of the parent (fork, no exec): it runs `body` on data the parent
// already holds, and ends with _exit (no atexit handlers, no stdio flush, no leak check). It
// first closes every descriptor but 0-2 and its report pipe, so that the parent's sockets are
// not kept open behind its back, and it gets SIGKILL if the parent dies. The parent must be
// single-threaded when it forks (sctprelayd is): the child calls malloc and the like.
//
// The parent learns the end from the report pipe: it reaches end-of-file when the child exits.
// `fd()` can be watched by an event loop (readable: call read_report()); `wait()` does it all
// synchronously. The destructor kills and reaps a child that is still there.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "util/unique_fd.h"

namespace sctprelay {

struct ChildLimits {
  std::chrono::milliseconds wall{10'000};
  uint64_t memory_headroom = 512ull << 20;  // bytes of address space beyond the fork's; 0: no limit
};

// Whether ChildLimits::memory_headroom is enforced in this build (not under AddressSanitizer).
bool child_memory_limit_enforced();

struct ChildEnd {
  enum class Kind {
    Exited,       // `body` returned; `code` is its value
    TimedOut,     // killed at the wall-clock deadline
    OutOfMemory,  // an allocation failed against the memory ceiling
    CpuLimit,     // RLIMIT_CPU ran out (SIGXCPU)
    Crashed,      // another signal (`code`), or an exception (`report` holds its text)
  };
  Kind kind = Kind::Exited;
  int code = 0;
  std::string report;
};

class BoundedChild {
 public:
  // Runs `body` in a child; its return value becomes the child's exit status (0-125).
  // Throws std::system_error when the pipe or the fork cannot be made.
  BoundedChild(const std::function<int()>& body, ChildLimits limits);
  ~BoundedChild();
  BoundedChild(const BoundedChild&) = delete;
  BoundedChild& operator=(const BoundedChild&) = delete;

  pid_t pid() const { return pid_; }
  int fd() const { return report_.get(); }
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  const ChildLimits& limits() const { return limits_; }

  // Reads what the child wrote, without blocking; true once the pipe is at end-of-file, i.e.
  // the child has ended. Then call finish().
  bool read_report();
  // After read_report() returned true: reaps the child and says how it ended.
  ChildEnd finish();
  // The deadline has passed: SIGKILL, reap, TimedOut.
  ChildEnd kill_at_deadline();
  // Waits (poll) until the child ends or the deadline passes, whichever is first.
  ChildEnd wait();

 private:
  ChildEnd reap(bool killed_at_deadline);
  ChildLimits limits_;
  std::chrono::steady_clock::time_point deadline_;
  pid_t pid_ = -1;
  UniqueFd report_;
  std::string text_;
};

}  // namespace sctprelay
