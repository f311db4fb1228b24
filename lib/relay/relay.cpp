// Relay configuration: building listeners, destinations, groups and routes from a Config, keeping
// what a reload leaves unchanged, and the graceful stop.
#include "relay/relay.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "relay/address_match.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

using std::chrono::milliseconds;

sctp::SocketOptions options_for(uint16_t out_streams, uint16_t in_streams) {
  sctp::SocketOptions o;
  o.sender_dry_events = false;  // only wanted while stopping (see Relay::stop)
  o.message_sources = false;    // associations are known by id
  o.out_streams = out_streams;
  o.in_streams = in_streams;
  return o;
}

int family_of(const std::vector<sctp::Address>& addrs) {
  for (auto& a : addrs)
    if (a.family() == AF_INET6) return AF_INET6;
  return AF_INET;
}

bool same_listener(const config::Listener& a, const config::Listener& b) {
  return a.addresses == b.addresses && a.port == b.port && a.out_streams == b.out_streams &&
         a.in_streams == b.in_streams;
}

bool same_peer(const config::Destination& a, const config::Destination& b) {
  return a.kind == b.kind && a.addresses == b.addresses && a.port == b.port &&
         a.out_streams == b.out_streams && a.in_streams == b.in_streams;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

}  // namespace

Relay::Relay(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {
  ttl_timer_ = dispatcher_.timer([this] { expire_queues(); });
}

Relay::~Relay() {
  // Endpoints reference sockets in other objects (pauses, write lists): let go of them first.
  release_all_pauses();
  routes_.clear();
  groups_.clear();
  peers_.clear();
  listeners_.clear();
}

std::size_t Relay::association_count() const {
  std::size_t n = 0;
  for (auto& [_, l] : listeners_) n += l->assocs.size();
  for (auto& [_, p] : peers_) n += p->ep.up ? 1 : 0;
  return n;
}

std::size_t Relay::queued_messages() const {
  std::size_t n = 0;
  for (auto& [_, l] : listeners_)
    for (auto& [_, a] : l->assocs) n += a->ep.queue.size();
  for (auto& [_, p] : peers_) n += p->ep.queue.size();
  return n;
}

bool Relay::open_listener(ListenerRt& l, std::string& error) {
  std::error_code ec;
  std::string bad;
  auto addrs = sctp::parse_addresses(l.cfg.addresses, l.cfg.port, ec, &bad);
  if (ec) {
    error = "listener " + l.cfg.name + ": bad address " + bad;
    return false;
  }
  l.side.name = l.cfg.name;
  sctp::SocketOptions opts = options_for(l.cfg.out_streams, l.cfg.in_streams);
  // Every association of the listener shares this receive buffer, notifications included: when a
  // burst of peers connects, a full buffer makes the kernel drop COOKIE-ECHOs (their COMM_UP has
  // no room), and those peers retry only after the initial RTO of 3 s.
  opts.rcvbuf = 8 << 20;
  l.side.socket = sctp::Socket::open(family_of(addrs), opts, ec);
  if (!ec) l.side.socket.bind(addrs, ec);
  // A deep backlog: INITs beyond it are dropped and retried only after RTO.Initial (3 s), which a
  // burst of peers connecting at once (a restart of the far side) would all pay.
  if (!ec) l.side.socket.listen(4096, ec);
  if (ec) {
    error = "listener " + l.cfg.name + " on " + join(l.cfg.addresses) + " port " +
            std::to_string(l.cfg.port) + ": " + ec.message();
    l.side.socket.close();
    return false;
  }
  ListenerRt* self = &l;
  l.side.io = dispatcher_.file_event(l.side.socket.fd(), [this, self](uint32_t ready) {
    on_io(self->side, ready, self, nullptr);
  });
  update_watch(l.side);
  LOG_INFO("listener %s listening on %s port %u (streams out %u in %u)", l.cfg.name.c_str(),
           join(l.cfg.addresses).c_str(), l.cfg.port, l.cfg.out_streams, l.cfg.in_streams);
  return true;
}

void Relay::open_peer(PeerRt& p) {
  p.side.name = p.cfg.name;
  p.ep.label = p.cfg.name;
  p.ep.side = &p.side;
  if (!p.ep.id) {
    p.ep.id = new_endpoint_id();
    endpoints_by_id_[p.ep.id] = &p.ep;
  }
  PeerRt* self = &p;
  p.reconnect = dispatcher_.timer([this, self] { connect_peer(*self); });
  p.backoff = milliseconds(0);
  connect_peer(p);
}

void Relay::connect_peer(PeerRt& p) {
  if (stopping_) return;
  std::error_code ec;
  auto addrs = sctp::parse_addresses(p.cfg.addresses, p.cfg.port, ec);
  if (!p.side.socket) {
    p.side.socket = sctp::Socket::open(family_of(addrs), options_for(p.cfg.out_streams, p.cfg.in_streams), ec);
    if (ec) {
      LOG_ERROR("destination %s: cannot open socket: %s", p.cfg.name.c_str(), ec.message().c_str());
      schedule_reconnect(p);
      return;
    }
    PeerRt* self = &p;
    p.side.io = dispatcher_.file_event(p.side.socket.fd(), [this, self](uint32_t ready) {
      on_io(self->side, ready, nullptr, self);
    });
    update_watch(p.side);
  }
  sctp_assoc_t id = p.side.socket.connect(addrs, ec);
  if (ec) {
    LOG_WARN("destination %s: connect to %s port %u failed: %s", p.cfg.name.c_str(),
             join(p.cfg.addresses).c_str(), p.cfg.port, ec.message().c_str());
    schedule_reconnect(p);
    return;
  }
  p.connecting = true;
  p.ep.assoc = id;
  LOG_DEBUG("destination %s: connecting to %s port %u", p.cfg.name.c_str(), join(p.cfg.addresses).c_str(),
            p.cfg.port);
}

void Relay::schedule_reconnect(PeerRt& p) {
  if (stopping_) return;
  p.connecting = false;
  if (p.backoff.count() == 0)
    p.backoff = p.cfg.reconnect_min;
  else
    p.backoff = std::min(p.cfg.reconnect_max, p.backoff * 2);
  p.reconnect->arm(p.backoff);
}

void Relay::join_groups(const ListenerRt& l, Accepted& a) {
  a.groups.clear();
  // Config order, so routes naming an earlier group are tried first.
  for (const auto& dc : cfg_.destinations) {
    if (dc.kind != config::Destination::Kind::Group) continue;
    GroupRt* g = groups_.at(dc.name).get();
    if (!group_admits(g->cfg, l.cfg.name, a.peers)) continue;
    g->members.push_back(&a);
    a.groups.push_back(g);
  }
  // The first group's rules apply to a member; an association in no group gets the defaults.
  const config::Destination defaults;
  const config::Destination& rules = a.groups.empty() ? defaults : a.groups.front()->cfg;
  a.ep.queue.set_settings(rules.queue);
  a.ep.overflow = rules.stream_overflow;
  a.ep.track_origins = !a.groups.empty() && rules.return_path == config::ReturnPath::Origin;
}

void Relay::rebuild_groups() {
  for (auto& [_, g] : groups_) g->members.clear();
  for (auto& [_, l] : listeners_)
    for (auto& [_, a] : l->assocs) join_groups(*l, *a);
  // Keep members in arrival order (endpoint ids grow with time) so by-stream choice is stable.
  for (auto& [_, g] : groups_)
    std::sort(g->members.begin(), g->members.end(),
              [](const Accepted* x, const Accepted* y) { return x->ep.id < y->ep.id; });
}

void Relay::rebuild_routes() {
  auto resolve = [this](const std::string& name) {
    Target t;
    if (auto it = peers_.find(name); it != peers_.end()) t.peer = it->second.get();
    if (auto it = groups_.find(name); it != groups_.end()) t.group = it->second.get();
    return t;
  };
  routes_.clear();
  routes_.reserve(cfg_.routes.size());
  for (auto& r : cfg_.routes) {
    RouteRt rt;
    rt.cfg = &r;
    for (auto& name : r.to) rt.targets.push_back(resolve(name));
    routes_.push_back(std::move(rt));
  }
  fallback_ = cfg_.default_action.kind == config::DefaultAction::Kind::Fallback
                  ? resolve(cfg_.default_action.fallback)
                  : Target{};
}

void Relay::release_all_pauses() {
  for (auto& [_, l] : listeners_)
    for (auto& [_, a] : l->assocs) release_sources(a->ep);
  for (auto& [_, p] : peers_) release_sources(p->ep);
}

bool Relay::apply(const config::Config& next, std::string& error) {
  // 1. Listeners: keep identical ones (and their associations), open new ones before closing any,
  //    so a listener that cannot bind leaves everything as it was.
  std::map<std::string, std::unique_ptr<ListenerRt>> listeners;
  std::vector<std::string> reopened;  // changed listeners whose old socket must go first
  for (auto& lc : next.listeners) {
    auto old = listeners_.find(lc.name);
    if (old != listeners_.end() && same_listener(old->second->cfg, lc)) continue;
    auto l = std::make_unique<ListenerRt>();
    l->cfg = lc;
    std::string err;
    if (!open_listener(*l, err)) {
      // The old listener of that name may hold the very address; that is retried once it is closed.
      if (old != listeners_.end()) {
        reopened.push_back(lc.name);
        continue;
      }
      error = err;
      return false;
    }
    listeners.emplace(lc.name, std::move(l));
  }

  release_all_pauses();
  cfg_ = next;
  table_ = router::RouteTable(cfg_);

  // Close listeners that are gone or changed; take over the unchanged ones.
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    const config::Listener* lc = cfg_.find_listener(it->first);
    bool keep = lc && !listeners.count(it->first) &&
                std::find(reopened.begin(), reopened.end(), it->first) == reopened.end() &&
                same_listener(it->second->cfg, *lc);
    if (keep) {
      it->second->cfg = *lc;
      listeners.emplace(it->first, std::move(it->second));
    } else {
      LOG_INFO("listener %s closed (%zu associations)", it->first.c_str(), it->second->assocs.size());
      for (auto& [_, a] : it->second->assocs) forget_endpoint(a->ep);
    }
    it = listeners_.erase(it);
  }
  for (auto& name : reopened) {
    auto l = std::make_unique<ListenerRt>();
    l->cfg = *cfg_.find_listener(name);
    std::string err;
    if (open_listener(*l, err))
      listeners.emplace(name, std::move(l));
    else
      LOG_ERROR("reload: %s (listener left closed)", err.c_str());
  }
  listeners_ = std::move(listeners);
  for (auto& [name, l] : listeners_) l->source = table_.source_index(name);

  // 2. Peer destinations: keep those whose addresses, port and streams are unchanged.
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
      if (old != peers_.end()) {
        // Same name, new address: what was queued for it still goes there, in order.
        auto& q = old->second->ep.queue;
        while (!q.empty()) {
          p->ep.queue.push_back(std::move(q.front()));
          q.pop_front();
        }
      }
      open_peer(*p);
      LOG_INFO("destination %s: %s port %u (streams out %u in %u)", dc.name.c_str(),
               join(dc.addresses).c_str(), dc.port, dc.out_streams, dc.in_streams);
    }
    p->ep.queue.set_settings(dc.queue);
    p->ep.overflow = dc.stream_overflow;
    p->ep.track_origins = dc.return_path == config::ReturnPath::Origin;
    p->source = table_.source_index(dc.name);
    peers.emplace(dc.name, std::move(p));
  }
  for (auto& [name, p] : peers_) {
    if (!p) continue;  // taken over
    LOG_INFO("destination %s removed (%zu queued messages dropped)", name.c_str(), p->ep.queue.size());
    stats_.dropped_no_target += p->ep.queue.size();
    if (p->ep.up) p->side.socket.shutdown(p->ep.assoc);
    forget_endpoint(p->ep);
  }
  peers_ = std::move(peers);

  // 3. Groups and routes are derived state: rebuilt from scratch.
  groups_.clear();
  for (auto& dc : cfg_.destinations) {
    if (dc.kind != config::Destination::Kind::Group) continue;
    auto g = std::make_unique<GroupRt>();
    g->cfg = dc;
    g->source = table_.source_index(dc.name);
    groups_.emplace(dc.name, std::move(g));
  }
  rebuild_groups();
  rebuild_routes();

  bool any_ttl = std::any_of(cfg_.destinations.begin(), cfg_.destinations.end(),
                             [](auto& d) { return d.queue.ttl.has_value(); });
  if (any_ttl)
    ttl_timer_->arm(milliseconds(100));
  else
    ttl_timer_->disarm();
  return true;
}

