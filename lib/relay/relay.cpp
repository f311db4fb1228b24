// Relay configuration: building listeners, destinations, groups and routes from a Config, keeping
// what a reload leaves unchanged; creating and retiring associations.
#include "relay/log_text.h"
#include "relay/relay.h"

#include <algorithm>

#include "relay/address_match.h"
#include "sctp/explain.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

using std::chrono::milliseconds;

// Every association of a listener shares its receive buffer until it is peeled off, notifications
// included: when a burst of peers connects, a full buffer makes the kernel drop COOKIE-ECHOs
// (their COMM_UP has no room), and those peers retry only after the initial RTO of 3 s.
constexpr int kListenerReceiveBuffer = 8 << 20;

bool same_listener(const config::Listener& a, const config::Listener& b) {
  return a.addresses == b.addresses && a.port == b.port && a.out_streams == b.out_streams &&
         a.in_streams == b.in_streams;
}

bool same_peer(const config::Destination& a, const config::Destination& b) {
  return a.kind == b.kind && a.addresses == b.addresses && a.port == b.port &&
         a.out_streams == b.out_streams && a.in_streams == b.in_streams && a.associations == b.associations;
}

}  // namespace

Relay::Relay(event::Dispatcher& dispatcher, WorkerPlace place)
    : dispatcher_(dispatcher), place_(place), assocs_(dispatcher, place.index, place.count) {
  ttl_timer_ = dispatcher_.timer([this] { expire_queues(); });
  retry_timer_ = dispatcher_.timer([this] { retry_sends(); });
  liveness_timer_ = dispatcher_.timer([this] {
    check_paused_liveness();
    assocs_.for_each([](Association& a) { a.queue.trim(); });  // memory a drained flood held goes back
  });
}

Relay::~Relay() = default;

std::size_t Relay::association_count() const {
  std::size_t n = 0;
  assocs_.for_each([&](const Association& a) { n += a.up ? 1 : 0; });
  return n;
}

Stats Relay::stats() const {
  Stats s = stats_;
  s.queued_bytes = queue_budget_.used();
  s.queued_bytes_peak = queue_budget_.peak();
  return s;
}

std::size_t Relay::queued_messages() const {
  std::size_t n = 0;
  assocs_.for_each([&](const Association& a) { n += a.queue.size(); });
  return n;
}

void Relay::retire(Association& a, std::string cause) {
  if (a.retired) return;
  record_end(a, std::move(cause));
  backpressure_.forget(a);
  if (a.reconnect) a.reconnect->disarm();
  awaiting_dry_.erase(a.id);
  if (a.admitted_in) std::exchange(a.admitted_in, nullptr)->fetch_sub(1);
  if (a.placed_in) std::exchange(a.placed_in, nullptr)->left(place_.index);
  if (a.role == Association::Role::Accepted) {
    if (auto l = listeners_.find(a.listener); l != listeners_.end()) l->second->accepted.erase(a.assoc);
  } else if (auto p = peers_.find(a.destination); p != peers_.end()) {
    if (a.owner) p->second->per_source.erase(a.owner);
    if (p->second->shared == &a) p->second->shared = nullptr;
  }
  // Staged sends for it in this batch are discarded with it.
  if (!a.staged.empty()) {
    staged_targets_.erase(std::remove(staged_targets_.begin(), staged_targets_.end(), &a), staged_targets_.end());
    a.staged.clear();
    a.staged_meta.clear();
  }
  assocs_.retire(a);
}

