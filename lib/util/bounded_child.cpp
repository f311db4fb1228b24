#include "util/bounded_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <new>
#include <system_error>

#if defined(__SANITIZE_ADDRESS__)
#define SCTPRELAY_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCTPRELAY_UNDER_ASAN 1
#endif
#endif

namespace sctprelay {
namespace {

// Exit statuses the child's wrapper uses for what `body` could not return itself.
constexpr int kExitOutOfMemory = 126;
constexpr int kExitException = 127;
constexpr int kMaxBodyStatus = 125;
constexpr std::size_t kMaxReport = 4096;

// What the child has mapped now (VmSize), from /proc/self/statm; 0 when it cannot be read.
uint64_t mapped_bytes() {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* end = nullptr;
  unsigned long long pages = std::strtoull(buf, &end, 10);
  if (end == buf) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

void close_all_but(int keep) {
  // close_range needs Linux 5.9; without it, one close per possible descriptor.
  bool done = true;
  if (keep > 3 && ::close_range(3, keep - 1, 0) != 0) done = false;
  if (done && ::close_range(std::max(keep + 1, 3), UINT_MAX, 0) != 0) done = false;
  if (done) return;
  rlimit lim{};
  const long top = ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY
                       ? static_cast<long>(std::min<rlim_t>(lim.rlim_cur, 1 << 20))
                       : 65536;
  for (long fd = 3; fd < top; ++fd)
    if (fd != keep) ::close(static_cast<int>(fd));
}

void set_limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit lim{soft, hard};
  ::setrlimit(resource, &lim);  // lowering a limit needs no privilege; at worst the deadline still holds
}

[[noreturn]] void run_child(const std::function<int()>& body, const ChildLimits& limits, pid_t parent, int report) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kExitException);
  // The parent's handlers (libevent's) must not run here: a signal for the child ends it.
  for (int sig : {SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD, SIGXCPU, SIGALRM})
    ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  close_all_but(report);

  const auto wall_s = std::chrono::ceil<std::chrono::seconds>(limits.wall).count();
  const rlim_t cpu = static_cast<rlim_t>(std::max<long long>(wall_s, 1)) + 1;
  set_limit(RLIMIT_CPU, cpu, cpu + 1);
  set_limit(RLIMIT_CORE, 0, 0);  // a child that crashes or runs out of CPU time leaves no core behind
  if (child_memory_limit_enforced() && limits.memory_headroom > 0) {
    if (uint64_t now = mapped_bytes()) set_limit(RLIMIT_AS, now + limits.memory_headroom, now + limits.memory_headroom);
  }

  int status = kExitException;
  try {
    status = std::clamp(body(), 0, kMaxBodyStatus);
  } catch (const std::bad_alloc&) {
    status = kExitOutOfMemory;
  } catch (const std::exception& e) {
    std::string_view what = e.what();
    if (::write(report, what.data(), std::min(what.size(), kMaxReport)) < 0) {
    }
  } catch (...) {
  }
  ::_exit(status);
}

}  // namespace

bool child_memory_limit_enforced() {
#ifdef SCTPRELAY_UNDER_ASAN
  return false;
#else
  return true;
#endif
}

BoundedChild::BoundedChild(const std::function<int()>& body, ChildLimits limits)
    : limits_(limits), deadline_(std::chrono::steady_clock::now() + limits.wall) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    read_end.reset();
    run_child(body, limits, parent, write_end.get());
  }
  pid_ = pid;
  report_ = std::move(read_end);
}

BoundedChild::~BoundedChild() {
  if (pid_ > 0) reap(true);
}

bool BoundedChild::read_report() {
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(report_.get(), buf, sizeof buf);
    if (n > 0) {
      text_.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), kMaxReport - std::min(kMaxReport, text_.size())));
      continue;
    }
    if (n == 0) return true;
    if (errno == EINTR) continue;
    return errno != EAGAIN;  // any other error: the pipe is of no more use, treat it as the end
  }
}

ChildEnd BoundedChild::finish() { return reap(false); }

ChildEnd BoundedChild::kill_at_deadline() { return reap(true); }

ChildEnd BoundedChild::wait() {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) return kill_at_deadline();
    pollfd p{report_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
    if (n < 0 && errno != EINTR) return kill_at_deadline();
    if (n > 0 && read_report()) return finish();
  }
}

ChildEnd BoundedChild::reap(bool kill_first) {
  ChildEnd end;
  if (pid_ <= 0) {
    end.kind = ChildEnd::Kind::Crashed;
    return end;
  }
  if (kill_first) ::kill(pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  report_.reset();
  end.report = std::move(text_);
  if (WIFEXITED(st)) {
    end.code = WEXITSTATUS(st);
    if (end.code == kExitOutOfMemory) end.kind = ChildEnd::Kind::OutOfMemory;
    else if (end.code == kExitException) end.kind = ChildEnd::Kind::Crashed;
    else end.kind = ChildEnd::Kind::Exited;
  } else if (WIFSIGNALED(st)) {
    end.code = WTERMSIG(st);
    if (kill_first && end.code == SIGKILL) end.kind = ChildEnd::Kind::TimedOut;
    else if (end.code == SIGXCPU) end.kind = ChildEnd::Kind::CpuLimit;
    else end.kind = ChildEnd::Kind::Crashed;
  } else {
    end.kind = ChildEnd::Kind::Crashed;
  }
  return end;
}

}  // namespace sctprelay
