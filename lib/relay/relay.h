// The relay: owns listeners and destinations built from a Config, reads messages, routes them,
// and sends them on (queueing when a target cannot take more). Single-threaded on a Dispatcher.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>

#include "config/config.h"
#include "event/dispatcher.h"
#include "relay/runtime.h"
#include "relay/stats.h"
#include "router/route_table.h"

namespace sctprelay::relay {

using Bytes = std::span<const uint8_t>;

class Relay {
 public:
  explicit Relay(event::Dispatcher& dispatcher);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Applies a validated config: first start, or a reload. Associations that remain valid are kept.
  // On failure (a listener cannot bind) nothing changes and `error` says why.
  bool apply(const config::Config& cfg, std::string& error);

  // Graceful stop: stop reading new traffic, drain queues until `deadline`, SHUTDOWN every
  // association, then call `done` (from the loop).
  void stop(std::chrono::milliseconds deadline, std::function<void()> done);

  const Stats& stats() const { return stats_; }
  std::size_t association_count() const;
  std::size_t queued_messages() const;

 private:
  // relay.cpp: configuration
  bool open_listener(ListenerRt& l, std::string& error);
  void open_peer(PeerRt& p);
  void connect_peer(PeerRt& p);
  void schedule_reconnect(PeerRt& p);
  void rebuild_groups();
  void join_groups(const ListenerRt& l, Accepted& a);
  void rebuild_routes();
  void release_all_pauses();

  // relay_io.cpp: reading and events
  void on_io(SocketSide& side, uint32_t ready, ListenerRt* listener, PeerRt* peer);
  void read_side(SocketSide& side, ListenerRt* listener, PeerRt* peer);
  void on_listener_notification(ListenerRt& l, const sctp::Received& item);
  void on_peer_notification(PeerRt& p, const sctp::Notification& n);
  void accepted_up(ListenerRt& l, const sctp::AssocChange& c, const sctp::Address& from);
  void accepted_down(ListenerRt& l, sctp_assoc_t assoc, const char* why, bool aborted);
  void peer_down(PeerRt& p, const char* why, bool aborted);
  void update_watch(SocketSide& side);
  void check_stopped();
  void await_sender_dry();
  void sender_dry(sctp_assoc_t assoc);
  void send_shutdown();

  // relay_forward.cpp: routing and sending
  void from_accepted(ListenerRt& l, Accepted& a, sctp::MessageInfo info, Bytes data);
  void from_peer(PeerRt& p, sctp::MessageInfo info, Bytes data);
  bool return_to_origin(Endpoint& from, sctp::MessageInfo info, Bytes data,
                        SocketSide& source);
  void apply_route(int route, Endpoint* from, const sctp::MessageInfo& info, Bytes data,
                   SocketSide& source);
  void apply_default(Endpoint* from, const sctp::MessageInfo& info, Bytes data,
                     SocketSide& source);
  Endpoint* pick(const Target& t, uint16_t stream);
  void deliver(Endpoint* ep, const sctp::MessageInfo& info, Bytes data,
               SocketSide& source, const Origin& origin);
  void record_origin(Endpoint& ep, uint16_t stream, const Origin& origin);
  // Counts a failed send and logs it; true when the message should be kept (association ending).
  bool keep_after_send_error(const Endpoint& ep, const std::error_code& ec);
  // True when the stream fits the endpoint's negotiated streams (after mapping, if configured).
  bool fit_stream(Endpoint& ep, sctp::MessageInfo& info) {
    return ep.out_streams == 0 || info.stream < ep.out_streams || map_stream(ep, info);
  }
  bool map_stream(Endpoint& ep, sctp::MessageInfo& info);  // the stream is beyond: map or reject
  void flush(Endpoint& ep);
  void stage(Endpoint& ep, const sctp::MessageInfo& info, Bytes data, SocketSide& source,
             const Origin& origin);
  void flush_staged();
  void flush_side(SocketSide& side);
  void enqueue(Endpoint& ep, const sctp::MessageInfo& info, const uint8_t* data, std::size_t len,
               SocketSide* source, const Origin& origin);
  void want_write(Endpoint& ep);
  void forget_endpoint(Endpoint& ep);
  void hold_source(Endpoint& ep, SocketSide& source);
  void release_sources(Endpoint& ep);
  // Sources held back for `ep` may read again: its queue is below half its limits and, while it
  // is up, below the soft limit's low water too.
  static bool may_release(Endpoint& ep) {
    return ep.queue.below_low_water() && (!ep.up || ep.queue.below_soft_low_water());
  }
  void expire_queues();
  uint64_t new_endpoint_id() { return ++last_endpoint_id_; }

  event::Dispatcher& dispatcher_;
  config::Config cfg_;
  router::RouteTable table_;
  std::map<std::string, std::unique_ptr<ListenerRt>> listeners_;
  std::map<std::string, std::unique_ptr<PeerRt>> peers_;
  std::map<std::string, std::unique_ptr<GroupRt>> groups_;
  std::vector<RouteRt> routes_;
  Target fallback_;
  std::unordered_map<uint64_t, Endpoint*> endpoints_by_id_;
  uint64_t last_endpoint_id_ = 0;
  sctp::ReceiveBatch batch_;
  std::vector<SocketSide*> staged_sides_;   // sides with staged sends in the current batch
  std::vector<sctp::OutMessage> drain_;     // scratch for sending a queue's front in one call
  Stats stats_;
  std::unique_ptr<event::Timer> ttl_timer_;

  bool stopping_ = false;
  // Stopping goes: drain the relay's queues, wait until the kernel has every destination's data
  // acknowledged (SENDER_DRY), SHUTDOWN every association, wait for them to finish.
  enum class StopPhase { Draining, AwaitDry, ShutdownSent };
  StopPhase stop_phase_ = StopPhase::Draining;
  std::unordered_set<sctp_assoc_t> awaiting_dry_;
  std::function<void()> stopped_;
  std::unique_ptr<event::Timer> stop_timer_;
};

}  // namespace sctprelay::relay
