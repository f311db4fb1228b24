// Relay I/O: readiness, reading messages and notifications, associations coming and going.
#include <algorithm>

#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

// Messages read per readiness event before giving other sockets a turn.
constexpr int kReadBudget = 64;

std::string addresses(const std::vector<sctp::Address>& v) {
  std::string s;
  for (auto& a : v) s += (s.empty() ? "" : ",") + a.to_string();
  return s.empty() ? "?" : s;
}

const char* down_reason(uint16_t state) {
  switch (state) {
    case SCTP_COMM_LOST: return "lost (ABORT or path failure)";
    case SCTP_SHUTDOWN_COMP: return "shutdown";
    case SCTP_CANT_STR_ASSOC: return "could not start";
    default: return sctp::assoc_state_name(state);
  }
}

}  // namespace

void Relay::update_watch(SocketSide& side) {
  if (!side.io) return;
  uint32_t mask = 0;
  if (side.pauses == 0) mask |= event::Readable;
  if (!side.want_write.empty()) mask |= event::Writable;
  side.io->watch(mask);
}

void Relay::on_io(SocketSide& side, uint32_t ready, ListenerRt* listener, PeerRt* peer) {
  if (ready & event::Writable) {
    auto waiting = std::move(side.want_write);
    side.want_write.clear();
    for (Endpoint* ep : waiting) {
      ep->in_write_list = false;
      flush(*ep);
    }
    update_watch(side);
  }
  if ((ready & event::Readable) && side.pauses == 0) read_side(side, listener, peer);
  check_stopped();
}

void Relay::read_side(SocketSide& side, ListenerRt* listener, PeerRt* peer) {
  // Messages are read in batches (one recvmmsg) and what they route to goes out in batches too
  // (one sendmmsg per socket), after the batch, in order.
  for (int budget = kReadBudget; budget > 0 && side.pauses == 0;) {
    side.socket.receive_batch(batch_, cfg_.limits.max_message_size);
    if (batch_.count == 0) {
      if (batch_.status == sctp::RecvStatus::Error)
        LOG_ERROR("%s: receive failed: %s", side.name.c_str(), batch_.ec.message().c_str());
      return;
    }
    for (std::size_t i = 0; i < batch_.count; ++i, --budget) {
      const sctp::Received& item = batch_.items[i];
      switch (item.status) {
        case sctp::RecvStatus::Oversize:
          stats_.dropped_oversize++;
          LOG_WARN("%s: assoc %d stream %u: message larger than %zu bytes dropped", side.name.c_str(),
                   int(item.info.assoc), item.info.stream, cfg_.limits.max_message_size);
          break;
        case sctp::RecvStatus::Notification:
          // A notification may end an association that staged sends point at: send them first.
          flush_staged();
          if (listener) on_listener_notification(*listener, item);
          if (peer) on_peer_notification(*peer, item.notification);
          break;
        case sctp::RecvStatus::Message:
          stats_.received++;
          if (listener) {
            Accepted* from = listener->find(item.info.assoc);
            if (!from) {
              // Data can precede COMM_UP on a one-to-many socket only if the event was lost; count it.
              stats_.dropped_no_target++;
              LOG_WARN("%s: message from unknown assoc %d dropped", side.name.c_str(), int(item.info.assoc));
              break;
            }
            from_accepted(*listener, *from, item.info, item.payload);
          } else if (peer) {
            from_peer(*peer, item.info, item.payload);
          }
          break;
        default:
          break;
      }
    }
    flush_staged();
    if (batch_.drained) return;
  }
}

