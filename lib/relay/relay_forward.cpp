// Relay forwarding: choosing a route, picking targets, sending now or queueing, and draining queues.
#include <cerrno>

#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

// One overflow/reject line per target per second at most: a flood must not flood the log too.
bool log_allowed(Endpoint& ep) {
  auto now = Clock::now();
  if (now - ep.last_overflow_log < std::chrono::seconds(1)) return false;
  ep.last_overflow_log = now;
  return true;
}

}  // namespace

void Relay::from_accepted(ListenerRt& l, Accepted& a, sctp::MessageInfo info,
                          Bytes data) {
  if (a.ep.track_origins && return_to_origin(a.ep, info, data, l.side)) return;
  int r = router::kNoRoute;
  // Routes naming a group the association belongs to come before routes naming its listener.
  for (auto* g : a.groups) {
    r = table_.match(g->source, info.stream, info.ppid);
    if (r != router::kNoRoute) break;
  }
  if (r == router::kNoRoute) r = table_.match(l.source, info.stream, info.ppid);
  if (r == router::kNoRoute)
    apply_default(&a.ep, info, data, l.side);
  else
    apply_route(r, &a.ep, info, data, l.side);
}

void Relay::from_peer(PeerRt& p, sctp::MessageInfo info, Bytes data) {
  if (p.ep.track_origins && return_to_origin(p.ep, info, data, p.side)) return;
  int r = table_.match(p.source, info.stream, info.ppid);
  if (r == router::kNoRoute)
    apply_default(&p.ep, info, data, p.side);
  else
    apply_route(r, &p.ep, info, data, p.side);
}

bool Relay::return_to_origin(Endpoint& from, sctp::MessageInfo info, Bytes data,
                             SocketSide& source) {
  if (info.stream >= from.origins.size() || from.origins[info.stream].endpoint_id == 0) return false;
  const Origin& origin = from.origins[info.stream];
  auto target = endpoints_by_id_.find(origin.endpoint_id);
  if (target == endpoints_by_id_.end()) return false;  // the origin went away: routes decide
  info.stream = origin.stream;
  if (origin.restore_ppid) info.ppid = origin.ppid;
  info.context = 0;
  deliver(target->second, info, data, source, Origin{});
  return true;
}

void Relay::apply_route(int route, Endpoint* from, const sctp::MessageInfo& in,
                        Bytes data, SocketSide& source) {
  RouteRt& rt = routes_[static_cast<std::size_t>(route)];
  const config::Route& r = *rt.cfg;
  sctp::MessageInfo out = in;
  out.context = 0;
  if (r.set_stream) out.stream = *r.set_stream;
  if (r.set_ppid) out.ppid = *r.set_ppid;
  Origin origin;
  if (from) {
    origin.endpoint_id = from->id;
    origin.stream = in.stream;
    origin.restore_ppid = r.set_ppid.has_value();
    origin.ppid = in.ppid;
  }
  const std::size_t n = rt.targets.size();
  switch (r.mode) {
    case config::RouteMode::Forward:
      deliver(pick(rt.targets[0], in.stream), out, data, source, origin);
      break;
    case config::RouteMode::FanOut:
      for (auto& t : rt.targets) deliver(pick(t, in.stream), out, data, source, origin);
      break;
    case config::RouteMode::Balance: {
      std::size_t i;
      if (r.balance == config::Balance::ByStream) {
        // The same stream always goes the same way, so its order holds end to end.
        i = in.stream % n;
      } else {
        // Round-robin over the targets that are up; when none is, the next in turn queues it.
        i = rt.next++ % n;
        for (std::size_t k = 0; k < n; ++k) {
          const Target& t = rt.targets[(i + k) % n];
          if ((t.peer && t.peer->ep.up) || (t.group && !t.group->members.empty())) {
            i = (i + k) % n;
            break;
          }
        }
      }
      deliver(pick(rt.targets[i], in.stream), out, data, source, origin);
      break;
    }
  }
}

void Relay::apply_default(Endpoint* from, const sctp::MessageInfo& info, Bytes data,
                          SocketSide& source) {
  if (!fallback_.peer && !fallback_.group) {
    stats_.dropped_no_route++;
    LOG_DEBUG("%s: no route for stream %u ppid %u: dropped", source.name.c_str(), info.stream, info.ppid);
    return;
  }
  Origin origin;
  if (from) {
    origin.endpoint_id = from->id;
    origin.stream = info.stream;
  }
  sctp::MessageInfo out = info;
  out.context = 0;
  deliver(pick(fallback_, info.stream), out, data, source, origin);
}

