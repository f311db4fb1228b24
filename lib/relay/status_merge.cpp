// The workers' status as one: what `sctprelayctl status`, `routes`, `assocs` and the metrics show
// when the daemon runs several event loops.
#include <algorithm>

#include "relay/status.h"

namespace sctprelay::relay {
namespace {

constexpr std::size_t kClosedShown = 64;

void add_drops(DropCounts& into, const DropCounts& more) {
  for (std::size_t i = 0; i < kDropReasons; ++i) into[i] += more[i];
}

// A shared peer has one association per worker: "up" when every one is, "partial" when some are.
std::string combined_state(const std::string& a, const std::string& b) {
  if (a == b) return a;
  if (a == "up" || b == "up" || a == "partial" || b == "partial") return "partial";
  if (a == "connecting" || b == "connecting") return "connecting";
  return a;
}

void add_listener(ListenerStatus& into, const ListenerStatus& more) {
  into.associations += more.associations;
  into.accepted_total += more.accepted_total;
  into.refused_not_allowed += more.refused_not_allowed;
  into.refused_max_associations += more.refused_max_associations;
  into.rate_limited += more.rate_limited;
  into.traffic.add(more.traffic);
}

void add_destination(DestinationStatus& into, const DestinationStatus& more) {
  into.state = combined_state(into.state, more.state);
  into.associations += more.associations;
  into.queued_messages += more.queued_messages;
  into.queued_bytes += more.queued_bytes;
  into.connect_attempts += more.connect_attempts;
  into.reconnects += more.reconnects;
  if (more.last_error_at > into.last_error_at) {
    into.last_error = more.last_error;
    into.last_error_at = more.last_error_at;
  }
  into.traffic.add(more.traffic);
}

void add_route(RouteStatus& into, const RouteStatus& more) {
  into.matched_messages += more.matched_messages;
  into.matched_bytes += more.matched_bytes;
  into.dropped += more.dropped;
  for (std::size_t t = 0; t < into.targets.size() && t < more.targets.size(); ++t) {
    into.targets[t].messages += more.targets[t].messages;
    into.targets[t].bytes += more.targets[t].bytes;
    add_drops(into.targets[t].drops, more.targets[t].drops);
  }
}

}  // namespace

RelayStatus merge_status(std::vector<RelayStatus> parts) {
  if (parts.empty()) return {};
  RelayStatus out = std::move(parts.front());
  for (std::size_t p = 1; p < parts.size(); ++p) {
    RelayStatus& more = parts[p];
    out.totals.add(more.totals);
    for (std::size_t i = 0; i < out.listeners.size() && i < more.listeners.size(); ++i)
      add_listener(out.listeners[i], more.listeners[i]);
    for (std::size_t i = 0; i < out.destinations.size() && i < more.destinations.size(); ++i)
      add_destination(out.destinations[i], more.destinations[i]);
    for (std::size_t i = 0; i < out.routes.size() && i < more.routes.size(); ++i) add_route(out.routes[i], more.routes[i]);
    std::move(more.associations.begin(), more.associations.end(), std::back_inserter(out.associations));
    std::move(more.closed.begin(), more.closed.end(), std::back_inserter(out.closed));
    out.stopping = out.stopping || more.stopping;
  }
  out.workers = static_cast<unsigned>(parts.size());
  std::sort(out.associations.begin(), out.associations.end(), [](auto& x, auto& y) { return x.id < y.id; });
  std::stable_sort(out.closed.begin(), out.closed.end(), [](auto& x, auto& y) { return x.closed_at < y.closed_at; });
  if (out.closed.size() > kClosedShown)
    out.closed.erase(out.closed.begin(), out.closed.end() - static_cast<std::ptrdiff_t>(kClosedShown));
  return out;
}

}  // namespace sctprelay::relay
