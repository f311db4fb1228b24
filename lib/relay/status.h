// What the running relay can say about itself, as plain data: per association, listener,
// destination and route. Built on demand by Relay (status.cpp) for the control socket
// (control/), the Prometheus exposition (metrics/) and sd_notify's STATUS line; nothing here
// touches JSON, HTTP or the kernel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relay/stats.h"

namespace sctprelay::relay {

using DropCounts = std::array<uint64_t, kDropReasons>;

// Traffic through one association, listener, destination or route target.
struct Traffic {
  uint64_t messages_in = 0;   // read from it
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;  // handed to the kernel for it
  uint64_t bytes_out = 0;
  DropCounts drops{};
  void add(const Traffic& o) {
    messages_in += o.messages_in;
    bytes_in += o.bytes_in;
    messages_out += o.messages_out;
    bytes_out += o.bytes_out;
    for (std::size_t i = 0; i < kDropReasons; ++i) drops[i] += o.drops[i];
  }
  uint64_t dropped() const {
    uint64_t n = 0;
    for (auto d : drops) n += d;
    return n;
  }
};

// One path (peer address) of an association, from SCTP_GET_PEER_ADDR_INFO.
struct PathStatus {
  std::string address;      // "10.0.0.2:2905" ([v6]:port)
  std::string state;        // "active", "inactive", "unconfirmed", "potentially-failed", "unknown"
  bool primary = false;
  uint32_t srtt_ms = 0;
  uint32_t rto_ms = 0;
  uint32_t cwnd = 0;        // bytes
  uint32_t mtu = 0;
};

// What the kernel says of an association (SCTP_STATUS, SCTP_GET_ASSOC_STATS); empty when it
// no longer knows it.
struct KernelStatus {
  std::string state;        // "ESTABLISHED", "SHUTDOWN_PENDING", ...
  uint16_t in_streams = 0;
  uint16_t out_streams = 0;
  uint32_t peer_rwnd = 0;   // sstat_rwnd
  uint16_t unacked = 0;     // sstat_unackdata
  uint16_t pending = 0;     // sstat_penddata
  uint32_t fragmentation_point = 0;
  std::string primary;      // the primary path's address
  std::vector<PathStatus> paths;
  // SCTP_GET_ASSOC_STATS (absent when the kernel does not offer it)
  bool have_stats = false;
  uint64_t retransmitted_chunks = 0;  // sas_rtxchunks
  uint64_t gap_acks_received = 0;     // sas_gapcnt
  uint64_t out_of_sequence_tsns = 0;  // sas_outofseqtsns
  uint64_t sacks_sent = 0;            // sas_osacks
  uint64_t sacks_received = 0;        // sas_isacks
  uint64_t control_chunks_out = 0;    // sas_octrlchunks
  uint64_t data_chunks_out = 0;       // sas_ouodchunks + sas_oodchunks
  uint64_t data_chunks_in = 0;        // sas_iuodchunks + sas_iodchunks
  uint32_t max_rto_ms = 0;            // sas_maxrto
};

struct AssociationStatus {
  uint64_t id = 0;            // the relay's id (disconnect takes it)
  int32_t assoc_id = 0;       // the kernel's sctp_assoc_t
  unsigned worker = 0;        // which worker (event loop) carries it
  std::string role;           // "accepted" or "upstream"
  std::string label;          // as in the logs
  std::string listener;       // accepted: its listener
  std::vector<std::string> groups;  // accepted: the groups it is in
  std::string destination;    // upstream: its destination
  uint64_t owner = 0;         // upstream, associations: per-source: the source association's id
  bool up = false;
  bool connecting = false;
  int64_t up_since = 0;       // unix seconds (0: not up yet)
  std::vector<std::string> peers;  // peer addresses as seen at COMM_UP (accepted) or configured
  KernelStatus kernel;        // only filled in for `assocs` (a getsockopt per path)
  Traffic traffic;
  uint64_t queued_messages = 0;
  uint64_t queued_bytes = 0;
  uint64_t queue_high_water = 0;  // most messages queued at once
  bool paused = false;
  std::vector<std::string> pause_reasons;  // "backpressure", "rate", "stopping"
};

// An association that has ended, kept for a while (the last 64) so `assocs` can say why.
struct ClosedAssociation {
  uint64_t id = 0;
  std::string label;
  std::string listener;
  std::string destination;
  std::vector<std::string> peers;
  int64_t up_since = 0;
  int64_t closed_at = 0;      // unix seconds
  std::string cause;          // "shutdown", "abort: ...", "refused: ...", "disconnected", ...
  Traffic traffic;
};

struct ListenerStatus {
  std::string name;
  std::vector<std::string> addresses;
  uint16_t port = 0;
  uint64_t associations = 0;        // up now
  uint64_t accepted_total = 0;      // ever (COMM_UP admitted)
  uint64_t refused_not_allowed = 0;
  uint64_t refused_max_associations = 0;
  uint64_t rate_limited = 0;
  Traffic traffic;                  // its associations', living and ended
};

struct DestinationStatus {
  std::string name;
  std::string kind;                 // "peer" or "group"
  std::string mode;                 // peer: "shared" or "per-source"; group: its balance
  std::string state;                // "up", "connecting", "down" (peer); "up"/"empty" (group)
  bool drained = false;             // drain D: routes skip it
  std::vector<std::string> addresses;  // peer: configured; group: listener and match
  uint16_t port = 0;
  uint64_t associations = 0;        // up now (shared: 0/1; per-source: n; group: members)
  uint64_t queued_messages = 0;     // over its associations
  uint64_t queued_bytes = 0;
  uint64_t connect_attempts = 0;    // peer: connects tried since start
  uint64_t reconnects = 0;          // peer: connects after an association ended or failed
  std::string last_error;           // peer: why the last connect or association failed
  int64_t last_error_at = 0;        // unix seconds
  Traffic traffic;                  // its associations', living and ended
};

struct RouteTargetStatus {
  std::string destination;
  bool drained = false;
  uint64_t messages = 0;            // copies handed on to it (sent or queued)
  uint64_t bytes = 0;
  DropCounts drops{};               // dropped while routing to it (queue full, no target, ...)
};

struct RouteStatus {
  std::string name;                 // the route's name, "route N", or "default"
  std::string from;                 // listener or destination (default: "")
  std::string action;               // "forward", "fan-out", "balance"; default: "drop" / "fallback"
  uint64_t matched_messages = 0;
  uint64_t matched_bytes = 0;
  std::vector<RouteTargetStatus> targets;
  uint64_t dropped = 0;             // default drop: messages that matched no route
};

// Everything at once (status, metrics). `associations` and `closed` are filled only when asked.
struct RelayStatus {
  Stats totals;
  std::vector<ListenerStatus> listeners;
  std::vector<DestinationStatus> destinations;
  std::vector<RouteStatus> routes;  // in config order, the default last
  std::vector<AssociationStatus> associations;
  std::vector<ClosedAssociation> closed;
  bool stopping = false;
  unsigned workers = 1;
};

// The daemon's status from its workers': counters summed, associations listed once each (by
// id), the recently closed merged by time. Every part comes from the same configuration, so
// listeners, destinations and routes stand in the same order in each.
RelayStatus merge_status(std::vector<RelayStatus> parts);

}  // namespace sctprelay::relay
