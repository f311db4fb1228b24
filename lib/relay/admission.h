// Whom a listener lets in (listeners[].allow and max_associations), decided when an association
// comes up, before anything it sent is read. Pure: the relay does the ABORT and the counting.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.h"
#include "sctp/socket.h"

namespace sctprelay::relay {

struct Refusal {
  enum class Reason { None, NotAllowed, TooMany };
  Reason reason = Reason::None;
  std::string cause;  // what the peer is told in the ABORT (and the log says)
  explicit operator bool() const { return reason != Reason::None; }
};

// `peers`: every address the peer gave; `current`: the listener's associations before this one.
Refusal admit(const config::Listener& listener, const std::vector<sctp::Address>& peers, std::size_t current);

// An address the peer added after set-up (ASCONF): it must pass `allow` as the first ones did.
Refusal admit_added_address(const config::Listener& listener, const sctp::Address& address);

// Whether one address lies in the listener's `allow` list.
bool address_allowed(const config::Listener& listener, const sctp::Address& address);

}  // namespace sctprelay::relay
