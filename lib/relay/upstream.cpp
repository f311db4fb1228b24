// Peer destinations: the associations the relay opens to them (one shared, or one per source with
// associations: per-source), reconnecting with back-off, and putting back what a dying one handed
// back, whole and in order.
#include <algorithm>

#include "relay/log_text.h"
#include "relay/relay.h"
#include "sctp/explain.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

void note_error(DestinationBook& book, std::string what) {
  book.last_error = std::move(what);
  book.last_error_at = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void Relay::open_shared_upstream(PeerRt& p) {
  p.shared = &open_upstream(p.cfg, p.cfg.name, 0, p.cfg.out_streams, p.cfg.in_streams);
}

Association& Relay::open_upstream(const config::Destination& d, std::string label, uint64_t owner,
                                  uint16_t out_streams, uint16_t in_streams) {
  Association& u = create(Association::Role::Upstream, std::move(label));
  u.destination = d.name;
  u.owner = owner;
  u.want_out_streams = out_streams;
  u.want_in_streams = in_streams;
  u.queue.set_settings(d.queue);
  u.overflow = d.stream_overflow;
  u.track_origins = d.return_path == config::ReturnPath::Origin;
  u.keeps_sent_origins = u.track_origins && !owner;
  u.source = table_.source_index(d.name);
  Association* self = &u;
  u.reconnect = dispatcher_.timer([this, self] { connect_upstream(*self); });
  connect_upstream(u);
  return u;
}

void Relay::connect_upstream(Association& u) {
  if (stopping_ || u.retired) return;
  auto p = peers_.find(u.destination);
  const config::Destination* d = p != peers_.end() && p->second ? &p->second->cfg : cfg_.find_destination(u.destination);
  if (!d) return;
  std::error_code ec;
  auto addrs = sctp::parse_addresses(d->addresses, d->port, ec);
  if (!u.socket) {
    sctp::SocketOptions o;
    o.sender_dry_events = false;
    o.message_sources = false;
    o.out_streams = u.want_out_streams;
    o.in_streams = u.want_in_streams;
    // Room for the largest message the relay accepts (the kernel refuses a message larger than
    // the send buffer outright).
    o.sndbuf = static_cast<int>(std::max<std::size_t>(o.sndbuf, cfg_.limits.max_message_size));
    u.socket = sctp::Socket::open(sctp::family_for(addrs), o, ec);
    if (ec) {
      const std::string why = sctp::explain_socket_error(ec, sctp::family_for(addrs));
      note_error(destination_book(u.destination), why);
      LOG_ERROR("%s: %s", u.label.c_str(), why.c_str());
      schedule_reconnect(u);
      return;
    }
    u.socket.set_reassembly_budget(&budget_);
    u.send_buffer = u.socket.send_buffer();
    if (u.send_buffer > 0 && static_cast<std::size_t>(u.send_buffer) < cfg_.limits.max_message_size)
      LOG_WARN("%s: send buffer is %d bytes, below limits.max_message_size (%zu): larger messages will be "
               "dropped (dropped_too_big); raise net.core.wmem_max (see 60-sctprelayd.conf)",
               u.label.c_str(), u.send_buffer, cfg_.limits.max_message_size);
    Association* self = &u;
    u.io = dispatcher_.file_event(u.socket.fd(), [this, self](uint32_t ready) { on_association_io(*self, ready); });
    u.update_watch();
  }
  auto p_book = peers_.find(u.destination);
  DestinationBook& book = p_book != peers_.end() && p_book->second && p_book->second->book
                              ? *p_book->second->book
                              : destination_book(u.destination);
  book.connect_attempts++;
  sctp_assoc_t id = u.socket.connect(addrs, ec);
  if (ec) {
    const std::string why = sctp::explain_connect_error(ec, join(d->addresses) + " port " + std::to_string(d->port));
    note_error(book, why);
    LOG_WARN("%s: %s", u.label.c_str(), why.c_str());
    schedule_reconnect(u);
    return;
  }
  u.connecting = true;
  u.assoc = id;
  LOG_DEBUG("%s: connecting to %s port %u", u.label.c_str(), join(d->addresses).c_str(), d->port);
}

void Relay::schedule_reconnect(Association& u) {
  if (stopping_ || u.retired) return;
  u.connecting = false;
  auto p = peers_.find(u.destination);
  if (p == peers_.end() || !p->second) return;
  const auto& cfg = p->second->cfg;
  u.backoff = u.backoff.count() == 0 ? cfg.reconnect_min : std::min(cfg.reconnect_max, u.backoff * 2);
  if (p->second->book) p->second->book->reconnects++;
  u.reconnect->arm(u.backoff);
}

Association* Relay::per_source_upstream(PeerRt& p, Association& source) {
  if (auto it = p.per_source.find(source.id); it != p.per_source.end()) return it->second;
  if (source.retired || stopping_) return nullptr;
  // As many streams each way as the source has, so its streams map one to one.
  uint16_t out = source.in_streams ? source.in_streams : p.cfg.out_streams;
  uint16_t in = source.out_streams ? source.out_streams : p.cfg.in_streams;
  Association& u = open_upstream(p.cfg, p.cfg.name + " for " + source.label, source.id, out, in);
  p.per_source[source.id] = &u;
  return &u;
}

void Relay::on_upstream_notification(Association& u, const sctp::Notification& n) {
  if (auto* c = std::get_if<sctp::AssocChange>(&n)) {
    switch (c->state) {
      case SCTP_COMM_UP:
      case SCTP_RESTART: {
        if (c->state == SCTP_RESTART) stats_.assoc_restart++;
        take_back_returned(u);
        u.connecting = false;
        u.up = true;
        u.ending = false;
        u.assoc = c->assoc;
        u.last_assoc = c->assoc;
        u.out_streams = c->outbound_streams;
        u.in_streams = c->inbound_streams;
        u.backoff = std::chrono::milliseconds(0);
        u.up_since = std::chrono::system_clock::now();
        u.end_cause.clear();  // an operator's disconnect ended the last one, not this
        stats_.assoc_up++;
        LOG_INFO("destination %s up: assoc %d peer %s streams out %u in %u%s", u.label.c_str(), int(c->assoc),
                 addresses(u.socket.peer_addresses(c->assoc)).c_str(), c->outbound_streams, c->inbound_streams,
                 u.queue.empty() ? "" : (", draining " + std::to_string(u.queue.size()) + " queued").c_str());
        drain(u);
        u.update_watch();
        break;
      }
      case SCTP_COMM_LOST:
      case SCTP_SHUTDOWN_COMP:
        upstream_down(u, c->state == SCTP_COMM_LOST ? "lost (ABORT or path failure)" : "shutdown",
                      c->state == SCTP_COMM_LOST);
        break;
      case SCTP_CANT_STR_ASSOC:
        u.connecting = false;
        note_error(destination_book(u.destination), "association could not be started (no answer to INIT, or ABORT)");
        LOG_WARN("destination %s: association could not be started; retrying", u.label.c_str());
        schedule_reconnect(u);
        break;
    }
  } else if (auto* a = std::get_if<sctp::PeerAddrChange>(&n)) {
    on_path_change(u, *a);
  } else if (auto* f = std::get_if<sctp::SendFailed>(&n)) {
    // The kernel hands back what it could not deliver on an association that ended, a piece per
    // DATA chunk: rebuilt whole, they go back ahead of newer messages, in the order they were sent.
    if (f->assoc != u.last_assoc || stopping_) {
      if (f->first) drop(&u, DropReason::AssocGone);
      return;
    }
    u.returned.add(*f, Clock::now());
  } else if (std::get_if<sctp::ShutdownEvent>(&n)) {
    LOG_INFO("destination %s: peer is shutting down", u.label.c_str());
  } else if (std::get_if<sctp::SenderDry>(&n)) {
    awaiting_dry_.erase(u.id);
  }
}

void Relay::take_back_returned(Association& u) {
  std::size_t incomplete = u.returned.take_incomplete();
  if (incomplete) {
    drop(&u, DropReason::Incomplete, incomplete);
    LOG_WARN("%s: %zu messages handed back without all their pieces: dropped", u.label.c_str(), incomplete);
  }
  auto msgs = u.returned.take();
  if (msgs.empty()) return;
  std::size_t maybe = 0;
  for (auto& m : msgs) {
    if (m.maybe_delivered) maybe++;
    if (!u.sent_origins.empty()) {
      const auto& [seq, origin] = u.sent_origins[m.seq % Association::kSentOrigins];
      if (seq == m.seq) m.origin = origin;
    }
  }
  stats_.requeued += msgs.size();
  stats_.redelivered_maybe_duplicate += maybe;
  LOG_INFO("%s: %zu messages handed back by the ended association are queued again (%zu may have reached the peer)",
           u.label.c_str(), msgs.size(), maybe);
  u.queue.put_back(std::move(msgs));
}

void Relay::upstream_down(Association& u, const char* why, bool aborted) {
  if (!u.up) {
    schedule_reconnect(u);
    return;
  }
  (aborted ? stats_.assoc_down_abort : stats_.assoc_down_shutdown)++;
  if (aborted || !u.close_when_drained) note_error(destination_book(u.destination), std::string("association ") + why);
  u.up = false;
  u.ending = false;
  u.want_write = false;
  u.update_watch();
  if (stopping_) {
    awaiting_dry_.erase(u.id);
    LOG_INFO("destination %s down: %s", u.label.c_str(), why);
    return;
  }
  if (u.close_when_drained && !aborted) {  // the SHUTDOWN the relay asked for, its source gone
    LOG_INFO("destination %s closed: its source is gone", u.label.c_str());
    retire(u, "its source is gone");
    return;
  }
  // Sources held at the soft limit go on: while it is down, its queue takes messages until full.
  if (!u.queue.full()) release_held(u);
  schedule_reconnect(u);
  LOG_INFO("destination %s down: %s; %zu queued; reconnecting in %lldms", u.label.c_str(), why, u.queue.size(),
           (long long)u.backoff.count());
}

void Relay::close_per_source_upstreams(uint64_t owner) {
  for (auto& [_, p] : peers_) {
    if (!p) continue;
    auto it = p->per_source.find(owner);
    if (it == p->per_source.end()) continue;
    Association& u = *it->second;
    u.close_when_drained = true;
    if (u.queue.empty()) close_upstream_when_drained(u);
  }
}

void Relay::close_upstream_when_drained(Association& u) {
  if (u.retired) return;
  if (u.up) {
    u.socket.shutdown(u.assoc);  // its SHUTDOWN_COMP retires it
  } else {
    retire(u, "its source is gone");
  }
}

}  // namespace sctprelay::relay
