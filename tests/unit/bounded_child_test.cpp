// The bounded child: whatever its body does, the parent gets an answer by the deadline, the
// memory ceiling stops a body that allocates without end, and no child outlives its owner.
#include "util/bounded_child.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

namespace sctprelay {
namespace {

using namespace std::chrono;

int spin() {
  volatile unsigned long n = 0;
  for (;;) n = n + 1;
}

TEST(BoundedChild, ABodyThatReturnsGivesItsStatus) {
  BoundedChild child([] { return 7; }, ChildLimits{seconds(30)});
  ChildEnd end = child.wait();
  EXPECT_EQ(end.kind, ChildEnd::Kind::Exited);
  EXPECT_EQ(end.code, 7);
}

TEST(BoundedChild, ABodyThatSpinsIsKilledAtTheDeadline) {
  const auto start = steady_clock::now();
  BoundedChild child(spin, ChildLimits{milliseconds(300)});
  ChildEnd end = child.wait();
  const auto took = steady_clock::now() - start;
  EXPECT_EQ(end.kind, ChildEnd::Kind::TimedOut);
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, seconds(10)) << "the deadline was not enforced";
}

TEST(BoundedChild, ABodyThatAllocatesWithoutEndIsStoppedByTheMemoryLimit) {
  if (!child_memory_limit_enforced()) GTEST_SKIP() << "no memory limit under AddressSanitizer";
  // 64 MiB of headroom; the body touches what it takes, so it is real memory, not just addresses.
  BoundedChild child(
      [] {
        std::vector<std::unique_ptr<char[]>> kept;
        for (;;) {
          kept.emplace_back(new char[1 << 20]);
          std::memset(kept.back().get(), 1, 1 << 20);
        }
        return 0;
      },
      ChildLimits{seconds(60), 64ull << 20});
  ChildEnd end = child.wait();
  EXPECT_EQ(end.kind, ChildEnd::Kind::OutOfMemory);
}

TEST(BoundedChild, AnExceptionIsReportedWithItsText) {
  BoundedChild child([]() -> int { throw std::runtime_error("no luck"); }, ChildLimits{seconds(30)});
  ChildEnd end = child.wait();
  EXPECT_EQ(end.kind, ChildEnd::Kind::Crashed);
  EXPECT_EQ(end.report, "no luck");
}

TEST(BoundedChild, ASignalThatEndsTheChildIsNamed) {
  BoundedChild child([] { return ::raise(SIGTERM); }, ChildLimits{seconds(30)});
  ChildEnd end = child.wait();
  EXPECT_EQ(end.kind, ChildEnd::Kind::Crashed);
  EXPECT_EQ(end.code, SIGTERM);
}

TEST(BoundedChild, TheChildDoesNotKeepTheParentsDescriptorsOpen) {
  // A socket or pipe the parent closes must close for real, even while a check runs.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  BoundedChild child(spin, ChildLimits{seconds(30)});
  ::close(p[1]);
  char c;
  EXPECT_EQ(::read(p[0], &c, 1), 0) << "the child still holds the pipe's write end";
  ::close(p[0]);
}

TEST(BoundedChild, TheDestructorKillsAndReapsARunningChild) {
  pid_t pid;
  {
    BoundedChild child(spin, ChildLimits{seconds(30)});
    pid = child.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_EQ(::kill(pid, 0), -1) << "the child is still there";
  EXPECT_EQ(errno, ESRCH);
}

TEST(BoundedChild, TheReportPipeCanBeWatchedWithoutWaiting) {
  BoundedChild child([] { return 3; }, ChildLimits{seconds(30)});
  // What an event loop does: readable, read, and at end-of-file finish.
  bool ended = false;
  while (!ended) {
    pollfd p{child.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 30'000), 1);
    ended = child.read_report();
  }
  ChildEnd end = child.finish();
  EXPECT_EQ(end.kind, ChildEnd::Kind::Exited);
  EXPECT_EQ(end.code, 3);
}

}  // namespace
}  // namespace sctprelay
