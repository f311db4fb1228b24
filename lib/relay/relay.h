// The relay: builds listeners, destinations, groups and routes from a Config, reads messages from
// every association, routes them and sends them on, queueing per association when a target cannot
// take more. Single-threaded on a Dispatcher.
//
// Where each job lives (one file each):
//   relay.cpp        configuration: commit (first start and reload), creating and retiring associations
//   listeners.cpp    listeners' sockets, changed by a reload in steps on every worker or on none
//   accepting.cpp    listeners: new associations peeled off onto their own sockets, their end
//   upstream.cpp     peer destinations: connecting, reconnecting, per-source associations, redelivery
//   reading.cpp      reading an association: messages, oversize policy, notifications
//   forwarding.cpp   choosing routes and targets, the return path
//   sending.cpp      sending now or queueing, draining queues, send error classes
//   backpressure.cpp holding sources back while a target's queue is full, and letting them go
//   stopping.cpp     the graceful stop
//   association_table.h  the one owner of every association (deferred delete)
//   backpressure.h       who holds whom back
// Associations are named by id everywhere but in the table; one is deleted only on the loop's next
// turn (retire), so no callback ever runs on a deleted one.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "config/config.h"
#include "event/dispatcher.h"
#include "relay/admission.h"
#include "relay/association.h"
#include "relay/association_table.h"
#include "relay/backpressure.h"
#include "relay/ledger.h"
#include "relay/placement.h"
#include "relay/queue_budget.h"
#include "relay/stats.h"
#include "relay/status.h"
#include "relay/worker_place.h"
#include "router/route_table.h"

namespace sctprelay::relay {

using Bytes = std::span<const uint8_t>;

struct ListenerRt {
  config::Listener cfg;
  sctp::Socket socket;
  std::unique_ptr<event::FileEvent> io;
  int source = -1;                                         // route-table source index
  std::unordered_map<sctp_assoc_t, uint64_t> accepted;     // kernel id -> association id
  // Refused associations whose messages may still be read here, dropped: those peeled off until
  // the end of the batch that held their COMM_UP (false), those that stayed on this socket (they
  // had ended before they could be peeled off) until their end is read too (true).
  std::unordered_map<sctp_assoc_t, bool> refused;
  std::chrono::steady_clock::time_point last_refusal_log{};
  bool stop_hold = false;
  ListenerBook* book = nullptr;  // its counters (Relay::ledger_), kept across reloads
  std::atomic<std::size_t>* up_everywhere = nullptr;  // with workers: its associations in every worker
};

// A listener change under way (listeners.cpp): sockets bound for new and changed listeners, the
// listeners to bind once `release`'s old sockets (ours, in the way) have closed.
struct ListenerChange {
  std::map<std::string, std::unique_ptr<ListenerRt>> bound;
  std::vector<std::string> rebind;
  std::vector<std::string> release;
  bool released = false;
};

struct PeerRt {
  config::Destination cfg;
  int source = -1;
  Association* shared = nullptr;                       // associations: shared (lives as long as this)
  std::unordered_map<uint64_t, Association*> per_source;  // source association id -> its upstream
  DestinationBook* book = nullptr;  // its counters and drain state (Relay::ledger_)
};

struct GroupRt {
  config::Destination cfg;
  int source = -1;
  std::vector<uint64_t> members;  // association ids, in order of arrival
  std::size_t next = 0;           // round-robin position
  DestinationBook* book = nullptr;
};

struct Target {
  PeerRt* peer = nullptr;
  GroupRt* group = nullptr;
  TargetBook* counts = nullptr;  // what its route handed to it
  // Can take a message now (round-robin prefers those): a shared peer connected (a per-source
  // peer opens its association on demand), a group with members.
  bool up() const {
    return peer ? (peer->shared ? peer->shared->up : true) : (group && !group->members.empty());
  }
  bool drained() const {
    const DestinationBook* b = peer ? peer->book : group ? group->book : nullptr;
    return b && b->drained;
  }
};
struct RouteRt {
  const config::Route* cfg = nullptr;
  std::vector<Target> targets;
  std::size_t next = 0;
  RouteBook* book = nullptr;
  bool any_drained = false;  // a target is drained: the slow path skips it (Relay::refresh_drained)
};

// Items read from one socket per readiness event before the others get a turn.
constexpr int kReadBudget = 64;

class Relay {
 public:
  // `place`: which of the daemon's workers this is (relay/workers.h); alone by default.
  explicit Relay(event::Dispatcher& dispatcher, WorkerPlace place = {});
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // A validated config is put in force (first start, or a reload) in steps, which Workers::apply
  // runs on every worker in turn (listeners.cpp says why): bind_listeners; if any worker
  // must_rebind, release_rebound and rebind_listeners on all; then commit and start_listeners on
  // all. A failed bind (false, `error` says why) is undone with abandon_listeners then
  // restore_listeners, and nothing changes. Associations that remain valid are kept.
  bool bind_listeners(const config::Config& next, std::string& error);
  bool must_rebind() const;
  void release_rebound();
  bool rebind_listeners(const config::Config& next, std::string& error);
  void abandon_listeners();
  void restore_listeners();
  void commit(const config::Config& next);
  void start_listeners();