void Relay::on_listener_notification(ListenerRt& l, const sctp::Received& item) {
  const sctp::Notification& n = item.notification;
  if (auto* c = std::get_if<sctp::AssocChange>(&n)) {
    switch (c->state) {
      case SCTP_COMM_UP:
        accepted_up(l, *c, item.source);
        break;
      case SCTP_RESTART: {
        stats_.assoc_restart++;
        auto it = l.assocs.find(c->assoc);
        if (it != l.assocs.end()) it->second->ep.out_streams = c->outbound_streams;
        LOG_WARN("listener %s: assoc %d restarted by its peer", l.cfg.name.c_str(), int(c->assoc));
        break;
      }
      case SCTP_COMM_LOST:
      case SCTP_SHUTDOWN_COMP:
      case SCTP_CANT_STR_ASSOC:
        accepted_down(l, c->assoc, down_reason(c->state), c->state == SCTP_COMM_LOST);
        break;
    }
  } else if (auto* a = std::get_if<sctp::PeerAddrChange>(&n)) {
    LOG_INFO("listener %s: assoc %d path %s %s", l.cfg.name.c_str(), int(a->assoc),
             a->address.to_string().c_str(), sctp::paddr_state_name(a->state));
  } else if (auto* f = std::get_if<sctp::SendFailed>(&n)) {
    // The association is going away; its queue goes with it. Count what the kernel gave back.
    stats_.dropped_assoc_gone++;
    LOG_DEBUG("listener %s: assoc %d send failed (error %u)", l.cfg.name.c_str(), int(f->assoc), f->error);
  }
}

void Relay::accepted_up(ListenerRt& l, const sctp::AssocChange& c, const sctp::Address& from) {
  auto a = std::make_unique<Accepted>();
  a->ep.id = new_endpoint_id();
  a->ep.side = &l.side;
  a->ep.assoc = c.assoc;
  a->ep.up = true;
  a->ep.out_streams = c.outbound_streams;
  a->ep.label = l.cfg.name + "/assoc " + std::to_string(c.assoc);
  a->peers = l.side.socket.peer_addresses(c.assoc);
  // An association that already ended has no addresses to ask for; the notification's sender
  // address is still known.
  if (a->peers.empty() && (from.family() == AF_INET || from.family() == AF_INET6) && from.port() != 0)
    a->peers.push_back(from);
  endpoints_by_id_[a->ep.id] = &a->ep;
  stats_.assoc_up++;
  Accepted* raw = a.get();
  l.assocs[c.assoc] = std::move(a);
  // Group membership depends on the peer's addresses, known only now. The newest association
  // goes last in each group, which keeps members in arrival order.
  join_groups(l, *raw);
  std::string groups;
  for (auto* g : raw->groups) groups += (groups.empty() ? "" : ",") + g->cfg.name;
  LOG_INFO("association up: listener %s assoc %d peer %s streams out %u in %u%s%s", l.cfg.name.c_str(),
           int(c.assoc), addresses(raw->peers).c_str(), c.outbound_streams, c.inbound_streams,
           groups.empty() ? "" : " groups ", groups.c_str());
}

void Relay::accepted_down(ListenerRt& l, sctp_assoc_t assoc, const char* why, bool aborted) {
  auto it = l.assocs.find(assoc);
  if (it == l.assocs.end()) return;
  Accepted& a = *it->second;
  (aborted ? stats_.assoc_down_abort : stats_.assoc_down_shutdown)++;
  std::size_t lost = a.ep.queue.size();
  stats_.dropped_assoc_gone += lost;
  LOG_INFO("association down: listener %s assoc %d peer %s: %s%s", l.cfg.name.c_str(), int(assoc),
           addresses(a.peers).c_str(), why,
           lost ? (", " + std::to_string(lost) + " queued messages dropped").c_str() : "");
  forget_endpoint(a.ep);
  if (l.last == &a) l.last = nullptr;
  for (auto* g : a.groups) {
    auto& m = g->members;
    m.erase(std::remove(m.begin(), m.end(), &a), m.end());
  }
  l.assocs.erase(it);
}

void Relay::forget_endpoint(Endpoint& ep) {
  release_sources(ep);
  if (ep.in_write_list && ep.side) {
    auto& w = ep.side->want_write;
    w.erase(std::remove(w.begin(), w.end(), &ep), w.end());
    ep.in_write_list = false;
  }
  endpoints_by_id_.erase(ep.id);
}

