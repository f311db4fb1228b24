// Where the kernel has no SCTP (this build host, some CI machines, containers), `send` and
// `listen` fail with exit status 2 and tell the operator how to get SCTP. Checked only where
// socket(..., IPPROTO_SCTP) fails that way; elsewhere the integration tests run them for real.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "client/commands.h"
#include "client/exit_codes.h"
#include "sctp/explain.h"

namespace sctprelay::client {
namespace {

// Empty when this kernel has no SCTP; else why the test does not apply.
std::string sctp_works() {
  int fd = ::socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
  if (fd >= 0) {
    ::close(fd);
    return "this kernel has SCTP";
  }
  std::error_code ec(errno, std::generic_category());
  if (!sctp::sctp_unavailable(ec)) return "socket() failed for another reason: " + ec.message();
  return {};
}

TEST(ClientWithoutSctp, SendExplainsHowToGetSctp) {
  if (auto why = sctp_works(); !why.empty()) GTEST_SKIP() << why;
  SendOptions o;
  o.hosts = {"127.0.0.1"};
  o.port = 9;
  o.count = 1;
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  const int status = run_send(o);
  const std::string err = testing::internal::GetCapturedStderr();
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, kExitNetwork);
  EXPECT_NE(err.find("cannot open an SCTP socket"), std::string::npos) << err;
  EXPECT_NE(err.find("modprobe sctp"), std::string::npos) << err;
  EXPECT_EQ(out, "") << "nothing on stdout, which may be JSON";
}

TEST(ClientWithoutSctp, ListenExplainsHowToGetSctp) {
  if (auto why = sctp_works(); !why.empty()) GTEST_SKIP() << why;
  // listen takes over SIGINT/SIGTERM (and blocks them outside its waits): given back afterwards.
  struct sigaction old_int {}, old_term {};
  sigset_t old_mask;
  sigaction(SIGINT, nullptr, &old_int);
  sigaction(SIGTERM, nullptr, &old_term);
  sigprocmask(SIG_SETMASK, nullptr, &old_mask);
  ListenOptions o;
  o.bind = {"127.0.0.1"};
  testing::internal::CaptureStderr();
  const int status = run_listen(o);
  const std::string err = testing::internal::GetCapturedStderr();
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  EXPECT_EQ(status, kExitNetwork);
  EXPECT_NE(err.find("the kernel has no SCTP"), std::string::npos) << err;
}

}  // namespace
}  // namespace sctprelay::client