void Relay::expire_queues() {
  auto now = Clock::now();
  auto expire = [&](Endpoint& ep) {
    std::size_t n = ep.queue.expire(now);
    if (n) {
      stats_.dropped_ttl += n;
      LOG_WARN("%s: %zu queued messages expired (ttl)", ep.label.c_str(), n);
      if (may_release(ep)) release_sources(ep);
    }
  };
  for (auto& [_, l] : listeners_)
    for (auto& [_, a] : l->assocs) expire(a->ep);
  for (auto& [_, p] : peers_) expire(p->ep);
  ttl_timer_->arm(milliseconds(100));
}

void Relay::stop(std::chrono::milliseconds deadline, std::function<void()> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  // No new traffic from outside; what is already queued may still drain, and replies from peers
  // still find their way back.
  for (auto& [_, l] : listeners_) {
    l->side.pauses++;
    update_watch(l->side);
  }
  for (auto& [_, p] : peers_) p->reconnect->disarm();
  stop_timer_ = dispatcher_.timer([this] {
    if (stop_phase_ != StopPhase::ShutdownSent) {
      if (std::size_t left = queued_messages())
        LOG_WARN("stop: drain deadline reached with %zu messages still queued (dropped)", left);
      else if (!awaiting_dry_.empty())
        LOG_WARN("stop: drain deadline reached with %zu destinations still sending", awaiting_dry_.size());
      send_shutdown();
      return;
    }
    LOG_WARN("stop: %zu associations did not finish SHUTDOWN in time", association_count());
    if (stopped_) std::exchange(stopped_, nullptr)();
  });
  stop_timer_->arm(deadline);
  check_stopped();
}