void Relay::on_peer_notification(PeerRt& p, const sctp::Notification& n) {
  if (auto* c = std::get_if<sctp::AssocChange>(&n)) {
    switch (c->state) {
      case SCTP_COMM_UP:
      case SCTP_RESTART: {
        if (c->state == SCTP_RESTART) stats_.assoc_restart++;
        p.connecting = false;
        p.ep.up = true;
        p.ep.assoc = c->assoc;
        p.last_assoc = c->assoc;
        p.ep.out_streams = c->outbound_streams;
        p.backoff = std::chrono::milliseconds(0);
        p.returned = 0;
        stats_.assoc_up++;
        LOG_INFO("destination %s up: assoc %d peer %s streams out %u in %u%s", p.cfg.name.c_str(),
                 int(c->assoc), addresses(p.side.socket.peer_addresses(c->assoc)).c_str(),
                 c->outbound_streams, c->inbound_streams,
                 p.ep.queue.empty() ? "" : (", draining " + std::to_string(p.ep.queue.size()) + " queued").c_str());
        flush(p.ep);
        break;
      }
      case SCTP_COMM_LOST:
      case SCTP_SHUTDOWN_COMP:
        peer_down(p, down_reason(c->state), c->state == SCTP_COMM_LOST);
        break;
      case SCTP_CANT_STR_ASSOC:
        p.connecting = false;
        LOG_WARN("destination %s: association could not be started; retrying in %lldms", p.cfg.name.c_str(),
                 (long long)std::min(p.cfg.reconnect_max,
                                     p.backoff.count() ? p.backoff * 2 : p.cfg.reconnect_min).count());
        schedule_reconnect(p);
        break;
    }
  } else if (auto* a = std::get_if<sctp::PeerAddrChange>(&n)) {
    LOG_INFO("destination %s: path %s %s", p.cfg.name.c_str(), a->address.to_string().c_str(),
             sctp::paddr_state_name(a->state));
  } else if (auto* f = std::get_if<sctp::SendFailed>(&n)) {
    // The kernel hands back messages it could not deliver on an association that ended. They go back
    // to the front of the queue, ahead of later messages, in the order they were sent.
    if (f->assoc != p.last_assoc || stopping_) {
      stats_.dropped_assoc_gone++;
      return;
    }
    QueuedMessage m;
    m.info = f->info;
    m.data = f->data;
    m.enqueued = Clock::now();
    p.ep.queue.insert_at(p.returned++, std::move(m));
    stats_.requeued++;
  } else if (std::get_if<sctp::ShutdownEvent>(&n)) {
    LOG_INFO("destination %s: peer is shutting down", p.cfg.name.c_str());
  } else if (auto* d = std::get_if<sctp::SenderDry>(&n)) {
    sender_dry(d->assoc);
  }
}

void Relay::peer_down(PeerRt& p, const char* why, bool aborted) {
  if (!p.ep.up) {
    schedule_reconnect(p);
    return;
  }
  (aborted ? stats_.assoc_down_abort : stats_.assoc_down_shutdown)++;
  p.ep.up = false;
  if (p.ep.in_write_list) {
    auto& w = p.side.want_write;
    w.erase(std::remove(w.begin(), w.end(), &p.ep), w.end());
    p.ep.in_write_list = false;
    update_watch(p.side);
  }
  if (stopping_) {
    awaiting_dry_.erase(p.ep.assoc);
    LOG_INFO("destination %s down: %s", p.cfg.name.c_str(), why);
    return;
  }
  schedule_reconnect(p);
  LOG_INFO("destination %s down: %s; %zu queued; reconnecting in %lldms", p.cfg.name.c_str(), why,
           p.ep.queue.size(), (long long)p.backoff.count());
}

}  // namespace sctprelay::relay
