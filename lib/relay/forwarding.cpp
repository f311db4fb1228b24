// Forwarding: the return path first, then the first matching route (or the default), then which
// association of each target carries the message.
#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

// A route's copy of a message (its stream and PPID rewritten as the route says), and where a
// reply to it goes back to.
inline void rewrite(const config::Route& r, const Association& from, const sctp::MessageInfo& in,
                    sctp::MessageInfo& out, Origin& origin) {
  out = in;
  out.context = 0;
  if (r.set_stream) out.stream = *r.set_stream;
  if (r.set_ppid) out.ppid = *r.set_ppid;
  origin.endpoint_id = from.id;
  origin.stream = in.stream;
  origin.restore_ppid = r.set_ppid.has_value();
  origin.ppid = in.ppid;
}

}  // namespace

void Relay::route_message(Association& from, sctp::MessageInfo info, Bytes data) {
  if (from.track_origins && return_to_origin(from, info, data)) return;
  int r = router::kNoRoute;
  // Routes naming a group the association belongs to come before routes naming its listener.
  for (int g : from.group_sources) {
    r = table_.match(g, info.stream, info.ppid);
    if (r != router::kNoRoute) break;
  }
  if (r == router::kNoRoute) r = table_.match(from.source, info.stream, info.ppid);
  if (r == router::kNoRoute)
    apply_default(from, info, data);
  else
    apply_route(r, from, info, data);
}

// A reply from a destination that answers with return: origin. On an association of its own
// (associations: per-source) the reply belongs to that association's source, always; on a shared
// one, to whoever last sent on the reply's stream.
bool Relay::return_to_origin(Association& from, sctp::MessageInfo info, Bytes data) {
  const Origin* origin = info.stream < from.origins.size() && from.origins[info.stream].endpoint_id
                             ? &from.origins[info.stream]
                             : nullptr;
  if (from.owner) {
    Association* owner = find(from.owner);
    if (!owner) {
      stats_.replies_no_owner++;  // its source is gone: the reply is nobody else's
      return true;
    }
    if (origin) {
      info.stream = origin->stream;
      if (origin->restore_ppid) info.ppid = origin->ppid;
    }
    info.context = 0;
    deliver(owner, info, data, from, Origin{});
    return true;
  }
  Association* target = origin ? find(origin->endpoint_id) : nullptr;
  if (!target) {
    stats_.replies_no_owner++;  // nobody sent on that stream, or they are gone: routes decide
    return false;
  }
  info.stream = origin->stream;
  if (origin->restore_ppid) info.ppid = origin->ppid;
  info.context = 0;
  deliver(target, info, data, from, Origin{});
  return true;
}

void Relay::apply_route(int route, Association& from, const sctp::MessageInfo& in, Bytes data) {
  RouteRt& rt = routes_[static_cast<std::size_t>(route)];
  rt.book->matched_messages++;
  rt.book->matched_bytes += data.size();
  if (rt.any_drained) [[unlikely]]
    return to_targets<true>(rt, from, in, data);
  to_targets<false>(rt, from, in, data);
}

// A route's message to its targets, by its mode. With a target drained (sctprelayctl drain),
// `kSkipDrained`: that target is out of service and skipped; what has no target left in service
// goes to the default. Without (the common case) the checks are not even compiled in.
template <bool kSkipDrained>
void Relay::to_targets(RouteRt& rt, Association& from, const sctp::MessageInfo& in, Bytes data) {
  auto out_of_service = [](const Target& t) { return kSkipDrained && t.drained(); };
  const config::Route& r = *rt.cfg;
  sctp::MessageInfo out;
  Origin origin;
  rewrite(r, from, in, out, origin);
  const std::size_t n = rt.targets.size();
  switch (r.mode) {
    case config::RouteMode::Forward:
      if (out_of_service(rt.targets[0])) return apply_default(from, in, data);
      deliver_to(rt.targets[0], from, out, data, origin);
      break;
    case config::RouteMode::FanOut: {
      bool any = false;
      for (auto& t : rt.targets) {
        if (out_of_service(t)) continue;
        deliver_to(t, from, out, data, origin);
        any = true;
      }
      if (kSkipDrained && !any) apply_default(from, in, data);
      break;
    }
    case config::RouteMode::Balance: {
      std::size_t i;
      if (r.balance == config::Balance::ByStream) {
        // The same stream always goes the same way, so its order holds end to end (a drained
        // target's streams move to the next one that is not).
        i = in.stream % n;
        for (std::size_t k = 0; k < n && out_of_service(rt.targets[i]); ++k) i = (i + 1) % n;
      } else {
        // Round-robin over the targets that are up; when none is, the next in turn queues it.
        i = rt.next++ % n;
        for (std::size_t k = 0; k < n && out_of_service(rt.targets[i]); ++k) i = rt.next++ % n;
        for (std::size_t k = 0; k < n; ++k) {
          const Target& t = rt.targets[(i + k) % n];
          if (t.up() && !out_of_service(t)) {
            i = (i + k) % n;
            break;
          }
        }
      }
      if (out_of_service(rt.targets[i])) return apply_default(from, in, data);
      deliver_to(rt.targets[i], from, out, data, origin);
      break;
    }
  }
}

void Relay::apply_default(Association& from, const sctp::MessageInfo& info, Bytes data) {
  RouteBook& book = *default_book_;
  book.matched_messages++;
  book.matched_bytes += data.size();
  if ((!fallback_.peer && !fallback_.group) || fallback_.drained()) {
    drop(&from, DropReason::NoRoute);
    book.dropped++;
    LOG_DEBUG("%s: no route for stream %u ppid %u: dropped", from.label.c_str(), info.stream, info.ppid);
    return;
  }
  Origin origin;
  origin.endpoint_id = from.id;
  origin.stream = info.stream;
  sctp::MessageInfo out = info;
  out.context = 0;
  deliver_to(fallback_, from, out, data, origin);
}

Association* Relay::pick_slow(const Target& t, Association& from, uint16_t stream) {
  if (t.peer) {
    if (t.peer->cfg.associations == config::UpstreamMode::PerSource) return per_source_upstream(*t.peer, from);
    return t.peer->shared;
  }
  if (!t.group) return nullptr;
  auto& m = t.group->members;
  while (!m.empty()) {
    std::size_t i = t.group->cfg.balance == config::Balance::ByStream ? stream % m.size() : t.group->next++ % m.size();
    if (Association* a = find(m[i])) return a;
    m.erase(m.begin() + static_cast<std::ptrdiff_t>(i));  // gone since: forget it
  }
  return nullptr;
}

}  // namespace sctprelay::relay
