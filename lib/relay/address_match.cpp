#include "relay/address_match.h"

#include <arpa/inet.h>

#include <cstring>

namespace sctprelay::relay {
namespace {

// The address's raw bytes: 4 for IPv4 (also from an IPv4-mapped IPv6 address), 16 for IPv6.
int raw_bytes(const sockaddr* sa, unsigned char out[16]) {
  if (sa->sa_family == AF_INET) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return 4;
  }
  if (sa->sa_family == AF_INET6) {
    auto& a6 = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      std::memcpy(out, &a6.s6_addr[12], 4);
      return 4;
    }
    std::memcpy(out, &a6, 16);
    return 16;
  }
  return 0;
}

}  // namespace

bool prefix_contains(const config::Prefix& prefix, const sctp::Address& addr) {
  unsigned char want[16], have[16];
  int want_len = 0;
  if (inet_pton(AF_INET, prefix.address.c_str(), want) == 1)
    want_len = 4;
  else if (inet_pton(AF_INET6, prefix.address.c_str(), want) == 1)
    want_len = 16;
  else
    return false;
  int have_len = raw_bytes(addr.sa(), have);
  if (have_len != want_len) return false;
  int bits = prefix.length < 0 ? want_len * 8 : prefix.length;
  int whole = bits / 8, rest = bits % 8;
  if (std::memcmp(want, have, static_cast<std::size_t>(whole)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (want[whole] & mask) == (have[whole] & mask);
}

bool group_admits(const config::Destination& group, const std::string& listener,
                  const std::vector<sctp::Address>& peers) {
  if (!group.listener.empty() && group.listener != listener) return false;
  if (peers.empty()) return group.match.empty() && !group.match_port;
  if (group.match_port && peers.front().port() != *group.match_port) return false;
  if (group.match.empty()) return true;
  for (auto& p : peers)
    for (auto& prefix : group.match)
      if (prefix_contains(prefix, p)) return true;
  return false;
}

}  // namespace sctprelay::relay
