#include "relay/admission.h"

#include "relay/address_match.h"

namespace sctprelay::relay {

bool address_allowed(const config::Listener& listener, const sctp::Address& address) {
  if (listener.allow.empty()) return true;
  for (const auto& prefix : listener.allow)
    if (prefix_contains(prefix, address)) return true;
  return false;
}

Refusal admit_added_address(const config::Listener& listener, const sctp::Address& address) {
  Refusal r;
  if (address_allowed(listener, address)) return r;
  r.reason = Refusal::Reason::NotAllowed;
  r.cause = "added address " + address.to_string() + " not allowed on listener " + listener.name;
  return r;
}

Refusal admit(const config::Listener& listener, const std::vector<sctp::Address>& peers, std::size_t current) {
  Refusal r;
  if (!listener.allow.empty()) {
    // A multi-homed peer may send from any of its addresses: every one must be allowed. A peer
    // whose addresses are unknown cannot be shown to be allowed.
    if (peers.empty()) {
      r.reason = Refusal::Reason::NotAllowed;
      r.cause = "peer address unknown; listener " + listener.name + " admits listed addresses only";
      return r;
    }
    for (const auto& p : peers)
      if (!address_allowed(listener, p)) {
        r.reason = Refusal::Reason::NotAllowed;
        r.cause = "address " + p.to_string() + " not allowed on listener " + listener.name;
        return r;
      }
  }
  if (listener.max_associations && current >= *listener.max_associations) {
    r.reason = Refusal::Reason::TooMany;
    r.cause = "listener " + listener.name + " is at its limit of " + std::to_string(*listener.max_associations) +
              " associations";
  }
  return r;
}

}  // namespace sctprelay::relay
