// Listeners: a new association is peeled off the listener's one-to-many socket onto a socket of its
// own at COMM_UP, so from then on it is read, paused and sent to on its own; with workers, it is
// handed to the worker carrying the fewest (placement.h); its end.
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
      const sctp_assoc_t which = item.status == sctp::RecvStatus::Notification
                                     ? std::visit([](const auto& n) { return n.assoc; }, item.notification)
                                     : item.info.assoc;
      if (auto h = handing_over_.find(which); h != handing_over_.end()) {
        h->second->early.push_back(owned_copy(item));  // goes with it, in order
        continue;
      }
      auto it = l.accepted.find(which);
      Association* a = it == l.accepted.end() ? nullptr : find(it->second);
      if (a) {
        on_item(*a, item);
      } else if (l.refused.count(which)) {
        // What a refused association sent before it could be peeled off: never forwarded.
        if (item.status == sctp::RecvStatus::Message) {
          drop(nullptr, DropReason::Refused);
          l.book->unattached.drops[static_cast<std::size_t>(DropReason::Refused)]++;
        }
        if (auto* c = std::get_if<sctp::AssocChange>(&item.notification);
            item.status == sctp::RecvStatus::Notification && c && c->state != SCTP_COMM_UP &&
            c->state != SCTP_RESTART)
          l.refused.erase(which);
      } else if (item.status == sctp::RecvStatus::Message) {
        stats_.received++;
        drop(nullptr, DropReason::NoTarget);
        l.book->unattached.messages_in++;
        l.book->unattached.bytes_in += item.payload.size();
        l.book->unattached.drops[static_cast<std::size_t>(DropReason::NoTarget)]++;
        LOG_WARN("listener %s: message from unknown assoc %d dropped", l.cfg.name.c_str(), int(which));
      }
    }
    flush_staged();
    hand_over_accepted();
    // Refused associations peeled off this batch: nothing more of theirs is read here.
    std::erase_if(l.refused, [](const auto& r) { return !r.second; });
    if (batch_.drained) return;
  }
}

void Relay::accept_association(ListenerRt& l, const sctp::AssocChange& c, const sctp::Address& from) {
  std::error_code ec;
  // Its send buffer holds the largest message the relay accepts (the kernel refuses a larger one).
  const int sndbuf = static_cast<int>(std::max<std::size_t>(kAssociationBuffer, cfg_.limits.max_message_size));
  sctp::Socket own = l.socket.peeloff(c.assoc, 0, sndbuf, ec);
  // Admission comes first: a refused association is ABORTed before anything it sent is read.
  sctp::Socket& where = ec ? l.socket : own;
  std::vector<sctp::Address> peers = where.peer_addresses(c.assoc);
  // An association that already ended has no addresses to ask for; the notification's sender
  // address is still known.
  if (peers.empty() && (from.family() == AF_INET || from.family() == AF_INET6) && from.port() != 0)
    peers.push_back(from);
  if (!admitted(l, where, c.assoc, peers)) return;  // `own`, if any, closes here
  if (ec) {
    // Most often it has already ended (a peer that sends and closes at once): what it sent, and
    // its end, are still in the listener's receive queue and are read from there. Otherwise (out
    // of descriptors) it carries on there too, without a socket of its own.
    if (ec == std::errc::invalid_argument)
      LOG_DEBUG("listener %s: assoc %d ended before it could be peeled off", l.cfg.name.c_str(), int(c.assoc));
    else
      LOG_WARN("listener %s: assoc %d: cannot give it a socket of its own (%s): it stays on the listener's",
               l.cfg.name.c_str(), int(c.assoc), ec.message().c_str());
  }
  // With workers, the one carrying the fewest takes it (one without a socket of its own, or
  // arriving while this worker stops, stays).
  const unsigned to = place_.placement ? place_.placement->place(place_.index, !ec && !stopping_) : place_.index;
  if (to != place_.index) {
    auto h = std::make_shared<HandedOver>();
    h->listener = l.cfg.name;
    own.set_reassembly_budget(nullptr);  // this worker's; the other charges its own (adopt)
    h->socket = std::move(own);
    h->change = c;
    h->peers = std::move(peers);
    h->from = place_.index;
    h->to = to;
    handing_over_.emplace(c.assoc, std::move(h));  // sent at the end of this batch
    return;
  }
  take_on(l, c, std::move(peers), ec ? nullptr : &own);
}

void Relay::hand_over_accepted() {
  for (auto& entry : handing_over_) {
    std::shared_ptr<HandedOver> h = entry.second;
    place_.placement->run_on(h->to, [h](Relay& r) { r.adopt(std::move(*h)); });
  }
  handing_over_.clear();
}

