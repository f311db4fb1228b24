// The relay's live objects: sockets it reads, associations it sends to, and what config made them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "event/dispatcher.h"
#include "relay/out_queue.h"
#include "sctp/socket.h"

namespace sctprelay::relay {

struct Endpoint;

// A message routed during one batch of reads, to go out with the batch's other messages.
struct SocketSide;
struct StagedSend {
  Endpoint* ep;
  SocketSide* source;  // where it was read: held back if the message ends up in a full queue
  Origin origin;
};

// A socket the relay reads and writes: a listener's, or a peer destination's.
struct SocketSide {
  sctp::Socket socket;
  std::unique_ptr<event::FileEvent> io;
  int pauses = 0;                      // backpressure holds; reading resumes at 0
  std::vector<Endpoint*> want_write;   // endpoints whose queue waits for the socket to take more
  std::string name;                    // listener or destination name, for logs
  // Sends staged while a batch of reads is routed (parallel vectors; one sendmmsg at the end).
  std::vector<sctp::OutMessage> staged;
  std::vector<StagedSend> staged_meta;
};

// One association the relay can send to, with its queue.
struct Endpoint {
  uint64_t id = 0;                     // unique for the daemon's life, never reused
  std::string label;                   // for logs: "core-a", "ran/assoc 5"
  SocketSide* side = nullptr;
  sctp_assoc_t assoc = 0;
  bool up = false;
  uint16_t out_streams = 0;            // negotiated (COMM_UP)
  OutQueue queue;
  config::StreamOverflow overflow = config::StreamOverflow::Modulo;
  bool in_write_list = false;
  std::vector<SocketSide*> paused;     // sources held back because this queue is full (or growing)
  bool logged_pause = false;           // the pause was for a full queue and was logged
  bool track_origins = false;          // its destination answers with return: origin
  std::vector<Origin> origins;         // by outbound stream (endpoint_id 0: none); grows to the highest used
  std::chrono::steady_clock::time_point last_overflow_log{};
};

struct GroupRt;

// An association accepted on a listener.
struct Accepted {
  Endpoint ep;
  std::vector<sctp::Address> peers;
  std::vector<GroupRt*> groups;        // groups whose match rules it meets, config order
};

struct ListenerRt {
  config::Listener cfg;
  SocketSide side;
  int source = -1;                     // route-table source index
  std::unordered_map<sctp_assoc_t, std::unique_ptr<Accepted>> assocs;
  // Messages come in runs from one association: the last one looked up, to skip the hash.
  Accepted* last = nullptr;

  Accepted* find(sctp_assoc_t id) {
    if (last && last->ep.assoc == id) return last;
    auto it = assocs.find(id);
    return last = (it == assocs.end() ? nullptr : it->second.get());
  }
};

// An upstream peer the relay connects to.
struct PeerRt {
  config::Destination cfg;
  SocketSide side;
  Endpoint ep;
  int source = -1;
  std::unique_ptr<event::Timer> reconnect;
  std::chrono::milliseconds backoff{0};
  bool connecting = false;
  std::size_t returned = 0;            // messages the kernel handed back since the association ended
  sctp_assoc_t last_assoc = 0;         // the association whose unsent messages may come back
};

// Accepted associations chosen by peer address/port.
struct GroupRt {
  config::Destination cfg;
  int source = -1;
  std::vector<Accepted*> members;      // in order of arrival
  std::size_t next = 0;                // round-robin position
};

// A route's targets, resolved to live objects.
struct Target {
  PeerRt* peer = nullptr;
  GroupRt* group = nullptr;
};
struct RouteRt {
  const config::Route* cfg = nullptr;
  std::vector<Target> targets;
  std::size_t next = 0;                // round-robin position
};

}  // namespace sctprelay::relay