Endpoint* Relay::pick(const Target& t, uint16_t stream) {
  if (t.peer) return &t.peer->ep;
  if (!t.group || t.group->members.empty()) return nullptr;
  auto& m = t.group->members;
  std::size_t i = t.group->cfg.balance == config::Balance::ByStream ? stream % m.size() : t.group->next++ % m.size();
  return &m[i]->ep;
}

bool Relay::map_stream(Endpoint& ep, sctp::MessageInfo& info) {
  if (ep.overflow == config::StreamOverflow::Modulo) {
    stats_.stream_mapped++;
    info.stream = static_cast<uint16_t>(info.stream % ep.out_streams);
    return true;
  }
  stats_.dropped_stream++;
  if (log_allowed(ep))
    LOG_WARN("%s: stream %u beyond its %u streams: message rejected (stream_overflow: reject)",
             ep.label.c_str(), info.stream, ep.out_streams);
  return false;
}

void Relay::record_origin(Endpoint& ep, uint16_t stream, const Origin& origin) {
  if (!ep.track_origins || !origin.endpoint_id) return;
  if (stream >= ep.origins.size()) ep.origins.resize(std::size_t(stream) + 1);
  ep.origins[stream] = origin;
}

bool Relay::keep_after_send_error(const Endpoint& ep, const std::error_code& ec) {
  stats_.send_errors++;
  // The association is ending or ended: the message waits (a peer's, for the next association).
  bool gone = ec.value() == EPIPE || ec.value() == ENOTCONN || ec.value() == ESHUTDOWN ||
              ec.value() == ECONNRESET || ec.value() == EINVAL;
  if (gone)
    LOG_DEBUG("%s: association ending (%s): message kept", ep.label.c_str(), ec.message().c_str());
  else
    LOG_WARN("%s: send failed, message dropped: %s", ep.label.c_str(), ec.message().c_str());
  return gone;
}

void Relay::deliver(Endpoint* ep, const sctp::MessageInfo& info, Bytes data,
                    SocketSide& source, const Origin& origin) {
  if (!ep) {
    stats_.dropped_no_target++;
    return;
  }
  if (ep->up && ep->queue.empty()) {
    // Nothing waits ahead of it: it goes out with this batch's sends.
    sctp::MessageInfo now = info;
    if (fit_stream(*ep, now)) stage(*ep, now, data, source, origin);
    return;
  }
  enqueue(*ep, info, data.data(), data.size(), &source, origin);
}


void Relay::enqueue(Endpoint& ep, const sctp::MessageInfo& info, const uint8_t* data, std::size_t len,
                    SocketSide* source, const Origin& origin) {
  if (ep.queue.full()) {
    if (ep.queue.settings().when_full == config::FullPolicy::Drop) {
      stats_.dropped_queue_full++;
      if (log_allowed(ep))
        LOG_WARN("%s: queue full (%zu messages, %zu bytes): dropping", ep.label.c_str(), ep.queue.size(),
                 ep.queue.bytes());
      return;
    }
    if (source) hold_source(ep, *source);
  } else if (ep.up && source && ep.queue.settings().when_full == config::FullPolicy::Backpressure &&
             ep.queue.over_soft_limit()) {
    // Up but slow: stop reading its sources now rather than fill the queue (see over_soft_limit).
    hold_source(ep, *source);
  }
  ep.queue.push_back(info, data, len, Clock::now(), origin);
  stats_.queued++;
  if (ep.up) want_write(ep);
}

void Relay::stage(Endpoint& ep, const sctp::MessageInfo& info, Bytes data,
                  SocketSide& source, const Origin& origin) {
  SocketSide& side = *ep.side;
  if (side.staged.empty()) staged_sides_.push_back(&side);
  sctp::OutMessage m;
  m.info = info;
  m.info.assoc = ep.assoc;
  m.data = data.data();
  m.len = data.size();
  side.staged.push_back(m);
  side.staged_meta.push_back(StagedSend{&ep, &source, origin});
}