// Another worker accepted it and hands it here (placement.h): it is taken on as if accepted here,
// then what that worker had already read of it is handled, in order, before its own socket is.
void Relay::adopt(HandedOver&& h) {
  auto l = listeners_.find(h.listener);
  const bool over = stopping_ && !stopped_;  // this worker's stop has finished: nothing here can carry it
  if (l == listeners_.end() || over) {
    // A reload removed the listener while it was on its way, or the relay stopped meanwhile.
    const std::size_t lost = std::count_if(h.early.begin(), h.early.end(),
                                           [](const auto& i) { return i.status == sctp::RecvStatus::Message; });
    LOG_WARN("listener %s: assoc %d handed over by worker %u %s: aborted%s", h.listener.c_str(), int(h.change.assoc),
             h.from, over ? "as the relay stopped" : "after the listener was removed",
             lost ? (", " + std::to_string(lost) + " messages already read dropped").c_str() : "");
    drop(nullptr, over ? DropReason::Stopped : DropReason::AssocGone, lost);
    h.socket.abort(h.change.assoc, over ? "relay stopping" : "listener removed");
    if (place_.shared) place_.shared->accepted(h.listener).fetch_sub(1);
    place_.placement->left(place_.index);
    return;
  }
  h.socket.set_reassembly_budget(&budget_);  // a message it was in the middle of, included
  Association& a = take_on(*l->second, h.change, std::move(h.peers), &h.socket);
  LOG_DEBUG("%s: handed over by worker %u with %zu items already read", a.label.c_str(), h.from, h.early.size());
  for (sctp::Received& item : h.early) {
    if (a.retired) break;
    item.payload = item.data;
    on_item(a, item);
  }
  flush_staged();  // staged sends point into h.early
  if (stopping_ && !a.retired && (sources_closed_ || stop_phase_ == StopPhase::ClosingSources ||
                                  stop_phase_ == StopPhase::ShutdownSent)) {
    // Arrived while this worker closes its sources: closed like them (the rest of what it sent is
    // read and delivered while the destinations are up).
    shut_down_and_read(a);
  }
  check_stopped();
}

Association& Relay::take_on(ListenerRt& l, const sctp::AssocChange& c, std::vector<sctp::Address> peers,
                            sctp::Socket* own) {
  Association& a = create(Association::Role::Accepted, l.cfg.name + "/assoc " + std::to_string(c.assoc));
  a.admitted_in = l.up_everywhere;
  a.placed_in = place_.placement;
  if (own)
    a.socket = std::move(*own);
  else
    a.listener_socket = &l.socket;
  a.assoc = c.assoc;
  a.up = true;
  a.up_since = std::chrono::system_clock::now();
  a.out_streams = c.outbound_streams;
  a.in_streams = c.inbound_streams;
  a.listener = l.cfg.name;
  a.source = l.source;
  a.oversize = l.cfg.oversize;
  a.send_buffer = a.sock().send_buffer();
  a.peers = std::move(peers);
  set_rate(a, l.cfg.rate);
  Association* self = &a;
  if (!a.listener_socket)
    a.io = dispatcher_.file_event(a.socket.fd(), [this, self](uint32_t ready) { on_association_io(*self, ready); });
  a.stop_hold = stopping_;
  a.update_watch();
  l.accepted[c.assoc] = a.id;
  stats_.assoc_up++;
  l.book->accepted_total++;
  // Group membership depends on the peer's addresses, known only now. The newest association
  // goes last in each group, which keeps members in arrival order.
  join_groups(a);
  std::string groups;
  for (auto& g : a.groups) groups += (groups.empty() ? "" : ",") + g;
  LOG_INFO("association up: listener %s assoc %d id %llu%s peer %s streams out %u in %u%s%s", l.cfg.name.c_str(),
           int(c.assoc), (unsigned long long)a.id, worker_text().c_str(), addresses(a.peers).c_str(),
           c.outbound_streams, c.inbound_streams, groups.empty() ? "" : " groups ", groups.c_str());
  return a;
}

void Relay::accepted_down(Association& a, const char* why, bool aborted) {
  if (a.retired) return;
  (aborted ? stats_.assoc_down_abort : stats_.assoc_down_shutdown)++;
  std::size_t lost = a.queue.size();
  drop(&a, DropReason::AssocGone, lost);
  LOG_INFO("association down: listener %s assoc %d id %llu%s peer %s: %s%s", a.listener.c_str(), int(a.assoc),
           (unsigned long long)a.id, worker_text().c_str(), addresses(a.peers).c_str(), why,
           lost ? (", " + std::to_string(lost) + " queued messages dropped").c_str() : "");
  for (auto& name : a.groups)
    if (auto g = groups_.find(name); g != groups_.end()) {
      auto& m = g->second->members;
      m.erase(std::remove(m.begin(), m.end(), a.id), m.end());
    }
  close_per_source_upstreams(a.id);
  retire(a, why);
}

