// Operator-facing explanations of failed SCTP socket calls: what failed, the likely cause and what
// to do about it, as one line (for the client's stderr and the daemon's journal alike). Each text
// starts with what failed and the system's own words (strerror), then adds a cause and a fix where
// the error has a usual one.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

namespace sctprelay::sctp {

// True for the errors socket(AF_INET or AF_INET6, SOCK_SEQPACKET or SOCK_STREAM, IPPROTO_SCTP)
// gives when the kernel has no SCTP: EPROTONOSUPPORT, ESOCKTNOSUPPORT, EAFNOSUPPORT, EPROTOTYPE.
bool sctp_unavailable(const std::error_code& ec);

// "cannot open an SCTP socket: <strerror>", and when sctp_unavailable(ec) how to get SCTP
// (modprobe, the package the module is in, containers, /proc/net/sctp). `family` is the socket's
// address family: for AF_INET6, EAFNOSUPPORT means that IPv6 is off and is explained as such.
std::string explain_socket_error(const std::error_code& ec, int family);
std::string explain_socket_error(const std::error_code& ec);

// "cannot bind ADDRESS:PORT: <strerror>", and for EADDRNOTAVAIL (not an address of this host),
// EADDRINUSE (the port is taken: find the owner with ss) and EACCES below port 1024 (privilege)
// the cause and the fix. `address_text` is the address (or comma-separated addresses) as the
// operator wrote it; a port of 0 is left out.
std::string explain_bind_error(const std::error_code& ec, const std::string& address_text, uint16_t port);

// "cannot connect to PEER: <strerror>", and for ECONNREFUSED (nothing listens on that SCTP port),
// ETIMEDOUT (no answer to INIT), ENETUNREACH/EHOSTUNREACH (no route) the cause and what to check.
// `peer_text` names the peer, e.g. "192.0.2.7:3868".
std::string explain_connect_error(const std::error_code& ec, const std::string& peer_text);

}  // namespace sctprelay::sctp
