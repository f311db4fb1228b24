// Relay configuration: putting a Config in force (destinations, groups and routes; listeners are
// listeners.cpp's), keeping what a reload leaves unchanged; creating and retiring associations.
#include "relay/log_text.h"
#include "relay/relay.h"

#include <algorithm>

#include "relay/address_match.h"
#include "sctp/explain.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

using std::chrono::milliseconds;

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

void Relay::commit(const config::Config& next) {
  commit_listeners(next);
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
