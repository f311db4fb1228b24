// One SCTP association the relay talks to, on a socket of its own: an association accepted on a
// listener (peeled off the listener's one-to-many socket) or one the relay opened to a peer
// destination. Everything that must not be shared between associations lives here: the socket
// (so its receive queue, send space and notifications), whether it is read, its queue of messages
// waiting to go, and who it holds back. The relay owns every Association (Relay::assocs_); other
// objects name them by id.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "event/dispatcher.h"
#include "relay/out_queue.h"
#include "relay/placement.h"
#include "relay/rate_limiter.h"
#include "relay/redelivery.h"
#include "relay/stats.h"
#include "relay/status.h"
#include "sctp/socket.h"

namespace sctprelay::relay {

// A message routed during one read batch, waiting to go out with the batch's other messages.
struct StagedMeta {
  uint64_t source = 0;  // the association it was read from: held back if it ends up queued
  Origin origin;
};

class Association {
 public:
  enum class Role { Accepted, Upstream };
  Association(uint64_t id, Role role, std::string label) : id(id), role(role), label(std::move(label)) {}
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  const uint64_t id;  // unique for the daemon's life, never reused
  const Role role;
  std::string label;  // for logs: "ran/assoc 5", "core-a", "core-a for ran/assoc 5"

  // ---- the socket ----
  sctp::Socket socket;
  // An accepted association that could not be peeled off (it had already ended when its COMM_UP
  // was read) stays on its listener's socket: what is left of it is read and sent there.
  sctp::Socket* listener_socket = nullptr;
  sctp::Socket& sock() { return listener_socket ? *listener_socket : socket; }
  std::unique_ptr<event::FileEvent> io;
  sctp_assoc_t assoc = 0;   // the kernel's id
  bool up = false;
  bool ending = false;      // a send said the association is going away; its end is on its way
  bool retired = false;     // closed: waits for deferred deletion, takes no part in anything
  bool refused = false;     // ABORTed by admission (a reload, an address added): nothing more is forwarded
  uint16_t out_streams = 0; // negotiated (COMM_UP)
  uint16_t in_streams = 0;
  int send_buffer = 0;      // what the kernel granted; a message larger cannot be sent
  std::chrono::system_clock::time_point up_since{};  // its (last) COMM_UP

  // ---- what it carried (status.h); added to its listener's or destination's book when it ends ----
  Traffic traffic;
  std::size_t queue_high_water = 0;  // most messages its queue held at once
  std::string end_cause;             // set where its end is decided (ABORTed by the relay, ...)

  // ---- sending ----
  OutQueue queue;
  config::StreamOverflow overflow = config::StreamOverflow::Modulo;
  uint32_t next_seq = 1;    // send sequence, carried as each message's context
  std::vector<sctp::OutMessage> staged;  // this batch's messages for it (parallel vectors)
  std::vector<StagedMeta> staged_meta;
  bool want_write = false;  // the queue waits for the socket to take more
  bool retry_later = false; // the host was short of buffers (ENOBUFS): the retry timer drains it
  // Sends can go to it (up, not ending, not waiting for the retry timer)...
  bool sending() const { return up && !ending && !retry_later; }
  // ...and nothing of its own waits ahead of a new message: that one goes out with its batch.
  bool sends_now() const { return sending() && queue.empty(); }
  std::chrono::steady_clock::time_point last_warning{};

  // ---- the return path ----
  bool track_origins = false;       // its replies go back to the association that sent on the stream
  std::vector<Origin> origins;      // by outbound stream; grows to the highest stream used
  // By send sequence (a ring, shared upstreams with return: origin): the origin of a message
  // handed back.
  bool keeps_sent_origins = false;
  std::vector<std::pair<uint32_t, Origin>> sent_origins;
  static constexpr std::size_t kSentOrigins = 4096;

  // ---- backpressure ----
  std::vector<uint64_t> holds;         // associations whose full queue keeps this one unread
  std::vector<uint64_t> held_sources;  // associations this one's queue keeps unread
  bool logged_pause = false;           // a pause for a full queue was logged (its release is too)
  bool stop_hold = false;              // the relay is stopping: no new traffic is read
  bool rate_hold = false;              // read faster than its listener's rate allows: waits for tokens
  bool paused() const { return !holds.empty() || stop_hold || rate_hold; }

  // ---- an accepted association ----
  std::string listener;
  std::atomic<std::size_t>* admitted_in = nullptr;  // with workers: its listener's daemon-wide count
  Placement* placed_in = nullptr;      // with workers: counted among its worker's (placement.h)
  int source = -1;                     // route-table source: the listener's, or the destination's
  std::vector<int> group_sources;      // route-table sources of the groups it is in, config order
  std::vector<std::string> groups;
  std::vector<sctp::Address> peers;
  config::OversizePolicy oversize = config::OversizePolicy::Drop;
  std::optional<RateLimiter> rate;     // listeners[].rate
  std::unique_ptr<event::Timer> rate_timer;  // lets it be read again once it has tokens

  // ---- an association to a peer destination ----
  std::string destination;
  uint64_t owner = 0;                  // associations: per-source: the source it carries (0: shared)
  std::unique_ptr<event::Timer> reconnect;
  std::chrono::milliseconds backoff{0};
  bool connecting = false;
  uint16_t want_out_streams = 16;      // offered in INIT (per-source: mirrors its source)
  uint16_t want_in_streams = 16;
  bool close_when_drained = false;     // per-source: its source is gone; SHUTDOWN once empty
  sctp_assoc_t last_assoc = 0;         // the association whose messages may still come back
  Redelivery returned;

  // Reads unless paused; writes while the queue waits for room.
  void update_watch() {
    if (!io) return;
    uint32_t mask = 0;
    if (!paused() && !retired) mask |= event::Readable;
    if (want_write && !retired) mask |= event::Writable;
    if (io->watching() != mask) io->watch(mask);
  }
};

}  // namespace sctprelay::relay