void Relay::await_sender_dry() {
  // The relay's queues are empty; what the kernel still holds for the upstream peers is what
  // remains. SENDER_DRY says when each has it all acknowledged.
  stop_phase_ = StopPhase::AwaitDry;
  for (auto& [_, p] : peers_) {
    if (!p->ep.up) continue;
    std::error_code ec;
    if (p->side.socket.watch_sender_dry(ec))
      awaiting_dry_.insert(p->ep.assoc);
    else
      LOG_WARN("stop: %s: cannot watch for SENDER_DRY: %s", p->cfg.name.c_str(), ec.message().c_str());
  }
}

void Relay::sender_dry(sctp_assoc_t assoc) {
  if (stop_phase_ == StopPhase::AwaitDry) awaiting_dry_.erase(assoc);
}

void Relay::send_shutdown() {
  stop_phase_ = StopPhase::ShutdownSent;
  for (auto& [_, l] : listeners_) {
    for (auto& [id, a] : l->assocs) l->side.socket.shutdown(id);
    // Read again: SHUTDOWN_COMP arrives on the listener's socket.
    l->side.pauses--;
    update_watch(l->side);
  }
  for (auto& [_, p] : peers_)
    if (p->ep.up) p->side.socket.shutdown(p->ep.assoc);
  // SHUTDOWN takes a round trip; give the peers a moment, then leave regardless.
  stop_timer_->arm(milliseconds(2000));
  check_stopped();
}

void Relay::check_stopped() {
  if (!stopping_) return;
  if (stop_phase_ == StopPhase::Draining && queued_messages() == 0) await_sender_dry();
  if (stop_phase_ == StopPhase::AwaitDry && awaiting_dry_.empty()) send_shutdown();
  if (stop_phase_ == StopPhase::ShutdownSent && association_count() == 0 && stopped_) {
    stop_timer_->disarm();
    std::exchange(stopped_, nullptr)();
  }
}

}  // namespace sctprelay::relay
