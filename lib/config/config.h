// The relay's configuration as plain data: what the YAML file says, validated.
// Loading and validation live in loader.h; nothing here touches YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sctprelay::config {

// Where in the source file a value came from (1-based, for people). line 0 = unknown.
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
};

// An address and optional prefix length, e.g. "10.0.0.0/8", "::1", "127.0.0.1".
struct Prefix {
  std::string address;  // textual IPv4 or IPv6 address
  int length = -1;      // -1: full length (host match)
};

// What happens to an association that sends a message larger than limits.max_message_size.
// Either way the message is never held whole in memory: it is discarded as it is read.
enum class OversizePolicy {
  Abort,  // ABORT the association (cause: user-initiated abort naming the limit), counted
  Drop,   // discard that message, counted; the association carries on
};

// Inbound rate of one association (a token bucket): past it, that association is read no faster.
struct RateLimit {
  uint32_t messages_per_second = 0;
  uint32_t burst = 0;  // messages that may come at once after a quiet spell
};

struct Listener {
  std::string name;
  std::vector<std::string> addresses;  // bound with sctp_bindx; several = multi-homed
  uint16_t port = 0;
  uint16_t out_streams = 16;  // SCTP_INITMSG sinit_num_ostreams
  uint16_t in_streams = 16;   // SCTP_INITMSG sinit_max_instreams
  OversizePolicy oversize = OversizePolicy::Abort;  // a message above limits.max_message_size
  // Admission: a peer any of whose addresses lies outside `allow` (when given), or one beyond
  // `max_associations` at once, is ABORTed as it comes up; nothing it sent is forwarded.
  std::vector<Prefix> allow;                    // empty: any peer
  std::optional<std::size_t> max_associations;  // none: no limit but the descriptors
  std::optional<RateLimit> rate;                // none: read as fast as targets take it
  Position where;
};

enum class FullPolicy { Backpressure, Drop };
enum class StreamOverflow { Modulo, Reject };

struct QueueSettings {
  std::size_t max_messages = 10000;
  std::size_t max_bytes = 64u * 1024u * 1024u;
  FullPolicy when_full = FullPolicy::Backpressure;
  std::optional<std::chrono::milliseconds> ttl;  // queued longer than this: dropped, counted
};

// How a message is spread over several candidate associations.
enum class Balance { RoundRobin, ByStream };

// What happens to a message a destination peer sends back to the relay.
enum class ReturnPath {
  Origin,  // to the association that last sent on that (outbound) stream, stream/PPID restored
  Routes,  // through the routes whose `from` names this destination
};

// How many associations the relay opens to a peer destination.
enum class UpstreamMode {
  Shared,     // one association carries every source's messages (replies: return_path's rule)
  PerSource,  // one association per source association, opened on its first message, closed
              // when the source closes: replies always go back to the association that owns them
};

struct Destination {
  enum class Kind { Peer, Group };
  std::string name;
  Kind kind = Kind::Peer;

  // Kind::Peer: an upstream the relay connects to (sctp_connectx).
  std::vector<std::string> addresses;
  uint16_t port = 0;
  uint16_t out_streams = 16;
  uint16_t in_streams = 16;
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  ReturnPath return_path = ReturnPath::Origin;
  UpstreamMode associations = UpstreamMode::Shared;

  // Kind::Group: associations accepted on a listener, chosen by peer address and port.
  std::string listener;          // empty: any listener
  std::vector<Prefix> match;     // empty: any address
  std::optional<uint16_t> match_port;
  Balance balance = Balance::ByStream;

  QueueSettings queue;
  StreamOverflow stream_overflow = StreamOverflow::Modulo;
  Position where;
};

// A set of stream numbers: empty ranges = any stream.
struct StreamSet {
  std::vector<std::pair<uint16_t, uint16_t>> ranges;  // inclusive [first, last]
  bool any() const { return ranges.empty(); }
  bool contains(uint16_t s) const {
    if (ranges.empty()) return true;
    for (auto& [a, b] : ranges)
      if (s >= a && s <= b) return true;
    return false;
  }
};

enum class RouteMode {
  Forward,  // one target
  FanOut,   // a copy to every target
  Balance,  // one of the targets, chosen by `balance`
};

struct Route {
  std::string name;  // optional; defaults to "route N"
  std::string from;  // a listener or a destination name
  StreamSet streams;
  std::optional<uint32_t> ppid;  // host byte order
  std::vector<std::string> to;   // destination names
  RouteMode mode = RouteMode::Forward;
  Balance balance = Balance::RoundRobin;
  std::optional<uint16_t> set_stream;
  std::optional<uint32_t> set_ppid;  // host byte order
  Position where;
};

struct DefaultAction {
  enum class Kind { Drop, Fallback };
  Kind kind = Kind::Drop;
  std::string fallback;  // destination name when Kind::Fallback
};

struct Limits {
  std::size_t max_message_size = 1024u * 1024u;  // larger messages: listener's `oversize` policy
  // All messages being reassembled from partial reads, across every association, together.
  // A message that would take the total beyond it is discarded (counted: dropped_reassembly).
  std::size_t max_reassembly_bytes = 64u * 1024u * 1024u;
  // Every message waiting in every queue, together. A message that would take the total beyond it
  // is dropped (counted: dropped_queue_memory); past three quarters of it, sources of
  // backpressure queues are held back.
  std::size_t max_queued_bytes = 256u * 1024u * 1024u;
  std::chrono::milliseconds shutdown_drain{5000}; // SIGTERM: how long queues may drain
  Position max_message_size_where;  // where the file gave max_message_size (line 0: not given)
};

// The control socket (docs/control.md): who may use it is its file's mode and group.
struct Control {
  std::string socket;       // empty: $RUNTIME_DIRECTORY/control.sock under systemd, else none
  std::string group;        // empty: the daemon's own group
  uint32_t mode = 0660;     // the socket file's permission bits
  Position where;
};

// Prometheus text exposition over HTTP (GET /metrics), off unless `listen` is given.
struct Metrics {
  std::string address;      // "127.0.0.1", "::1", "0.0.0.0"; empty: off
  uint16_t port = 0;
  Position where;
};

// How many event loops (threads) relay traffic: `workers: N` or `workers: auto` (one per CPU).
// Each has its own socket per listener (SO_REUSEPORT: the kernel spreads new associations over
// them) and its own association to each destination; docs/workers.md.
struct Workers {
  unsigned count = 1;       // as written (ignored when automatic)
  bool automatic = false;   // `auto`: as many as the CPUs this process may run on
  Position where;           // line 0: not given
  static constexpr unsigned kMax = 64;
};

struct Config {
  std::string source_file;
  std::vector<Listener> listeners;
  std::vector<Destination> destinations;
  std::vector<Route> routes;
  DefaultAction default_action;
  Limits limits;
  Control control;
  Metrics metrics;
  Workers workers;
  std::string log_level = "info";

  // "2 listeners, 3 destinations, 4 routes" (logs, --check, the reload's answer)
  std::string summary() const {
    return std::to_string(listeners.size()) + " listeners, " + std::to_string(destinations.size()) +
           " destinations, " + std::to_string(routes.size()) + " routes";
  }

  const Listener* find_listener(const std::string& n) const {
    for (auto& l : listeners)
      if (l.name == n) return &l;
    return nullptr;
  }
  const Destination* find_destination(const std::string& n) const {
    for (auto& d : destinations)
      if (d.name == n) return &d;
    return nullptr;
  }
};

}  // namespace sctprelay::config
