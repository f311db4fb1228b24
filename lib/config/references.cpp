// Checks that span sections: one namespace for listener and destination names, every reference
// names something of the right kind, and no two listeners bind the same address and port.
#include <algorithm>
#include <map>
#include <vector>

#include "config/document.h"
#include "config/scalars.h"

namespace sctprelay::config {
namespace {

struct Named {
  enum class What { Listener, Peer, Group } what;
  Position where;
};

std::string describe_kind(Named::What w) {
  switch (w) {
    case Named::What::Listener: return "listener";
    case Named::What::Peer: return "destination";
    case Named::What::Group: return "group destination";
  }
  return "";
}

std::string endpoint(const std::string& address, uint16_t port) {
  return (scalars::is_ipv6(address) ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

// Two listeners collide on a port when they bind the same address or either binds the wildcard
// (:: also takes IPv4 on Linux by default).
bool overlap(const std::string& a, const std::string& b) {
  if (a == b || a == "::" || b == "::") return true;
  if (a == "0.0.0.0") return !scalars::is_ipv6(b);
  if (b == "0.0.0.0") return !scalars::is_ipv6(a);
  return false;
}

class Checker {
 public:
  Checker(Diagnostics& diag, Document& doc) : diag_(diag), doc_(doc) {}

  void run() {
    collect_names();
    check_listener_addresses();
    check_destinations();
    check_routes();
    check_default();
  }

 private:
  void collect_names() {
    const Config& cfg = doc_.config;
    for (size_t i = 0; i < cfg.listeners.size(); ++i)
      add_name(cfg.listeners[i].name, Named::What::Listener, doc_.listener_marks[i].name);
    for (size_t i = 0; i < cfg.destinations.size(); ++i) {
      const auto& d = cfg.destinations[i];
      add_name(d.name, d.kind == Destination::Kind::Group ? Named::What::Group : Named::What::Peer,
               doc_.destination_marks[i].name);
    }
  }

  void add_name(const std::string& name, Named::What what, const Spot& at) {
    if (name.empty()) return;
    auto [it, fresh] = names_.emplace(name, Named{what, at.where});
    if (!fresh)
      diag_.error(at.where, at.path, "name \"" + name + "\" is already used by the " + describe_kind(it->second.what) +
                                 " at line " + std::to_string(it->second.where.line) +
                                 " (listeners and destinations share one set of names)");
  }

  // "(known: a, b)" listing names of the wanted kinds, in file order.
  std::string known(bool listeners, bool destinations) const {
    std::string out;
    const Config& cfg = doc_.config;
    std::vector<std::string> seen;
    auto add = [&](const std::string& n) {
      if (n.empty() || std::find(seen.begin(), seen.end(), n) != seen.end()) return;
      seen.push_back(n);
      out += (out.empty() ? "" : ", ") + n;
    };
    if (listeners)
      for (auto& l : cfg.listeners) add(l.name);
    if (destinations)
      for (auto& d : cfg.destinations) add(d.name);
    return out.empty() ? "(none defined)" : "(known: " + out + ")";
  }

  const Named* find(const std::string& name) const {
    auto it = names_.find(name);
    return it == names_.end() ? nullptr : &it->second;
  }

  // A name that must be a destination (route target, fallback).
  void check_destination_ref(const std::string& name, const Spot& at) {
    const Named* n = find(name);
    if (!n) {
      if (doc_.names_complete) diag_.error(at.where, at.path, "unknown destination \"" + name + "\" " + known(false, true));
    } else if (n->what == Named::What::Listener) {
      diag_.error(at.where, at.path, "\"" + name + "\" is a listener; messages can only be sent to destinations " + known(false, true));
    }
  }

  // Reports each address of a listener that an earlier listener already binds on the same port.
  void check_listener_addresses() {
    const auto& ls = doc_.config.listeners;
    for (size_t j = 0; j < ls.size(); ++j) {
      if (ls[j].port == 0) continue;  // port already reported
      for (size_t a = 0; a < ls[j].addresses.size(); ++a) {
        const std::string& addr = ls[j].addresses[a];
        auto [earlier, other] = first_clash(j, addr);
        if (!earlier) continue;
        const Spot& at = doc_.listener_marks[j].addresses[a];
        diag_.error(at.where, at.path,
                    endpoint(addr, ls[j].port) + " clashes with listener \"" + earlier->name + "\" on " +
                        endpoint(*other, earlier->port) + " (line " + std::to_string(earlier->where.line) + ")");
      }
    }
  }

  // The first listener before index `j` binding an address overlapping `addr` on j's port.
  std::pair<const Listener*, const std::string*> first_clash(size_t j, const std::string& addr) const {
    const auto& ls = doc_.config.listeners;
    for (size_t i = 0; i < j; ++i) {
      if (ls[i].port != ls[j].port) continue;
      for (auto& other : ls[i].addresses)
        if (overlap(addr, other)) return {&ls[i], &other};
    }
    return {nullptr, nullptr};
  }

  void check_destinations() {
    const Config& cfg = doc_.config;
    for (size_t i = 0; i < cfg.destinations.size(); ++i) {
      const Destination& d = cfg.destinations[i];
      const auto& marks = doc_.destination_marks[i];
      if (d.kind == Destination::Kind::Peer) {
        // Connecting to one of our own listeners would loop messages back into the relay.
        for (size_t a = 0; a < d.addresses.size(); ++a)
          for (auto& l : cfg.listeners)
            if (l.port == d.port && std::find(l.addresses.begin(), l.addresses.end(), d.addresses[a]) != l.addresses.end())
              diag_.error(marks.addresses[a].where, marks.addresses[a].path,
                          endpoint(d.addresses[a], d.port) + " is this relay's own listener \"" + l.name +
                              "\": the relay would connect to itself");
      } else if (cfg.workers.automatic || cfg.workers.count > 1) {
        // A group's members are the associations one loop accepted; with several workers the
        // kernel spreads them over every loop, and a route on one loop would not see the others'.
        diag_.error(marks.name.where, marks.name.path,
                    "destination \"" + d.name + "\" is a group, which needs workers: 1 (line " +
                        std::to_string(cfg.workers.where.line) +
                        " asks for " + (cfg.workers.automatic ? std::string("auto") : std::to_string(cfg.workers.count)) +
                        "): a group's members must all be accepted by one event loop");
      }
      if (d.kind == Destination::Kind::Group && !d.listener.empty()) {
        const Named* n = find(d.listener);
        if (!n) {
          if (doc_.names_complete) diag_.error(marks.listener.where, marks.listener.path, "unknown listener \"" + d.listener + "\" " + known(true, false));
        } else if (n->what != Named::What::Listener) {
          diag_.error(marks.listener.where, marks.listener.path,
                      "\"" + d.listener + "\" is a destination; \"listener\" must name a listener " + known(true, false));
        }
      }
    }
  }

  void check_routes() {
    std::map<std::string, Position> route_names;
    const Config& cfg = doc_.config;
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
      const Route& r = cfg.routes[i];
      const RouteMarks& marks = doc_.route_marks[i];
      if (!marks.name.path.empty()) {
        auto [it, fresh] = route_names.emplace(r.name, marks.name.where);
        if (!fresh)
          diag_.error(marks.name.where, marks.name.path,
                      "route name \"" + r.name + "\" is already used at line " + std::to_string(it->second.line));
      }
      if (!r.from.empty() && !find(r.from) && doc_.names_complete)
        diag_.error(marks.from.where, marks.from.path, "unknown source \"" + r.from + "\" " + known(true, true));
      for (size_t t = 0; t < r.to.size(); ++t) check_destination_ref(r.to[t], marks.to[t]);
    }
  }

  void check_default() {
    const DefaultAction& d = doc_.config.default_action;
    if (d.kind == DefaultAction::Kind::Fallback && !d.fallback.empty())
      check_destination_ref(d.fallback, doc_.default_marks.to);
  }

  Diagnostics& diag_;
  Document& doc_;
  std::map<std::string, Named> names_;
};

}  // namespace

void check_references(Diagnostics& diag, Document& doc) { Checker(diag, doc).run(); }

}  // namespace sctprelay::config