  // Graceful stop: stop reading new traffic, drain queues until `deadline`, SHUTDOWN every
  // association, then call `done` (from the loop).
  void stop(std::chrono::milliseconds deadline, std::function<void()> done);

  // The counters, with the gauges as they stand now.
  Stats stats() const;
  // Listeners, destinations and routes with their counters (status.cpp); with `associations`,
  // every association (with what the kernel says of it) and the recently closed ones, optionally
  // only those of one listener or destination.
  struct StatusQuery {
    bool associations = false;
    std::string listener;
    std::string destination;
  };
  RelayStatus status(const StatusQuery& q) const;
  // drain: routes stop choosing destination `name` (they pick another target or the default);
  // its queue empties. False (and `error`) if there is no such destination.
  bool set_drained(const std::string& name, bool drained, std::string& error);
  // SHUTDOWN (or ABORT) one association by its relay id.
  bool disconnect(uint64_t id, bool abort, std::string& error, std::string* label = nullptr);
  std::size_t association_count() const;
  std::size_t queued_messages() const;
  // With workers: an association another worker accepted, handed here to even the workers out
  // (placement.h). Runs on this relay's loop.
  void adopt(HandedOver&& h);

 private:
  // listeners.cpp
  bool holds_port(uint16_t port) const;  // a listener of this relay's is on it
  bool bind_listener(ListenerRt& l, std::string& error, std::error_code* why = nullptr);
  void start_listener(ListenerRt& l);  // reads it from now on
  void commit_listeners(const config::Config& next);
  void retire_unpeeled(ListenerRt& l);  // before its socket closes
  // relay.cpp
  void apply_destinations();
  void rebuild_groups();
  void join_groups(Association& a);
  void rebuild_routes();
  Association& create(Association::Role role, std::string label) {
    Association& a = assocs_.create(role, std::move(label));
    a.queue.set_budget(&queue_budget_);
    return a;
  }
  void retire(Association& a, std::string cause = {});  // unhooks it from everything that names it; deleted on the loop's next turn
  Association* find(uint64_t id) { return assocs_.find(id); }

  // accepting.cpp
  void read_listener(ListenerRt& l);
  void accept_association(ListenerRt& l, const sctp::AssocChange& c, const sctp::Address& from);
  // An admitted association carried here from now on: on `own` (its own socket), or on the
  // listener's when it has none.
  Association& take_on(ListenerRt& l, const sctp::AssocChange& c, std::vector<sctp::Address> peers,
                       sctp::Socket* own);
  void hand_over_accepted();  // the batch's associations going to other workers, sent on
  // " worker N" with several workers (for log lines that name an association or a listener), else "".
  std::string worker_text() const {
    return place_.count > 1 ? " worker " + std::to_string(place_.index) : std::string();
  }
  void accepted_down(Association& a, const char* why, bool aborted);
  // admission.cpp's rules, applied: ABORTs an association its listener does not admit. False if
  // it was refused (and, when `a` is given, retired).
  bool admitted(ListenerRt& l, sctp::Socket& socket, sctp_assoc_t assoc, const std::vector<sctp::Address>& peers);
  void refuse(ListenerRt& l, sctp::Socket& socket, sctp_assoc_t assoc, const Refusal& why);
  // One already in that no longer passes (a reload, an address added): ABORTed, nothing more forwarded.
  void refuse_admitted(ListenerRt& l, Association& a, const Refusal& why);
  void apply_admission_rules();  // after a reload: the listeners' current rules for those already in
  void set_rate(Association& a, const std::optional<config::RateLimit>& rate);
  void rate_pause(Association& a);

