// Counters kept by name for listeners, destinations and routes, so they outlive the objects a
// reload rebuilds (and keep counting up, as Prometheus counters must). What an association
// carried is counted on the association while it lives (Association::traffic) and added to its
// listener's, destination's or groups' book when it ends: the hot path increments one place.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "relay/status.h"

namespace sctprelay::relay {

struct ListenerBook {
  Traffic ended;                     // associations that have ended
  Traffic unattached;                // messages read on the listener socket with no association
  uint64_t accepted_total = 0;
  uint64_t refused_not_allowed = 0;
  uint64_t refused_max_associations = 0;
  uint64_t rate_limited = 0;
};

struct DestinationBook {
  Traffic ended;
  uint64_t connect_attempts = 0;
  uint64_t reconnects = 0;
  std::string last_error;
  int64_t last_error_at = 0;
  bool drained = false;  // drain D: routes skip it until undrain
};

struct TargetBook {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  DropCounts drops{};
  void handed_on(std::size_t n) {
    messages++;
    bytes += n;
  }
};

struct RouteBook {
  uint64_t matched_messages = 0;
  uint64_t matched_bytes = 0;
  uint64_t dropped = 0;  // the default with no fallback (or a drained one): matched no route, dropped
  std::map<std::string, TargetBook> targets;  // by destination name
};

struct Ledger {
  std::map<std::string, ListenerBook> listeners;
  std::map<std::string, DestinationBook> destinations;
  std::map<std::string, RouteBook> routes;  // by route name; the default is "default"
};

}  // namespace sctprelay::relay
