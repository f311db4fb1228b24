// The relay's status (relay/status.h) as the JSON of the control socket (docs/control.md): field
// names are the structs' own, times unix seconds, durations milliseconds. The server builds its
// answers here; sctprelayctl reads them back as plain JSON (it never needs these structs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "relay/stats.h"
#include "relay/status.h"

namespace sctprelay::control {

// What the daemon says of itself in `status` (the `daemon` object).
struct DaemonInfo {
  std::string version;      // SCTPRELAYD_VERSION
  int64_t pid = 0;
  std::string config_file;  // as given with --config
  uint64_t generation = 1;  // 1 at start, +1 per applied reload
  int64_t loaded_at = 0;    // unix seconds: when the running configuration was applied
  int64_t started_at = 0;   // unix seconds
  uint64_t uptime_s = 0;
  bool stopping = false;    // SIGTERM received: draining before exit
  unsigned workers = 1;     // event loops relaying traffic
};

// {"no_route": n, "queue_full": n, ...}: every reason, zero or not.
nlohmann::json to_json(const relay::DropCounts& drops);
// messages_in, bytes_in, messages_out, bytes_out, dropped (the sum), drops.
nlohmann::json to_json(const relay::Traffic& traffic);
// Every field of the counters line (Stats::to_string), in its order.
nlohmann::json to_json(const relay::Stats& totals);
nlohmann::json to_json(const relay::PathStatus& path);
// null when the kernel no longer knows the association (its state is empty); the
// SCTP_GET_ASSOC_STATS fields only when the kernel gave them.
nlohmann::json to_json(const relay::KernelStatus& kernel);
nlohmann::json to_json(const relay::AssociationStatus& assoc);
nlohmann::json to_json(const relay::ClosedAssociation& closed);
nlohmann::json to_json(const relay::ListenerStatus& listener);
nlohmann::json to_json(const relay::DestinationStatus& destination);
nlohmann::json to_json(const relay::RouteTargetStatus& target);
nlohmann::json to_json(const relay::RouteStatus& route);
nlohmann::json to_json(const DaemonInfo& daemon);

// Whole answers, each with "ok": true.
// status: daemon, totals, listeners, destinations.
nlohmann::json status_answer(const relay::RelayStatus& status, const DaemonInfo& daemon);
// assocs: associations, closed (filter them before: the answer holds what it is given).
nlohmann::json assocs_answer(const relay::RelayStatus& status);
// routes: routes (in config order, the default last, as RelayStatus has them).
nlohmann::json routes_answer(const relay::RelayStatus& status);
// destinations: destinations.
nlohmann::json destinations_answer(const relay::RelayStatus& status);
// drain / undrain: destination (its object).
nlohmann::json destination_answer(const relay::DestinationStatus& destination);
// disconnect: association {id, label}.
nlohmann::json disconnect_answer(uint64_t id, const std::string& label);
// reload: applied, errors, generation, summary; "ok" is `applied`.
nlohmann::json reload_answer(bool applied, const std::vector<std::string>& errors, uint64_t generation,
                             const std::string& summary);
// {"ok": false, "error": text}
nlohmann::json error_answer(const std::string& text);

}  // namespace sctprelay::control
