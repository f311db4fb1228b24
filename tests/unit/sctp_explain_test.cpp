// Operator-facing explanations of failed socket/bind/connect calls (lib/sctp/explain.h): each
// starts with what failed and strerror's words, and the usual causes come with what to do.
#include "sctp/explain.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace sctprelay::sctp {
namespace {

std::error_code err(int e) { return {e, std::generic_category()}; }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(SctpExplain, MissingSctpSaysHowToGetIt) {
  for (int e : {EPROTONOSUPPORT, ESOCKTNOSUPPORT, EAFNOSUPPORT, EPROTOTYPE}) {
    EXPECT_TRUE(sctp_unavailable(err(e))) << e;
    const std::string text = explain_socket_error(err(e));
    EXPECT_EQ(text.rfind("cannot open an SCTP socket: " + err(e).message() + ": ", 0), 0u) << text;
    for (const char* hint : {"the kernel has no SCTP", "modprobe sctp", "linux-modules-extra", "linux-image",
                             "container", "the host", "lsmod | grep sctp", "/proc/net/sctp"})
      EXPECT_TRUE(has(text, hint)) << hint << " missing from: " << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << "one line";
  }
  // The system category (what std::system_error carries) is understood the same.
  EXPECT_TRUE(sctp_unavailable({EPROTONOSUPPORT, std::system_category()}));
  EXPECT_TRUE(has(explain_socket_error({ESOCKTNOSUPPORT, std::system_category()}), "modprobe sctp"));
}

TEST(SctpExplain, OtherSocketErrorsAreJustReported) {
  EXPECT_FALSE(sctp_unavailable(err(EMFILE)));
  EXPECT_EQ(explain_socket_error(err(EMFILE)), "cannot open an SCTP socket: " + err(EMFILE).message());
  EXPECT_EQ(explain_socket_error(err(EACCES), AF_INET), "cannot open an SCTP socket: " + err(EACCES).message());
}

TEST(SctpExplain, NoIpv6IsNotBlamedOnSctp) {
  const std::string text = explain_socket_error(err(EAFNOSUPPORT), AF_INET6);
  EXPECT_TRUE(has(text, "IPv6 is not available")) << text;
  EXPECT_FALSE(has(text, "modprobe sctp")) << text;
  EXPECT_TRUE(has(explain_socket_error(err(EAFNOSUPPORT), AF_INET), "modprobe sctp"));
}

TEST(SctpExplain, AddressNotOnThisHost) {
  const std::string text = explain_bind_error(err(EADDRNOTAVAIL), "192.0.2.10", 3868);
  EXPECT_EQ(text.rfind("cannot bind 192.0.2.10:3868: " + err(EADDRNOTAVAIL).message() + ": ", 0), 0u) << text;
  EXPECT_TRUE(has(text, "192.0.2.10 is not an address of this host")) << text;
  EXPECT_TRUE(has(text, "ip -brief address")) << text;
  EXPECT_TRUE(has(explain_bind_error(err(EADDRNOTAVAIL), "10.0.0.1,10.0.0.2", 0),
                  "cannot bind 10.0.0.1,10.0.0.2: "));
  EXPECT_TRUE(has(explain_bind_error(err(EADDRNOTAVAIL), "10.0.0.1,10.0.0.2", 0), "one of 10.0.0.1,10.0.0.2 is"));
}

TEST(SctpExplain, PortInUseNamesTheWayToFindItsOwner) {
  const std::string text = explain_bind_error(err(EADDRINUSE), "0.0.0.0", 36412);
  EXPECT_EQ(text.rfind("cannot bind 0.0.0.0:36412: " + err(EADDRINUSE).message(), 0), 0u) << text;
  EXPECT_TRUE(has(text, "SCTP port 36412")) << text;
  EXPECT_TRUE(has(text, "ss -Slnp")) << text;
  EXPECT_TRUE(has(text, "sctprelayd")) << text;
}

TEST(SctpExplain, LowPortsNeedThePrivilege) {
  const std::string text = explain_bind_error(err(EACCES), "::1", 80);
  EXPECT_EQ(text.rfind("cannot bind [::1]:80: ", 0), 0u) << text;
  EXPECT_TRUE(has(text, "below 1024")) << text;
  EXPECT_TRUE(has(text, "CAP_NET_BIND_SERVICE")) << text;
  EXPECT_TRUE(has(text, "root")) << text;
  // Above 1024 permission is refused by something else.
  const std::string high = explain_bind_error(err(EACCES), "127.0.0.1", 5000);
  EXPECT_FALSE(has(high, "CAP_NET_BIND_SERVICE")) << high;
  EXPECT_TRUE(has(high, "security policy")) << high;
}

TEST(SctpExplain, OtherBindErrorsAreJustReported) {
  EXPECT_EQ(explain_bind_error(err(EINVAL), "[::1]", 5), "cannot bind [::1]:5: " + err(EINVAL).message());
}

TEST(SctpExplain, ConnectFailures) {
  const std::string refused = explain_connect_error(err(ECONNREFUSED), "127.0.0.1:9");
  EXPECT_EQ(refused.rfind("cannot connect to 127.0.0.1:9: " + err(ECONNREFUSED).message() + ": ", 0), 0u);
  EXPECT_TRUE(has(refused, "nothing accepts SCTP associations there")) << refused;
  EXPECT_TRUE(has(refused, "ABORT")) << refused;
  const std::string timeout = explain_connect_error(err(ETIMEDOUT), "192.0.2.1:3868");
  EXPECT_TRUE(has(timeout, "no answer to the INIT")) << timeout;
  EXPECT_TRUE(has(timeout, "firewall")) << timeout;
  EXPECT_TRUE(has(explain_connect_error(err(ENETUNREACH), "192.0.2.1:1"), "ip route get"));
  EXPECT_TRUE(has(explain_connect_error(err(EHOSTUNREACH), "192.0.2.1:1"), "no route"));
  EXPECT_EQ(explain_connect_error(err(EPERM), "x"), "cannot connect to x: " + err(EPERM).message());
}

}  // namespace
}  // namespace sctprelay::sctp