  // upstream.cpp
  void open_shared_upstream(PeerRt& p);
  Association& open_upstream(const config::Destination& d, std::string label, uint64_t owner,
                             uint16_t out_streams, uint16_t in_streams);
  void connect_upstream(Association& u);
  void schedule_reconnect(Association& u);
  Association* per_source_upstream(PeerRt& p, Association& source);
  void on_upstream_notification(Association& u, const sctp::Notification& n);
  void upstream_down(Association& u, const char* why, bool aborted);
  void take_back_returned(Association& u);
  void close_per_source_upstreams(uint64_t owner);
  void close_upstream_when_drained(Association& u);

  // reading.cpp
  void on_association_io(Association& a, uint32_t ready);
  void read_association(Association& a);
  void on_item(Association& a, const sctp::Received& item);
  void on_oversize(Association& a, const sctp::Received& item, bool budget);
  void on_accepted_notification(Association& a, const sctp::Received& item);
  // A path of a multi-homed peer changed: logged; when the primary became unreachable, another
  // active path becomes the primary (the kernel already sends on it; status then says so).
  void on_path_change(Association& a, const sctp::PeerAddrChange& p);

  // forwarding.cpp
  void route_message(Association& from, sctp::MessageInfo info, Bytes data);
  bool return_to_origin(Association& from, sctp::MessageInfo info, Bytes data);
  void apply_route(int route, Association& from, const sctp::MessageInfo& info, Bytes data);
  void apply_default(Association& from, const sctp::MessageInfo& info, Bytes data);
  // Which association of target `t` carries a message (a shared peer's is the common case).
  Association* pick(const Target& t, Association& from, uint16_t stream) {
    if (t.peer && t.peer->cfg.associations == config::UpstreamMode::Shared) return t.peer->shared;
    return pick_slow(t, from, stream);
  }
  Association* pick_slow(const Target& t, Association& from, uint16_t stream);
  template <bool kSkipDrained>
  void to_targets(RouteRt& rt, Association& from, const sctp::MessageInfo& in, Bytes data);
  void refresh_drained();  // after a drain or a reload: which routes have a drained target
  // Hands a routed copy to target `t`, counting it on the target's book.
  void deliver_to(const Target& t, Association& from, const sctp::MessageInfo& info, Bytes data,
                  const Origin& origin) {
    deliver(pick(t, from, info.stream), info, data, from, origin, t.counts);
  }

  // status.cpp
  void drop(Association* on, DropReason why, uint64_t n = 1) {
    stats_.dropped(why) += n;
    if (on) on->traffic.drops[static_cast<std::size_t>(why)] += n;
  }
  void record_end(Association& a, std::string cause);  // into the books and the closed list
  AssociationStatus describe(const Association& a, bool kernel) const;
  DestinationBook& destination_book(const std::string& name) { return ledger_.destinations[name]; }

  // sending.cpp (sent() also records the return path's origin). deliver() counts the copy on
  // `counts` (a route's target, when given): handed on, or dropped at once and why.
  // The common case (an association that takes it now, its stream within its streams) is staged
  // right there; everything else goes through deliver_otherwise().
  void deliver(Association* to, const sctp::MessageInfo& info, Bytes data, Association& from,
               const Origin& origin, TargetBook* counts = nullptr);
  void deliver_otherwise(Association* to, const sctp::MessageInfo& info, Bytes data, Association& from,
                         const Origin& origin, TargetBook* counts);
  bool fit_stream(Association& to, sctp::MessageInfo& info) {
    return to.out_streams == 0 || info.stream < to.out_streams || map_stream(to, info);
  }
  bool map_stream(Association& to, sctp::MessageInfo& info);
  static bool within_send_buffer(const Association& to, std::size_t len) {
    return to.send_buffer <= 0 || len <= static_cast<std::size_t>(to.send_buffer);
  }
  bool fits_send_buffer(Association& to, std::size_t len) { return within_send_buffer(to, len) || too_big(to, len); }
  bool too_big(Association& to, std::size_t len);  // counts and logs it; false
  // Kept inline in deliver() on purpose (a call per message costs ~20 instructions).
  [[gnu::always_inline]] inline void stage(Association& to, const sctp::MessageInfo& info, Bytes data,
                                           Association& from, const Origin& origin);
  void flush_staged();
  void flush_staged(Association& to);
  std::optional<DropReason> enqueue(Association& to, const sctp::MessageInfo& info, const uint8_t* data,
                                    std::size_t len, Association* from, const Origin& origin);
  void drain(Association& to);
  // Once per message sent: kept inline in its two callers (sending.cpp) on purpose.
  [[gnu::always_inline]] inline void sent(Association& to, const sctp::OutMessage& m, const Origin& origin);
  // What to do after message `m` failed with `ec`: true = drop it and go on with the next.
  bool drop_after_send_error(Association& to, const std::error_code& ec, std::size_t len);
  void want_write(Association& to);
  void retry_later(Association& to);
  void retry_sends();
  void expire_queues();