bool Relay::open_listener(ListenerRt& l, std::string& error, std::error_code* why) {
  std::error_code ec;
  std::string bad;
  auto addrs = sctp::parse_addresses(l.cfg.addresses, l.cfg.port, ec, &bad);
  if (ec) {
    error = "listener " + l.cfg.name + ": bad address " + bad;
    return false;
  }
  sctp::SocketOptions opts;
  opts.sender_dry_events = false;  // only wanted while stopping
  opts.message_sources = false;    // associations are known by id
  opts.out_streams = l.cfg.out_streams;
  opts.in_streams = l.cfg.in_streams;
  opts.rcvbuf = kListenerReceiveBuffer;
  opts.reuse_address = true;
  opts.reuse_port = place_.count > 1;  // every worker listens on it; the kernel spreads new associations
  const int family = sctp::family_for(addrs);
  if (opts.reuse_port && place_.index == 0 && !applied_) {
    // SO_REUSEPORT would let this daemon join another program's sockets on the port (a second
    // sctprelayd started by mistake, as the same user) and share its associations with it. At start
    // the first worker binds a plain socket first (without SO_REUSEADDR either, which the kernel
    // would let share the port until listen()): that fails if any socket holds the port already.
    sctp::SocketOptions plain = opts;
    plain.reuse_port = false;
    plain.reuse_address = false;
    sctp::Socket probe = sctp::Socket::open(family, plain, ec);
    if (!ec && !probe.bind(addrs, ec)) {
      error = "listener " + l.cfg.name + ": " + sctp::explain_bind_error(ec, join(l.cfg.addresses), l.cfg.port);
      if (why) *why = ec;
      return false;
    }
    ec.clear();
  }
  l.socket = sctp::Socket::open(family, opts, ec);
  if (ec) {
    error = "listener " + l.cfg.name + ": " + sctp::explain_socket_error(ec, family);
  } else if (!l.socket.bind(addrs, ec)) {
    error = "listener " + l.cfg.name + ": " + sctp::explain_bind_error(ec, join(l.cfg.addresses), l.cfg.port);
  } else if (
      // A deep backlog: INITs beyond it are dropped and retried only after RTO.Initial (3 s), which
      // a burst of peers connecting at once (a restart of the far side) would all pay.
      !l.socket.listen(4096, ec)) {
    error = "listener " + l.cfg.name + " on " + join(l.cfg.addresses) + " port " + std::to_string(l.cfg.port) +
            ": listen: " + ec.message();
  }
  if (ec) {
    if (why) *why = ec;
    l.socket.close();
    return false;
  }
  l.socket.set_reassembly_budget(&budget_);
  // The kernel counts twice what is asked for; less than that means net.core.rmem_max capped it.
  int granted = l.socket.receive_buffer();
  if (granted < 2 * kListenerReceiveBuffer)
    LOG_WARN("listener %s: receive buffer is %d bytes, not the %d asked for (net.core.rmem_max caps it; "
             "a burst of connecting peers may wait for retransmissions: raise it, see 60-sctprelayd.conf)",
             l.cfg.name.c_str(), granted / 2, kListenerReceiveBuffer);
  ListenerRt* self = &l;
  l.io = dispatcher_.file_event(l.socket.fd(), [this, self](uint32_t) {
    if (!self->stop_hold) read_listener(*self);
    check_stopped();
  });
  l.io->watch(event::Readable);
  LOG_INFO("listener %s listening on %s port %u (streams out %u in %u)", l.cfg.name.c_str(),
           join(l.cfg.addresses).c_str(), l.cfg.port, l.cfg.out_streams, l.cfg.in_streams);
  return true;
}

// Listeners change all together or not at all: new and changed ones are bound first; a changed
// one whose address the old socket still holds is rebound after that socket closes, and if that
// fails the old socket is bound again and the whole reload is refused. Accepted associations are
// on sockets of their own, so rebinding a listener never takes them down.
bool Relay::apply_listeners(const config::Config& next, std::string& error) {
  std::map<std::string, std::unique_ptr<ListenerRt>> opened;
  std::vector<std::string> rebind;  // changed listeners that must wait for their old socket
  for (auto& lc : next.listeners) {
    auto old = listeners_.find(lc.name);
    if (old != listeners_.end() && same_listener(old->second->cfg, lc)) continue;
    auto l = std::make_unique<ListenerRt>();
    l->cfg = lc;
    std::string err;
    std::error_code why;
    if (open_listener(*l, err, &why)) {
      opened.emplace(lc.name, std::move(l));
    } else if (old != listeners_.end() && why == std::errc::address_in_use) {
      rebind.push_back(lc.name);
    } else {
      error = err;
      return false;  // `opened` closes what was bound so far
    }
  }
  // Close the old sockets of changed listeners that must be rebound, and try.
  std::map<std::string, std::unique_ptr<ListenerRt>> set_aside;
  for (auto& name : rebind) {
    set_aside.emplace(name, std::move(listeners_[name]));
    set_aside[name]->io.reset();
    retire_unpeeled(*set_aside[name]);
    set_aside[name]->socket.close();
  }
  for (auto& name : rebind) {
    auto l = std::make_unique<ListenerRt>();
    l->cfg = *next.find_listener(name);
    std::string err;
    if (open_listener(*l, err)) {
      opened.emplace(name, std::move(l));
      continue;
    }
    // Put every set-aside listener back as it was and refuse the reload.
    for (auto& [n, old] : set_aside) {
      std::string again;
      if (!open_listener(*old, again)) LOG_ERROR("reload: %s (listener left closed)", again.c_str());
      listeners_[n] = std::move(old);
    }
    error = err;
    return false;
  }
  // Commit: keep unchanged listeners, take the new ones, close the rest. Associations keep the
  // listener's name; those of a listener that is gone are shut down.
  std::map<std::string, std::unique_ptr<ListenerRt>> result;
  for (auto& lc : next.listeners) {
    auto n = opened.find(lc.name);
    if (n != opened.end()) {
      auto old = listeners_.find(lc.name);
      if (old != listeners_.end() && old->second) {
        retire_unpeeled(*old->second);  // its socket closes
        n->second->accepted.swap(old->second->accepted);
      }
      if (auto s = set_aside.find(lc.name); s != set_aside.end()) n->second->accepted.swap(s->second->accepted);
      result.emplace(lc.name, std::move(n->second));
    } else {
      auto old = listeners_.find(lc.name);
      old->second->cfg = lc;
      result.emplace(lc.name, std::move(old->second));
    }
  }
  for (auto& [name, l] : listeners_) {
    if (!l || result.count(name)) continue;
    LOG_INFO("listener %s closed (%zu associations shut down)", name.c_str(), l->accepted.size());
    std::vector<uint64_t> ids;
    for (auto& [_, id] : l->accepted) ids.push_back(id);
    for (uint64_t id : ids)
      if (Association* a = find(id)) {
        drop(a, DropReason::Removed, a->queue.size());
        a->sock().shutdown(a->assoc);
        close_per_source_upstreams(a->id);
        retire(*a, "listener removed by a reload");
      }
  }
  listeners_ = std::move(result);
  return true;
}