bool Relay::admitted(ListenerRt& l, sctp::Socket& socket, sctp_assoc_t assoc,
                     const std::vector<sctp::Address>& peers) {
  // With workers, max_associations counts every worker's: this one takes its place first.
  const std::size_t current = l.up_everywhere ? l.up_everywhere->fetch_add(1) : l.accepted.size();
  Refusal why = admit(l.cfg, peers, current);
  if (!why) return true;
  if (l.up_everywhere) l.up_everywhere->fetch_sub(1);
  refuse(l, socket, assoc, why);
  return false;
}

void Relay::refuse(ListenerRt& l, sctp::Socket& socket, sctp_assoc_t assoc, const Refusal& why) {
  (why.reason == Refusal::Reason::NotAllowed ? stats_.refused_not_allowed : stats_.refused_max_associations)++;
  (why.reason == Refusal::Reason::NotAllowed ? l.book->refused_not_allowed : l.book->refused_max_associations)++;
  // The peer learns why from the ABORT's cause; the log says it once a second at most.
  if (once_a_second(l.last_refusal_log)) {
    LOG_WARN("listener %s: assoc %d refused and aborted: %s (refused so far: %llu not allowed, %llu over the "
             "limit)",
             l.cfg.name.c_str(), int(assoc), why.cause.c_str(), (unsigned long long)stats_.refused_not_allowed,
             (unsigned long long)stats_.refused_max_associations);
  }
  socket.abort(assoc, why.cause);
  // What it sent may still be read on the listener's socket: dropped, never forwarded.
  if (l.accepted.count(assoc) == 0) l.refused[assoc] = &socket == &l.socket;
}

// A reload's rules for associations already in: those whose peer the new `allow` list leaves
// out are ABORTed; the new rate applies at once. A lower max_associations refuses only new ones.
void Relay::apply_admission_rules() {
  for (Association* a : assocs_.snapshot()) {
    if (a->role != Association::Role::Accepted || a->retired || !a->up) continue;
    auto l = listeners_.find(a->listener);
    if (l == listeners_.end()) continue;
    set_rate(*a, l->second->cfg.rate);
    if (l->second->cfg.allow.empty()) continue;
    if (Refusal why = admit(l->second->cfg, a->peers, 0)) refuse_admitted(*l->second, *a, why);
  }
}

void Relay::refuse_admitted(ListenerRt& l, Association& a, const Refusal& why) {
  refuse(l, a.sock(), a.assoc, why);  // its COMM_LOST ends it
  a.refused = true;                   // what is read of it until then is dropped
  a.end_cause = "refused: " + why.cause;
}

void Relay::set_rate(Association& a, const std::optional<config::RateLimit>& rate) {
  if (!rate) {
    a.rate.reset();
    if (a.rate_hold) {
      a.rate_hold = false;
      if (a.rate_timer) a.rate_timer->disarm();
      a.update_watch();
    }
    return;
  }
  if (a.rate)
    a.rate->set_rate(*rate);
  else
    a.rate.emplace(*rate, Clock::now());
}

// Read faster than its rate: not read again until it has a token (its messages wait in the
// kernel, whose flow control slows the peer). Only this association waits.
void Relay::rate_pause(Association& a) {
  if (a.rate_hold || !a.io) return;  // one on its listener's socket has ended: read what is left
  stats_.rate_limited++;
  if (auto l = listeners_.find(a.listener); l != listeners_.end()) l->second->book->rate_limited++;
  a.rate_hold = true;
  a.update_watch();
  if (!a.rate_timer) {
    const uint64_t id = a.id;
    a.rate_timer = dispatcher_.timer([this, id] {
      Association* self = find(id);
      if (!self || !self->rate_hold) return;
      if (self->rate) {
        auto wait = self->rate->wait(Clock::now());
        if (wait > Clock::duration::zero()) {
          self->rate_timer->arm(std::chrono::duration_cast<std::chrono::microseconds>(wait));
          return;
        }
      }
      self->rate_hold = false;
      self->update_watch();  // level-triggered: what waits in its socket is reported at once
    });
  }
  a.rate_timer->arm(std::chrono::duration_cast<std::chrono::microseconds>(a.rate->wait(Clock::now())));
}

}  // namespace sctprelay::relay
