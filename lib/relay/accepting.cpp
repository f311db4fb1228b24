// Listeners: a new association is peeled off the listener's one-to-many socket onto a socket of its
// own at COMM_UP, so from then on it is read, paused and sent to on its own; its end.
#include <algorithm>

#include "relay/log_text.h"
#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

// The send buffer of one accepted association (what waits for it in the kernel). Its receive
// buffer stays the listener's: the window the association advertised at set-up came from that
// buffer, and a smaller one would make the kernel renege on data it had room for by the window's
// word (retransmissions, and messages delivered in pieces).
constexpr int kAssociationBuffer = 1 << 20;

}  // namespace

void Relay::read_listener(ListenerRt& l) {
  for (int budget = kReadBudget; budget > 0;) {
    l.socket.receive_batch(batch_, cfg_.limits.max_message_size);
    if (batch_.count == 0) {
      if (batch_.status == sctp::RecvStatus::Error)
        LOG_ERROR("listener %s: receive failed: %s", l.cfg.name.c_str(), batch_.ec.message().c_str());
      return;
    }
    for (std::size_t i = 0; i < batch_.count; ++i, --budget) {
      const sctp::Received& item = batch_.items[i];
      if (item.status == sctp::RecvStatus::Notification) {
        if (auto* c = std::get_if<sctp::AssocChange>(&item.notification); c && c->state == SCTP_COMM_UP) {
          flush_staged();
          accept_association(l, *c, item.source);
          continue;
        }
      }
      // Anything else read here belongs to an association that was up before it was peeled off
      // (read in the same batch as its COMM_UP), or that ended before it could be.
      auto it = l.accepted.find(item.info.assoc);
      sctp_assoc_t which = item.info.assoc;
      if (item.status == sctp::RecvStatus::Notification) {
        which = std::visit([](const auto& n) { return n.assoc; }, item.notification);
        it = l.accepted.find(which);
      }
      Association* a = it == l.accepted.end() ? nullptr : find(it->second);
      if (a) {
        on_item(*a, item);
      } else if (item.status == sctp::RecvStatus::Message) {
        stats_.received++;
        stats_.dropped_no_target++;
        LOG_WARN("listener %s: message from unknown assoc %d dropped", l.cfg.name.c_str(), int(which));
      }
    }
    flush_staged();
    if (batch_.drained) return;
  }
}

void Relay::accept_association(ListenerRt& l, const sctp::AssocChange& c, const sctp::Address& from) {
  std::error_code ec;
  // Its send buffer holds the largest message the relay accepts (the kernel refuses a larger one).
  const int sndbuf = static_cast<int>(std::max<std::size_t>(kAssociationBuffer, cfg_.limits.max_message_size));
  sctp::Socket own = l.socket.peeloff(c.assoc, 0, sndbuf, ec);
  Association& a = create(Association::Role::Accepted, l.cfg.name + "/assoc " + std::to_string(c.assoc));
  if (ec) {
    // Most often it has already ended (a peer that sends and closes at once): what it sent, and
    // its end, are still in the listener's receive queue and are read from there. Otherwise (out
    // of descriptors) it carries on there too, without a socket of its own.
    if (ec == std::errc::invalid_argument)
      LOG_DEBUG("listener %s: assoc %d ended before it could be peeled off", l.cfg.name.c_str(), int(c.assoc));
    else
      LOG_WARN("listener %s: assoc %d: cannot give it a socket of its own (%s): it stays on the listener's",
               l.cfg.name.c_str(), int(c.assoc), ec.message().c_str());
    a.listener_socket = &l.socket;
  } else {
    a.socket = std::move(own);
  }
  a.assoc = c.assoc;
  a.up = true;
  a.out_streams = c.outbound_streams;
  a.in_streams = c.inbound_streams;
  a.listener = l.cfg.name;
  a.source = l.source;
  a.oversize = l.cfg.oversize;
  a.send_buffer = a.sock().send_buffer();
  a.peers = a.sock().peer_addresses(c.assoc);
  // An association that already ended has no addresses to ask for; the notification's sender
  // address is still known.
  if (a.peers.empty() && (from.family() == AF_INET || from.family() == AF_INET6) && from.port() != 0)
    a.peers.push_back(from);
  Association* self = &a;
  if (!a.listener_socket)
    a.io = dispatcher_.file_event(a.socket.fd(), [this, self](uint32_t ready) { on_association_io(*self, ready); });
  a.stop_hold = stopping_;
  a.update_watch();
  l.accepted[c.assoc] = a.id;
  stats_.assoc_up++;
  // Group membership depends on the peer's addresses, known only now. The newest association
  // goes last in each group, which keeps members in arrival order.
  join_groups(a);
  std::string groups;
  for (auto& g : a.groups) groups += (groups.empty() ? "" : ",") + g;
  LOG_INFO("association up: listener %s assoc %d peer %s streams out %u in %u%s%s", l.cfg.name.c_str(), int(c.assoc),
           addresses(a.peers).c_str(), c.outbound_streams, c.inbound_streams, groups.empty() ? "" : " groups ",
           groups.c_str());
}

void Relay::accepted_down(Association& a, const char* why, bool aborted) {
  if (a.retired) return;
  (aborted ? stats_.assoc_down_abort : stats_.assoc_down_shutdown)++;
  std::size_t lost = a.queue.size();
  stats_.dropped_assoc_gone += lost;
  LOG_INFO("association down: listener %s assoc %d peer %s: %s%s", a.listener.c_str(), int(a.assoc),
           addresses(a.peers).c_str(), why, lost ? (", " + std::to_string(lost) + " queued messages dropped").c_str() : "");
  for (auto& name : a.groups)
    if (auto g = groups_.find(name); g != groups_.end()) {
      auto& m = g->second->members;
      m.erase(std::remove(m.begin(), m.end(), a.id), m.end());
    }
  close_per_source_upstreams(a.id);
  retire(a);
}

}  // namespace sctprelay::relay
