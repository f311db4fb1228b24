// Listeners' sockets, and how a configuration changes them: on every worker or on none.
//
// A reload (or the first start) changes listeners in steps that Workers::apply runs on every
// worker's loop in turn (workers.cpp), so that one worker's refusal undoes all of them:
//   1. bind_listeners: new and changed listeners are bound where their address is free. Nothing is
//      read from these sockets yet.
//   2. release_rebound: where it was not free because a listener of ours holds it (its old socket:
//      with workers, every worker's; SO_REUSEPORT sockets must agree on their addresses), those old
//      sockets close, on every worker, and then
//   3. rebind_listeners binds the rest.
//   4. commit (relay.cpp) puts the new listeners in force, closes the ones the file no longer has,
//      and start_listeners begins reading the new sockets once every worker has them, so an
//      association one worker accepts and hands to another finds its listener there.
// A failure in 1 or 3 anywhere: abandon_listeners closes what was bound, restore_listeners binds
// the released sockets again, and the running configuration stays on every worker. Accepted
// associations are on sockets of their own: rebinding a listener never takes them down.
#include "relay/relay.h"

#include <algorithm>

#include "relay/log_text.h"
#include "sctp/explain.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

// Every association of a listener shares its receive buffer until it is peeled off, notifications
// included: when a burst of peers connects, a full buffer makes the kernel drop COOKIE-ECHOs
// (their COMM_UP has no room), and those peers retry only after the initial RTO of 3 s.
constexpr int kListenerReceiveBuffer = 8 << 20;

bool same_listener(const config::Listener& a, const config::Listener& b) {
  return a.addresses == b.addresses && a.port == b.port && a.out_streams == b.out_streams &&
         a.in_streams == b.in_streams;
}

// The address (or, with SO_REUSEPORT, the port with other addresses: listen() says EEXIST) is held.
bool in_use(const std::error_code& ec) {
  return ec == std::errc::address_in_use || ec == std::errc::file_exists;
}

}  // namespace

bool Relay::holds_port(uint16_t port) const {
  return std::any_of(listeners_.begin(), listeners_.end(), [&](const auto& l) { return l.second->cfg.port == port; });
}

bool Relay::bind_listener(ListenerRt& l, std::string& error, std::error_code* why) {
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
  if (opts.reuse_port && place_.index == 0 && !holds_port(l.cfg.port)) {
    // SO_REUSEPORT would let this daemon join another program's sockets on the port (a second
    // sctprelayd started by mistake, as the same user) and share its associations with it. On a
    // port none of its listeners holds (at start, every port), the first worker binds a plain
    // socket first (without SO_REUSEADDR either, which the kernel would let share the port until
    // listen()): that fails if any socket holds the port already.
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
    if (ec == std::errc::file_exists)
      error += " (another program listens on that port with SO_REUSEPORT on other addresses; `ss -Slnp` shows it)";
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
  return true;
}

void Relay::start_listener(ListenerRt& l) {
  ListenerRt* self = &l;
  l.io = dispatcher_.file_event(l.socket.fd(), [this, self](uint32_t) {
    if (!self->stop_hold) read_listener(*self);
    check_stopped();
  });
  l.io->watch(event::Readable);
  LOG_INFO("listener %s listening on %s port %u (streams out %u in %u)", l.cfg.name.c_str(),
           join(l.cfg.addresses).c_str(), l.cfg.port, l.cfg.out_streams, l.cfg.in_streams);
}

bool Relay::bind_listeners(const config::Config& next, std::string& error) {
  change_.emplace();
  for (auto& lc : next.listeners) {
    auto old = listeners_.find(lc.name);
    if (old != listeners_.end() && same_listener(old->second->cfg, lc)) continue;
    auto l = std::make_unique<ListenerRt>();
    l->cfg = lc;
    std::error_code why;
    std::string err;
    if (bind_listener(*l, err, &why)) {
      change_->bound.emplace(lc.name, std::move(l));
      continue;
    }
    // Held by a listener of ours that this configuration changes or removes: bound again once
    // that one's socket has closed.
    std::vector<std::string> holders;
    for (auto& [name, mine] : listeners_) {
      const config::Listener* kept = next.find_listener(name);
      if (mine->cfg.port == lc.port && !(kept && same_listener(*kept, mine->cfg))) holders.push_back(name);
    }
    if (in_use(why) && !holders.empty()) {
      change_->rebind.push_back(lc.name);
      for (auto& h : holders)
        if (std::find(change_->release.begin(), change_->release.end(), h) == change_->release.end())
          change_->release.push_back(h);
      continue;
    }
    error = err;
    change_.reset();  // closes what was bound so far
    return false;
  }
  return true;
}

bool Relay::must_rebind() const { return change_ && !change_->rebind.empty(); }

void Relay::release_rebound() {
  for (auto& name : change_->release) {
    ListenerRt& old = *listeners_.at(name);
    LOG_DEBUG("listener %s%s: its socket closes so that the reload can bind the port again", name.c_str(),
              worker_text().c_str());
    old.io.reset();
    retire_unpeeled(old);
    old.socket.close();
  }
  change_->released = true;
}

bool Relay::rebind_listeners(const config::Config& next, std::string& error) {
  for (auto& name : change_->rebind) {
    auto l = std::make_unique<ListenerRt>();
    l->cfg = *next.find_listener(name);
    if (!bind_listener(*l, error)) return false;
    change_->bound.emplace(name, std::move(l));
  }
  return true;
}

void Relay::abandon_listeners() {
  if (change_) change_->bound.clear();
}

void Relay::restore_listeners() {
  if (!change_) return;
  if (change_->released) {
    for (auto& name : change_->release) {
      ListenerRt& old = *listeners_.at(name);
      std::string again;
      if (bind_listener(old, again)) {
        LOG_INFO("listener %s%s: bound again as it was (the reload was refused)", name.c_str(), worker_text().c_str());
        start_listener(old);
      }
      else
        LOG_ERROR("reload: %s (listener left closed)", again.c_str());
    }
  }
  change_.reset();
}

void Relay::commit_listeners(const config::Config& next) {
  std::map<std::string, std::unique_ptr<ListenerRt>> bound;
  if (change_) bound = std::move(change_->bound);
  change_.reset();
  std::map<std::string, std::unique_ptr<ListenerRt>> result;
  for (auto& lc : next.listeners) {
    auto old = listeners_.find(lc.name);
    if (auto n = bound.find(lc.name); n != bound.end()) {
      if (old != listeners_.end()) {
        retire_unpeeled(*old->second);  // its socket closes with it
        n->second->accepted.swap(old->second->accepted);
      }
      starting_.push_back(n->second.get());
      result.emplace(lc.name, std::move(n->second));
    } else {
      old->second->cfg = lc;
      result.emplace(lc.name, std::move(old->second));
    }
  }
  // Associations keep the listener's name; those of a listener that is gone are shut down.
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
    retire_unpeeled(*l);
  }
  listeners_ = std::move(result);
}

void Relay::start_listeners() {
  for (ListenerRt* l : std::exchange(starting_, {})) start_listener(*l);
}

void Relay::retire_unpeeled(ListenerRt& l) {
  for (Association* a : assocs_.snapshot())
    if (a->listener_socket == &l.socket) {
      a->listener_socket = nullptr;
      retire(*a, "ended before it could be peeled off");
    }
}

}  // namespace sctprelay::relay
