// Address: numeric parsing and printing of IPv4/IPv6 socket addresses.
#include <arpa/inet.h>
#include <net/if.h>

#include <cstring>

#include "sctp/socket.h"

namespace sctprelay::sctp {
namespace {

bool parse_scope(const std::string& scope, uint32_t& out) {
  if (scope.empty()) return false;
  char* end = nullptr;
  unsigned long n = std::strtoul(scope.c_str(), &end, 10);
  if (*end == '\0') {
    out = static_cast<uint32_t>(n);
    return true;
  }
  out = if_nametoindex(scope.c_str());
  return out != 0;
}

}  // namespace

uint16_t Address::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

socklen_t Address::length() const {
  if (family() == AF_INET) return sizeof(sockaddr_in);
  if (family() == AF_INET6) return sizeof(sockaddr_in6);
  return 0;
}

std::string Address::host() const {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof text);
    return text;
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    std::string out = text;
    if (in6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      out += '%';
      out += if_indextoname(in6->sin6_scope_id, name) ? name : std::to_string(in6->sin6_scope_id);
    }
    return out;
  }
  return "?";
}

std::string Address::to_string() const {
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive) about
  // `"[" + std::string&&`.
  std::string out;
  if (family() == AF_INET6) out += '[';
  out += host();
  if (family() == AF_INET6) out += ']';
  out += ':';
  out += std::to_string(port());
  return out;
}

bool Address::parse(const std::string& text, uint16_t port, Address& out) {
  std::string host = text;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  Address a;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    out = a;
    return true;
  }
  a = Address{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  std::string scope;
  if (auto pct = host.find('%'); pct != std::string::npos) {
    scope = host.substr(pct + 1);
    host.resize(pct);
    if (!parse_scope(scope, in6->sin6_scope_id)) return false;
  }
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) return false;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  out = a;
  return true;
}

Address Address::from(const sockaddr* sa, socklen_t len) {
  Address a;
  if (sa == nullptr) return a;
  std::memcpy(&a.storage, sa, std::min<std::size_t>(len, sizeof a.storage));
  // An IPv4 peer seen through an AF_INET6 socket may come as ::ffff:a.b.c.d; keep it IPv4.
  if (a.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      sockaddr_in in4{};
      in4.sin_family = AF_INET;
      in4.sin_port = in6->sin6_port;
      std::memcpy(&in4.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
      a = Address{};
      std::memcpy(&a.storage, &in4, sizeof in4);
    }
  }
  return a;
}

bool Address::operator==(const Address& o) const {
  if (family() != o.family() || port() != o.port()) return false;
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&o.storage)->sin_addr.s_addr;
  }
  if (family() == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    const auto* b = reinterpret_cast<const sockaddr_in6*>(&o.storage);
    return std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0 &&
           a->sin6_scope_id == b->sin6_scope_id;
  }
  return true;
}

std::vector<Address> parse_addresses(const std::vector<std::string>& hosts, uint16_t port,
                                     std::error_code& ec, std::string* bad) {
  std::vector<Address> out;
  out.reserve(hosts.size());
  for (const auto& h : hosts) {
    Address a;
    if (!Address::parse(h, port, a)) {
      ec = std::make_error_code(std::errc::invalid_argument);
      if (bad) *bad = h;
      return {};
    }
    out.push_back(a);
  }
  ec.clear();
  return out;
}

int family_for(const std::vector<Address>& addrs) {
  for (const auto& a : addrs)
    if (a.family() == AF_INET6) return AF_INET6;
  return AF_INET;
}

}  // namespace sctprelay::sctp
