#include "relay/address_match.h"

#include <gtest/gtest.h>

using namespace sctprelay;

namespace {

sctp::Address addr(const std::string& host, uint16_t port = 4000) {
  sctp::Address a;
  EXPECT_TRUE(sctp::Address::parse(host, port, a)) << host;
  return a;
}

config::Destination group(std::vector<config::Prefix> match, std::string listener = "",
                          std::optional<uint16_t> port = std::nullopt) {
  config::Destination d;
  d.kind = config::Destination::Kind::Group;
  d.match = std::move(match);
  d.listener = std::move(listener);
  d.match_port = port;
  return d;
}

}  // namespace

TEST(PrefixContains, Ipv4PrefixesHostsAndOddLengths) {
  EXPECT_TRUE(relay::prefix_contains({"10.1.0.0", 16}, addr("10.1.200.3")));
  EXPECT_FALSE(relay::prefix_contains({"10.1.0.0", 16}, addr("10.2.0.1")));
  EXPECT_TRUE(relay::prefix_contains({"192.168.4.0", 22}, addr("192.168.7.255")));
  EXPECT_FALSE(relay::prefix_contains({"192.168.4.0", 22}, addr("192.168.8.0")));
  EXPECT_TRUE(relay::prefix_contains({"127.0.0.2", -1}, addr("127.0.0.2")));
  EXPECT_FALSE(relay::prefix_contains({"127.0.0.2", -1}, addr("127.0.0.1")));
  EXPECT_TRUE(relay::prefix_contains({"0.0.0.0", 0}, addr("8.8.8.8")));
}

TEST(PrefixContains, Ipv6AndMappedIpv4) {
  EXPECT_TRUE(relay::prefix_contains({"2001:db8::", 32}, addr("2001:db8:1::5")));
  EXPECT_FALSE(relay::prefix_contains({"2001:db8::", 32}, addr("2001:db9::5")));
  EXPECT_TRUE(relay::prefix_contains({"::1", -1}, addr("::1")));
  // An IPv4 peer seen through an IPv6 socket still matches an IPv4 prefix.
  EXPECT_TRUE(relay::prefix_contains({"127.0.0.0", 8}, addr("::ffff:127.0.0.9")));
  EXPECT_FALSE(relay::prefix_contains({"::1", -1}, addr("127.0.0.1")));
}

TEST(GroupAdmits, ListenerPrefixesAndPortAllMustMatch) {
  std::vector<sctp::Address> peer = {addr("127.0.0.1", 5000), addr("127.0.0.2", 5000)};
  EXPECT_TRUE(relay::group_admits(group({}), "in", peer));
  EXPECT_TRUE(relay::group_admits(group({{"127.0.0.2", 32}}), "in", peer));  // any of its addresses
  EXPECT_FALSE(relay::group_admits(group({{"10.0.0.0", 8}}), "in", peer));
  EXPECT_TRUE(relay::group_admits(group({}, "in"), "in", peer));
  EXPECT_FALSE(relay::group_admits(group({}, "other"), "in", peer));
  EXPECT_TRUE(relay::group_admits(group({}, "", 5000), "in", peer));
  EXPECT_FALSE(relay::group_admits(group({}, "", 5001), "in", peer));
}
