// What the relay says of itself (status.h): its books and associations gathered into plain data
// for the control socket and the metrics; and the operator's levers: drain and disconnect.
#include <algorithm>

#include "relay/log_text.h"
#include "relay/relay.h"
#include "util/log.h"
#include "util/unix_time.h"

namespace sctprelay::relay {
namespace {

std::vector<std::string> texts(const std::vector<sctp::Address>& addrs) {
  std::vector<std::string> out;
  out.reserve(addrs.size());
  for (auto& a : addrs) out.push_back(a.to_string());
  return out;
}

const char* route_action(config::RouteMode m) {
  switch (m) {
    case config::RouteMode::Forward: return "forward";
    case config::RouteMode::FanOut: return "fan-out";
    case config::RouteMode::Balance: return "balance";
  }
  return "forward";
}

void fill_kernel(const sctp::AssociationInfo& info, KernelStatus& k) {
  k.state = sctp::association_state_name(info.state);
  k.in_streams = info.in_streams;
  k.out_streams = info.out_streams;
  k.peer_rwnd = info.peer_rwnd;
  k.unacked = info.unacked;
  k.pending = info.pending;
  k.fragmentation_point = info.fragmentation_point;
  k.primary = info.primary.to_string();
  for (auto& p : info.paths) {
    PathStatus ps;
    ps.address = p.address.to_string();
    ps.state = sctp::path_state_name(p.state);
    ps.primary = p.address == info.primary;
    ps.srtt_ms = p.srtt_ms;
    ps.rto_ms = p.rto_ms;
    ps.cwnd = p.cwnd;
    ps.mtu = p.mtu;
    k.paths.push_back(std::move(ps));
  }
  k.have_stats = info.have_stats;
  if (info.have_stats) {
    const auto& s = info.stats;
    k.retransmitted_chunks = s.sas_rtxchunks;
    k.gap_acks_received = s.sas_gapcnt;
    k.out_of_sequence_tsns = s.sas_outofseqtsns;
    k.sacks_sent = s.sas_osacks;
    k.sacks_received = s.sas_isacks;
    k.control_chunks_out = s.sas_octrlchunks;
    k.data_chunks_out = s.sas_ouodchunks + s.sas_oodchunks;
    k.data_chunks_in = s.sas_iuodchunks + s.sas_iodchunks;
    k.max_rto_ms = static_cast<uint32_t>(s.sas_maxrto);
  }
}

}  // namespace

void Relay::record_end(Association& a, std::string cause) {
  if (!a.end_cause.empty()) cause = a.end_cause;  // decided earlier, where the relay ended it
  if (cause.empty()) cause = "closed";
  if (a.role == Association::Role::Accepted) {
    ledger_.listeners[a.listener].ended.add(a.traffic);
    for (auto& g : a.groups) ledger_.destinations[g].ended.add(a.traffic);
  } else {
    destination_book(a.destination).ended.add(a.traffic);
  }
  ClosedAssociation c;
  c.id = a.id;
  c.label = a.label;
  c.listener = a.listener;
  c.destination = a.destination;
  c.peers = texts(a.peers);
  c.up_since = unix_seconds(a.up_since);
  c.closed_at = unix_seconds(std::chrono::system_clock::now());
  c.cause = std::move(cause);
  c.traffic = a.traffic;
  closed_.push_back(std::move(c));
  while (closed_.size() > kClosedKept) closed_.pop_front();
}

AssociationStatus Relay::describe(const Association& a, bool kernel) const {
  AssociationStatus s;
  s.id = a.id;
  s.assoc_id = static_cast<int32_t>(a.assoc);
  s.worker = place_.index;
  s.role = a.role == Association::Role::Accepted ? "accepted" : "upstream";
  s.label = a.label;
  s.listener = a.listener;
  s.groups = a.groups;
  s.destination = a.destination;
  s.owner = a.owner;
  s.up = a.up;
  s.connecting = a.connecting;
  s.up_since = a.up ? unix_seconds(a.up_since) : 0;
  s.peers = texts(a.peers);
  if (s.peers.empty() && a.role == Association::Role::Upstream) {
    if (auto* d = cfg_.find_destination(a.destination))
      for (auto& h : d->addresses) s.peers.push_back(h + ":" + std::to_string(d->port));
  }
  s.traffic = a.traffic;
  s.queued_messages = a.queue.size();
  s.queued_bytes = a.queue.bytes();
  s.queue_high_water = a.queue_high_water;
  s.paused = a.paused();
  if (!a.holds.empty()) s.pause_reasons.push_back("backpressure");
  if (a.rate_hold) s.pause_reasons.push_back("rate");
  if (a.stop_hold) s.pause_reasons.push_back("stopping");
  if (kernel && (a.up || a.connecting)) {
    sctp::AssociationInfo info;
    // const: the getsockopt calls change nothing; sock() is non-const only for sending.
    auto& self = const_cast<Association&>(a);
    if (self.sock() && self.sock().association_info(a.assoc, info)) fill_kernel(info, s.kernel);
  }
  return s;
}

RelayStatus Relay::status(const StatusQuery& q) const {
  RelayStatus out;
  out.totals = stats();
  out.stopping = stopping_;
  out.workers = place_.count;

  // Living associations' traffic, gathered by listener and destination (books hold the ended).
  std::map<std::string, Traffic> by_listener, by_destination;
  std::map<std::string, uint64_t> up_by_listener, up_by_destination;
  std::map<std::string, std::pair<uint64_t, uint64_t>> queued_by_destination;
  assocs_.for_each([&](const Association& a) {
    if (a.retired) return;
    if (a.role == Association::Role::Accepted) {
      by_listener[a.listener].add(a.traffic);
      if (a.up) up_by_listener[a.listener]++;
      for (auto& g : a.groups) {
        by_destination[g].add(a.traffic);
        if (a.up) up_by_destination[g]++;
        auto& qd = queued_by_destination[g];
        qd.first += a.queue.size();
        qd.second += a.queue.bytes();
      }
    } else {
      by_destination[a.destination].add(a.traffic);
      if (a.up) up_by_destination[a.destination]++;
      auto& qd = queued_by_destination[a.destination];
      qd.first += a.queue.size();
      qd.second += a.queue.bytes();
    }
  });

  for (auto& lc : cfg_.listeners) {
    ListenerStatus l;
    l.name = lc.name;
    l.addresses = lc.addresses;
    l.port = lc.port;
    l.associations = up_by_listener[lc.name];
    if (auto b = ledger_.listeners.find(lc.name); b != ledger_.listeners.end()) {
      l.accepted_total = b->second.accepted_total;
      l.refused_not_allowed = b->second.refused_not_allowed;
      l.refused_max_associations = b->second.refused_max_associations;
      l.rate_limited = b->second.rate_limited;
      l.traffic.add(b->second.ended);
      l.traffic.add(b->second.unattached);
    }
    l.traffic.add(by_listener[lc.name]);
    out.listeners.push_back(std::move(l));
  }

  for (auto& dc : cfg_.destinations) {
    DestinationStatus d;
    d.name = dc.name;
    d.associations = up_by_destination[dc.name];
    d.queued_messages = queued_by_destination[dc.name].first;
    d.queued_bytes = queued_by_destination[dc.name].second;
    if (dc.kind == config::Destination::Kind::Peer) {
      d.kind = "peer";
      d.mode = dc.associations == config::UpstreamMode::PerSource ? "per-source" : "shared";
      d.addresses = dc.addresses;
      d.port = dc.port;
      const PeerRt* p = peers_.count(dc.name) ? peers_.at(dc.name).get() : nullptr;
      if (dc.associations == config::UpstreamMode::Shared) {
        const Association* u = p ? p->shared : nullptr;
        d.state = u && u->up ? "up" : u && u->connecting ? "connecting" : "down";
      } else {
        d.state = d.associations ? "up" : "idle";
      }
    } else {
      d.kind = "group";
      d.mode = dc.balance == config::Balance::ByStream ? "by-stream" : "round-robin";
      if (!dc.listener.empty()) d.addresses.push_back("listener " + dc.listener);
      for (auto& m : dc.match) d.addresses.push_back(m.length >= 0 ? m.address + "/" + std::to_string(m.length) : m.address);
      d.port = dc.match_port.value_or(0);
      d.state = d.associations ? "up" : "empty";
    }
    if (auto b = ledger_.destinations.find(dc.name); b != ledger_.destinations.end()) {
      d.drained = b->second.drained;
      d.connect_attempts = b->second.connect_attempts;
      d.reconnects = b->second.reconnects;
      d.last_error = b->second.last_error;
      d.last_error_at = b->second.last_error_at;
      d.traffic.add(b->second.ended);
    }
    d.traffic.add(by_destination[dc.name]);
    out.destinations.push_back(std::move(d));
  }

  auto target_status = [&](const std::string& name, const RouteBook* book) {
    RouteTargetStatus t;
    t.destination = name;
    if (auto b = ledger_.destinations.find(name); b != ledger_.destinations.end()) t.drained = b->second.drained;
    if (book)
      if (auto c = book->targets.find(name); c != book->targets.end()) {
        t.messages = c->second.messages;
        t.bytes = c->second.bytes;
        t.drops = c->second.drops;
      }
    return t;
  };
  for (auto& rc : cfg_.routes) {
    RouteStatus r;
    r.name = rc.name;
    r.from = rc.from;
    r.action = route_action(rc.mode);
    const RouteBook* book = nullptr;
    if (auto b = ledger_.routes.find(rc.name); b != ledger_.routes.end()) book = &b->second;
    if (book) {
      r.matched_messages = book->matched_messages;
      r.matched_bytes = book->matched_bytes;
    }
    for (auto& to : rc.to) r.targets.push_back(target_status(to, book));
    out.routes.push_back(std::move(r));
  }
  {
    RouteStatus r;
    r.name = "default";
    const bool fallback = cfg_.default_action.kind == config::DefaultAction::Kind::Fallback;
    r.action = fallback ? "fallback" : "drop";
    r.matched_messages = default_book_->matched_messages;
    r.matched_bytes = default_book_->matched_bytes;
    r.dropped = default_book_->dropped;
    if (fallback) r.targets.push_back(target_status(cfg_.default_action.fallback, default_book_));
    out.routes.push_back(std::move(r));
  }

  if (q.associations) {
    std::vector<const Association*> list;
    assocs_.for_each([&](const Association& a) {
      if (a.retired) return;
      if (!q.listener.empty() && (a.role != Association::Role::Accepted || a.listener != q.listener)) return;
      if (!q.destination.empty()) {
        bool in = a.role == Association::Role::Upstream
                      ? a.destination == q.destination
                      : std::find(a.groups.begin(), a.groups.end(), q.destination) != a.groups.end();
        if (!in) return;
      }
      list.push_back(&a);
    });
    std::sort(list.begin(), list.end(), [](auto* x, auto* y) { return x->id < y->id; });
    for (auto* a : list) out.associations.push_back(describe(*a, true));
    for (auto& c : closed_) {
      if (!q.listener.empty() && c.listener != q.listener) continue;
      if (!q.destination.empty() && c.destination != q.destination) continue;
      out.closed.push_back(c);
    }
  }
  return out;
}

bool Relay::set_drained(const std::string& name, bool drained, std::string& error) {
  if (!cfg_.find_destination(name)) {
    error = "no destination named '" + name + "'";
    return false;
  }
  DestinationBook& b = destination_book(name);
  if (b.drained != drained)
    LOG_INFO("destination %s %s", name.c_str(),
             drained ? "drained: routes send it nothing new, its queue empties" : "undrained: back in service");
  b.drained = drained;
  refresh_drained();
  return true;
}

bool Relay::disconnect(uint64_t id, bool abort, std::string& error, std::string* label) {
  Association* a = find(id);
  if (!a || a->retired) {
    error = "no association with id " + std::to_string(id) + " (sctprelayctl assocs lists them)";
    return false;
  }
  if (!a->up) {
    error = "association " + std::to_string(id) + " (" + a->label + ") is not up";
    return false;
  }
  if (label) *label = a->label;
  LOG_INFO("%s: %s by the operator", a->label.c_str(), abort ? "aborted" : "shut down");
  if (abort) {
    a->end_cause = "aborted by the operator";
    a->sock().abort(a->assoc, "disconnected by the operator");
  } else {
    a->end_cause = "shut down by the operator";
    a->sock().shutdown(a->assoc);
  }
  return true;
}

}  // namespace sctprelay::relay