void Relay::flush_staged() {
  for (SocketSide* side : staged_sides_) flush_side(*side);
  staged_sides_.clear();
}

void Relay::flush_side(SocketSide& side) {
  const std::size_t n = side.staged.size();
  std::size_t i = 0;
  while (i < n) {
    sctp::SendStatus status;
    std::error_code ec;
    std::size_t sent = side.socket.send_batch(side.staged.data() + i, n - i, status, ec);
    for (std::size_t k = i; k < i + sent; ++k) {
      stats_.forwarded++;
      record_origin(*side.staged_meta[k].ep, side.staged[k].info.stream, side.staged_meta[k].origin);
    }
    i += sent;
    if (i == n) break;
    // Message i did not go.
    Endpoint& ep = *side.staged_meta[i].ep;
    if (status == sctp::SendStatus::Error && !keep_after_send_error(ep, ec)) {
      ++i;
      continue;
    }
    // The socket is full (or the association ending): this and the rest of the batch wait in
    // their queues, in order; the queues drain when the socket can take more.
    for (; i < n; ++i) {
      Endpoint& e = *side.staged_meta[i].ep;
      enqueue(e, side.staged[i].info, side.staged[i].data, side.staged[i].len, side.staged_meta[i].source,
              side.staged_meta[i].origin);
    }
  }
  side.staged.clear();
  side.staged_meta.clear();
}

void Relay::flush(Endpoint& ep) {
  while (ep.up && !ep.queue.empty()) {
    // The queue's front goes out in one sendmmsg, as far as streams fit.
    drain_.clear();
    while (!ep.queue.empty() && drain_.size() < 64 && drain_.size() < ep.queue.size()) {
      QueuedMessage& m = ep.queue[drain_.size()];
      sctp::MessageInfo info = m.info;
      if (!fit_stream(ep, info)) {
        if (!drain_.empty()) break;  // send what is ahead of it first
        ep.queue.pop_front();        // rejected (and counted): gone from the queue
        continue;
      }
      m.info.stream = info.stream;   // mapped once, counted once, even if it has to wait again
      info.assoc = ep.assoc;
      drain_.push_back(sctp::OutMessage{info, m.data.data(), m.data.size()});
    }
    if (drain_.empty()) continue;
    sctp::SendStatus status;
    std::error_code ec;
    std::size_t sent = ep.side->socket.send_batch(drain_.data(), drain_.size(), status, ec);
    for (std::size_t k = 0; k < sent; ++k) {
      stats_.forwarded++;
      record_origin(ep, drain_[k].info.stream, ep.queue.front().origin);
      ep.queue.pop_front();
    }
    if (sent == drain_.size()) continue;
    if (status == sctp::SendStatus::WouldBlock) {
      want_write(ep);
      break;
    }
    if (keep_after_send_error(ep, ec)) break;  // the association's end is on its way
    ep.queue.pop_front();
  }
  if (may_release(ep)) release_sources(ep);
}

void Relay::want_write(Endpoint& ep) {
  if (ep.in_write_list) return;
  ep.in_write_list = true;
  ep.side->want_write.push_back(&ep);
  update_watch(*ep.side);
}

void Relay::hold_source(Endpoint& ep, SocketSide& source) {
  for (auto* s : ep.paused)
    if (s == &source) return;
  ep.paused.push_back(&source);
  source.pauses++;
  stats_.backpressure_pauses++;
  // A full queue is news; a slow association pausing its sources now and then is routine.
  if (ep.queue.full()) {
    ep.logged_pause = true;
    LOG_INFO("backpressure: %s queue full (%zu messages); pausing reads from %s", ep.label.c_str(),
             ep.queue.size(), source.name.c_str());
  } else {
    LOG_DEBUG("backpressure: %s queue growing (%zu messages); pausing reads from %s", ep.label.c_str(),
              ep.queue.size(), source.name.c_str());
  }
  update_watch(source);
}

void Relay::release_sources(Endpoint& ep) {
  if (ep.paused.empty()) return;
  for (auto* s : ep.paused) {
    s->pauses--;
    update_watch(*s);
    if (ep.logged_pause)
      LOG_INFO("backpressure: %s drained; resuming reads from %s", ep.label.c_str(), s->name.c_str());
  }
  ep.paused.clear();
  ep.logged_pause = false;
}

}  // namespace sctprelay::relay
