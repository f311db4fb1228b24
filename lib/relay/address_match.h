// Whether an accepted association belongs to a group: listener, peer address prefix, peer port.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "sctp/socket.h"

namespace sctprelay::relay {

// True when `addr` lies within `prefix` (same family; IPv4-mapped IPv6 compared as IPv4).
bool prefix_contains(const config::Prefix& prefix, const sctp::Address& addr);

// A group admits an association when its listener matches (or none is named), any of the peer's
// addresses lies in one of its prefixes (or none are given), and the peer port matches (if given).
bool group_admits(const config::Destination& group, const std::string& listener,
                  const std::vector<sctp::Address>& peers);

}  // namespace sctprelay::relay