void Relay::retire_unpeeled(ListenerRt& l) {
  for (Association* a : assocs_.snapshot())
    if (a->listener_socket == &l.socket) {
      a->listener_socket = nullptr;
      retire(*a, "ended before it could be peeled off");
    }
}

void Relay::apply_destinations() {
  std::map<std::string, std::unique_ptr<PeerRt>> peers;
  for (auto& dc : cfg_.destinations) {
    if (dc.kind != config::Destination::Kind::Peer) continue;
    auto old = peers_.find(dc.name);
    std::unique_ptr<PeerRt> p;
    if (old != peers_.end() && same_peer(old->second->cfg, dc)) {
      p = std::move(old->second);
      p->cfg = dc;
    } else {
      p = std::make_unique<PeerRt>();
      p->cfg = dc;
      if (dc.associations == config::UpstreamMode::Shared) {
        open_shared_upstream(*p);
        if (old != peers_.end() && old->second->shared) {
          // Same name, new address: what was queued for it still goes there, in order.
          auto& q = old->second->shared->queue;
          while (!q.empty()) {
            p->shared->queue.push_back(std::move(q.front()));
            q.pop_front();
          }
        }
      }
      LOG_INFO("destination %s: %s port %u (streams out %u in %u%s)", dc.name.c_str(), join(dc.addresses).c_str(),
               dc.port, dc.out_streams, dc.in_streams,
               dc.associations == config::UpstreamMode::PerSource ? ", one association per source" : "");
    }
    auto settle = [&](Association& u) {
      u.queue.set_settings(dc.queue);
      u.overflow = dc.stream_overflow;
      u.track_origins = dc.return_path == config::ReturnPath::Origin;
      u.keeps_sent_origins = u.track_origins && !u.owner;
    };
    p->source = table_.source_index(dc.name);
    p->book = &destination_book(dc.name);
    if (p->shared) {
      settle(*p->shared);
      p->shared->source = p->source;
    }
    for (auto& [_, u] : p->per_source) {
      settle(*u);
      u->source = p->source;
    }
    peers.emplace(dc.name, std::move(p));
  }
  for (auto& [name, p] : peers_) {
    if (!p) continue;  // taken over
    std::vector<Association*> ups;
    if (p->shared) ups.push_back(p->shared);
    for (auto& [_, u] : p->per_source) ups.push_back(u);
    std::size_t dropped = 0;
    for (Association* u : ups) {
      dropped += u->queue.size();
      drop(u, DropReason::Removed, u->queue.size());
      if (u->up) u->socket.shutdown(u->assoc);
    }
    LOG_INFO("destination %s removed (%zu queued messages dropped)", name.c_str(), dropped);
    for (Association* u : ups) retire(*u, "destination removed by a reload");  // (still in peers_ for retire())
  }
  peers_ = std::move(peers);
}