  // backpressure.cpp
  void hold(Association& source, Association& target) { backpressure_.hold(source, target); }
  void release_held(Association& target) { backpressure_.release(target); }
  void release_if_drained(Association& target) { backpressure_.release_if_drained(target); }
  void check_paused_liveness();

  // stopping.cpp
  void check_stopped();
  void await_sender_dry();
  void close_sources();
  // SHUTDOWN (if still up), and read it again: what it still sends, then its SHUTDOWN_COMP.
  void shut_down_and_read(Association& a);
  std::size_t sources_left() const;
  void send_shutdown();
  void finish_stop();  // counts what is left queued, then calls stopped_

  event::Dispatcher& dispatcher_;
  const WorkerPlace place_;
  config::Config cfg_;
  router::RouteTable table_;
  // Declared before everything that owns a socket: the sockets charge it until they close.
  sctp::ReassemblyBudget budget_;
  Stats stats_;
  Ledger ledger_;  // before everything that points into it
  std::deque<ClosedAssociation> closed_;  // the last kClosedKept that ended
  static constexpr std::size_t kClosedKept = 64;
  QueueBudget queue_budget_;  // every association's queue charges it: declared before them
  AssociationTable assocs_;
  Backpressure backpressure_{assocs_, stats_};
  std::map<std::string, std::unique_ptr<ListenerRt>> listeners_;
  std::map<std::string, std::unique_ptr<PeerRt>> peers_;
  std::map<std::string, std::unique_ptr<GroupRt>> groups_;
  std::vector<RouteRt> routes_;
  Target fallback_;
  RouteBook* default_book_ = &ledger_.routes[""];  // the default route's counters
  sctp::ReceiveBatch batch_;
  // Accepted in this batch, going to another worker (with what else the batch holds of them).
  std::unordered_map<sctp_assoc_t, std::shared_ptr<HandedOver>> handing_over_;
  std::vector<Association*> staged_targets_;  // associations with staged sends in this batch
  std::vector<sctp::OutMessage> drain_;       // scratch for sending a queue's front in one call
  std::vector<uint64_t> retry_;               // associations waiting for the retry timer
  std::unique_ptr<event::Timer> ttl_timer_;
  std::unique_ptr<event::Timer> retry_timer_;
  std::unique_ptr<event::Timer> liveness_timer_;
  std::chrono::steady_clock::time_point last_oversize_log_{};

  std::optional<ListenerChange> change_;  // between bind_listeners and commit or restore_listeners
  std::vector<ListenerRt*> starting_;  // committed, read once every worker has them (start_listeners)
  bool stopping_ = false;
  // Stopping goes: drain the relay's queues, wait until the kernel has every destination's data
  // acknowledged (SENDER_DRY), SHUTDOWN the sources and read the rest of what they sent, drain and
  // wait for SENDER_DRY again, SHUTDOWN the destinations, wait for them to finish.
  enum class StopPhase { Draining, AwaitDry, ClosingSources, ShutdownSent };
  StopPhase stop_phase_ = StopPhase::Draining;
  bool sources_closed_ = false;  // ClosingSources is done: the next AwaitDry ends in send_shutdown
  std::unordered_set<uint64_t> awaiting_dry_;
  std::function<void()> stopped_;
  std::unique_ptr<event::Timer> stop_timer_;
};

}  // namespace sctprelay::relay
