// Explanations of failed socket, bind and connect calls (explain.h).
#include "sctp/explain.h"

#include <sys/socket.h>

#include <cerrno>

namespace sctprelay::sctp {
namespace {

// Matches errno values whether `ec` carries the generic or the system category (compared by
// value: some errno values, such as ESOCKTNOSUPPORT, have no std::errc to map the two onto).
bool is(const std::error_code& ec, int errno_value) {
  return ec.value() == errno_value &&
         (ec.category() == std::generic_category() || ec.category() == std::system_category());
}

// "192.0.2.1:3868", "[2001:db8::1]:3868"; a port of 0 (any) is left out.
std::string endpoint(const std::string& address, uint16_t port) {
  if (port == 0) return address;
  const bool bare_ipv6 = address.find(':') != std::string::npos && address.find(',') == std::string::npos &&
                         address.front() != '[';
  return (bare_ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

constexpr const char* kNoSctp =
    "the kernel has no SCTP. Load it as root with `modprobe sctp` (the module ships with the kernel: "
    "Debian's linux-image package, Ubuntu's linux-modules-extra-$(uname -r)); in a container the host "
    "has to load it, as containers share its kernel. In /etc/modprobe.d/, `blacklist sctp` stops it "
    "loading on demand and `install sctp /bin/true` stops modprobe too. `lsmod | grep sctp` shows the "
    "module, and /proc/net/sctp exists once SCTP is loaded";

}  // namespace

bool sctp_unavailable(const std::error_code& ec) {
  return is(ec, EPROTONOSUPPORT) || is(ec, ESOCKTNOSUPPORT) || is(ec, EAFNOSUPPORT) || is(ec, EPROTOTYPE);
}

std::string explain_socket_error(const std::error_code& ec, int family) {
  std::string text = "cannot open an SCTP socket: " + ec.message();
  if (family == AF_INET6 && is(ec, EAFNOSUPPORT))
    return text +
           ": IPv6 is not available here (the kernel was booted with ipv6.disable=1, or a sandbox such as "
           "systemd's RestrictAddressFamilies= forbids AF_INET6); use IPv4 addresses or enable IPv6";
  if (sctp_unavailable(ec)) return text + ": " + kNoSctp;
  return text;
}

std::string explain_socket_error(const std::error_code& ec) { return explain_socket_error(ec, AF_UNSPEC); }

std::string explain_bind_error(const std::error_code& ec, const std::string& address_text, uint16_t port) {
  std::string text = "cannot bind " + endpoint(address_text, port) + ": " + ec.message();
  const bool several = address_text.find(',') != std::string::npos;
  if (is(ec, EADDRNOTAVAIL))
    return text + ": " + (several ? "one of " + address_text + " is" : address_text + " is") +
           " not an address of this host; `ip -brief address` lists the host's addresses (a new IPv6 "
           "address is also refused until duplicate address detection has finished; for an address "
           "that is added later, such as a floating VIP, set net.ipv4.ip_nonlocal_bind=1 or "
           "net.ipv6.ip_nonlocal_bind=1)";
  if (is(ec, EADDRINUSE))
    return text + ": another socket already uses SCTP port " + std::to_string(port) +
           " there (another sctprelayd or sctprelay-client?); `ss -Slnp` shows which process (as root "
           "it shows every user's), so stop it or choose another port";
  if (is(ec, EACCES) && port != 0 && port < 1024)
    return text + ": ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (in a systemd "
                  "unit AmbientCapabilities=CAP_NET_BIND_SERVICE, for a binary `setcap "
                  "cap_net_bind_service=+ep FILE`), or use a port of 1024 or above "
                  "(net.ipv4.ip_unprivileged_port_start sets where unprivileged ports begin)";
  if (is(ec, EACCES))
    return text + ": a security policy (SELinux, AppArmor, a seccomp or BPF filter) refused it";
  return text;
}

std::string explain_connect_error(const std::error_code& ec, const std::string& peer_text) {
  std::string text = "cannot connect to " + peer_text + ": " + ec.message();
  if (is(ec, ECONNREFUSED))
    return text + ": nothing accepts SCTP associations there (the peer answered the INIT with an "
                  "ABORT); check the address and port, and that sctprelayd or `sctprelay-client "
                  "listen` runs on that host (`ss -Slnp` there lists the SCTP listeners)";
  if (is(ec, ETIMEDOUT))
    return text + ": no answer to the INIT; the host is down or unreachable, a firewall drops SCTP "
                  "(IP protocol 132), or the peer's kernel has no SCTP (`ip route get` with its "
                  "address shows the route taken)";
  if (is(ec, ENETUNREACH) || is(ec, EHOSTUNREACH))
    return text + ": no route to that address; check it and `ip route get` with it";
  return text;
}

}  // namespace sctprelay::sctp