void Relay::join_groups(Association& a) {
  a.groups.clear();
  a.group_sources.clear();
  const config::Destination* first = nullptr;
  // Config order, so routes naming an earlier group are tried first.
  for (const auto& dc : cfg_.destinations) {
    if (dc.kind != config::Destination::Kind::Group) continue;
    if (!group_admits(dc, a.listener, a.peers)) continue;
    GroupRt& g = *groups_.at(dc.name);
    g.members.push_back(a.id);
    a.groups.push_back(dc.name);
    a.group_sources.push_back(g.source);
    if (!first) first = &dc;
  }
  // The first group's rules apply to a member; an association in no group gets the defaults.
  const config::Destination defaults;
  const config::Destination& rules = first ? *first : defaults;
  a.queue.set_settings(rules.queue);
  a.overflow = rules.stream_overflow;
  a.track_origins = first && rules.return_path == config::ReturnPath::Origin;
}

void Relay::rebuild_groups() {
  groups_.clear();
  for (auto& dc : cfg_.destinations) {
    if (dc.kind != config::Destination::Kind::Group) continue;
    auto g = std::make_unique<GroupRt>();
    g->cfg = dc;
    g->source = table_.source_index(dc.name);
    g->book = &destination_book(dc.name);
    groups_.emplace(dc.name, std::move(g));
  }
  // Members in arrival order (ids grow with time), so by-stream choice is stable.
  std::vector<Association*> accepted;
  assocs_.for_each([&](Association& a) {
    if (a.role == Association::Role::Accepted) accepted.push_back(&a);
  });
  std::sort(accepted.begin(), accepted.end(), [](auto* x, auto* y) { return x->id < y->id; });
  for (Association* a : accepted) {
    auto l = listeners_.find(a->listener);
    a->source = l == listeners_.end() ? -1 : l->second->source;
    if (l != listeners_.end()) a->oversize = l->second->cfg.oversize;
    join_groups(*a);
  }
}

void Relay::rebuild_routes() {
  auto resolve = [this](const std::string& name, RouteBook& book) {
    Target t;
    t.counts = &book.targets[name];
    if (auto it = peers_.find(name); it != peers_.end()) t.peer = it->second.get();
    if (auto it = groups_.find(name); it != groups_.end()) t.group = it->second.get();
    return t;
  };
  routes_.clear();
  routes_.reserve(cfg_.routes.size());
  for (auto& r : cfg_.routes) {
    RouteRt rt;
    rt.cfg = &r;
    rt.book = &ledger_.routes[r.name];
    for (auto& name : r.to) rt.targets.push_back(resolve(name, *rt.book));
    routes_.push_back(std::move(rt));
  }
  fallback_ = cfg_.default_action.kind == config::DefaultAction::Kind::Fallback ? resolve(cfg_.default_action.fallback, *default_book_)
                                                                                : Target{};
}

void Relay::refresh_drained() {
  for (auto& rt : routes_)
    rt.any_drained = std::any_of(rt.targets.begin(), rt.targets.end(), [](const Target& t) { return t.drained(); });
}

bool Relay::apply(const config::Config& next, std::string& error) {
  if (!apply_listeners(next, error)) return false;
  // Holds are rebuilt as traffic flows again under the new rules.
  assocs_.for_each([&](Association& a) { release_held(a); });
  cfg_ = next;
  table_ = router::RouteTable(cfg_);
  // The memory limits are the daemon's: each worker keeps within its share.
  budget_.limit = cfg_.limits.max_reassembly_bytes / place_.count;
  for (auto& [name, l] : listeners_) {
    l->source = table_.source_index(name);
    l->book = &ledger_.listeners[name];
    l->up_everywhere = place_.shared ? &place_.shared->accepted(name) : nullptr;
  }
  apply_destinations();
  rebuild_groups();
  rebuild_routes();
  refresh_drained();
  queue_budget_.set_limit(cfg_.limits.max_queued_bytes / place_.count);
  apply_admission_rules();

  bool any_ttl = std::any_of(cfg_.destinations.begin(), cfg_.destinations.end(),
                             [](auto& d) { return d.queue.ttl.has_value(); });
  if (any_ttl)
    ttl_timer_->arm(milliseconds(100));
  else
    ttl_timer_->disarm();
  liveness_timer_->arm(std::chrono::seconds(1));
  applied_ = true;
  return true;
}

void Relay::expire_queues() {
  auto now = Clock::now();
  for (Association* a : assocs_.snapshot()) {
    if (a->retired) continue;
    std::size_t n = a->queue.expire(now);
    if (!n) continue;
    drop(a, DropReason::Ttl, n);
    LOG_WARN("%s: %zu queued messages expired (ttl)", a->label.c_str(), n);
    release_if_drained(*a);
    if (a->close_when_drained && a->queue.empty()) close_upstream_when_drained(*a);
  }
  ttl_timer_->arm(milliseconds(100));
}

}  // namespace sctprelay::relay
